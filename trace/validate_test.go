package trace

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"ordo/clock"
)

// Each corruption of the section 2 figure is refused by Validate and by
// Read (naming the line), instead of producing answers from `ordo trace
// why` followed by "the trace is corrupt".
func TestValidateRejectsCorruptTraces(t *testing.T) {
	// figure(): e0 n1 send m1 L1 [1,0]; e1 fault; e2 n2 recv m1 L2 [1,1];
	// e3 n2 send m2 L3 [1,2]; e4 n1 recv m2 L4 [2,2].
	for _, tc := range []struct {
		name   string
		mutate func(*Trace)
		want   string
		line   int
	}{
		{"short vector", func(t *Trace) { t.Events[2].Vector = clock.Vector{1} }, "vector has 1 entry for 2 nodes", 4},
		{"lamport goes back", func(t *Trace) { t.Events[3].Lamport = 2 }, "Lamport stamp 2 does not increase", 5},
		{"own entry stalls", func(t *Trace) { t.Events[3].Vector = clock.Vector{1, 1} }, "own entry 1 does not increase", 5},
		{"recv before send", func(t *Trace) {
			t.Events[0], t.Events[2] = t.Events[2], t.Events[0]
			t.Events[0].ID, t.Events[2].ID = 0, 2
		}, "no earlier event sends", 2},
		{"unknown message", func(t *Trace) { t.Events[4].Msg = 77 }, "recv of message 77, which no earlier event sends", 6},
		{"wrong peer", func(t *Trace) { t.Events[2].Peer = 2 }, "from n2, but e0 sent it from n1", 4},
		{"wrong receiver", func(t *Trace) { t.Events[0].Peer = 1 }, "at n2, but e0 sent it to n1", 4},
		{"recv not after send (Lamport)", func(t *Trace) { t.Events[2].Lamport = 1 }, "not after its send", 4},
		{"knows too much", func(t *Trace) { t.Events[2].Vector = clock.Vector{2, 1} }, "entry for n1 is 2", 4},
		{"equal vectors on two nodes", func(t *Trace) { t.Events[0].Vector = clock.Vector{1, 1} }, "entry for n2 is 1", 2},
		{"mixed vectors", func(t *Trace) { t.Events[3].Vector = nil }, "no vector stamp", 5},
		{"duplicate send id", func(t *Trace) { t.Events[3].Msg = 1 }, "sent again", 5},
	} {
		tr := figure()
		tc.mutate(tr)
		err := tr.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want it to mention %q", tc.name, err, tc.want)
		}
		var b bytes.Buffer
		if err := tr.Write(&b); err != nil {
			t.Fatal(err)
		}
		_, err = Read(&b)
		line := "trace line " + strconv.Itoa(tc.line) + ":"
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), line) {
			t.Errorf("%s: Read error = %v, want %q mentioning %q", tc.name, err, line, tc.want)
		}
	}
	if err := figure().Validate(); err != nil {
		t.Fatalf("the figure itself: %v", err)
	}
}

// A trace without vector stamps is valid; happens-before is then read off
// the events themselves. Reference: section 2, Happens-Before.
func TestRelationWithoutVectors(t *testing.T) {
	tr := figure()
	for i := range tr.Events {
		tr.Events[i].Vector = nil
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	const a, b, d, c = 0, 2, 3, 4
	for _, tc := range []struct {
		x, y int
		want clock.Order
	}{{a, b, clock.Before}, {a, d, clock.Before}, {d, c, clock.Before}, {c, a, clock.After}, {a, a, clock.Equal}} {
		if o, err := tr.Relation(tc.x, tc.y); err != nil || o != tc.want {
			t.Errorf("Relation(e%d, e%d) = %v, %v; want %v", tc.x, tc.y, o, err, tc.want)
		}
	}
	if ch, err := tr.Chain(a, c); err != nil || len(ch) < 2 || ch[0] != a || ch[len(ch)-1] != c {
		t.Errorf("Chain(a, c) = %v, %v", ch, err)
	}
	// Two notes on different nodes, no messages: concurrent.
	cc := &Trace{Meta: Meta{Nodes: 2}}
	cc.Append(Event{Kind: Note, Node: 1, Lamport: 1})
	cc.Append(Event{Kind: Note, Node: 2, Lamport: 1})
	if o, err := cc.Relation(0, 1); err != nil || o != clock.Concurrent {
		t.Errorf("got %v, %v; want concurrent", o, err)
	}
}

// A peer-down hint is a receive with message id 0 and no send.
func TestValidatePeerDownHint(t *testing.T) {
	tr := &Trace{Meta: Meta{Nodes: 2}}
	tr.Append(Event{Kind: Recv, Node: 1, Peer: 2, MsgKind: "peer-down", Lamport: 1, Vector: clock.Vector{1, 0}})
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
}
