package sim

import (
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

func nemesisFaults(tr *trace.Trace) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for _, e := range tr.Events {
		name := ""
		switch {
		case e.Kind == trace.Crash || e.Kind == trace.Restart || e.Kind == trace.Pause || e.Kind == trace.Resume:
			name = string(e.Kind)
		case e.Kind == trace.Fault:
			name = e.Name
		case e.Kind == trace.Note && e.Name == "clock-jump":
			name = e.Name
		}
		if name != "" {
			out[name] = append(out[name], time.Duration(e.T))
		}
	}
	return out
}

// Reference: section 5 (partitions, partial failure): random faults within
// [Start, Stop], all mended by Stop so liveness can be checked after it.
func TestNemesisFaultsStayInWindowAndAreHealedByStop(t *testing.T) {
	const seed = 11
	s := newProbeSim(t, Config{Nodes: 5, Seed: seed})
	nem := Nemesis{Start: time.Second, Stop: 6 * time.Second, Crash: 1, Partition: 1, Pause: 1, ClockJump: 1, Loss: 1, MeanDowntime: 500 * time.Millisecond}
	if err := s.StartNemesis(nem); err != nil {
		t.Fatal(err)
	}
	allToAll(s, 500*time.Millisecond, 5) // before: nothing broken
	tr := run(t, s, 10*time.Second)
	f := nemesisFaults(tr)
	for _, k := range []string{"crash", "restart", "pause", "resume", "partition", "heal", "clock-jump", "loss-burst", "loss-burst-end"} {
		if len(f[k]) == 0 {
			t.Errorf("seed %d: the nemesis never did %s", seed, k)
		}
		for _, at := range f[k] {
			if at < nem.Start || at > nem.Stop {
				t.Errorf("%s at %v, outside [%v, %v]", k, at, nem.Start, nem.Stop)
			}
		}
	}
	if len(f["crash"]) != len(f["restart"]) || len(f["pause"]) < len(f["resume"]) {
		t.Errorf("crashes %d restarts %d pauses %d resumes %d", len(f["crash"]), len(f["restart"]), len(f["pause"]), len(f["resume"]))
	}
	for id := ordo.NodeID(1); id <= 5; id++ {
		if !s.Up(id) || s.Paused(id) {
			t.Errorf("after Stop node %d up=%v paused=%v", id, s.Up(id), s.Paused(id))
		}
		for j := ordo.NodeID(1); j <= 5; j++ {
			if s.Blocked(id, j) {
				t.Errorf("after Stop %d->%d still cut", id, j)
			}
		}
	}
	if s.net.burst != 0 {
		t.Errorf("loss burst %v still on after Stop", s.net.burst)
	}
	mark := len(tr.Events)
	allToAll(s, s.Now()+time.Millisecond, 5)
	tr = run(t, s, time.Second)
	for link, fa := range fates(tr, mark, 5) {
		if fa != "recv" {
			t.Errorf("after Stop %d->%d: %s", link[0], link[1], fa)
		}
	}
	if t.Failed() {
		t.Logf("replay: go test ./sim -run TestNemesisFaultsStayInWindowAndAreHealedByStop (seed %d is fixed)", seed)
	}
}

func TestNemesisIsDrawnFromTheSeed(t *testing.T) {
	sched := func(seed uint64) map[string][]time.Duration {
		s := newProbeSim(t, Config{Nodes: 4, Seed: seed})
		if err := s.StartNemesis(Nemesis{Stop: 5 * time.Second, Crash: 2, Partition: 2, Pause: 2, ClockJump: 2, Loss: 2}); err != nil {
			t.Fatal(err)
		}
		return nemesisFaults(run(t, s, 6*time.Second))
	}
	a, b, c := sched(5), sched(5), sched(6)
	same := func(x, y map[string][]time.Duration) bool { return maps.EqualFunc(x, y, slices.Equal) }
	if !same(a, b) {
		t.Fatal("same seed, different nemesis schedules")
	}
	if same(a, c) {
		t.Fatal("different seeds, same nemesis schedule")
	}
}

func TestNemesisRejectsBadConfig(t *testing.T) {
	for _, n := range []Nemesis{
		{Start: 2 * time.Second, Stop: time.Second},
		{Start: -time.Second, Stop: time.Second},
		{Stop: time.Second, Crash: -1},
		{Stop: time.Second, Loss: math.NaN()},
		{Stop: time.Second, Pause: 1e9},
		{Stop: time.Second, MeanDowntime: -time.Second},
	} {
		s := newProbeSim(t, Config{Nodes: 2})
		if err := s.StartNemesis(n); err == nil {
			t.Errorf("accepted %+v", n)
		}
	}
	s := newProbeSim(t, Config{Nodes: 2})
	if err := s.StartNemesis(Nemesis{Stop: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartNemesis(Nemesis{Stop: time.Second}); err == nil {
		t.Error("started twice")
	}
	run(t, s, 2*time.Second)
	if err := s.StartNemesis(Nemesis{Start: time.Second, Stop: 3 * time.Second}); err == nil {
		t.Error("start in the past accepted")
	}
}
