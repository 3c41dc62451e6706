package fault

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/election/raft"
	"ordo/sim"
)

func newSim(t *testing.T, n int, disk sim.Disk) *sim.Sim {
	t.Helper()
	s, err := sim.New(sim.Config{Protocol: raft.Protocol, Nodes: n, Seed: 1, Disk: disk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The simulator's interpreter: each network shape blocks exactly the links
// its notation says (section 5, partial connectivity).
func TestApplyNetworkShapes(t *testing.T) {
	blocked := func(s *sim.Sim, n int) string {
		var b strings.Builder
		for a := 1; a <= n; a++ {
			for c := 1; c <= n; c++ {
				if a != c && s.Blocked(ordo.NodeID(a), ordo.NodeID(c)) {
					b.WriteString(FormatCut([]ordo.NodeID{ordo.NodeID(a)}, []ordo.NodeID{ordo.NodeID(c)}) + " ")
				}
			}
		}
		return strings.TrimSpace(b.String())
	}
	for _, c := range []struct {
		kind Kind
		spec string
		want string
	}{
		{Partition, "1/2,3", "1->2 1->3 2->1 3->1"},
		{Cut, "1->2,3", "1->2 1->3"},
		{Bridge, "1/3 via 2", "1->3 3->1"},
		{Star, "hub 1", "2->3 3->2"},
	} {
		s := newSim(t, 3, sim.Disk{})
		// A star replaces what was cut before, as a partition does.
		if err := Apply(s, Fault{Kind: Cut, From: ids(1), To: ids(2)}); err != nil {
			t.Fatal(err)
		}
		f, err := Parse(c.kind, c.spec+"@0s", 3)
		if err != nil {
			t.Fatal(err)
		}
		if c.kind == Cut {
			Apply(s, Fault{Kind: Heal})
		}
		if err := Apply(s, f); err != nil {
			t.Fatal(err)
		}
		if got := blocked(s, 3); got != c.want {
			t.Errorf("%s %s: blocked %q, want %q", c.kind, c.spec, got, c.want)
		}
		Apply(s, Fault{Kind: Heal})
		if got := blocked(s, 3); got != "" {
			t.Errorf("after heal: %q", got)
		}
	}
}

func TestInject(t *testing.T) {
	s := newSim(t, 3, sim.Disk{})
	if err := (Schedule{{At: time.Second, Kind: TornWrite, Node: 1}}).Inject(s); err == nil || !strings.Contains(err.Error(), "disk model") {
		t.Errorf("storage fault without the disk model: %v", err)
	}
	if err := (Schedule{{At: time.Second, Kind: Crash, Node: 4}}).Inject(s); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("node 4 of 3: %v", err)
	}
	s = newSim(t, 3, sim.Disk{SyncLatency: time.Millisecond})
	sched := Schedule{{At: time.Second, Kind: CorruptRead, Node: 2}, {At: 2 * time.Second, Kind: Restart, Node: 2},
		{At: 3 * time.Second, Kind: Loss, Rate: 1, From: ids(3), To: ids(1)}}
	if err := sched.Inject(s); err != nil {
		t.Fatal(err)
	}
	if err := s.RunUntil(1500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s.Up(2) {
		t.Error("a corrupt read did not stop n2")
	}
	if err := s.RunUntil(3500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !s.Up(2) {
		t.Error("n2 did not restart")
	}
	if l := s.Config().Network.Links[sim.LinkKey{From: 3, To: 1}]; l.Loss != 1 {
		t.Errorf("3->1 loss %v", l.Loss)
	}
	if _, ok := s.Config().Network.Links[sim.LinkKey{From: 1, To: 3}]; ok {
		t.Error("1->3 changed by a loss on 3->1")
	}
	clocks, err := Schedule{{At: 0, Kind: ClockDrift, Node: 2, PPM: 300}}.Clocks(nil)
	if err != nil || clocks[2].DriftPPM != 300 {
		t.Errorf("clocks %v %v", clocks, err)
	}
	if _, err := (Schedule{{At: time.Second, Kind: ClockDrift, Node: 2, PPM: 300}}).Clocks(nil); err == nil {
		t.Error("drift at 1s accepted")
	}
}
