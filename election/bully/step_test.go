package bully_test

import (
	"encoding/binary"
	"fmt"
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

// sends renders the last step's sends as "KIND→nX", in order.
func sends(env *ordotest.Env) []string {
	var out []string
	for _, s := range env.Sent {
		out = append(out, fmt.Sprintf("%s→%v", s.Msg.Kind(), s.To))
	}
	return out
}

func wantSends(t *testing.T, env *ordotest.Env, want ...string) {
	t.Helper()
	if got := sends(env); !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
}

// timer returns the one timer named name armed by the last step.
func timer(t *testing.T, env *ordotest.Env, name string) ordotest.Armed {
	t.Helper()
	ts := env.TimersNamed(name)
	if len(ts) != 1 {
		t.Fatalf("timers %s armed: %v, want exactly one (all: %v)", name, ts, env.Timers)
	}
	return ts[0]
}

func noteKinds(env *ordotest.Env) []string {
	var out []string
	for _, n := range env.Notes {
		out = append(out, n.Kind)
	}
	return out
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
	return timer(t, env, election.TimerSuspect).Timer
}

// Step 1: "Node 2가 리더 장애 감지 — Node 2 → ELECTION → Node 3, 4, 5".
// Only higher IDs are asked, the node notes its candidacy and waits
// answer_timeout for an OK.
func TestBullyStep1DetectorSendsElectionToHigherIDs(t *testing.T) {
	env, n := node(t, 2, quiet)
	suspect := following(t, env, n)
	env.Fire(n, suspect)
	wantSends(t, env, "ELECTION→n3", "ELECTION→n4", "ELECTION→n5")
	if m := env.Sent[0].Msg.(bully.Election); m.Epoch != 1 {
		t.Errorf("ELECTION carries epoch %d, want the newest seen, 1", m.Epoch)
	}
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteCandidate}) {
		t.Errorf("notes %v, want [candidate]", got)
	}
	if a := timer(t, env, "answer"); a.After != 20*time.Millisecond {
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
	wantSends(t, env, "OK→n2", "ELECTION→n4", "ELECTION→n5")
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteCandidate}) {
		t.Errorf("notes %v, want [candidate]", got)
	}
	timer(t, env, "answer")
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
	answer := timer(t, env, "answer").Timer
	env.Receive(n, 3, bully.OK{Epoch: 1})
	if a := timer(t, env, "coordinator-wait"); a.After != 100*time.Millisecond {
		t.Errorf("coordinator-wait %v, want coordinator_timeout 100ms", a.After)
	}
	if len(env.Sent) != 0 {
		t.Errorf("sent %v on OK", sends(env))
	}
	env.Receive(n, 4, bully.OK{Epoch: 1})
	if len(env.Timers) != 0 {
		t.Errorf("a second OK armed %v", env.Timers)
	}
	// The answer timer is now stale: an OK came.
	env.Fire(n, answer)
	if len(env.Sent) != 0 {
		t.Errorf("claimed after an OK: %v", sends(env))
	}
}

// Step 4: "Node 4가 최종 승자 — Node 4 → COORDINATOR → All". Node 5 never
// answers, so node 4's answer timer finds it the highest alive: it stores
// a new epoch before announcing it, sends COORDINATOR to all, and leads
// once answer_timeout passed without a STALE.
func TestBullyStep4HighestAliveAnnouncesItself(t *testing.T) {
	env, n := node(t, 4, quiet)
	env.Fire(n, following(t, env, n))
	wantSends(t, env, "ELECTION→n5")
	env.Fire(n, timer(t, env, "answer").Timer)
	wantSends(t, env, "COORDINATOR→n1", "COORDINATOR→n2", "COORDINATOR→n3", "COORDINATOR→n5")
	if m := env.Sent[0].Msg.(bully.Coordinator); m.Leader != 4 || m.Epoch != 2 {
		t.Errorf("COORDINATOR %+v, want leader 4, epoch 2", m)
	}
	if !env.Wrote("bully/epoch") || storedEpoch(t, env) != 2 {
		t.Errorf("epoch 2 not stored before the COORDINATOR left")
	}
	claim := timer(t, env, election.TimerClaim)
	env.Fire(n, claim.Timer)
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteLeader}) {
		t.Fatalf("notes %v, want [leader]", got)
	}
	if tok, _ := env.Notes[0].Int("token"); tok != 2 {
		t.Errorf("leader token %d, want the new epoch 2", tok)
	}
	wantSends(t, env, "HEARTBEAT→n1", "HEARTBEAT→n2", "HEARTBEAT→n3", "HEARTBEAT→n5")
	if a := timer(t, env, election.TimerHeartbeat); a.After != 50*time.Millisecond || a.Timer.Arg != 2 {
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
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteFollower}) {
		t.Fatalf("notes %v, want [follower]", got)
	}
	if l, _ := env.Notes[0].Int("leader"); l != 4 {
		t.Errorf("follows %d, want 4", l)
	}
	timer(t, env, election.TimerSuspect)
	if len(env.Sent) != 0 {
		t.Errorf("plain bully answers COORDINATOR with %v", sends(env))
	}

	env.Receive(n, 2, bully.Coordinator{Leader: 2, Epoch: 3})
	wantSends(t, env, "ELECTION→n4", "ELECTION→n5")
}

// Section 5 with quorum=true: a COORDINATOR is a claim. The claimant
// promises itself, counts COORDINATOR-ACKs, and leads only with a majority
// (3 of 5); without one by the claim's deadline it steps down.
func TestBullyQuorumClaimNeedsMajority(t *testing.T) {
	opts := map[string]string{"suspect_jitter": "0s", "quorum": "true"}
	env, n := node(t, 5, opts)
	env.Start(n)
	if len(env.Sent) != 0 {
		t.Fatalf("a restarted quorum node elected while its boot binding holds: %v", sends(env))
	}
	// The binding to nobody ends; the highest ID has no one to ask and
	// claims at once.
	env.Fire(n, timer(t, env, election.TimerBound).Timer)
	wantSends(t, env, "COORDINATOR→n1", "COORDINATOR→n2", "COORDINATOR→n3", "COORDINATOR→n4")
	if !env.Wrote("bully/promise") || !env.Wrote("bully/epoch") {
		t.Fatalf("claim wrote %v; want its epoch and its own promise", env.Writes)
	}
	claim := timer(t, env, election.TimerClaim)
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
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteLeader}) {
		t.Fatalf("notes %v with 3 of 5, want [leader]", got)
	}
	if len(env.TimersNamed(election.TimerLease)) != 2 {
		t.Errorf("lease timers %v: want the claim round's and the first heartbeat's", env.TimersNamed(election.TimerLease))
	}

	env2, n2 := node(t, 5, opts)
	env2.Start(n2)
	env2.Fire(n2, timer(t, env2, election.TimerBound).Timer)
	claim = timer(t, env2, election.TimerClaim)
	env2.Receive(n2, 1, bully.CoordinatorAck{Epoch: 1})
	env2.Fire(n2, claim.Timer)
	if got := noteKinds(env2); !slices.Equal(got, []string{election.NoteFollower}) {
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
	env.Fire(n, timer(t, env, election.TimerBound).Timer) // the boot binding ends
	env.Receive(n, 4, bully.Coordinator{Leader: 4, Epoch: 2})
	wantSends(t, env, "COORDINATOR-ACK→n4")
	if !env.Wrote("bully/promise") {
		t.Fatal("acknowledged without storing the promise first")
	}
	env.Receive(n, 5, bully.Coordinator{Leader: 5, Epoch: 2})
	if slices.Contains(sends(env), "COORDINATOR-ACK→n5") {
		t.Fatalf("acknowledged a second leader of epoch 2: %v", sends(env))
	}
}
