package bully_test

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/bully"
	"ordo/ordotest"
)

// One-step tests of the chapter's Bully figure (section 4, "Bully
// Algorithm": Step 1 .. Step 4, five nodes, node 5 the crashed leader), in
// the style of etcd-io/raft's paper tests: bring one node to a state by
// its inputs, hand it one more, and assert exactly what that step sent,
// armed, noted and stored.

// quiet are options without randomness in the detector, so timers have
// exact lengths.
var quiet = map[string]string{"suspect_jitter": "0s"}

func node(t *testing.T, id ordo.NodeID, opts map[string]string) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env := ordotest.ForProtocol(bully.Protocol, id, ordo.NewRoster(5, 0, 0), 1)
	return env, env.NewNode(t, bully.Protocol, opts)
}

func storedEpoch(t *testing.T, env *ordotest.Env) uint64 {
	t.Helper()
	v, ok := env.Storage().Get("bully/epoch")
	if !ok || len(v) != 8 {
		t.Fatalf("bully/epoch: %x, %v", v, ok)
	}
	return binary.BigEndian.Uint64(v)
}

// following brings node id to follow leader 5 in epoch 1, as in the
// figure's initial state ("초기 상태: Node 5가 리더"); it returns the
// suspect timer that step armed.
func following(t *testing.T, env *ordotest.Env, n ordo.Node) ordo.Timer {
	t.Helper()
	env.Start(n)
	env.Receive(n, 5, bully.Coordinator{Leader: 5, Epoch: 1})
	if v := n.(election.Elector).View(); v.Role != election.Follower || v.Leader != 5 || v.Token != 1 {
		t.Fatalf("after COORDINATOR from 5: %+v", v)
	}
	if !env.Wrote("bully/epoch") || storedEpoch(t, env) != 1 {
		t.Fatal("the epoch of the followed leader was not stored")
	}
	return env.OneTimer(t, election.TimerSuspect).Timer
}

// Step 1: "Node 2가 리더 장애 감지 — Node 2 → ELECTION → Node 3, 4, 5".
// Only higher IDs are asked, the node notes its candidacy and waits
// answer_timeout for an OK.
func TestBullyStep1DetectorSendsElectionToHigherIDs(t *testing.T) {
	env, n := node(t, 2, quiet)
	suspect := following(t, env, n)
	env.Fire(n, suspect)
	env.WantSent(t, "ELECTION→n3", "ELECTION→n4", "ELECTION→n5")
	if m := env.Sent[0].Msg.(bully.Election); m.Epoch != 1 {
		t.Errorf("ELECTION carries epoch %d, want the newest seen, 1", m.Epoch)
	}
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteCandidate}) {
		t.Errorf("notes %v, want [candidate]", got)
	}
	if a := env.OneTimer(t, "answer"); a.After != 20*time.Millisecond {
		t.Errorf("answer timer %v, want answer_timeout 20ms", a.After)
	}
	if len(env.Writes) != 0 {
		t.Errorf("an election wrote %v; nothing changed durably", env.Writes)
	}
	// A stale detector timer (an earlier generation) does nothing.
	env.Fire(n, ordo.Timer{Name: election.TimerSuspect, Arg: suspect.Arg - 1})
	if len(env.Sent)+len(env.Timers)+len(env.Notes) != 0 {
		t.Errorf("a stale suspect timer acted: %v %v %v", env.Sent, env.Timers, env.Notes)
	}
}

// Step 2 and step 3 at a higher node: "Node 3 → OK → Node 2", then
// "Node 3 → ELECTION → Node 4, 5". OK goes first, then its own election.
func TestBullyStep2HigherAnswersOKAndStep3HoldsItsOwn(t *testing.T) {
	env, n := node(t, 3, quiet)
	following(t, env, n)
	env.Receive(n, 2, bully.Election{Epoch: 1})
	env.WantSent(t, "OK→n2", "ELECTION→n4", "ELECTION→n5")
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteCandidate}) {
		t.Errorf("notes %v, want [candidate]", got)
	}
	env.OneTimer(t, "answer")
}

// ELECTION only travels upwards: a lower node ignores one from a higher ID
// (it adopts the epoch, and says nothing).
func TestBullyElectionFromHigherIsIgnored(t *testing.T) {
	env, n := node(t, 2, quiet)
	following(t, env, n)
	env.Receive(n, 4, bully.Election{Epoch: 3})
	if len(env.Sent)+len(env.Timers)+len(env.Notes) != 0 {
		t.Fatalf("answered a higher ID's ELECTION: %v %v %v", env.Sent, env.Timers, env.Notes)
	}
	if storedEpoch(t, env) != 3 {
		t.Errorf("epoch 3 was not adopted durably")
	}
}

// Step 2 at the initiator: an OK means a higher node takes over; the
// initiator waits coordinator_timeout for its COORDINATOR, and only the
// first OK arms that wait.
func TestBullyStep2OKMakesInitiatorWait(t *testing.T) {
	env, n := node(t, 2, quiet)
	env.Fire(n, following(t, env, n))
	answer := env.OneTimer(t, "answer").Timer
	env.Receive(n, 3, bully.OK{Epoch: 1})
	if a := env.OneTimer(t, "coordinator-wait"); a.After != 100*time.Millisecond {
		t.Errorf("coordinator-wait %v, want coordinator_timeout 100ms", a.After)
	}
	if len(env.Sent) != 0 {
		t.Errorf("sent %v on OK", env.SentSummary())
	}
	env.Receive(n, 4, bully.OK{Epoch: 1})
	if len(env.Timers) != 0 {
		t.Errorf("a second OK armed %v", env.Timers)
	}
	// The answer timer is now stale: an OK came.
	env.Fire(n, answer)
	if len(env.Sent) != 0 {
		t.Errorf("claimed after an OK: %v", env.SentSummary())
	}
}

// Step 4: "Node 4가 최종 승자 — Node 4 → COORDINATOR → All". Node 5 never
// answers, so node 4's answer timer finds it the highest alive: it stores
// a new epoch before announcing it, sends COORDINATOR to all, and leads
// once answer_timeout passed without a STALE.
func TestBullyStep4HighestAliveAnnouncesItself(t *testing.T) {
	env, n := node(t, 4, quiet)
	env.Fire(n, following(t, env, n))
	env.WantSent(t, "ELECTION→n5")
	env.Fire(n, env.OneTimer(t, "answer").Timer)
	env.WantSent(t, "COORDINATOR→n1", "COORDINATOR→n2", "COORDINATOR→n3", "COORDINATOR→n5")
	if m := env.Sent[0].Msg.(bully.Coordinator); m.Leader != 4 || m.Epoch != 2 {
		t.Errorf("COORDINATOR %+v, want leader 4, epoch 2", m)
	}
	if !env.Wrote("bully/epoch") || storedEpoch(t, env) != 2 {
		t.Errorf("epoch 2 not stored before the COORDINATOR left")
	}
	claim := env.OneTimer(t, election.TimerClaim)
	env.Fire(n, claim.Timer)
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteLeader}) {
		t.Fatalf("notes %v, want [leader]", got)
	}
	if tok, _ := env.Notes[0].Int("token"); tok != 2 {
		t.Errorf("leader token %d, want the new epoch 2", tok)
	}
	env.WantSent(t, "HEARTBEAT→n1", "HEARTBEAT→n2", "HEARTBEAT→n3", "HEARTBEAT→n5")
	if a := env.OneTimer(t, election.TimerHeartbeat); a.After != 50*time.Millisecond || a.Timer.Arg != 2 {
		t.Errorf("heartbeat timer %+v, want 50ms for token 2", a)
	}
}

// Step 4 at a receiver: COORDINATOR from a higher ID makes it a follower
// of that leader (a note and a re-armed detector); from a lower ID while
// this node lives, the receiver bullies it with an election of its own.
func TestBullyStep4ReceiverFollowsHigherBulliesLower(t *testing.T) {
	env, n := node(t, 3, quiet)
	following(t, env, n)
	env.Receive(n, 4, bully.Coordinator{Leader: 4, Epoch: 2})
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteFollower}) {
		t.Fatalf("notes %v, want [follower]", got)
	}
	if l, _ := env.Notes[0].Int("leader"); l != 4 {
		t.Errorf("follows %d, want 4", l)
	}
	env.OneTimer(t, election.TimerSuspect)
	if len(env.Sent) != 0 {
		t.Errorf("plain bully answers COORDINATOR with %v", env.SentSummary())
	}

	env.Receive(n, 2, bully.Coordinator{Leader: 2, Epoch: 3})
	env.WantSent(t, "ELECTION→n4", "ELECTION→n5")
}

// Section 5 with quorum=true: a COORDINATOR is a claim. The claimant
// promises itself, counts COORDINATOR-ACKs, and leads only with a majority
// (3 of 5); without one by the claim's deadline it steps down.
func TestBullyQuorumClaimNeedsMajority(t *testing.T) {
	opts := map[string]string{"suspect_jitter": "0s", "quorum": "true"}
	env, n := node(t, 5, opts)
	env.Start(n)
	if len(env.Sent) != 0 {
		t.Fatalf("a restarted quorum node elected while its boot binding holds: %v", env.SentSummary())
	}
	// The binding to nobody ends; the highest ID has no one to ask and
	// claims at once.
	env.Fire(n, env.OneTimer(t, election.TimerBound).Timer)
	env.WantSent(t, "COORDINATOR→n1", "COORDINATOR→n2", "COORDINATOR→n3", "COORDINATOR→n4")
	if !env.Wrote("bully/promise") || !env.Wrote("bully/epoch") {
		t.Fatalf("claim wrote %v; want its epoch and its own promise", env.Writes)
	}
	claim := env.OneTimer(t, election.TimerClaim)
	if claim.After != 100*time.Millisecond { // min(coordinator_timeout, lease 135ms)
		t.Errorf("claim deadline %v, want 100ms", claim.After)
	}
	env.Receive(n, 1, bully.CoordinatorAck{Epoch: 1})
	if len(env.Notes) != 0 {
		t.Fatalf("led with 2 of 5: %v", env.Notes)
	}
	env.Receive(n, 1, bully.CoordinatorAck{Epoch: 1}) // a duplicate counts once
	if len(env.Notes) != 0 {
		t.Fatalf("a duplicate ack made a majority: %v", env.Notes)
	}
	env.Receive(n, 2, bully.CoordinatorAck{Epoch: 1})
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteLeader}) {
		t.Fatalf("notes %v with 3 of 5, want [leader]", got)
	}
	if len(env.TimersNamed(election.TimerLease)) != 2 {
		t.Errorf("lease timers %v: want the claim round's and the first heartbeat's", env.TimersNamed(election.TimerLease))
	}

	env2, n2 := node(t, 5, opts)
	env2.Start(n2)
	env2.Fire(n2, env2.OneTimer(t, election.TimerBound).Timer)
	claim = env2.OneTimer(t, election.TimerClaim)
	env2.Receive(n2, 1, bully.CoordinatorAck{Epoch: 1})
	env2.Fire(n2, claim.Timer)
	if got := env2.NoteKinds(); !slices.Equal(got, []string{election.NoteFollower}) {
		t.Fatalf("claim deadline with 2 of 5: notes %v, want [follower]", got)
	}
	if v := n2.(election.Elector).View(); v.Role != election.Follower || v.Leader != ordo.None {
		t.Errorf("after a failed claim: %+v", v)
	}
}

// A quorum follower acknowledges a claim only as its promise allows: bound
// to leader 4, it refuses leader 5's claim of the same epoch until the
// binding ends.
func TestBullyQuorumPromiseRefusesSecondLeader(t *testing.T) {
	env, n := node(t, 3, map[string]string{"suspect_jitter": "0s", "quorum": "true"})
	env.Start(n)
	env.Fire(n, env.OneTimer(t, election.TimerBound).Timer) // the boot binding ends
	env.Receive(n, 4, bully.Coordinator{Leader: 4, Epoch: 2})
	env.WantSent(t, "COORDINATOR-ACK→n4")
	if !env.Wrote("bully/promise") {
		t.Fatal("acknowledged without storing the promise first")
	}
	env.Receive(n, 5, bully.Coordinator{Leader: 5, Epoch: 2})
	if slices.Contains(env.SentSummary(), "COORDINATOR-ACK→n5") {
		t.Fatalf("acknowledged a second leader of epoch 2: %v", env.SentSummary())
	}
}
