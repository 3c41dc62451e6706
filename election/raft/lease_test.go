package raft_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/raft"
	"ordo/ordotest"
)

// leader makes node 1 of 3 leader of term 1: its election timer fires
// (PreVote off), node 2 grants the vote. It returns the node and the
// heartbeat timer becoming leader armed.
func leader(t *testing.T) (*ordotest.Env, ordo.Node, ordo.Timer) {
	t.Helper()
	env := newEnv()
	n, elect := follower(t, env, map[string]string{"prevote": "false"})
	env.Advance(300 * time.Millisecond)
	env.Fire(n, elect)
	env.Receive(n, 2, raft.RequestVoteResp{Term: 1, Granted: true})
	if v := n.(election.Elector).View(); v.Role != election.Leader {
		t.Fatalf("node 1 is %v after a majority's votes, want leader", v.Role)
	}
	hb := env.TimersNamed("heartbeat")
	if len(hb) != 1 {
		t.Fatalf("becoming leader armed %v, want one heartbeat timer", env.Timers)
	}
	return env, n, hb[0].Timer
}

// Thesis §6.2 and §9.6 (CheckQuorum: a leader steps down when an election
// timeout passes without hearing from a majority), checked when the
// leader's timers fire late: after a pause longer than its lease (a GC
// pause, SIGSTOP) the heartbeat timer fires before the lease timer, and a
// deposed leader must not speak. Found live: a resumed leader sent 4–5
// heartbeats under its old term in the ~80 µs before it learned the new
// one.
func TestRaft_Thesis6_2_ResumedLeaderChecksItsLeaseBeforeSpeaking(t *testing.T) {
	env, n, hb := leader(t)
	env.Advance(20 * time.Millisecond)
	env.Fire(n, hb) // within the lease: a heartbeat to each peer
	if got := len(env.SentKind("Heartbeat")); got != 2 {
		t.Fatalf("within the lease the heartbeat timer sent %d heartbeats, want 2", got)
	}
	hb = env.TimersNamed("heartbeat")[0].Timer
	env.Advance(10 * time.Second) // paused: nothing acknowledged meanwhile
	env.Fire(n, hb)
	if len(env.Sent) != 0 {
		t.Fatalf("after a pause beyond its lease the leader sent %v, want nothing", env.Sent)
	}
	if v := n.(election.Elector).View(); v.Role == election.Leader {
		t.Fatalf("after a pause beyond its lease node 1 is still leader")
	}
	if len(env.TimersNamed("election")) != 1 {
		t.Fatalf("stepping down armed %v, want the election timer re-armed", env.Timers)
	}
}
