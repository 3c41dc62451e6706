package viz

import (
	"bytes"
	"encoding/json"
	"testing"

	"ordo/trace"
)

// TestPictureJSON: the picture of a whole trace, as JSON, names every
// non-drop event once by its index, joins every receive to its send and
// every drop to its send, carries the lane states, and reads back into the
// same picture.
func TestPictureJSON(t *testing.T) {
	tr := simTrace(t)
	p, err := FromTrace(tr, Options{Stamps: "both", MaxEvents: len(tr.Events)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var q Picture
	if err := json.Unmarshal(b.Bytes(), &q); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	c, _ := json.Marshal(&q)
	if !bytes.Equal(a, c) {
		t.Fatal("the picture changed through JSON")
	}
	drops, recvs, seen := 0, 0, map[int]bool{}
	for i := range tr.Events {
		switch tr.Events[i].Kind {
		case trace.Drop:
			drops++
		case trace.Recv:
			if tr.Events[i].Msg != 0 {
				recvs++
			}
		}
	}
	for _, mk := range q.Marks {
		if seen[mk.Event] || tr.Events[mk.Event].Kind == trace.Drop {
			t.Fatalf("mark of e%d twice, or of a drop", mk.Event)
		}
		seen[mk.Event] = true
	}
	if len(q.Marks) != len(tr.Events)-drops || len(q.Msgs) != recvs || len(q.Drops) != drops || drops == 0 {
		t.Fatalf("%d marks, %d msgs, %d drops; trace has %d events, %d receives, %d drops", len(q.Marks), len(q.Msgs), len(q.Drops), len(tr.Events), recvs, drops)
	}
	for _, m := range q.Msgs {
		s, r := &tr.Events[q.Marks[m.From].Event], &tr.Events[q.Marks[m.To].Event]
		if s.Kind != trace.Send || r.Kind != trace.Recv || s.Msg != r.Msg {
			t.Fatalf("msg joins e%d (%s) to e%d (%s)", s.ID, s.Kind, r.ID, r.Kind)
		}
	}
	for _, d := range q.Drops {
		s, x := &tr.Events[q.Marks[d.Send].Event], &tr.Events[d.Event]
		if s.Kind != trace.Send || x.Kind != trace.Drop || s.Msg != x.Msg {
			t.Fatalf("drop joins e%d (%s) to e%d (%s)", s.ID, s.Kind, x.ID, x.Kind)
		}
	}
	if !bytes.Contains(b.Bytes(), []byte(`"state":"down"`)) || !bytes.Contains(b.Bytes(), []byte(`"glyph":"✖"`)) {
		t.Fatal("the crash is not in the JSON as a word and a glyph")
	}
	var bad Picture
	if err := json.Unmarshal([]byte(`{"marks":[{"state":"sideways"}]}`), &bad); err == nil {
		t.Fatal("an unknown lane state was read")
	}
	bad = Picture{Lanes: []string{"n1"}, Marks: []Mark{{Lane: 0}}, Drops: []Drop{{Send: 3}}}
	if err := bad.WriteJSON(&b); err == nil {
		t.Fatal("a drop of a missing send was written")
	}
}
