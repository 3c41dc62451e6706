package broadcast

import (
	"strconv"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/sim"
	"ordo/trace"
)

func newSim(t *testing.T, seed uint64, opts map[string]string, net sim.Network) *sim.Sim {
	t.Helper()
	p, err := ordo.Lookup("broadcast")
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.Resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Protocol: p, Options: o, Nodes: 5, Seed: seed, Network: net, Trace: true, Name: "broadcast-test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allDeliveredOK(t *testing.T, tr *trace.Trace) check.Result {
	t.Helper()
	c, err := check.Lookup("all-delivered")
	if err != nil {
		t.Fatal(err)
	}
	return c.Check(tr)
}

// Reference: section 1, fallacy 1 "the network is reliable" (대응: 재시도,
// 타임아웃, 멱등성). Under 30% loss, retransmission and idempotent delivery
// give every node every value exactly once. Seeds 1..20; replay one with
// go test ./broadcast -run TestLossyDeliversExactlyOnce/seed=N.
func TestLossyDeliversExactlyOnce(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run("seed="+itoa(seed), func(t *testing.T) {
			s := newSim(t, seed, map[string]string{"messages": "30"}, sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.3}})
			if err := s.RunFor(20 * time.Second); err != nil {
				t.Fatal(err)
			}
			if s.Stats().Dropped == 0 {
				t.Fatal("30% loss dropped nothing")
			}
			res := allDeliveredOK(t, s.Trace())
			if !res.OK {
				t.Fatalf("seed %d: %s: %v", seed, res.Summary, res.Violations)
			}
			for id := ordo.NodeID(1); id <= 5; id++ {
				if got := s.Node(id).(*Node).Received; got != 30 {
					t.Fatalf("seed %d: %v delivered %d values, want 30", seed, id, got)
				}
			}
			if !s.Node(1).(*Node).Done() {
				t.Fatalf("seed %d: sender still has unacknowledged values", seed)
			}
		})
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// Reference: section 5, network partition. Nodes cut off from the sender
// deliver nothing during the partition, and everything after it heals.
func TestPartitionDeliversAfterHeal(t *testing.T) {
	s := newSim(t, 7, map[string]string{"messages": "20"}, sim.Network{Default: sim.Link{Latency: sim.Presets["datacenter"]}})
	heal := 3 * time.Second
	s.At(500*time.Millisecond, func(s *sim.Sim) {
		if err := s.Partition([]ordo.NodeID{1, 2}, []ordo.NodeID{3, 4, 5}); err != nil {
			t.Error(err)
		}
	})
	s.At(heal, func(s *sim.Sim) { s.Heal() })
	if err := s.RunFor(2900 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if res := allDeliveredOK(t, s.Trace()); res.OK {
		t.Fatal("all-delivered passed while nodes 3..5 were cut off")
	}
	if err := s.RunFor(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	tr := s.Trace()
	if res := allDeliveredOK(t, tr); !res.OK {
		t.Fatalf("after heal: %s: %v", res.Summary, res.Violations)
	}
	late := 0
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == "deliver" && e.Node >= 3 {
			seq, _ := e.Attrs.Int("seq")
			if seq > 5 && time.Duration(e.T) < heal {
				// Values after the first ~5 were broadcast during the
				// partition: none may reach the far side before the heal.
				t.Fatalf("%v delivered seq %d at %v, before the heal", e.Node, seq, time.Duration(e.T))
			}
			if time.Duration(e.T) >= heal {
				late++
			}
		}
	}
	if late == 0 {
		t.Fatal("no delivery after the heal")
	}
}

// Reference: section 1, fallacy 4 "the network is secure". Unauthenticated
// tampering breaks the broadcast (the checker sees it); authenticated links
// turn tampering into loss, which retransmission repairs.
func TestTamperingNeedsAuthentication(t *testing.T) {
	for _, auth := range []bool{false, true} {
		s := newSim(t, 3, map[string]string{"messages": "20"}, sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Tamper: 0.1}, Authenticated: auth})
		if err := s.RunFor(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		res := allDeliveredOK(t, s.Trace())
		if res.OK == !auth {
			t.Fatalf("authenticated=%v: all-delivered OK=%v (%s)", auth, res.OK, res.Summary)
		}
	}
}

// A restarted receiver does not deliver twice (its delivered set is in
// Storage) and gets what it missed while down; a restarted sender goes on
// from where it was.
func TestCrashRestart(t *testing.T) {
	s := newSim(t, 5, map[string]string{"messages": "20"}, sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.1}})
	s.At(700*time.Millisecond, func(s *sim.Sim) { s.Crash(3); s.Crash(1) })
	s.At(1500*time.Millisecond, func(s *sim.Sim) {
		for _, id := range []ordo.NodeID{1, 3} {
			if err := s.Restart(id); err != nil {
				t.Error(err)
			}
		}
	})
	if err := s.RunFor(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	tr := s.Trace()
	res := allDeliveredOK(t, tr)
	if !res.OK {
		t.Fatalf("%s: %v", res.Summary, res.Violations)
	}
	got := map[int64]int{}
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == "deliver" && e.Node == 3 {
			seq, _ := e.Attrs.Int("seq")
			got[seq]++
		}
	}
	for seq := int64(1); seq <= 20; seq++ {
		if got[seq] != 1 {
			t.Fatalf("n3 delivered seq %d %d times across its restart, want once", seq, got[seq])
		}
	}
}

func TestSizes(t *testing.T) {
	// The size is the real encoding's: seq, value, then the payload.
	p, _ := ordo.Lookup("broadcast")
	if got, err := p.Codec.Size(Value{Seq: 1, Value: ValueOf(1), Payload: make([]byte, 100)}); err != nil || got != 1+2+1+100 {
		t.Fatalf("value size %d (%v), want 104", got, err)
	}
	if got, err := p.Codec.Size(Ack{Seq: 1}); err != nil || got != 1 {
		t.Fatalf("ack size %d (%v), want 1", got, err)
	}
}
