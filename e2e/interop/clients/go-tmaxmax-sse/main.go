// Interop client for github.com/tmaxmax/go-sse, written the way its README subscribes: one
// Connection, SubscribeToAll, Connect. The library reconnects by itself with Last-Event-ID.
// Prints one JSON line per event it hands over ({"type","id","data"}) and per error it reports
// ({"error"}). Reads INTEROP_URL; stops when stdin closes or on SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tmaxmax/go-sse"
)

func main() {
	ctx := stopContext()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, os.Getenv("INTEROP_URL"), http.NoBody)
	if err != nil {
		emit(map[string]string{"error": err.Error()})
		os.Exit(2)
	}
	client := &sse.Client{OnRetry: func(err error, _ time.Duration) {
		emit(map[string]string{"error": err.Error()})
	}}
	conn := client.NewConnection(req)
	// The library's default line limit is 64 KiB (a larger event ends the connection and is
	// lost); Connection.Buffer is its documented way to raise it, here to 4 MiB.
	conn.Buffer(nil, 4<<20)
	conn.SubscribeToAll(func(ev sse.Event) {
		typ := ev.Type
		if typ == "" {
			typ = "message"
		}
		emit(map[string]string{"type": typ, "id": ev.LastEventID, "data": ev.Data})
	})
	err = conn.Connect() // returns when ctx ends, or on a response that is not a stream
	if ctx.Err() == nil {
		emit(map[string]string{"error": err.Error()})
		os.Exit(1)
	}
}

var stdout sync.Mutex

// emit writes one JSON line; os.Stdout is unbuffered, so each line leaves at once.
func emit(v map[string]string) {
	b, _ := json.Marshal(v)
	stdout.Lock()
	defer stdout.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

// stopContext ends on SIGTERM, SIGINT, or when stdin closes (the harness's way to stop us).
func stopContext() context.Context {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return ctx
}
