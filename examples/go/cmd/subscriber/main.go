// Command subscriber prints the events of one or more gateway topics, one line each:
//
//	event topic=<topic> id=<publisher's id> event=<type or -> data=<data as a JSON string>
//
// It prints "ready" when the gateway says the subscription is live (its gateway.connected
// event), again after every reconnection. The SSE client is github.com/tmaxmax/go-sse: it
// reconnects by itself and sends the last id it saw as Last-Event-ID, so the gateway replays
// what was published meanwhile.
//
//	GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts go run ./cmd/subscriber
//
// TOKEN, when set, is sent as `Authorization: Bearer <TOKEN>`: a token for private topics.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tmaxmax/go-sse"
)

// maxLine bounds one line of the stream. go-sse's default is 64 KiB, less than the gateway's
// 1 MiB events; with ?envelope=json the data line is the body as a JSON string, a little longer.
const maxLine = 4 << 20

func main() {
	base := strings.TrimRight(envOr("GATEWAY_URL", "http://127.0.0.1:8787"), "/")
	topics := os.Getenv("TOPIC")
	if topics == "" {
		fmt.Fprintln(os.Stderr, "usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] [TOKEN=…] subscriber")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// ?envelope=json: each event's data is {"topic","id","event","data","cursor"}, which names the
	// topic (go-sse, like every client, ignores the gateway's `topic:` field) and the publisher's id.
	endpoint := base + "/sse?envelope=json&topic=" + url.QueryEscape(topics)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, http.NoBody)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error: bad GATEWAY_URL:", err)
		os.Exit(2)
	}
	// TOKEN: a subscriber token for private topics (see cmd/mint-token). go-sse sends the
	// request's headers again on every reconnection.
	if token := os.Getenv("TOKEN"); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	lastID := "" // what go-sse sends as Last-Event-ID: "<publisher id>~<cursor>"
	client := &sse.Client{
		ResponseValidator: validate,
		Backoff:           sse.Backoff{MaxInterval: 30 * time.Second},
		OnRetry: func(err error, wait time.Duration) {
			fmt.Fprintf(os.Stderr, "disconnected: %v; reconnecting in %d ms (Last-Event-ID: %s)\n",
				err, wait.Milliseconds(), orDash(lastID))
		},
	}
	conn := client.NewConnection(req)
	conn.Buffer(nil, maxLine)
	conn.SubscribeToAll(func(ev sse.Event) {
		lastID = ev.LastEventID
		switch ev.Type {
		case "gateway.connected": // {"connectionId","topics","resumed"}
			fmt.Println("ready")
			fmt.Fprintln(os.Stderr, "gateway.connected", ev.Data)
		case "gateway.gap": // events the gateway could not replay: {"reason","topics","missed"}
			fmt.Fprintln(os.Stderr, "gateway.gap", ev.Data)
		default:
			if strings.HasPrefix(ev.Type, "gateway.") { // gateway.token-expired and any later ones
				fmt.Fprintln(os.Stderr, ev.Type, ev.Data)
				return
			}
			line, err := eventLine(ev.Data)
			if err != nil {
				fmt.Fprintf(os.Stderr, "not an envelope (%v): %.200q\n", err, ev.Data)
				return
			}
			fmt.Println(line)
		}
	})

	for {
		err = conn.Connect() // returns on a refusal (validate) or when ctx ends
		if ctx.Err() != nil {
			return // interrupted: a normal way to stop
		}
		var refused *statusError
		if !errors.As(err, &refused) || !refused.temporary() {
			break
		}
		// go-sse gives up on any refusal; a busy or restarting gateway (429, 5xx) is worth a retry.
		fmt.Fprintf(os.Stderr, "refused: %v; reconnecting in 1000 ms\n", refused)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	var ce *sse.ConnectionError
	if errors.As(err, &ce) {
		err = ce.Err
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

// envelope is the data of an event under ?envelope=json (event is null when the publisher gave none).
type envelope struct {
	Topic string `json:"topic"`
	ID    string `json:"id"`
	Event string `json:"event"`
	Data  string `json:"data"`
}

// eventLine turns an envelope into the line this program prints for it.
func eventLine(data string) (string, error) {
	var e envelope
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return "", err
	}
	var quoted bytes.Buffer
	enc := json.NewEncoder(&quoted)
	enc.SetEscapeHTML(false) // keep <, > and & as they are, like the other languages' examples
	_ = enc.Encode(e.Data)
	return fmt.Sprintf("event topic=%s id=%s event=%s data=%s", orDash(e.Topic), orDash(e.ID),
		orDash(e.Event), bytes.TrimSuffix(quoted.Bytes(), []byte("\n"))), nil
}

// statusError is a response that is not an event stream: "HTTP 400: {…the gateway's error…}".
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

func (e *statusError) temporary() bool {
	return e.code == http.StatusTooManyRequests || e.code >= 500
}

// validate replaces go-sse's default check so that a refusal shows the gateway's own message.
func validate(res *http.Response) error {
	if res.StatusCode == http.StatusOK {
		return sse.DefaultValidator(res) // and Content-Type: text/event-stream
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	return &statusError{res.StatusCode, strings.TrimSpace(string(body))}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
