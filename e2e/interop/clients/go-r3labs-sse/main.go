// Interop client for github.com/r3labs/sse/v2, written the way its README subscribes with a
// URL of our own (NewClient + SubscribeRaw). Prints one JSON line per event the library hands
// over ({"type","id","data"}) and per error it reports ({"error"}). Reads INTEROP_URL; stops
// when stdin closes or on SIGTERM.
//
// Known behaviour of v2.10.0: SubscribeRaw returns nil when the server ends the stream cleanly,
// without reconnecting; this client applies the workaround docs/examples.md gives users (call it
// again in a loop: the client keeps the last id and sends it as Last-Event-ID), and says so on
// stderr each time. A comment line (the gateway's heartbeat) that follows an event with an id is
// handed over as an empty event carrying that id: printed as it is (the suite counts those).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/r3labs/sse/v2"
)

func main() {
	ctx := stopContext()
	// The default buffer is 64 KiB per event (a larger event ends the connection and is lost);
	// the ClientMaxBufferSize option raises it, here to 4 MiB.
	client := sse.NewClient(os.Getenv("INTEROP_URL"), sse.ClientMaxBufferSize(4<<20))
	client.ReconnectNotify = func(err error, _ time.Duration) {
		emit(map[string]string{"error": err.Error()})
	}
	done := make(chan error, 1)
	go func() {
		for {
			err := client.SubscribeRawWithContext(ctx, func(msg *sse.Event) {
				typ := string(msg.Event)
				if typ == "" {
					typ = "message"
				}
				emit(map[string]string{"type": typ, "id": string(msg.ID), "data": string(msg.Data)})
			})
			if err != nil || ctx.Err() != nil {
				done <- err
				return
			}
			// The documented workaround: a clean end of stream returns nil; subscribe again.
			fmt.Fprintln(os.Stderr, "the stream ended; subscribing again (r3labs/sse does not)")
			emit(map[string]string{"error": "end of stream"})
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-time.After(time.Second):
			}
		}
	}()
	select {
	case <-ctx.Done(): // the library's backoff does not watch ctx: do not wait for it
	case err := <-done:
		if err != nil {
			emit(map[string]string{"error": err.Error()})
			os.Exit(1)
		}
		<-ctx.Done()
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
