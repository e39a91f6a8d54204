package main

import "testing"

func TestEventLine(t *testing.T) {
	cases := []struct{ data, want string }{
		{`{"topic":"orders","id":"o-1","event":"created","data":"<&> ✓","cursor":"1.a-b-1"}`,
			`event topic=orders id=o-1 event=created data="<&> ✓"`},
		{`{"topic":"a/b","id":"o-2","event":null,"data":"one\n\ntwo"}`,
			`event topic=a/b id=o-2 event=- data="one\n\ntwo"`},
		{`{"topic":"t","id":"o-3","event":null,"data":""}`, `event topic=t id=o-3 event=- data=""`},
	}
	for _, c := range cases {
		got, err := eventLine(c.data)
		if err != nil || got != c.want {
			t.Errorf("eventLine(%s) = %q, %v; want %q", c.data, got, err, c.want)
		}
	}
	if _, err := eventLine("plain text"); err == nil {
		t.Error("eventLine accepted data that is not an envelope")
	}
}
