package detect_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/detect"
	"ordo/sim"
	"ordo/trace"
)

func heartbeatSim(t *testing.T, seed uint64, opts map[string]string) *sim.Sim {
	t.Helper()
	o, err := detect.Protocol.Resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Protocol: detect.Protocol, Options: o, Nodes: 5, Seed: seed, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type verdict struct {
	node, peer ordo.NodeID
	at         time.Duration
}

func notes(tr *trace.Trace, name string) []verdict {
	var out []verdict
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == name {
			p, _ := e.Attrs.Int("peer")
			out = append(out, verdict{e.Node, ordo.NodeID(p), time.Duration(e.T)})
		}
	}
	return out
}

func suspects(s *sim.Sim, by, p ordo.NodeID) bool {
	return s.Node(by).(interface{ Suspects(ordo.NodeID) bool }).Suspects(p)
}

// Reference: section 5, partial failure — health checks: a crashed node is
// suspected by every other within timeout + interval, and trusted again
// once it is back.
func TestHeartbeatSuspectsCrashedNodeAndTrustsItAgain(t *testing.T) {
	for _, det := range []string{"timeout", "phi"} {
		s := heartbeatSim(t, 1, map[string]string{"detector": det})
		s.At(time.Second, func(s *sim.Sim) { s.Crash(3) })
		s.At(3*time.Second, func(s *sim.Sim) { _ = s.Restart(3) })
		if err := s.RunFor(4 * time.Second); err != nil {
			t.Fatal(err)
		}
		tr := s.Trace()
		sus := notes(tr, "suspect")
		if len(sus) != 4 {
			t.Fatalf("%s: suspect notes %v, want one by each of the 4 live nodes", det, sus)
		}
		for _, v := range sus {
			if v.peer != 3 || v.at < time.Second || v.at > time.Second+600*time.Millisecond+time.Millisecond {
				t.Errorf("%s: %v suspected %v at %v, want node 3 within 600ms of its crash at 1s", det, v.node, v.peer, v.at)
			}
		}
		trusts := notes(tr, "trust")
		if len(trusts) != 4 {
			t.Fatalf("%s: trust notes %v, want 4", det, trusts)
		}
		for _, v := range trusts {
			if v.peer != 3 || v.at < 3*time.Second || v.at > 3200*time.Millisecond {
				t.Errorf("%s: %v trusted %v at %v", det, v.node, v.peer, v.at)
			}
		}
	}
}

// Reference: section 5, network partition: "각 파티션은 서로를 장애로 인식" —
// each side takes the other for dead.
func TestPartitionLooksLikeCrashToEachSide(t *testing.T) {
	s := heartbeatSim(t, 2, nil)
	s.At(time.Second, func(s *sim.Sim) { _ = s.Partition([]ordo.NodeID{1, 2}, []ordo.NodeID{3, 4, 5}) })
	s.At(3*time.Second, func(s *sim.Sim) {
		for a := ordo.NodeID(1); a <= 5; a++ {
			for b := ordo.NodeID(1); b <= 5; b++ {
				if a != b && suspects(s, a, b) != ((a <= 2) != (b <= 2)) {
					t.Errorf("during the partition %v suspects %v: %v", a, b, suspects(s, a, b))
				}
			}
		}
		s.Heal()
	})
	if err := s.RunFor(4 * time.Second); err != nil {
		t.Fatal(err)
	}
	for a := ordo.NodeID(1); a <= 5; a++ {
		for b := ordo.NodeID(1); b <= 5; b++ {
			if a != b && suspects(s, a, b) {
				t.Errorf("after heal %v still suspects %v", a, b)
			}
		}
	}
}

// Liveness after the nemesis: once it stops (everything restarted, healed,
// resumed), every node trusts every other again.
func TestEveryoneTrustedAfterNemesisStops(t *testing.T) {
	const seed = 9
	s := heartbeatSim(t, seed, nil)
	if err := s.StartNemesis(sim.Nemesis{Start: 500 * time.Millisecond, Stop: 8 * time.Second,
		Crash: 0.5, Partition: 0.5, Pause: 0.5, Loss: 0.5, MeanDowntime: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(9 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(notes(s.Trace(), "suspect")) == 0 {
		t.Fatalf("seed %d: the nemesis caused no suspicion at all", seed)
	}
	for a := ordo.NodeID(1); a <= 5; a++ {
		for b := ordo.NodeID(1); b <= 5; b++ {
			if a != b && suspects(s, a, b) {
				t.Errorf("seed %d: 1s after the nemesis stopped %v still suspects %v", seed, a, b)
			}
		}
	}
}
