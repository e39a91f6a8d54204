// Command subscriber prints the events of one or more gateway topics, one line each:
//
//	event topic=<topic> id=<id> event=<type or -> data=<data as a JSON string>
//
// It prints "ready" each time a stream is open, and reconnects after a dropped connection,
// sending the last id it saw as Last-Event-ID.
//
//	GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts go run ./cmd/subscriber
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sse-gateway/examples/go/sse"
)

const (
	defaultRetry = time.Second      // until the gateway sends `retry:`
	maxBackoff   = 30 * time.Second // cap for repeated failures to connect
)

// printer writes the stable output lines; "ready" once per connection, at its first comment.
type printer struct{ ready bool }

func (p *printer) Comment(string) {
	if !p.ready {
		p.ready = true
		fmt.Println("ready")
	}
}

func (p *printer) Event(ev sse.Event) {
	p.Comment("")
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false) // keep <, > and & as they are, like the other languages' examples
	_ = enc.Encode(ev.Data)
	fmt.Printf("event topic=%s id=%s event=%s data=%s\n",
		orDash(ev.Topic), orDash(ev.ID), orDash(ev.Type), bytes.TrimSuffix(data.Bytes(), []byte("\n")))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fatalError is a refusal that retrying cannot fix (400: bad topic list, 404: not a gateway).
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

// stream opens one connection and reads it until it ends.
func stream(ctx context.Context, endpoint string, r *sse.Reader) (opened bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return false, fatalError{err.Error()}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if r.LastEventID != "" {
		// The gateway accepts the header but does not replay: events published while we were
		// away are lost.
		req.Header.Set("Last-Event-ID", r.LastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		msg := fmt.Sprintf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(body)))
		if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests {
			return false, fatalError{msg}
		}
		return false, errors.New(msg)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fatalError{"not an event stream: Content-Type " + res.Header.Get("Content-Type")}
	}
	connection := res.Header.Get("X-Sse-Connection-Id")
	fmt.Fprintf(os.Stderr, "connected to %s (connection %s)\n", endpoint, connection)
	err = r.Read(res.Body, &printer{})
	if err == nil {
		err = errors.New("the gateway closed the stream")
	}
	return true, err
}

func main() {
	base := strings.TrimRight(envOr("GATEWAY_URL", "http://127.0.0.1:8787"), "/")
	topics := os.Getenv("TOPIC")
	if topics == "" {
		fmt.Fprintln(os.Stderr, "usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] subscriber")
		os.Exit(2)
	}
	endpoint := base + "/sse?topic=" + url.QueryEscape(topics)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	r := &sse.Reader{}
	delay := defaultRetry
	for {
		opened, err := stream(ctx, endpoint, r)
		if ctx.Err() != nil {
			return // interrupted: a normal way to stop
		}
		var fatal fatalError
		if errors.As(err, &fatal) {
			fmt.Fprintln(os.Stderr, "error:", fatal.msg)
			os.Exit(1)
		}
		base := defaultRetry
		if r.Retry > 0 {
			base = time.Duration(r.Retry) * time.Millisecond
		}
		if opened {
			delay = base // the stream worked: start over from the gateway's delay
		}
		fmt.Fprintf(os.Stderr, "disconnected: %v; reconnecting in %d ms (Last-Event-ID: %s)\n",
			err, delay.Milliseconds(), orDash(r.LastEventID))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(max(delay*2, base), maxBackoff) // back off while the gateway stays away
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
