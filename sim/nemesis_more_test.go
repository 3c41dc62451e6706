package sim

import (
	"math"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// Issue 9, "a suite that catches what it claims to": the nemesis (Jepsen's
// random fault process; chapter section 5 on partial failure) strikes
// servers only, at its rates, inside its window, and mends what it broke.

// validate at its bounds: a start of 0, a rate of MaxNemesisRate and a
// mean downtime of 0 (one second) are accepted; one step past is refused.
func TestNemesisValidateBounds(t *testing.T) {
	ok := []Nemesis{
		{Start: 0, Stop: 1},
		{Stop: time.Second, Crash: MaxNemesisRate},
		{Stop: time.Second, Partition: MaxNemesisRate},
		{Stop: time.Second, Pause: MaxNemesisRate},
		{Stop: time.Second, ClockJump: MaxNemesisRate},
		{Stop: time.Second, Loss: MaxNemesisRate},
		{Stop: time.Second, MeanDowntime: 0},
	}
	for _, n := range ok {
		if err := n.validate(); err != nil {
			t.Errorf("%+v refused: %v", n, err)
		}
	}
	bad := []Nemesis{
		{Start: -1, Stop: time.Second},
		{Start: time.Second, Stop: time.Second},
		{Stop: time.Second, Crash: MaxNemesisRate + 1},
		{Stop: time.Second, Partition: MaxNemesisRate + 1},
		{Stop: time.Second, Pause: -0.001},
		{Stop: time.Second, ClockJump: MaxNemesisRate + 1},
		{Stop: time.Second, ClockJump: math.NaN()},
		{Stop: time.Second, Loss: MaxNemesisRate + 1},
		{Stop: time.Second, MeanDowntime: -1},
	}
	for _, n := range bad {
		if err := n.validate(); err == nil {
			t.Errorf("%+v accepted", n)
		}
	}
}

// nemesisEvents returns the nemesis's faults of a run as (name, node, t).
type nemEv struct {
	name string
	node ordo.NodeID
	at   time.Duration
	by   string
}

func nemesisEvents(tr *trace.Trace) []nemEv {
	var out []nemEv
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.Crash || e.Kind == trace.Restart || e.Kind == trace.Pause || e.Kind == trace.Resume:
			out = append(out, nemEv{string(e.Kind), e.Node, time.Duration(e.T), ""})
		case e.Kind == trace.Fault:
			out = append(out, nemEv{e.Name, e.Node, time.Duration(e.T), ""})
		case e.Kind == trace.Note && e.Name == "clock-jump":
			by, _ := e.Attrs.Get("by").(string)
			out = append(out, nemEv{e.Name, e.Node, time.Duration(e.T), by})
		}
	}
	return out
}

// Faults strike servers only: with clients in the run, no client is
// crashed, paused or cut off by the nemesis's partitions.
func TestNemesisStrikesServersOnly(t *testing.T) {
	const seed = 21
	s, err := New(Config{Protocol: rolesServerProto, Nodes: 3, Seed: seed, Trace: true,
		Clients: []ClientGroup{{Protocol: rolesClientProto, Count: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartNemesis(Nemesis{Stop: 5 * time.Second, Crash: 5, Pause: 5, Partition: 5, MeanDowntime: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	clientCut := false
	for at := 10 * time.Millisecond; at < 5*time.Second; at += 10 * time.Millisecond {
		s.At(at, func(s *Sim) {
			for c := ordo.NodeID(4); c <= 5; c++ {
				for v := ordo.NodeID(1); v <= 5; v++ {
					if v != c && (s.Blocked(c, v) || s.Blocked(v, c)) {
						clientCut = true
					}
				}
			}
		})
	}
	tr := run(t, s, 6*time.Second)
	n := 0
	for _, e := range nemesisEvents(tr) {
		if e.node > 3 {
			t.Errorf("seed %d: the nemesis struck client %d: %+v", seed, e.node, e)
		}
		if e.name == "crash" || e.name == "pause" {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("seed %d: no crash or pause at all", seed)
	}
	struck := map[ordo.NodeID]bool{}
	for _, e := range nemesisEvents(tr) {
		if e.name == "crash" || e.name == "pause" {
			struck[e.node] = true
		}
	}
	if len(struck) != 3 {
		t.Errorf("seed %d: servers struck %v, want all of 1..3", seed, struck)
	}
	if clientCut {
		t.Errorf("seed %d: a nemesis partition cut a client off", seed)
	}
}

// Rates are per second (a Poisson process): 20 crashes a second over 5 s
// is about 100 (here 5 standard deviations either way), 1 a second about
// 5; a rate's faults come from its own process.
func TestNemesisRatesArePerSecond(t *testing.T) {
	count := func(seed uint64, rate float64) int {
		s := newProbeSim(t, Config{Nodes: 5, Seed: seed})
		if err := s.StartNemesis(Nemesis{Stop: 5 * time.Second, ClockJump: rate, MeanDowntime: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range nemesisEvents(run(t, s, 6*time.Second)) {
			if e.name == "clock-jump" {
				n++
			}
		}
		return n
	}
	for seed := uint64(1); seed <= 3; seed++ {
		if n := count(seed, 20); n < 50 || n > 150 {
			t.Errorf("seed %d: %d clock jumps at 20/s over 5 s, want about 100", seed, n)
		}
		if n := count(seed, 1); n > 20 {
			t.Errorf("seed %d: %d clock jumps at 1/s over 5 s, want about 5", seed, n)
		}
	}
}

// A clock jump moves a random server's clock by ±(an exponential of mean
// MeanDowntime): both directions happen, and the sizes are of the order of
// the mean, not vanishing.
func TestNemesisClockJumpsBothWays(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3, Seed: 4})
	const mean = 200 * time.Millisecond
	if err := s.StartNemesis(Nemesis{Stop: 5 * time.Second, ClockJump: 10, MeanDowntime: mean}); err != nil {
		t.Fatal(err)
	}
	back, fwd, large := 0, 0, 0
	nodes := map[ordo.NodeID]bool{}
	for _, e := range nemesisEvents(run(t, s, 6*time.Second)) {
		if e.name != "clock-jump" {
			continue
		}
		d, err := time.ParseDuration(e.by)
		if err != nil {
			t.Fatalf("jump by %q: %v", e.by, err)
		}
		nodes[e.node] = true
		if d < 0 {
			back++
			d = -d
		} else {
			fwd++
		}
		if d > mean/10 {
			large++
		}
		if d > 30*mean {
			t.Errorf("a jump of %v with mean %v", d, mean)
		}
	}
	if back == 0 || fwd == 0 || large < (back+fwd)/2 || len(nodes) != 3 {
		t.Errorf("jumps back %d, forward %d, above mean/10 %d, nodes %v: want both ways, mostly of the mean's order, every server", back, fwd, large, nodes)
	}
}

// Downtimes are drawn around MeanDowntime and cut at Stop: with a mean of
// an hour every fault is mended exactly at Stop; with a mean of 5 ms every
// crash is mended long before it.
func TestNemesisDowntimeAndStop(t *testing.T) {
	stop := 3 * time.Second
	s := newProbeSim(t, Config{Nodes: 5, Seed: 9})
	if err := s.StartNemesis(Nemesis{Start: time.Second, Stop: stop, Crash: 2, Partition: 20, Loss: 20, MeanDowntime: time.Hour}); err != nil {
		t.Fatal(err)
	}
	evs := nemesisEvents(run(t, s, 5*time.Second))
	n := map[string]int{}
	for _, e := range evs {
		n[e.name]++
		switch e.name {
		case "restart", "heal", "loss-burst-end":
			if e.at != stop {
				t.Errorf("%s at %v, want at Stop %v (downtime mean of an hour)", e.name, e.at, stop)
			}
		}
	}
	// A newer partition or loss burst supersedes the older: only the last
	// one's mend runs (one heal, one end), not one per fault.
	if n["partition"] < 2 || n["heal"] != 1 || n["loss-burst"] < 2 || n["loss-burst-end"] != 1 || n["restart"] != n["crash"] || n["crash"] == 0 {
		t.Errorf("faults %v: want several partitions and bursts, one heal, one burst end, every crash restarted", n)
	}
	s = newProbeSim(t, Config{Nodes: 5, Seed: 9})
	if err := s.StartNemesis(Nemesis{Stop: 10 * time.Second, Crash: 2, Pause: 2, MeanDowntime: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	down := map[ordo.NodeID]time.Duration{}
	mended, longer := 0, 0
	for _, e := range nemesisEvents(run(t, s, 11*time.Second)) {
		switch e.name {
		case "crash", "pause":
			down[e.node] = e.at
		case "restart", "resume":
			if d := e.at - down[e.node]; d < 0 || d > 200*time.Millisecond {
				t.Errorf("%s of %d after %v, with a mean downtime of 5ms", e.name, e.node, d)
			}
			mended++
			if e.at-down[e.node] > time.Millisecond {
				longer++
			}
		}
	}
	// Exponential of mean 5 ms: most last over 1 ms (e^-0.2 ≈ 82 %).
	if mended == 0 || longer < mended/2 {
		t.Errorf("%d mended, %d of them after over 1 ms: want most", mended, longer)
	}
}

// The nemesis does not fight scripted faults: a node the script crashed is
// not "restarted" by the nemesis, and a paused node is not paused twice.
func TestNemesisPicksOnlyRunningServers(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3, Seed: 2})
	s.Crash(3)
	mark := len(s.Trace().Events)
	if err := s.StartNemesis(Nemesis{Stop: 4 * time.Second, Crash: 10, Pause: 10, MeanDowntime: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	paused := map[ordo.NodeID]bool{}
	tr := run(t, s, 5*time.Second)
	for _, e := range nemesisEvents(&trace.Trace{Events: tr.Events[mark:]}) {
		if e.node == 3 {
			t.Fatalf("the nemesis touched the crashed node 3: %+v", e)
		}
		switch e.name {
		case "pause":
			if paused[e.node] {
				t.Fatalf("node %d paused twice", e.node)
			}
			paused[e.node] = true
		case "resume", "crash":
			delete(paused, e.node)
		}
	}
	if s.Up(3) {
		t.Error("the nemesis restarted a node it did not crash")
	}
	// A cluster of one: no partition is possible, and none is made.
	s = newProbeSim(t, Config{Nodes: 1, Seed: 2})
	if err := s.StartNemesis(Nemesis{Stop: time.Second, Partition: 50}); err != nil {
		t.Fatal(err)
	}
	for _, e := range nemesisEvents(run(t, s, 2*time.Second)) {
		if e.name == "partition" {
			t.Fatalf("a partition of one node: %+v", e)
		}
	}
}

// SetLossBurst takes a probability: 0 and 1 are accepted, outside is not.
func TestSetLossBurstBounds(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2})
	for _, p := range []float64{0, 1, 0.5} {
		if err := s.SetLossBurst(p); err != nil {
			t.Errorf("burst %v refused: %v", p, err)
		}
	}
	for _, p := range []float64{-0.01, 1.01, math.NaN()} {
		if err := s.SetLossBurst(p); err == nil {
			t.Errorf("burst %v accepted", p)
		}
	}
	// A burst of 1 loses every message; ending it (0) loses none.
	if err := s.SetLossBurst(1); err != nil {
		t.Fatal(err)
	}
	allToAll(s, time.Millisecond, 2)
	tr := run(t, s, 100*time.Millisecond)
	for link, fa := range fates(tr, 0, 2) {
		if fa == "recv" {
			t.Errorf("burst 1: %v delivered", link)
		}
	}
	mark := len(tr.Events)
	_ = s.SetLossBurst(0)
	allToAll(s, s.Now()+time.Millisecond, 2)
	tr = run(t, s, 100*time.Millisecond)
	for link, fa := range fates(tr, mark, 2) {
		if fa != "recv" {
			t.Errorf("after the burst: %v %s", link, fa)
		}
	}
}

// Two servers can be partitioned (one on each side).
func TestNemesisPartitionsTwoServers(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2, Seed: 3})
	if err := s.StartNemesis(Nemesis{Stop: 2 * time.Second, Partition: 5, MeanDowntime: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range nemesisEvents(run(t, s, 3*time.Second)) {
		if e.name == "partition" {
			n++
		}
	}
	if n == 0 {
		t.Error("two servers never partitioned at 5 per second")
	}
}

// A loss burst's fault event gives its probability to three digits.
func TestLossBurstTracedRounded(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2})
	if err := s.SetLossBurst(0.12345); err != nil {
		t.Fatal(err)
	}
	ev := find(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Fault && e.Name == "loss-burst" })
	if len(ev) != 1 {
		t.Fatalf("loss-burst events %v", ev)
	}
	if p, _ := ev[0].Attrs.Get("p").(float64); p != 0.123 {
		t.Errorf("traced p = %v, want 0.123", ev[0].Attrs.Get("p"))
	}
}
