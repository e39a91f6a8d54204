package sse

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

type recorder struct {
	comments []string
	events   []Event
}

func (r *recorder) Comment(text string) { r.comments = append(r.comments, text) }
func (r *recorder) Event(ev Event)      { r.events = append(r.events, ev) }

func parse(t *testing.T, p *Reader, r io.Reader) *recorder {
	t.Helper()
	rec := &recorder{}
	if err := p.Read(r, rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestGatewayFrames(t *testing.T) {
	stream := ": connected\n\n" +
		"id: 1\nevent: greeting\ntopic: a\ndata: hello\n\n" +
		"id: 2\ntopic: b\ndata: line one\ndata:\ndata:  two spaces\n\n" +
		": heartbeat\n\n"
	p := &Reader{}
	rec := parse(t, p, strings.NewReader(stream))
	want := []Event{
		{Topic: "a", ID: "1", Type: "greeting", Data: "hello"},
		{Topic: "b", ID: "2", Data: "line one\n\n two spaces"},
	}
	if !reflect.DeepEqual(rec.events, want) {
		t.Fatalf("events = %#v", rec.events)
	}
	if !reflect.DeepEqual(rec.comments, []string{"connected", "heartbeat"}) {
		t.Fatalf("comments = %#v", rec.comments)
	}
	if p.LastEventID != "2" {
		t.Fatalf("LastEventID = %q", p.LastEventID)
	}
}

func TestLineEndingsSplitAnywhere(t *testing.T) {
	// CRLF, LF and a lone CR all end a line, even when a read stops between CR and LF.
	stream := "\uFEFFid: 7\r\ndata: a\rdata: b\ndata: ü\r\n\r\n"
	rec := parse(t, &Reader{}, iotest.OneByteReader(strings.NewReader(stream)))
	want := []Event{{ID: "7", Data: "a\nb\nü"}}
	if !reflect.DeepEqual(rec.events, want) {
		t.Fatalf("events = %#v", rec.events)
	}
}

func TestFieldRules(t *testing.T) {
	stream := "retry: 2500\n" + // sets the reconnection delay
		"retry: 1x\n" + // ignored: not only digits
		"id: 5\n" +
		"id: bad\x00id\n" + // ignored: contains NUL
		"data\n" + // a field name alone: empty value
		"data:x\n" + // no space after the colon
		"unknown: ignored\n\n" +
		"id: 6\nevent: only-a-type\n\n" + // no data: nothing is dispatched, but the id counts
		"id: 9\ndata: cut off at the end" // never dispatched: its id does not count
	p := &Reader{}
	rec := parse(t, p, strings.NewReader(stream))
	want := []Event{{ID: "5", Data: "\nx"}}
	if !reflect.DeepEqual(rec.events, want) {
		t.Fatalf("events = %#v", rec.events)
	}
	if p.Retry != 2500 {
		t.Fatalf("Retry = %d", p.Retry)
	}
	if p.LastEventID != "6" {
		t.Fatalf("LastEventID = %q, want the id of the last complete event", p.LastEventID)
	}
}
