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
	if d := n.(*raft.Node).ElectionDeadline(); d < env.Mono+150*time.Millisecond {
		t.Fatalf("stepping down left the election deadline at %v (now %v), want it re-armed a whole timeout ahead", d, env.Mono)
	}
}

// The same rule for a candidate: votes are the majority's answer to the
// candidacy's round, so they carry a lease from its start. A candidate
// paused while its votes arrived would otherwise lead, heartbeat under a
// term a newer leader may have passed, and step down at once (found by
// ordo explore --protocol raft --seeds 10000, seeds 3748 and 4259: a
// leadership of term 5 after one of term 6, so a fence could not order
// them by issue).
func TestRaft_Thesis6_2_LateVotesMakeNoLeader(t *testing.T) {
	env := newEnv()
	n, elect := follower(t, env, map[string]string{"prevote": "false"})
	env.Advance(300 * time.Millisecond)
	env.Fire(n, elect) // candidate of term 1
	env.Advance(10 * time.Second)
	env.Receive(n, 2, raft.RequestVoteResp{Term: 1, Granted: true})
	if v := n.(election.Elector).View(); v.Role == election.Leader {
		t.Fatalf("votes that arrived 10 s after the candidacy made node 1 leader")
	}
	if len(env.Sent) != 0 {
		t.Fatalf("late votes made node 1 send %v", env.Sent)
	}
	// Fresh votes still elect.
	env2 := newEnv()
	n2, elect2 := follower(t, env2, map[string]string{"prevote": "false"})
	env2.Advance(300 * time.Millisecond)
	env2.Fire(n2, elect2)
	env2.Advance(time.Millisecond)
	env2.Receive(n2, 2, raft.RequestVoteResp{Term: 1, Granted: true})
	if v := n2.(election.Elector).View(); v.Role != election.Leader {
		t.Fatalf("votes 1 ms after the candidacy did not make node 1 leader: %v", v.Role)
	}
}
