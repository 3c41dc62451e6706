package check

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"ordo"
	"ordo/trace"
)

// Result.normalize and Replay: a verdict is exactly one of pass, fail,
// unknown, not-applicable, and OK means pass — never for a failure, an
// unknown or a refusal.
func TestResult_VerdictAndOKAgree(t *testing.T) {
	for _, tc := range []struct {
		in   Result
		want Verdict
	}{
		{Result{OK: true}, Pass},
		{Result{OK: false}, Fail},
		{Result{Unknown: true}, Unknown},
		{Result{OK: true, Verdict: NotApplicable}, NotApplicable},
		{Result{OK: true, Verdict: Fail}, Fail},
		{Result{OK: false, Verdict: Pass}, Pass},
	} {
		r := tc.in
		r.normalize()
		if r.Verdict != tc.want || r.OK != (tc.want == Pass) || r.Unknown != (tc.want == Unknown) || r.Failed() != (tc.want == Fail) {
			t.Errorf("%+v normalized to %+v, want verdict %s", tc.in, r, tc.want)
		}
	}
	bad := &trace.Trace{Meta: trace.Meta{Nodes: 1}}
	bad.Append(trace.Event{Kind: trace.Note, Node: 1, Name: "bad"})
	if r := (counter{}).Check(bad); r.OK || r.Verdict != Fail {
		t.Errorf("a failing replay gave %+v", r)
	}
	good := &trace.Trace{Meta: trace.Meta{Nodes: 1}}
	if r := (counter{}).Check(good); !r.OK || r.Verdict != Pass {
		t.Errorf("a passing replay gave %+v", r)
	}
	refused := &trace.Trace{Meta: trace.Meta{Nodes: 1, Protocol: "other"}}
	if r := (counter{}).Check(refused); r.OK || r.Verdict != NotApplicable || !strings.HasPrefix(r.Summary, "not applicable: ") {
		t.Errorf("a refused replay gave %+v", r)
	}
	if r := Refuse("x", errors.New("why")); r.Summary != "not applicable: why" || r.Check != "x" {
		t.Errorf("Refuse gave %+v", r)
	}
}

// Sorting a trace into time order is stable: events of the same instant
// keep their order in the file (a node's events of one instant are in
// program order), and a trace whose times only repeat is in order already.
func TestInTimeOrder_StableForEqualTimes(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 2}}
	for _, at := range []int64{10, 10, 20, 20, 20} {
		tr.Append(trace.Event{Kind: trace.Note, Node: 1, T: at})
	}
	if i := OutOfOrder(tr); i != -1 {
		t.Fatalf("equal times reported out of order at %d", i)
	}
	if InTimeOrder(tr) != tr {
		t.Fatal("a trace in order was copied")
	}
	tr.Append(trace.Event{Kind: trace.Note, Node: 2, T: 10})
	tr.Append(trace.Event{Kind: trace.Note, Node: 2, T: 10})
	if i := OutOfOrder(tr); i != 5 {
		t.Fatalf("OutOfOrder = %d, want 5", i)
	}
	s := InTimeOrder(tr)
	var ids []int
	for _, e := range s.Events {
		ids = append(ids, e.ID)
	}
	if want := []int{0, 1, 5, 6, 2, 3, 4}; !slices.Equal(ids, want) {
		t.Fatalf("sorted ids %v, want %v (same-instant events in file order)", ids, want)
	}
}

// Register refuses a second checker of the same name; Lookup of an unknown
// name lists the valid ones; Names are sorted.
func TestRegistry(t *testing.T) {
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "test-counter") {
				t.Errorf("registering test-counter twice: panic %v", r)
			}
		}()
		Register(counter{})
	}()
	_, err := Lookup("no-such-check")
	if err == nil || !strings.Contains(err.Error(), "test-counter") || !strings.Contains(err.Error(), `"no-such-check"`) {
		t.Errorf("Lookup of an unknown check: %v", err)
	}
	if n := Names(); !slices.IsSorted(n) || !slices.Contains(n, "test-stored") {
		t.Errorf("Names = %v", n)
	}
	if _, err := Run(&trace.Trace{}, []string{"no-such-check"}); err == nil {
		t.Error("Run with an unknown check succeeded")
	}
	if _, err := NewSession([]string{"test-counter", "no-such-check"}); err == nil {
		t.Error("NewSession with an unknown check succeeded")
	}
}

// A Session is used in order: Begin once, then Observe, then Results.
func TestSession_MisuseOrderPanics(t *testing.T) {
	for name, f := range map[string]func(s *Session){
		"Observe before Begin": func(s *Session) { s.Observe(&trace.Event{}) },
		"Results before Begin": func(s *Session) { s.Results() },
		"Begin twice":          func(s *Session) { s.Begin(trace.Meta{}); s.Begin(trace.Meta{}) },
	} {
		s, _ := NewSession([]string{"test-counter"})
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f(s)
		}()
	}
	// Events of the same instant are in order.
	s, _ := NewSession([]string{"test-counter", "test-stored"})
	s.Begin(trace.Meta{Nodes: 1, Protocol: "p"})
	s.Observe(&trace.Event{Kind: trace.Start, Node: 1, T: 10})
	s.Observe(&trace.Event{Kind: trace.Note, Node: 1, T: 10})
	if r := s.Results(); !r[0].OK || !r[1].OK || r[1].Summary != "p" {
		t.Fatalf("results %+v", r)
	}
}

// Net: without a Servers list every node 1..Nodes is a server; the last
// one too. Out-of-range ids in fault attributes are ignored; a live pause
// of a node that is down changes nothing; Running, Up and Paused answer
// false outside 1..N.
func TestNet_ServersAndBounds(t *testing.T) {
	w := NewNet(&trace.Meta{Nodes: 3})
	if !slices.Equal(w.Servers(), []int{1, 2, 3}) || w.Majority() != 2 {
		t.Fatalf("servers %v majority %d, want [1 2 3] and 2", w.Servers(), w.Majority())
	}
	for id := 1; id <= 3; id++ {
		w.Observe(&trace.Event{Kind: trace.Start, Node: ordo.NodeID(id)})
	}
	w.Observe(&trace.Event{Kind: trace.Start, Node: 4}) // beyond the run: ignored
	fault := func(name string, kv ...any) {
		w.Observe(&trace.Event{Kind: trace.Fault, Name: name, Attrs: trace.MakeAttrs(kv)})
	}
	fault("kill", "node", 4)
	fault("kill", "node", 0)
	if got := len(w.WithMajority()); got != 3 {
		t.Fatalf("out-of-range kills changed the run: %d with a majority", got)
	}
	fault("kill", "node", 3)
	fault("pause", "node", 3) // down: a pause of nothing
	fault("leave", "node", 2)
	if w.Up(2) || w.Up(3) || w.Paused(3) || !w.Running(1) {
		t.Fatalf("kill/leave/pause: up2=%v up3=%v paused3=%v", w.Up(2), w.Up(3), w.Paused(3))
	}
	if w.Reach(1) != 1 || w.WithMajority() != nil {
		t.Fatalf("one of three running: reach %d, with majority %v", w.Reach(1), w.WithMajority())
	}
	for _, id := range []int{-1, 0, 4} {
		if w.Running(id) || w.Up(id) || w.Paused(id) || w.Reach(id) != 0 {
			t.Errorf("id %d outside the run answered as a node", id)
		}
	}
	w.Observe(&trace.Event{Kind: trace.Restart, Node: 3})
	fault("pause", "node", 3)
	if !w.Paused(3) || w.Running(3) {
		t.Fatalf("a live pause of a running node: paused=%v", w.Paused(3))
	}
	fault("resume", "node", 3)
	if !w.Running(3) {
		t.Fatal("a live resume left node 3 paused")
	}
	// Partition groups name ids as the runtimes print them; ids out of
	// range are ignored, and servers in no group form one more group.
	fault("partition", "groups", "[n1 n9]/[n0]")
	if w.Link(1, 3) || w.Link(3, 1) || !w.Link(1, 1) {
		t.Fatalf("partition [n1]/rest: link 1-3 %v", w.Link(1, 3))
	}
	fault("heal")
	if !w.Link(1, 3) || w.Reach(1) != 2 {
		t.Fatalf("after heal: reach %d", w.Reach(1))
	}
	// The live per-node layer: block_in on node 3 for node 1 cuts 1 → 3 only;
	// a heal clears it.
	fault("faults", "node", 3, "block_out", "", "block_in", "1")
	if w.Link(1, 3) || !w.Link(3, 1) {
		t.Fatalf("block_in: link 1→3 %v, 3→1 %v", w.Link(1, 3), w.Link(3, 1))
	}
	fault("heal")
	if !w.Link(1, 3) {
		t.Fatal("heal left the live layer's block in place")
	}
}

// Every cell of the link matrix: a partition 1,2/3,4 of five servers
// (5 in no group) blocks exactly the links between different groups, both
// ways, and a one-way cut exactly its direction.
func TestNet_LinkMatrix(t *testing.T) {
	w := NewNet(&trace.Meta{Nodes: 5})
	for id := 1; id <= 5; id++ {
		w.Observe(&trace.Event{Kind: trace.Start, Node: ordo.NodeID(id)})
	}
	w.Observe(&trace.Event{Kind: trace.Fault, Name: "partition", Attrs: trace.MakeAttrs([]any{"groups", "1,2/3,4"})})
	group := []int{0, 1, 1, 2, 2, 3}
	for a := 1; a <= 5; a++ {
		for b := 1; b <= 5; b++ {
			if got, want := w.Link(a, b), group[a] == group[b]; got != want {
				t.Errorf("partition: Link(%d, %d) = %v, want %v", a, b, got, want)
			}
		}
	}
	w.Observe(&trace.Event{Kind: trace.Fault, Name: "heal"})
	w.Observe(&trace.Event{Kind: trace.Fault, Name: "cut-one-way", Attrs: trace.MakeAttrs([]any{"from", "5", "to", "1,2,3,4,5"})})
	for a := 1; a <= 5; a++ {
		for b := 1; b <= 5; b++ {
			if got, want := w.Link(a, b), a != 5 || b == 5; got != want {
				t.Errorf("cut 5→all: Link(%d, %d) = %v, want %v", a, b, got, want)
			}
		}
	}
	if w.Reach(5) != 1 || len(w.WithMajority()) != 4 {
		t.Errorf("cut 5→all: reach(5) = %d, with majority %v", w.Reach(5), w.WithMajority())
	}
	// A bridge: node 3 between 1,2 and 4,5 reaches everyone, the last
	// server included.
	w.Observe(&trace.Event{Kind: trace.Fault, Name: "partition", Attrs: trace.MakeAttrs([]any{"groups", "1,2/4,5"})})
	w.Observe(&trace.Event{Kind: trace.Fault, Name: "bridge", Attrs: trace.MakeAttrs([]any{"node", 3})})
	for b := 1; b <= 5; b++ {
		if !w.Link(3, b) || !w.Link(b, 3) {
			t.Errorf("bridge 3: link with %d cut", b)
		}
	}
	if w.Link(1, 5) || w.Reach(3) != 5 {
		t.Errorf("bridge 3: link 1-5 %v, reach(3) %d", w.Link(1, 5), w.Reach(3))
	}
}

// Ids are read in any printed form, digits 0 and 9 included; with no cut,
// exactly a majority running still makes progress.
func TestNet_IDsAndBareMajority(t *testing.T) {
	w := NewNet(&trace.Meta{Nodes: 10})
	for id := 1; id <= 10; id++ {
		w.Observe(&trace.Event{Kind: trace.Start, Node: ordo.NodeID(id)})
	}
	w.Observe(&trace.Event{Kind: trace.Fault, Name: "partition", Attrs: trace.MakeAttrs([]any{"groups", "[n9 n10]"})})
	if !w.Link(9, 10) || w.Link(9, 1) || w.Link(10, 8) || !w.Link(1, 8) {
		t.Fatalf("partition [n9 n10]: 9-10 %v, 9-1 %v, 10-8 %v, 1-8 %v", w.Link(9, 10), w.Link(9, 1), w.Link(10, 8), w.Link(1, 8))
	}
	v := NewNet(&trace.Meta{Nodes: 5})
	for id := 1; id <= 5; id++ {
		v.Observe(&trace.Event{Kind: trace.Start, Node: ordo.NodeID(id)})
	}
	v.Observe(&trace.Event{Kind: trace.Crash, Node: 4})
	v.Observe(&trace.Event{Kind: trace.Crash, Node: 5})
	if got := v.WithMajority(); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("3 of 5 running, no cut: with majority %v, want [1 2 3]", got)
	}
}
