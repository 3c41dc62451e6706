package raft

import (
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/sim"
)

func newSim(t *testing.T, n int, seed uint64, opts map[string]string) *sim.Sim {
	t.Helper()
	o, err := Protocol.Resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Protocol: Protocol, Options: o, Nodes: n, Seed: seed, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func leaders(s *sim.Sim, n int) []ordo.NodeID {
	var out []ordo.NodeID
	for i := 1; i <= n; i++ {
		if nd := s.Node(ordo.NodeID(i)); nd != nil && nd.(*Node).View().Role == election.Leader {
			out = append(out, ordo.NodeID(i))
		}
	}
	return out
}

// Reference: section 4, "예: Raft 리더 선출": timeout, candidate, majority.
func TestRaft_Section4_ElectsOneLeader(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		s := newSim(t, 5, seed, nil)
		if err := s.RunFor(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		if l := leaders(s, 5); len(l) != 1 {
			t.Fatalf("seed %d: leaders %v, want exactly one", seed, l)
		}
	}
}

// Reference: section 4, "Term 기반 리더십 관리": the term and the vote are
// on disk before the answer leaves.
func TestRaft_Section4_TermAndVotePersisted(t *testing.T) {
	s := newSim(t, 3, 7, nil)
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		id := ordo.NodeID(i)
		term := s.Node(id).(*Node).Term()
		s.Crash(id)
		if err := s.Restart(id); err != nil {
			t.Fatal(err)
		}
		if got := s.Node(id).(*Node).Term(); got != term {
			t.Fatalf("%v: term %d after restart, %d before", id, got, term)
		}
	}
}

func TestNewRejectsBadTimeouts(t *testing.T) {
	for _, o := range []map[string]string{
		{"election_timeout_min": "300ms", "election_timeout_max": "150ms"},
		{"heartbeat": "100ms"},
		{"election_timeout_min": "0s"},
	} {
		opts, err := Protocol.Resolve(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(ordo.Config{ID: 1, N: 3, Opts: opts}); err == nil {
			t.Errorf("options %v accepted", o)
		}
	}
}

// Reference: section 5, partial failure ("요청이 손실됨 / Node B가 장애 /
// 응답이 손실됨 / Node B가 느림"): a crash whose host refuses connections is
// told apart from slowness, and the followers campaign within a heartbeat
// instead of waiting out the election timeout. Seeds 1..30; replay one with
// newSim(t, 5, seed, opts).
func TestRaft_Section5_PeerDownSpeedsFailover(t *testing.T) {
	failover := func(seed uint64, peerDown string) time.Duration {
		s := newSim(t, 5, seed, map[string]string{"peer_down": peerDown})
		if err := s.RunFor(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		old := leaders(s, 5)
		if len(old) != 1 {
			t.Fatalf("seed %d: leaders %v before the crash", seed, old)
		}
		s.Crash(old[0])
		crashAt := s.Now()
		for step := 0; step < 300; step++ {
			if err := s.RunFor(time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if l := leaders(s, 5); len(l) == 1 {
				return s.Now() - crashAt
			}
		}
		t.Fatalf("seed %d peer_down=%s: no new leader within 300ms", seed, peerDown)
		return 0
	}
	var with, without time.Duration
	for seed := uint64(1); seed <= 30; seed++ {
		a, b := failover(seed, "true"), failover(seed, "false")
		if a > 50*time.Millisecond+10*time.Millisecond {
			t.Errorf("seed %d: with peer_down a new leader after %v, want within one heartbeat (50ms) plus a few round trips", seed, a)
		}
		with += a
		without += b
	}
	t.Logf("mean failover over 30 seeds: peer_down=true %v, false %v", with/30, without/30)
	if with*3 > without {
		t.Fatalf("peer_down did not speed failover: %v vs %v", with/30, without/30)
	}
}

// A partitioned leader gives no hint: the followers wait out the timeout
// (its last heartbeat may have come up to one heartbeat before the cut, so
// no one leads before election_timeout_min − heartbeat = 100ms), as without
// peer_down.
func TestRaft_Section5_PartitionGivesNoHint(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		s := newSim(t, 5, seed, nil)
		if err := s.RunFor(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		old := leaders(s, 5)[0]
		var rest []ordo.NodeID
		for i := 1; i <= 5; i++ {
			if ordo.NodeID(i) != old {
				rest = append(rest, ordo.NodeID(i))
			}
		}
		if err := s.Partition([]ordo.NodeID{old}, rest); err != nil {
			t.Fatal(err)
		}
		if err := s.RunFor(99 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, id := range rest {
			if s.Node(id).(*Node).View().Role == election.Leader {
				t.Fatalf("seed %d: %v leads 99ms after a partition: faster than any timeout", seed, id)
			}
		}
		for _, e := range s.Trace().Events {
			if e.MsgKind == ordo.PeerDownKind {
				t.Fatalf("seed %d: %s under a partition", seed, e.Describe())
			}
		}
	}
}
