package history

import (
	"bytes"
	"testing"

	"ordo/trace"
)

// A delete and a stale (serializable) get survive the round trip through
// notes and the file format; a stale attribute that is not a bool is
// refused.
func TestDeleteAndStaleRoundTrip(t *testing.T) {
	r := &rec{}
	c := &noteEnv{r: r, id: 4}
	d := Op{ID: 1, Process: 0, F: Delete, Key: "x"}
	g := Op{ID: 2, Process: 1, F: Get, Key: "x", Stale: true}
	Invoke(c, d)
	Invoke(c, g)
	c.at = 5
	OK(c, d, "")
	OK(c, g, "")
	var buf bytes.Buffer
	if err := r.t.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []*trace.Trace{&r.t, tr} {
		ops, err := FromTrace(tt)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 || ops[0].F != Delete || ops[0].Stale || !ops[1].Stale || ops[1].Outcome != OutcomeOK {
			t.Fatalf("ops: %+v", ops)
		}
	}
	bad := &rec{}
	bad.note(4, 0, NoteInvoke, "id", 1, "proc", 0, "f", "get", "key", "x", "stale", "yes")
	if _, err := FromTrace(&bad.t); err == nil {
		t.Fatal("stale=\"yes\" was accepted")
	}
}
