// Command publisher sends one event to the gateway and says what became of it:
//
//	published id=<id> delivered=<topics or -> dropped=<topics or ->
//
// The data is the second argument, or standard input when there is none (one trailing newline
// removed). Exit status: 0 delivered, 1 refused or unreachable, 2 usage, 3 dropped everywhere.
//
//	GATEWAY_URL=http://127.0.0.1:8787 API_KEY=secret TOPIC=orders go run ./cmd/publisher 42 'hello'
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// result is the gateway's 202 body.
type result struct {
	ID        string   `json:"id"`
	Delivered []string `json:"delivered"`
	Dropped   []string `json:"dropped"`
}

// apiError is the shape of every error the gateway answers with.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func main() {
	base := strings.TrimRight(envOr("GATEWAY_URL", "http://127.0.0.1:8787"), "/")
	key, topic, event := os.Getenv("API_KEY"), os.Getenv("TOPIC"), os.Getenv("EVENT")
	if key == "" || topic == "" || len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: API_KEY=key TOPIC=a,b [EVENT=type] [GATEWAY_URL=...] publisher ID [DATA]"+
			"  (DATA from stdin when omitted)")
		os.Exit(2)
	}
	id := os.Args[1]
	var data string
	if len(os.Args) == 3 {
		data = os.Args[2]
	} else {
		in, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail(1, "cannot read stdin: %v", err)
		}
		data = string(in)
		if strings.HasSuffix(data, "\r\n") {
			data = data[:len(data)-2]
		} else {
			data = strings.TrimSuffix(data, "\n")
		}
	}

	req, err := http.NewRequest(http.MethodPost, base+"/publish", strings.NewReader(data))
	if err != nil {
		fail(2, "bad GATEWAY_URL: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("X-Sse-Topic", topic)
	req.Header.Set("X-Sse-Id", id)
	if event != "" {
		req.Header.Set("X-Sse-Event", event)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		fail(1, "cannot reach %s: %v", base, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))

	if res.StatusCode != http.StatusAccepted && res.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			fail(1, "HTTP %d %s: %s%s", res.StatusCode, e.Error.Code, e.Error.Message, hint(res.StatusCode))
		}
		fail(1, "HTTP %d: %s%s", res.StatusCode, strings.TrimSpace(string(body)), hint(res.StatusCode))
	}
	var r result
	if err := json.Unmarshal(body, &r); err != nil {
		fail(1, "unexpected answer (HTTP %d): %s", res.StatusCode, body)
	}
	fmt.Printf("published id=%s delivered=%s dropped=%s\n", r.ID, list(r.Delivered), list(r.Dropped))
	if len(r.Dropped) > 0 {
		fmt.Fprintf(os.Stderr, "dropped: no subscriber on %s\n", strings.Join(r.Dropped, ","))
	}
	if len(r.Delivered) == 0 {
		os.Exit(3)
	}
}

func hint(status int) string {
	if status == http.StatusUnauthorized {
		return " (check API_KEY)"
	}
	return ""
}

func list(topics []string) string {
	if len(topics) == 0 {
		return "-"
	}
	return strings.Join(topics, ",")
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	os.Exit(code)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
