package election

import (
	"strings"
	"testing"

	"ordo"
	"ordo/trace"
)

// Issue 15: fence notes with "seq" (the resource's own order) and
// "resource" (a writer noting the answer on the resource's behalf, as in a
// live trace where the external store has no events). Kleppmann's fencing
// tokens: what the resource accepted, in its order, only increases.

func fenceNote(b *tb, at, node, resource, token int, accepted bool, seq int) *tb {
	kv := []any{"token", token, "accepted", accepted, "writer", node, "seq", seq}
	if resource != 0 {
		kv = append([]any{"resource", resource}, kv...)
	}
	return b.ev(at, node, trace.Note, "fence", kv...)
}

// A merged live trace orders the writers' notes by their clocks, not by
// the store's order: judged by seq, writes 1 (token 3) then 2 (token 7)
// are in order even though the note of write 2 comes first.
func TestFencing_SeqOrderNotTraceOrder(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3)
	fenceNote(b, 10, 2, 5, 7, true, 2)
	fenceNote(b, 20, 1, 5, 3, true, 1)
	if r := run(t, "fencing", &b.t); !r.OK {
		t.Fatalf("writes in the store's order judged by trace order: %+v", r)
	}
	// The same notes without seq are judged in trace order: a stale token.
	c := newTB(5).start(0, 1, 2, 3).
		ev(10, 2, trace.Note, "fence", "resource", 5, "token", 7, "accepted", true).
		ev(20, 1, trace.Note, "fence", "resource", 5, "token", 3, "accepted", true)
	if r := run(t, "fencing", &c.t); r.OK {
		t.Fatalf("token 3 after 7 without seq passed: %+v", r)
	}
}

// Two leaders writing without fencing: the store accepted token 3 (write
// 3) after token 7 (write 2). The finding names both writes and writers.
func TestFencing_StaleWriterInSeqOrderReported(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3)
	fenceNote(b, 10, 1, 5, 3, true, 1)
	fenceNote(b, 20, 2, 5, 7, true, 2)
	fenceNote(b, 15, 1, 5, 3, true, 3) // noted earlier in the trace, later in the store
	r := run(t, "fencing", &b.t)
	if r.OK || len(r.Violations) != 1 {
		t.Fatalf("want one stale write, got %+v", r)
	}
	m := r.Violations[0].Message
	for _, want := range []string{"n5", "token 3 (write 3, from n1)", "token 7 (write 2, from n2)"} {
		if !strings.Contains(m, want) {
			t.Errorf("violation %q does not say %q", m, want)
		}
	}
	if !strings.Contains(r.Summary, "1 stale") {
		t.Errorf("summary %q", r.Summary)
	}
}

// In the simulator the store notes every write itself and the writer
// notes the answer too: one write, counted once (by resource and seq);
// refused writes counted by the larger of the two counts.
func TestFencing_StoreAndWriterNotesAreOneWrite(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3)
	b.ev(10, 5, trace.Note, "fence", "token", 3, "accepted", true, "writer", 1, "seq", 1)
	fenceNote(b, 11, 1, 5, 3, true, 1)
	b.ev(20, 5, trace.Note, "fence", "token", 7, "accepted", true, "writer", 2, "seq", 2)
	fenceNote(b, 21, 2, 5, 7, true, 2)
	b.ev(30, 5, trace.Note, "fence", "token", 3, "accepted", false, "writer", 1, "seq", 0)
	fenceNote(b, 31, 1, 5, 3, false, 0)
	b.ev(40, 5, trace.Note, "fence", "token", 3, "accepted", false, "writer", 1, "seq", 0) // its answer lost
	r := run(t, "fencing", &b.t)
	if !r.OK {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.Summary, "2 writes accepted") || !strings.Contains(r.Summary, "2 refused") {
		t.Fatalf("summary %q, want 2 accepted and 2 refused", r.Summary)
	}
	// A writer's note of the same store under another id is another
	// resource: its writes do not mix with n5's.
	fenceNote(b, 50, 1, 6, 1, true, 1)
	if r := run(t, "fencing", &b.t); !r.OK {
		t.Fatalf("a second resource's token 1 judged against n5's: %+v", r)
	}
}

// The bound: beyond MaxSequenced writes there is no verdict, never a pass.
func TestFencing_SequencedBound(t *testing.T) {
	f := &fence{seqd: map[ordo.NodeID]map[int64]seqWrite{}, nseq: MaxSequenced, fenced: true, refused: map[ordo.NodeID]*[2]int{}}
	e := trace.Event{Kind: trace.Note, Node: 1, Name: "fence", Attrs: trace.MakeAttrs([]any{"resource", 5, "token", 1, "accepted", true, "seq", 9})}
	f.Observe(&e)
	if r := f.Result(); r.OK || !r.Unknown {
		t.Fatalf("past the bound: %+v", r)
	}
}
