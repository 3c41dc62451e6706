package check

import (
	"slices"
	"strings"
	"testing"

	"ordo"
	"ordo/trace"
)

// counter is an online checker for the tests: it fails when it sees a
// "bad" note and refuses runs of protocol "other".
type counter struct{}

func (counter) Name() string                  { return "test-counter" }
func (counter) Doc() string                   { return "fails on a bad note" }
func (c counter) Check(t *trace.Trace) Result { return Replay(c, t) }
func (counter) Start(m *trace.Meta) (Judge, error) {
	if m.Protocol == "other" {
		return nil, errString("test-counter judges no protocol called other")
	}
	return &counting{}, nil
}

type errString string

func (e errString) Error() string { return string(e) }

type counting struct{ n, bad int }

func (c *counting) Observe(e *trace.Event) {
	c.n++
	if e.Kind == trace.Note && e.Name == "bad" {
		c.bad++
	}
}
func (c *counting) Result() Result { return Result{OK: c.bad == 0} }

// stored is a stored-trace checker: the session builds its trace.
type stored struct{}

func (stored) Name() string { return "test-stored" }
func (stored) Doc() string  { return "passes when the trace has events" }
func (stored) Check(t *trace.Trace) Result {
	return Result{OK: len(t.Events) > 0, Summary: t.Meta.Protocol}
}
func (stored) Applies(m *trace.Meta) error {
	if m.Protocol == "other" {
		return errString("no")
	}
	return nil
}

func init() {
	Register(counter{})
	Register(stored{})
}

func TestSession_OnlineAndStoredAgree(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 2, Protocol: "p"}}
	tr.Append(trace.Event{Kind: trace.Start, Node: 1})
	tr.Append(trace.Event{Kind: trace.Note, Node: 1, T: 5, Name: "bad"})
	res, err := Run(tr, []string{"test-counter", "test-stored"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Verdict != Fail || res[0].OK || !res[0].Failed() || res[0].Check != "test-counter" {
		t.Fatalf("%+v", res[0])
	}
	if res[1].Verdict != Pass || !res[1].OK || res[1].Summary != "p" {
		t.Fatalf("the stored checker did not get the session's trace: %+v", res[1])
	}
	if r := (counter{}).Check(tr); r.Verdict != Fail {
		t.Fatalf("Check and Run disagree: %+v", r)
	}
	if _, err := NewSession([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "test-counter") {
		t.Fatalf("unknown check: %v", err)
	}
}

func TestSession_RefusesWithMessage(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 1, Protocol: "other"}}
	tr.Append(trace.Event{Kind: trace.Start, Node: 1})
	res, _ := Run(tr, []string{"test-counter", "test-stored"})
	for _, r := range res {
		if r.Verdict != NotApplicable || r.OK || r.Failed() || !strings.HasPrefix(r.Summary, "not applicable: ") {
			t.Fatalf("a refused check: %+v", r)
		}
	}
	if r := (counter{}).Check(tr); r.Verdict != NotApplicable {
		t.Fatalf("%+v", r)
	}
}

func TestResult_UnknownIsNeverAPass(t *testing.T) {
	r := Result{OK: true, Unknown: true}
	r.normalize()
	if r.Verdict != Unknown || r.OK {
		t.Fatalf("%+v", r)
	}
}

func TestSession_OutOfOrderPanics(t *testing.T) {
	s, _ := NewSession([]string{"test-counter"})
	s.Begin(trace.Meta{Nodes: 1})
	s.Observe(&trace.Event{Kind: trace.Start, Node: 1, T: 10})
	s.Observe(&trace.Event{Kind: trace.Note, Node: 1, T: 5})
	defer func() {
		if recover() == nil {
			t.Fatal("events out of time order were judged")
		}
	}()
	s.Results()
}

func TestInTimeOrder(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 1}}
	tr.Append(trace.Event{Kind: trace.Start, Node: 1, T: 10})
	tr.Append(trace.Event{Kind: trace.Note, Node: 1, T: 5})
	if OutOfOrder(tr) != 1 {
		t.Fatal(OutOfOrder(tr))
	}
	s := InTimeOrder(tr)
	if s == tr || s.Events[0].ID != 1 || tr.Events[0].ID != 0 || OutOfOrder(s) != -1 {
		t.Fatalf("sorted %+v, original %+v", s.Events, tr.Events)
	}
}

func TestNet_Faults(t *testing.T) {
	m := &trace.Meta{Nodes: 6, Servers: []int{1, 2, 3, 4, 5}}
	w := NewNet(m)
	for id := 1; id <= 6; id++ {
		w.Observe(&trace.Event{Kind: trace.Start, Node: ordo.NodeID(id)})
	}
	if w.Majority() != 3 || len(w.WithMajority()) != 5 {
		t.Fatalf("majority %d, with majority %v", w.Majority(), w.WithMajority())
	}
	fault := func(name string, kv ...any) {
		w.Observe(&trace.Event{Kind: trace.Fault, Name: name, Attrs: trace.MakeAttrs(kv)})
	}
	fault("partition", "groups", "1,2") // 3,4,5 form the other group
	if w.Reach(1) != 2 || w.Reach(3) != 3 || len(w.WithMajority()) != 3 {
		t.Fatalf("partition: reach %d %d", w.Reach(1), w.Reach(3))
	}
	fault("heal")
	fault("cut-one-way", "from", "[n2 n3]", "to", "[n1]")
	if w.Link(2, 1) || !w.Link(1, 2) || w.Reach(1) != 3 {
		t.Fatalf("one-way cut: reach(1)=%d", w.Reach(1))
	}
	fault("partition", "groups", "1,2/4,5")
	fault("bridge", "node", 3)
	if w.Reach(1) != 3 || w.Reach(3) != 5 || w.Link(1, 4) {
		t.Fatalf("bridge: %d %d", w.Reach(1), w.Reach(3))
	}
	fault("heal")
	w.Observe(&trace.Event{Kind: trace.Pause, Node: 1})
	w.Observe(&trace.Event{Kind: trace.Crash, Node: 2})
	fault("kill", "node", 3)
	if w.Running(1) || !w.Up(1) || w.Up(2) || w.Up(3) || w.Reach(4) != 2 || len(w.WithMajority()) != 0 {
		t.Fatalf("pause, crash, kill: reach(4)=%d", w.Reach(4))
	}
	w.Observe(&trace.Event{Kind: trace.Resume, Node: 1})
	fault("faults", "node", 1, "block_out", "[n4]", "block_in", "[]")
	if w.Link(1, 4) || !w.Link(4, 1) || w.Reach(1) != 2 {
		t.Fatalf("live fault layer: reach(1)=%d", w.Reach(1))
	}
}

// Services (issue 15) are nodes to Net but never servers: a partition
// that names one cuts it off with its group, one that does not leaves it
// reaching everyone, and it never counts toward a majority.
func TestNet_Services(t *testing.T) {
	m := &trace.Meta{Nodes: 5, Servers: []int{1, 2, 3}, Clients: []int{4}, Services: []int{5}}
	w := NewNet(m)
	for id := 1; id <= 5; id++ {
		w.Observe(&trace.Event{Kind: trace.Start, Node: ordo.NodeID(id)})
	}
	if !slices.Equal(w.Servers(), []int{1, 2, 3}) || w.Majority() != 2 || w.Reach(1) != 3 || w.Reach(5) != 3 {
		t.Fatalf("servers %v majority %d reach(1) %d reach(5) %d", w.Servers(), w.Majority(), w.Reach(1), w.Reach(5))
	}
	fault := func(name string, kv ...any) {
		w.Observe(&trace.Event{Kind: trace.Fault, Name: name, Attrs: trace.MakeAttrs(kv)})
	}
	fault("partition", "groups", "1/2,3,5") // one candidate cut from the service
	if w.Link(1, 5) || w.Link(5, 1) || !w.Link(2, 5) || !w.Link(4, 1) || !w.Link(4, 5) || w.Link(1, 2) {
		t.Fatalf("partition 1/2,3,5: 1-5 %v 5-1 %v 2-5 %v 4-1 %v 1-2 %v", w.Link(1, 5), w.Link(5, 1), w.Link(2, 5), w.Link(4, 1), w.Link(1, 2))
	}
	fault("partition", "groups", "1/5") // 2,3 form a third group
	if w.Link(1, 5) || w.Link(2, 5) || w.Link(1, 2) || !w.Link(2, 3) || !w.Link(4, 5) {
		t.Fatalf("partition 1/5: 1-5 %v 2-5 %v 1-2 %v", w.Link(1, 5), w.Link(2, 5), w.Link(1, 2))
	}
	fault("partition", "groups", "1,2") // the service in no group reaches all
	if !w.Link(1, 5) || !w.Link(3, 5) || w.Link(1, 3) || len(w.WithMajority()) != 2 {
		t.Fatalf("partition 1,2: 1-5 %v 3-5 %v with majority %v", w.Link(1, 5), w.Link(3, 5), w.WithMajority())
	}
	w.Observe(&trace.Event{Kind: trace.Pause, Node: 5})
	if w.Running(5) || !w.Up(5) || len(w.WithMajority()) != 2 {
		t.Fatalf("paused service: running %v, with majority %v", w.Running(5), w.WithMajority())
	}
}
