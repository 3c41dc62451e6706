package sim

import (
	"encoding/json"
	"testing"
	"time"

	"ordo/trace"
)

// recorder keeps what an Observer is shown, as JSON lines (the event is
// valid only during the call).
type recorder struct {
	meta  trace.Meta
	lines []string
}

func (r *recorder) Begin(m trace.Meta) { r.meta = m }
func (r *recorder) Observe(e *trace.Event) {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	r.lines = append(r.lines, string(b))
}

func observedRun(t *testing.T, seed uint64, tracing bool) (*Sim, *recorder) {
	t.Helper()
	rec := &recorder{}
	s, err := New(Config{
		Protocol: gossipProto, Nodes: 5, Seed: seed, Trace: tracing, Name: "observed", Observer: rec,
		Network: Network{Default: Link{Latency: Dist{Kind: Exponential, A: time.Millisecond, B: 3 * time.Millisecond}, Loss: 0.05, Duplicate: 0.05}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.At(300*time.Millisecond, func(s *Sim) { s.Crash(2) })
	s.At(700*time.Millisecond, func(s *Sim) { _ = s.Restart(2) })
	s.At(400*time.Millisecond, func(s *Sim) { s.Pause(5) })
	s.At(650*time.Millisecond, func(s *Sim) { s.Resume(5) })
	s.At(800*time.Millisecond, func(s *Sim) { _ = s.Partition(ids(1, 2), ids(3, 4, 5)) })
	s.At(900*time.Millisecond, func(s *Sim) { s.Heal() })
	if err := s.RunFor(1500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// An observer sees, with tracing off, exactly the events a traced run
// records: same ids, times, Lamport and vector stamps, drops and faults,
// from the boots on, and the run itself is unchanged by being watched.
func TestObserver_SeesTheTraceWithTracingOff(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		traced, all := observedRun(t, seed, true)
		quiet, seen := observedRun(t, seed, false)
		if quiet.Trace() != nil {
			t.Fatal("a run with Trace off kept a trace")
		}
		tr := traced.Trace()
		if len(tr.Events) == 0 || len(seen.lines) != len(tr.Events) || len(all.lines) != len(tr.Events) {
			t.Fatalf("seed %d: %d events traced, observer saw %d (traced run) and %d (untraced)", seed, len(tr.Events), len(all.lines), len(seen.lines))
		}
		for i := range tr.Events {
			b, _ := json.Marshal(&tr.Events[i])
			untraced := tr.Events[i]
			if untraced.Kind == trace.Timer {
				untraced.Attrs = nil // an untraced run's timer events carry no arg
			}
			u, _ := json.Marshal(&untraced)
			if string(u) != seen.lines[i] || string(b) != all.lines[i] {
				t.Fatalf("seed %d event %d:\ntrace    %s\nobserved %s\nuntraced %s", seed, i, b, all.lines[i], seen.lines[i])
			}
		}
		if seen.meta.Nodes != 5 || seen.meta.Protocol != "gossip" || seen.meta.Seed != seed {
			t.Fatalf("meta %+v", seen.meta)
		}
		if traced.Stats().Sent != quiet.Stats().Sent || traced.Events() != quiet.Events() {
			t.Fatalf("seed %d: watching changed the run", seed)
		}
	}
}
