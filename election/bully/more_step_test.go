package bully_test

import (
	"slices"
	"testing"

	"ordo"
	"ordo/election"
	"ordo/election/bully"
	"ordo/ordotest"
)

// leading4 makes node 4 of 5 the leader of epoch 2, as in the figure's
// step 4 (n5 crashed after leading epoch 1).
func leading4(t *testing.T) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env, n := node(t, 4, quiet)
	env.Fire(n, following(t, env, n))
	env.Fire(n, env.OneTimer(t, "answer").Timer)
	env.Fire(n, env.OneTimer(t, election.TimerClaim).Timer)
	if v := n.(election.Elector).View(); v.Role != election.Leader || v.Token != 2 {
		t.Fatalf("node 4 is %+v, want leader of epoch 2", v)
	}
	return env, n
}

// Step 2 and step 4 of the chapter seen from a sitting leader: a lower
// node's ELECTION of the leader's own epoch gets OK and the leader's
// COORDINATOR (it is alive and highest), and the leader neither raises its
// epoch nor stops leading.
func TestBullyLeaderAnswersElectionWithCoordinator(t *testing.T) {
	env, n := leading4(t)
	env.Receive(n, 2, bully.Election{Epoch: 2})
	env.WantSent(t, "OK→n2", "COORDINATOR→n2")
	if m := env.Sent[1].Msg.(bully.Coordinator); m.Leader != 4 || m.Epoch != 2 {
		t.Errorf("COORDINATOR %+v, want leader 4 epoch 2", m)
	}
	if len(env.Writes)+len(env.Notes) != 0 {
		t.Errorf("an ELECTION of the current epoch wrote %v and noted %v", env.Writes, env.Notes)
	}
	// An ELECTION carrying a newer epoch (the asker saw one this leader
	// missed) makes the leader claim again above it: a fencing token must
	// be newer than every epoch anyone has seen.
	env.Receive(n, 2, bully.Election{Epoch: 3})
	if !slices.Contains(env.SentSummary(), "COORDINATOR→n1") || storedEpoch(t, env) != 4 {
		t.Fatalf("after ELECTION of epoch 3 sent %v with epoch %d stored, want a new claim of epoch 4 to all", env.SentSummary(), storedEpoch(t, env))
	}
}

// Step 4 from a sitting leader: a lower node's COORDINATOR (it thought the
// leader dead) is answered with the leader's own COORDINATOR; the highest
// live ID keeps leading and never follows the lower one.
func TestBullyLeaderBulliesLowerCoordinator(t *testing.T) {
	env, n := leading4(t)
	env.Receive(n, 2, bully.Coordinator{Leader: 2, Epoch: 2})
	env.WantSent(t, "COORDINATOR→n2")
	if v := n.(election.Elector).View(); v.Role != election.Leader || v.Leader != 4 {
		t.Fatalf("after a lower COORDINATOR node 4 is %+v, want still leader", v)
	}
	if len(env.Notes) != 0 {
		t.Errorf("noted %v", env.Notes)
	}
}

// A follower told of a lower COORDINATOR while it is alive does not follow
// it (it holds its own election); its leader stays the higher one until
// that election ends.
func TestBullyFollowerNeverFollowsLowerCoordinator(t *testing.T) {
	env, n := node(t, 3, quiet)
	following(t, env, n)
	env.Receive(n, 2, bully.Coordinator{Leader: 2, Epoch: 2})
	if v := n.(election.Elector).View(); v.Leader == 2 {
		t.Fatalf("node 3 follows lower node 2: %+v", v)
	}
	for _, nt := range env.NotesOf(election.NoteFollower) {
		if l, _ := nt.Int("leader"); l == 2 {
			t.Fatalf("noted following n2: %v", env.Notes)
		}
	}
}

// A higher node answered OK but never announced itself (it crashed in
// between): once coordinator_timeout passes, the initiator starts over
// (section 4: "if no COORDINATOR arrives, restart the election"). A stale
// coordinator-wait timer does nothing.
func TestBullyCoordinatorWaitRestartsElection(t *testing.T) {
	env, n := node(t, 2, quiet)
	env.Fire(n, following(t, env, n))
	env.Receive(n, 3, bully.OK{Epoch: 1})
	wait := env.OneTimer(t, "coordinator-wait").Timer
	env.Fire(n, ordo.Timer{Name: wait.Name, Arg: wait.Arg - 1})
	if len(env.Sent)+len(env.Timers) != 0 {
		t.Fatalf("a stale coordinator-wait acted: %v %v", env.SentSummary(), env.Timers)
	}
	env.Fire(n, wait)
	env.WantSent(t, "ELECTION→n3", "ELECTION→n4", "ELECTION→n5")
	env.OneTimer(t, "answer")
	// Once the COORDINATOR came, the wait is over: firing it does nothing.
	env.Receive(n, 3, bully.OK{Epoch: 1})
	wait = env.OneTimer(t, "coordinator-wait").Timer
	env.Receive(n, 3, bully.Coordinator{Leader: 3, Epoch: 2})
	env.Fire(n, wait)
	if len(env.Sent) != 0 {
		t.Fatalf("coordinator-wait after the COORDINATOR sent %v", env.SentSummary())
	}
}

// STALE (a node knows a newer epoch than a leader's token): a leader claims
// again above it; a STALE about an older epoch is ignored, and so is one
// sent to a node that neither leads nor claims (it only adopts the epoch).
func TestBullyStaleMakesLeaderReclaim(t *testing.T) {
	env, n := leading4(t)
	env.Receive(n, 1, bully.Stale{Epoch: 1})
	if len(env.Sent)+len(env.Writes) != 0 {
		t.Fatalf("a STALE about an older epoch sent %v, wrote %v", env.SentSummary(), env.Writes)
	}
	// A STALE naming the leader's own epoch means another node leads in
	// it too: one token for two leaderships is no fence, so it claims above.
	env.Receive(n, 1, bully.Stale{Epoch: 2})
	if !slices.Contains(env.SentSummary(), "COORDINATOR→n1") || storedEpoch(t, env) != 3 {
		t.Fatalf("after STALE of its own epoch 2 sent %v, stored epoch %d, want a claim of epoch 3", env.SentSummary(), storedEpoch(t, env))
	}
	env.Fire(n, env.OneTimer(t, election.TimerClaim).Timer)
	env.Receive(n, 1, bully.Stale{Epoch: 5})
	if !slices.Contains(env.SentSummary(), "COORDINATOR→n1") || storedEpoch(t, env) != 6 {
		t.Fatalf("after STALE of epoch 5 sent %v, stored epoch %d, want a claim of epoch 6", env.SentSummary(), storedEpoch(t, env))
	}

	env2, n2 := node(t, 3, quiet)
	following(t, env2, n2)
	env2.Receive(n2, 1, bully.Stale{Epoch: 7})
	if len(env2.Sent) != 0 || storedEpoch(t, env2) != 7 {
		t.Fatalf("a follower's STALE sent %v, stored %d; want nothing sent, epoch 7 adopted", env2.SentSummary(), storedEpoch(t, env2))
	}
}

// Timers of an earlier election are stale: after node 2's election ended
// with a COORDINATOR and a new one began, the first election's answer and
// coordinator-wait timers do nothing; the new election's answer timer
// claims. The node counts its elections (boot included).
func TestBullyEarlierElectionTimersAreStale(t *testing.T) {
	env, n := node(t, 2, quiet)
	suspect := following(t, env, n)
	env.Fire(n, suspect)
	oldAnswer := env.OneTimer(t, "answer").Timer
	env.Receive(n, 3, bully.OK{Epoch: 1})
	oldWait := env.OneTimer(t, "coordinator-wait").Timer
	env.Receive(n, 3, bully.Coordinator{Leader: 3, Epoch: 2})
	env.Fire(n, env.OneTimer(t, election.TimerSuspect).Timer) // n3 went quiet too
	env.WantSent(t, "ELECTION→n3", "ELECTION→n4", "ELECTION→n5")
	answer := env.OneTimer(t, "answer").Timer
	for _, stale := range []ordo.Timer{oldAnswer, oldWait} {
		env.Fire(n, stale)
		if len(env.Sent)+len(env.Notes) != 0 {
			t.Fatalf("stale %v acted: %v %v", stale, env.SentSummary(), env.Notes)
		}
	}
	env.Fire(n, answer)
	env.WantSent(t, "COORDINATOR→n1", "COORDINATOR→n3", "COORDINATOR→n4", "COORDINATOR→n5")
	if got := n.(*bully.Node).Elections; got != 3 {
		t.Errorf("Elections = %d, want 3 (boot, and two detector firings)", got)
	}
}

// Section 5 (quorum): a node promised to another leader holds its election
// until the promise's binding expires, then runs it; the claim that
// follows is above the promised epoch.
func TestBullyQuorumElectionWaitsForBinding(t *testing.T) {
	env, n := node(t, 3, map[string]string{"suspect_jitter": "0s", "quorum": "true"})
	env.Start(n)
	env.Fire(n, env.OneTimer(t, election.TimerBound).Timer) // the boot binding ends
	env.Receive(n, 4, bully.Heartbeat{Leader: 4, Epoch: 2, Round: 1})
	env.WantSent(t, "HEARTBEAT-ACK→n4")
	bound := env.OneTimer(t, election.TimerBound).Timer
	env.Fire(n, env.OneTimer(t, election.TimerSuspect).Timer)
	if len(env.Sent) != 0 {
		t.Fatalf("bound to n4, node 3 started an election at once: %v", env.SentSummary())
	}
	env.Fire(n, bound)
	env.WantSent(t, "ELECTION→n4", "ELECTION→n5")
	env.Fire(n, env.OneTimer(t, "answer").Timer)
	env.WantSent(t, "COORDINATOR→n1", "COORDINATOR→n2", "COORDINATOR→n4", "COORDINATOR→n5")
	if m := env.Sent[0].Msg.(bully.Coordinator); m.Epoch != 3 {
		t.Fatalf("claimed epoch %d, want 3 (above the promised 2)", m.Epoch)
	}
}

// Section 5 (quorum): a leader keeps its lease while a majority
// acknowledges a newer heartbeat round of its epoch; acknowledgements of
// another epoch do not count, and the lease of the older round then ends
// its leadership.
func TestBullyQuorumLeaseNeedsAcksOfItsEpoch(t *testing.T) {
	for _, tc := range []struct {
		epoch uint64
		leads bool
	}{{1, true}, {2, false}} {
		env, n := node(t, 5, map[string]string{"suspect_jitter": "0s", "quorum": "true"})
		env.Start(n)
		env.Fire(n, env.OneTimer(t, election.TimerBound).Timer)
		env.Receive(n, 1, bully.CoordinatorAck{Epoch: 1})
		env.Receive(n, 2, bully.CoordinatorAck{Epoch: 1})
		if v := n.(election.Elector).View(); v.Role != election.Leader {
			t.Fatalf("not leader after 3 of 5 acks: %+v", v)
		}
		leases := env.TimersNamed(election.TimerLease)
		hb := env.SentKind("HEARTBEAT")
		if len(leases) != 2 || len(hb) != 4 {
			t.Fatalf("winning armed %v and sent %v", env.Timers, env.SentSummary())
		}
		round := hb[0].Msg.(bully.Heartbeat).Round
		env.Receive(n, 1, bully.HeartbeatAck{Epoch: tc.epoch, Round: round})
		env.Receive(n, 2, bully.HeartbeatAck{Epoch: tc.epoch, Round: round})
		env.Fire(n, leases[0].Timer) // the claim round's lease ends
		if got := n.(election.Elector).View().Role == election.Leader; got != tc.leads {
			t.Errorf("acks of epoch %d for round %d: leading after the claim round's lease = %v, want %v", tc.epoch, round, got, tc.leads)
		}
	}
}

// Heartbeats in plain Bully (section 4, after a partition heals): a leader
// hearing a lower leader bullies it with its COORDINATOR, or claims above a
// newer epoch it carries; a leader hearing a higher leader follows it; a
// follower follows its leader's heartbeats, a higher node's, or anyone's
// when it knows no leader, and ignores a lower one's.
func TestBullyHeartbeats(t *testing.T) {
	env, n := leading4(t)
	env.Receive(n, 2, bully.Heartbeat{Leader: 2, Epoch: 1, Round: 1})
	env.WantSent(t, "COORDINATOR→n2")
	if v := n.(election.Elector).View(); v.Role != election.Leader || v.Token != 2 {
		t.Fatalf("leader n4 after a lower leader's heartbeat: %+v", v)
	}
	env.Receive(n, 2, bully.Heartbeat{Leader: 2, Epoch: 2, Round: 2}) // its own epoch: bullied, no new claim
	env.WantSent(t, "COORDINATOR→n2")
	env.Receive(n, 2, bully.Heartbeat{Leader: 2, Epoch: 3, Round: 2})
	if !slices.Contains(env.SentSummary(), "COORDINATOR→n1") || storedEpoch(t, env) != 4 {
		t.Fatalf("a lower leader's heartbeat of epoch 3: sent %v, epoch %d; want a claim of epoch 4", env.SentSummary(), storedEpoch(t, env))
	}

	env, n = leading4(t)
	env.Receive(n, 5, bully.Heartbeat{Leader: 5, Epoch: 3, Round: 1})
	if v := n.(election.Elector).View(); v.Role != election.Follower || v.Leader != 5 {
		t.Fatalf("leader n4 after n5's heartbeat: %+v, want to follow n5", v)
	}

	env, n = node(t, 2, quiet)
	env.Start(n)
	env.Receive(n, 3, bully.Heartbeat{Leader: 3, Epoch: 1, Round: 1})
	if v := n.(election.Elector).View(); v.Leader != 3 {
		t.Fatalf("a node knowing no leader ignored n3's heartbeat: %+v", v)
	}
	env.Receive(n, 3, bully.Heartbeat{Leader: 3, Epoch: 1, Round: 2})
	if len(env.Notes) != 0 || len(env.TimersNamed(election.TimerSuspect)) != 1 {
		t.Fatalf("its leader's next heartbeat: notes %v, timers %v; want only the detector re-armed", env.Notes, env.Timers)
	}
	env.Receive(n, 1, bully.Heartbeat{Leader: 1, Epoch: 2, Round: 1})
	if v := n.(election.Elector).View(); v.Leader != 3 || len(env.Timers) != 0 {
		t.Fatalf("a lower node's heartbeat moved the follower of n3: %+v %v", v, env.Timers)
	}
	env.Receive(n, 4, bully.Heartbeat{Leader: 4, Epoch: 1, Round: 1})
	if v := n.(election.Elector).View(); v.Leader != 4 {
		t.Fatalf("a higher node's heartbeat was ignored: %+v", v)
	}
	env.Receive(n, 4, bully.Heartbeat{Leader: 4, Epoch: 0, Round: 2})
	if len(env.Notes) != 0 || len(env.TimersNamed(election.TimerSuspect)) != 0 {
		t.Fatalf("its leader's heartbeat of an older epoch re-armed the detector: %v %v", env.Notes, env.Timers)
	}
}
