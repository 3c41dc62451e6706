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
