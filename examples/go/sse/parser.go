// Package sse reads a text/event-stream as the HTML specification describes it
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
// plus the gateway's `topic:` field, which tells a multi-topic subscriber where an event came from.
package sse

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// Event is one dispatched event.
type Event struct {
	Topic string // from the gateway's `topic:` field; "" when absent
	ID    string // the last event ID, as EventSource's MessageEvent.lastEventId
	Type  string // from `event:`; "" when absent (EventSource would call it "message")
	Data  string // the `data:` lines joined with "\n"
}

// Handler receives what the stream carries: comments (": connected", ": heartbeat") and events.
type Handler interface {
	Comment(text string)
	Event(ev Event)
}

// Reader parses event streams. LastEventID and Retry outlive a connection: send LastEventID as the
// Last-Event-ID header when reconnecting, and wait Retry milliseconds before doing so.
type Reader struct {
	LastEventID string // set when an event is dispatched, as EventSource's lastEventId
	Retry       int    // milliseconds from the last `retry:` field; 0 when none was sent

	data      strings.Builder
	hasData   bool
	eventType string
	topic     string
	idBuffer  string
}

// Read consumes r until it ends, calling h for each comment and complete event. An event cut off
// by the end of the stream (no blank line after it) is discarded, as the specification says.
func (p *Reader) Read(r io.Reader, h Handler) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024) // an event may carry up to 1 MiB of data
	sc.Split(scanLines)
	p.reset()
	p.idBuffer = "" // each stream starts with an empty last event ID buffer
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			line = strings.TrimPrefix(line, "\uFEFF") // a leading byte order mark is ignored
			first = false
		}
		p.line(line, h)
	}
	p.reset()
	return sc.Err()
}

func (p *Reader) line(line string, h Handler) {
	if line == "" {
		p.dispatch(h)
		return
	}
	if strings.HasPrefix(line, ":") {
		h.Comment(strings.TrimPrefix(line[1:], " "))
		return
	}
	field, value, found := strings.Cut(line, ":")
	if found {
		value = strings.TrimPrefix(value, " ")
	}
	switch field {
	case "data":
		p.data.WriteString(value)
		p.data.WriteByte('\n')
		p.hasData = true
	case "event":
		p.eventType = value
	case "topic":
		p.topic = value
	case "id":
		if !strings.ContainsRune(value, 0) {
			p.idBuffer = value
		}
	case "retry":
		if isDigits(value) {
			if ms, err := strconv.Atoi(value); err == nil {
				p.Retry = ms
			}
		}
	}
	// Any other field is ignored.
}

func (p *Reader) dispatch(h Handler) {
	p.LastEventID = p.idBuffer // even when there is no data to dispatch
	if p.hasData {
		h.Event(Event{
			Topic: p.topic,
			ID:    p.LastEventID,
			Type:  p.eventType,
			Data:  strings.TrimSuffix(p.data.String(), "\n"),
		})
	}
	p.reset()
}

func (p *Reader) reset() {
	p.data.Reset()
	p.hasData, p.eventType, p.topic = false, "", ""
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// scanLines splits on CRLF, LF or a lone CR: all three end a line in an event stream.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if !atEOF {
			return 0, nil, nil // a CR at the end of what we have: wait to see whether LF follows
		}
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), nil, nil // a last line without a line break is incomplete: discard it
	}
	return 0, nil, nil
}
