package bully_test

import (
	"fmt"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/bully"
	"ordo/sim"
	"ordo/trace"
)

// Section 4, "Bully Algorithm" ("가장 높은 ID를 가진 살아있는 노드가 리더가
// 된다"): whatever the seed, the highest ID alive wins. Five nodes elect n5;
// n5 crashes and n4 must win, every live node following it, and no lower
// node leads at any moment after the crash (a lower claimant is bullied
// before its claim takes effect); with n4 crashed too, n3 wins. Replay a
// seed with highestAliveRun(t, seed, crashes).
func TestBullyHighestLiveIDWins(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		for _, crash := range [][]ordo.NodeID{{5}, {5, 4}, {4}} {
			t.Run(fmt.Sprintf("seed=%d/crash=%v", seed, crash), func(t *testing.T) {
				highestAliveRun(t, seed, crash)
			})
		}
	}
}

func highestAliveRun(t *testing.T, seed uint64, crash []ordo.NodeID) {
	t.Helper()
	o, err := bully.Protocol.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Protocol: bully.Protocol, Options: o, Nodes: 5, Seed: seed, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if v := s.Node(5).(election.Elector).View(); v.Role != election.Leader {
		t.Fatalf("seed %d: before any crash n5 is %v, want leader", seed, v.Role)
	}
	crashAt := s.Now()
	for _, id := range crash {
		s.Crash(id)
	}
	if err := s.RunFor(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := ordo.NodeID(5)
	down := map[ordo.NodeID]bool{}
	for _, id := range crash {
		down[id] = true
	}
	for down[want] {
		want--
	}
	for id := ordo.NodeID(1); id <= 5; id++ {
		if down[id] {
			continue
		}
		v := s.Node(id).(election.Elector).View()
		if v.Leader != want {
			t.Errorf("seed %d, crashed %v: n%d follows %v (%v), want n%d, the highest alive", seed, crash, id, v.Leader, v.Role, want)
		}
	}
	for _, e := range s.Trace().Events {
		if int64(e.T) > int64(crashAt) && e.Kind == trace.Note && e.Name == election.NoteLeader && e.Node != want {
			t.Errorf("seed %d, crashed %v: %s while n%d was alive", seed, crash, e.Describe(), want)
		}
	}
}
