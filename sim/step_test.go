package sim_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"ordo"
	"ordo/election/raft"
	"ordo/sim"
	"ordo/trace"
)

// stepConfig is a traced Raft run on a lossy LAN in wire mode whose leader
// candidate crashes and restarts: deliveries, drops, timers, actions.
func stepSim(t *testing.T, traced bool, max uint64) *sim.Sim {
	t.Helper()
	s, err := sim.New(sim.Config{Protocol: raft.Protocol, Nodes: 5, Seed: 7, Trace: traced, Wire: true, MaxEvents: max,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.05}}})
	if err != nil {
		t.Fatal(err)
	}
	s.At(700*time.Millisecond, func(s *sim.Sim) { s.Crash(2) })
	s.At(900*time.Millisecond, func(s *sim.Sim) { s.Partition([]ordo.NodeID{1, 3}, []ordo.NodeID{2, 4, 5}) })
	s.At(1200*time.Millisecond, func(s *sim.Sim) { s.Heal(); _ = s.Restart(2) })
	return s
}

func traceJSON(t *testing.T, tr *trace.Trace) string {
	t.Helper()
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Stepping one item at a time until nothing is due by d is RunFor(d): the
// same trace, and the steps' Events are the trace after the boot, in order.
func TestStepUntilEmptyIsRunFor(t *testing.T) {
	const d = 2 * time.Second
	a := stepSim(t, true, 0)
	if err := a.RunFor(d); err != nil {
		t.Fatal(err)
	}
	b := stepSim(t, true, 0)
	booted := len(b.Trace().Events) // New boots every node: their start events
	var got []trace.Event
	kinds := map[string]int{}
	steps := 0
	for {
		at, ok := b.Pending()
		if !ok || at > d {
			break
		}
		st, ok, err := b.Step()
		if err != nil || !ok {
			t.Fatalf("step %d: ok %v, err %v", steps, ok, err)
		}
		if st.At != at || b.Now() != at {
			t.Fatalf("step %d: At %v, Now %v, want %v", steps, st.At, b.Now(), at)
		}
		if st.Kind == "" {
			t.Fatalf("step %d: no kind", steps)
		}
		kinds[st.Kind]++
		got = append(got, st.Events...)
		steps++
	}
	if uint64(steps) != a.Events() || b.Events() != a.Events() {
		t.Fatalf("%d steps, Events %d; RunFor processed %d", steps, b.Events(), a.Events())
	}
	for _, k := range []string{"deliver", "timer", "action"} {
		if kinds[k] == 0 {
			t.Errorf("no %s step in %v", k, kinds)
		}
	}
	if ta, tb := traceJSON(t, a.Trace()), traceJSON(t, b.Trace()); ta != tb {
		t.Fatal("stepped trace differs from RunFor's")
	}
	if booted == 0 || !reflect.DeepEqual(got, b.Trace().Events[booted:]) {
		t.Fatalf("the steps' Events (%d) are not the trace's after boot (%d - %d)", len(got), len(b.Trace().Events), booted)
	}
	// RunFor's end moved the clock to d; the stepped run is at its last item.
	if err := b.RunUntil(d); err != nil || b.Now() != a.Now() {
		t.Fatalf("RunUntil after stepping: %v, now %v, want %v", err, b.Now(), a.Now())
	}
}

// An untraced run steps the same items and reports no events.
func TestStepUntraced(t *testing.T) {
	s := stepSim(t, false, 0)
	for range 200 {
		st, ok, err := s.Step()
		if err != nil || !ok {
			t.Fatalf("ok %v, err %v", ok, err)
		}
		if st.Events != nil {
			t.Fatalf("untraced step has events %v", st.Events)
		}
	}
	if s.Events() != 200 {
		t.Fatalf("Events %d after 200 steps", s.Events())
	}
}

// An empty queue: ok is false, nothing happens.
func TestStepEmptyQueue(t *testing.T) {
	p := &ordo.Protocol{Name: "idle", New: func(ordo.Config) (ordo.Node, error) { return stepIdle{}, nil }}
	s, err := sim.New(sim.Config{Protocol: p, Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Pending(); ok {
		t.Fatal("Pending on an empty queue")
	}
	st, ok, err := s.Step()
	if ok || err != nil || !reflect.DeepEqual(st, sim.Stepped{}) {
		t.Fatalf("Step on an empty queue: %+v, %v, %v", st, ok, err)
	}
	if _, ok := s.NodeState(1); ok {
		t.Fatal("NodeState of a protocol without State")
	}
}

// Step respects the event bound with RunUntil's error.
func TestStepEventLimit(t *testing.T) {
	s := stepSim(t, true, 50)
	for i := range 50 {
		if _, ok, err := s.Step(); !ok || err != nil {
			t.Fatalf("step %d: ok %v, err %v", i, ok, err)
		}
	}
	_, ok, err := s.Step()
	var lim sim.ErrEventLimit
	if ok || !errors.As(err, &lim) || lim.Limit != 50 || !lim.Traced {
		t.Fatalf("step 51: ok %v, err %v; want ErrEventLimit{50, traced}", ok, err)
	}
	if s.Events() != 50 {
		t.Fatalf("Events %d, want 50", s.Events())
	}
}

// NodeState reports a running node's protocol state, nothing for a
// crashed one, and reading it changes nothing.
func TestNodeState(t *testing.T) {
	a, b := stepSim(t, true, 0), stepSim(t, true, 0)
	for a.Now() < 800*time.Millisecond {
		if _, _, err := a.Step(); err != nil {
			t.Fatal(err)
		}
		for id := ordo.NodeID(1); id <= 5; id++ {
			a.NodeState(id)
		}
	}
	if err := b.RunUntil(a.Now()); err != nil {
		t.Fatal(err)
	}
	if traceJSON(t, a.Trace()) != traceJSON(t, b.Trace()) {
		t.Fatal("reading NodeState changed the run")
	}
	if _, ok := a.NodeState(2); ok {
		t.Fatal("NodeState of crashed node 2")
	}
	st, ok := a.NodeState(1)
	if !ok {
		t.Fatal("no NodeState for node 1")
	}
	rs, ok := st.(raft.State)
	if !ok || rs.Term == 0 || rs.Role == "" {
		t.Fatalf("node 1 state %#v", st)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Fatal(err)
	}
}

type stepIdle struct{}

func (stepIdle) Start(ordo.Env)                              {}
func (stepIdle) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (stepIdle) Fire(ordo.Env, ordo.Timer)                   {}
