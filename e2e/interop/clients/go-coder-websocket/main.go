// Interop client for github.com/coder/websocket. Prints one JSON line per text frame
// ({"frame"}) and per error ({"error"}). The library does not reconnect: like a user must, this
// loop dials again after a second, appending ?lastEventId=<cursor of the last frame> so the
// gateway resumes. Reads INTEROP_URL; stops when stdin closes or on SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	ctx := stopContext()
	cursor := ""
	for {
		err := readFrames(ctx, os.Getenv("INTEROP_URL"), &cursor)
		if ctx.Err() != nil {
			return
		}
		emit(map[string]string{"error": err.Error()})
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// readFrames holds one connection, keeping the cursor of the last frame that carried one.
func readFrames(ctx context.Context, endpoint string, cursor *string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	if *cursor != "" {
		q := u.Query()
		q.Set("lastEventId", *cursor)
		u.RawQuery = q.Encode()
	}
	c, _, err := websocket.Dial(ctx, u.String(), nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 20) // the default, 32 KiB, closes the connection on a larger frame
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return err
		}
		emit(map[string]string{"frame": string(data)})
		var f struct {
			Cursor string `json:"cursor"`
		}
		if json.Unmarshal(data, &f) == nil && f.Cursor != "" {
			*cursor = f.Cursor
		}
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
