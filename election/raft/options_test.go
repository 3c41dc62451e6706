package raft_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/election/raft"
	"ordo/ordotest"
)

// §5.2 ("Raft uses randomized election timeouts ... chosen randomly from a
// fixed interval"): the interval is closed, [min, max]. With max = min+1ns
// both ends occur over a few seeds and nothing else does; min = max is a
// valid, fixed timeout; and a heartbeat of exactly half the minimum timeout
// is the largest accepted (the option's documented bound).
func TestRaft_Paper5_2_TimeoutIntervalIsClosed(t *testing.T) {
	opts := map[string]string{"election_timeout_min": "150ms", "election_timeout_max": "150.000001ms"}
	seen := map[time.Duration]int{}
	for seed := uint64(1); seed <= 64; seed++ {
		env := ordotest.ForProtocol(raft.Protocol, 1, ordo.NewRoster(3, 0, 0), seed)
		n := env.NewNode(t, raft.Protocol, opts)
		env.Start(n)
		for _, a := range env.TimersNamed("election") {
			seen[a.After]++
		}
	}
	lo, hi := 150*time.Millisecond, 150*time.Millisecond+1
	if len(seen) != 2 || seen[lo] == 0 || seen[hi] == 0 {
		t.Fatalf("timeouts drawn over 64 seeds: %v, want both %v and %v only", seen, lo, hi)
	}

	for _, o := range []map[string]string{
		{"election_timeout_min": "200ms", "election_timeout_max": "200ms"},
		{"election_timeout_min": "100ms", "heartbeat": "50ms"},
	} {
		env := ordotest.ForProtocol(raft.Protocol, 1, ordo.NewRoster(3, 0, 0), 1)
		n := env.NewNode(t, raft.Protocol, o)
		env.Start(n)
		if a := env.TimersNamed("election"); len(a) != 1 || (o["election_timeout_max"] != "" && a[0].After != 200*time.Millisecond) {
			t.Errorf("options %v armed %v", o, env.Timers)
		}
	}
	o, err := raft.Protocol.Resolve(map[string]string{"election_timeout_min": "100ms", "heartbeat": "50.000001ms"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raft.New(ordo.Config{ID: 1, N: 3, Opts: o}); err == nil {
		t.Errorf("a heartbeat above half the minimum timeout was accepted")
	}
}
