package ring_test

import (
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/ring"
	"ordo/ordotest"
)

// More one-step tests of the Ring (section 4, "Ring Algorithm"; section 5
// with quorum=true), written where mutation testing found behaviour no test
// pinned (docs/mutation.md).

var quorum = map[string]string{"suspect_jitter": "0s", "quorum": "true"}

// leading makes node id lead plain Ring with token epoch: a COORDINATOR
// naming it arrives from its predecessor.
func leading(t *testing.T, id ordo.NodeID, epoch uint64) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env, n := node(t, id, quiet)
	env.Start(n)
	env.Receive(n, id%5+1, ring.Coordinator{Hop: 1, Origin: id%5 + 1, Leader: id, Epoch: epoch})
	if v := n.(election.Elector).View(); v.Role != election.Leader || v.Token != epoch {
		t.Fatalf("node %v is %+v, want leader with token %d", id, v, epoch)
	}
	return env, n
}

func view(n ordo.Node) election.View { return n.(election.Elector).View() }

// Step 1 bookkeeping: the initiator counts its election and suppresses
// lower elections for one ring traversal's worth of time: the detector's
// timeout plus one answer_timeout per node (150ms + 5×20ms).
func TestRingParticipationLastsOneTraversal(t *testing.T) {
	env, n := node(t, 3, quiet)
	initiate(t, env, n)
	if got := n.(*ring.Node).Elections; got != 1 {
		t.Errorf("Elections = %d after one election, want 1", got)
	}
	part := env.OneTimer(t, "part")
	if part.After != 250*time.Millisecond {
		t.Errorf("participation lasts %v, want 150ms + 5×20ms = 250ms", part.After)
	}
	// A lower initiator's election dies while node 3 participates ...
	low := ring.Election{Hop: 4, ID: 5, Initiator: 2, IDs: []ordo.NodeID{2}, Candidate: 2}
	env.Receive(n, 2, low)
	env.WantSent(t, "ACK→n2")
	// ... also after a stale participation timer ...
	env.Fire(n, ordo.Timer{Name: part.Timer.Name, Arg: part.Timer.Arg - 1})
	env.Receive(n, 2, low)
	env.WantSent(t, "ACK→n2")
	// ... and is passed on once the participation expired.
	env.Fire(n, part.Timer)
	env.Receive(n, 2, low)
	env.WantSent(t, "ACK→n2", "ELECTION→n4")
}

// Step 2 with the same initiator again (a retry with a new nonce): it is
// not suppressed by the participation it set itself.
func TestRingRetryOfSameInitiatorPassesOn(t *testing.T) {
	env, n := node(t, 4, quiet)
	env.Start(n)
	env.Receive(n, 3, ring.Election{Hop: 1, ID: 10, Initiator: 3, IDs: []ordo.NodeID{3}, Candidate: 3})
	env.WantSent(t, "ACK→n3", "ELECTION→n5")
	env.Receive(n, 3, ring.Election{Hop: 2, ID: 11, Initiator: 3, IDs: []ordo.NodeID{3}, Candidate: 3})
	env.WantSent(t, "ACK→n3", "ELECTION→n5")
}

// A message that went round twice without ending dies: 2n hops travelled
// is still carried on, one more is dropped.
func TestRingElectionDiesAfterTwoRounds(t *testing.T) {
	env, n := node(t, 4, quiet)
	env.Start(n)
	env.Receive(n, 3, ring.Election{Hop: 1, ID: 10, Initiator: 3, IDs: []ordo.NodeID{3}, Candidate: 3, Travelled: 10})
	env.WantSent(t, "ACK→n3", "ELECTION→n5")
	env.Receive(n, 3, ring.Election{Hop: 2, ID: 11, Initiator: 3, IDs: []ordo.NodeID{3}, Candidate: 3, Travelled: 11})
	env.WantSent(t, "ACK→n3")
}

// The dead-successor hint: a successor that did not acknowledge a hop is
// skipped by every forward (not only the retried one) until the hint
// expires after one timeout; a stale hint timer revives nobody; a message
// from the node revives it at once. Checked for the ring's last node and
// for node 1 (the ids at both ends of 1..N).
func TestRingDeadSuccessorHint(t *testing.T) {
	for _, tc := range []struct{ self, succ, next ordo.NodeID }{{4, 5, 1}, {5, 1, 2}} {
		env, n := node(t, tc.self, quiet)
		initiate(t, env, n)
		env.Fire(n, env.OneTimer(t, "hop").Timer) // succ never acknowledged
		alive := env.OneTimer(t, "alive").Timer
		coord := ring.Coordinator{Hop: 3, Origin: 3, Leader: 3, Epoch: 1}
		env.Receive(n, 3, coord)
		if got := env.SentSummary(); !slices.Contains(got, "COORDINATOR→"+tc.next.String()) {
			t.Fatalf("n%d: with n%d dead, a COORDINATOR went %v, want to %v", tc.self, tc.succ, got, tc.next)
		}
		env.Fire(n, ordo.Timer{Name: alive.Name, Arg: alive.Arg + 1}) // another generation
		env.Receive(n, 3, coord)
		if got := env.SentSummary(); !slices.Contains(got, "COORDINATOR→"+tc.next.String()) {
			t.Fatalf("n%d: a stale hint timer revived n%d: %v", tc.self, tc.succ, got)
		}
		env.Fire(n, alive)
		env.Receive(n, 3, coord)
		if got := env.SentSummary(); !slices.Contains(got, "COORDINATOR→"+tc.succ.String()) {
			t.Fatalf("n%d: after the hint expired a COORDINATOR went %v, want to n%d", tc.self, got, tc.succ)
		}
	}
	// Hearing from the dead node revives it without waiting.
	env, n := node(t, 4, quiet)
	initiate(t, env, n)
	env.Fire(n, env.OneTimer(t, "hop").Timer)
	env.Receive(n, 5, ring.Stale{Epoch: 0})
	env.Receive(n, 3, ring.Coordinator{Hop: 3, Origin: 3, Leader: 3, Epoch: 1})
	if got := env.SentSummary(); !slices.Contains(got, "COORDINATOR→n5") {
		t.Fatalf("a message from n5 did not revive it: %v", got)
	}
}

// The pending hops are bounded (4 per node): the oldest is forgotten when
// the bound is reached, so its hop timer finds nothing to retry.
func TestRingPendingHopsBounded(t *testing.T) {
	env, n := node(t, 3, quiet)
	env.Start(n)
	var first ordo.Timer
	for i := 0; i < 4*5+1; i++ {
		env.Receive(n, 2, ring.Coordinator{Hop: uint64(i), Origin: 1, Leader: 5, Epoch: 1})
		if i == 0 {
			first = env.OneTimer(t, "hop").Timer
		}
	}
	env.Fire(n, first)
	if len(env.Sent) != 0 {
		t.Fatalf("the oldest of 21 unacknowledged hops was retried (%v): the bound is 20", env.SentSummary())
	}
	// The second oldest is still pending, and its timer retries it.
	env.Fire(n, ordo.Timer{Name: first.Name, Arg: first.Arg + 1})
	env.WantSent(t, "COORDINATOR→n5")
}

// Step 3 in the lost initiator's place: a node that sees its own ID come
// back in someone else's election (the initiator never acknowledged)
// completes it once, and picks the highest of the others — never the lost
// initiator, which is gone.
func TestRingTakeoverExcludesLostInitiator(t *testing.T) {
	env, n := node(t, 2, quiet)
	env.Start(n)
	m := ring.Election{Hop: 1, ID: 77, Initiator: 5, IDs: []ordo.NodeID{5, 1, 2, 3, 4}, Candidate: 5, Travelled: 5}
	env.Receive(n, 1, m)
	env.WantSent(t, "ACK→n1", "COORDINATOR→n3")
	if c := env.Sent[1].Msg.(ring.Coordinator); c.Leader != 4 {
		t.Fatalf("took over with leader %v, want n4 (the highest alive; n5 is the lost initiator)", c.Leader)
	}
	m.Hop = 2
	env.Receive(n, 1, m)
	env.WantSent(t, "ACK→n1")
}

// Section 5 (quorum): a ring that collected exactly a majority (3 of 5)
// elects.
func TestRingQuorumMajorityElects(t *testing.T) {
	env, n := node(t, 3, quorum)
	m := initiate(t, env, n)
	m.IDs = []ordo.NodeID{3, 4, 5}
	env.Receive(n, 5, m)
	env.WantSent(t, "ACK→n5", "COORDINATOR→n4")
}

// The winner's token is above every epoch it has seen (section 5,
// fencing): a COORDINATOR naming it with an epoch it already saw is raised
// to one more; a newer epoch is taken as is. A sitting leader that gets
// such a COORDINATOR leads on with the raised token.
func TestRingWinnerTokenAboveEveryEpochSeen(t *testing.T) {
	for _, tc := range []struct{ seen, announced, token uint64 }{{3, 2, 4}, {3, 3, 4}, {3, 5, 5}} {
		env, n := node(t, 5, quiet)
		env.Start(n)
		env.Receive(n, 1, ring.Stale{Epoch: tc.seen})
		env.Receive(n, 4, ring.Coordinator{Hop: 1, Origin: 3, Leader: 5, Epoch: tc.announced})
		if v := view(n); v.Role != election.Leader || v.Token != tc.token {
			t.Errorf("seen %d, announced %d: %+v, want leader with token %d", tc.seen, tc.announced, v, tc.token)
		}
		if c := env.SentKind("COORDINATOR"); len(c) != 1 || c[0].Msg.(ring.Coordinator).Epoch != tc.token {
			t.Errorf("seen %d, announced %d: passed on %v, want the COORDINATOR with epoch %d", tc.seen, tc.announced, c, tc.token)
		}
	}
	env, n := leading(t, 5, 1)
	env.Receive(n, 4, ring.Coordinator{Hop: 2, Origin: 3, Leader: 5, Epoch: 1})
	if v := view(n); v.Role != election.Leader || v.Token != 2 {
		t.Fatalf("a leader re-announced at its own epoch is %+v, want leader with token 2", v)
	}
	if l := env.NotesOf(election.NoteLeader); len(l) != 1 {
		t.Fatalf("notes %v, want a new leader note", env.Notes)
	}
}

// A sitting leader and another's COORDINATOR (plain Ring): the newer
// leadership wins — higher epoch, then higher ID — and the older is
// ignored. A follower adopts the winner a COORDINATOR announces (step 4).
func TestRingLeaderYieldsOnlyToNewerCoordinator(t *testing.T) {
	for _, tc := range []struct {
		leader ordo.NodeID
		epoch  uint64
		yields bool
	}{
		{3, 1, false}, {3, 2, false}, {5, 2, true}, {3, 3, true}, {5, 1, false},
	} {
		env, n := leading(t, 4, 2)
		env.Receive(n, 3, ring.Coordinator{Hop: 2, Origin: 2, Leader: tc.leader, Epoch: tc.epoch})
		v := view(n)
		if yielded := v.Role != election.Leader; yielded != tc.yields {
			t.Errorf("leader n4 (token 2) after COORDINATOR of n%d epoch %d: %+v, want yielded=%v", tc.leader, tc.epoch, v, tc.yields)
		}
		if tc.yields && v.Leader != tc.leader {
			t.Errorf("yielded to %v, want n%d", v.Leader, tc.leader)
		}
	}
	env, n := node(t, 2, quiet)
	env.Start(n)
	env.Receive(n, 1, ring.Coordinator{Hop: 1, Origin: 1, Leader: 5, Epoch: 2})
	env.Receive(n, 1, ring.Coordinator{Hop: 2, Origin: 1, Leader: 3, Epoch: 2})
	if v := view(n); v.Leader != 3 {
		t.Fatalf("a follower did not adopt the announced winner n3: %+v", v)
	}
}

// Heartbeats in plain Ring: the newest leadership wins — a higher epoch
// than the leader's token makes it yield; the same epoch held by another
// node, or an older one, is a conflict the leader answers with STALE
// (the other leader then claims above it), keeping its role.
func TestRingHeartbeatNewestLeadershipWins(t *testing.T) {
	for _, tc := range []struct {
		from   ordo.NodeID
		epoch  uint64
		yields bool
	}{
		{5, 3, true}, {3, 3, true}, {5, 2, false}, {3, 2, false}, {5, 1, false},
	} {
		env, n := leading(t, 4, 2)
		env.Receive(n, tc.from, ring.Heartbeat{Leader: tc.from, Epoch: tc.epoch, Round: 1})
		v := view(n)
		if yielded := v.Role != election.Leader; yielded != tc.yields {
			t.Errorf("leader n4 (token 2), heartbeat of n%d epoch %d: %+v, want yielded=%v", tc.from, tc.epoch, v, tc.yields)
		}
		if !tc.yields {
			env.WantSent(t, "STALE→"+tc.from.String())
			if m := env.Sent[0].Msg.(ring.Stale); m.Epoch != 2 {
				t.Errorf("STALE carries epoch %d, want 2", m.Epoch)
			}
		}
	}
	// A follower of nobody follows the first leader it hears; a follower
	// of n4 (epoch 2) follows a higher ID of the same epoch.
	env, n := node(t, 2, quiet)
	env.Start(n)
	env.Receive(n, 3, ring.Heartbeat{Leader: 3, Epoch: 2, Round: 1})
	if v := view(n); v.Leader != 3 {
		t.Fatalf("a leaderless follower ignored n3's heartbeat: %+v", v)
	}
	env.Receive(n, 3, ring.Heartbeat{Leader: 3, Epoch: 2, Round: 2})
	if len(env.Notes) != 0 {
		t.Fatalf("the same leader's next heartbeat noted %v", env.Notes)
	}
	env.OneTimer(t, election.TimerSuspect)
}

// Section 5 (quorum): the winner's claim is its first heartbeat round; it
// leads once a majority (itself and two of five) acknowledged that round
// with its epoch. A duplicate, or an acknowledgement of another epoch,
// counts nothing; without a majority by the claim's deadline it steps
// down, and a stale claim timer does nothing.
func TestRingQuorumClaimNeedsMajorityAcks(t *testing.T) {
	claim := func(t *testing.T) (*ordotest.Env, ordo.Node, ring.Heartbeat, ordo.Timer) {
		env, n := node(t, 5, quorum)
		env.Start(n)
		env.Fire(n, env.OneTimer(t, election.TimerBound).Timer) // the boot binding ends
		env.Receive(n, 4, ring.Coordinator{Hop: 1, Origin: 3, Leader: 5, Epoch: 1})
		hb := env.SentKind("HEARTBEAT")
		if len(hb) != 4 {
			t.Fatalf("a claim sent %v, want its heartbeat round to 4 peers", env.SentSummary())
		}
		if v := view(n); v.Role == election.Leader || v.Leader != ordo.None {
			t.Fatalf("a claimant is %+v, want no leader yet", v)
		}
		return env, n, hb[0].Msg.(ring.Heartbeat), env.OneTimer(t, election.TimerClaim).Timer
	}
	env, n, hb, _ := claim(t)
	env.Receive(n, 1, ring.HeartbeatAck{Epoch: hb.Epoch, Round: hb.Round})
	env.Receive(n, 1, ring.HeartbeatAck{Epoch: hb.Epoch, Round: hb.Round})
	env.Receive(n, 2, ring.HeartbeatAck{Epoch: hb.Epoch + 1, Round: hb.Round})
	if v := view(n); v.Role == election.Leader {
		t.Fatalf("led with n1 twice and n2 for another epoch: %+v", v)
	}
	env.Receive(n, 2, ring.HeartbeatAck{Epoch: hb.Epoch, Round: hb.Round})
	if v := view(n); v.Role != election.Leader || v.Token != 1 {
		t.Fatalf("with 3 of 5 acknowledgements: %+v, want leader with token 1", v)
	}

	env, n, _, deadline := claim(t)
	env.Fire(n, ordo.Timer{Name: deadline.Name, Arg: deadline.Arg - 1})
	if len(env.Notes) != 0 {
		t.Fatalf("a stale claim timer acted: %v", env.Notes)
	}
	env.Fire(n, deadline)
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteFollower}) {
		t.Fatalf("claim deadline without a majority: notes %v, want [follower]", got)
	}
	// A follower's acknowledgement arriving late counts nothing.
	env.Receive(n, 1, ring.HeartbeatAck{Epoch: 1, Round: 1})
	env.Receive(n, 2, ring.HeartbeatAck{Epoch: 1, Round: 1})
	if v := view(n); v.Role == election.Leader {
		t.Fatalf("acknowledgements after the deadline made it leader: %+v", v)
	}
}

// Section 5 (quorum): a node promised to another leader cannot claim; its
// claim waits for the binding to expire and is then made above every
// epoch seen.
func TestRingQuorumClaimDeferredWhileBound(t *testing.T) {
	env, n := node(t, 5, quorum)
	env.Start(n)
	env.Fire(n, env.OneTimer(t, election.TimerBound).Timer)
	env.Receive(n, 4, ring.Heartbeat{Leader: 4, Epoch: 1, Round: 1})
	env.WantSent(t, "HEARTBEAT-ACK→n4")
	bound := env.OneTimer(t, election.TimerBound).Timer
	env.Receive(n, 4, ring.Coordinator{Hop: 1, Origin: 3, Leader: 5, Epoch: 2})
	if len(env.SentKind("HEARTBEAT")) != 0 || view(n).Role == election.Leader {
		t.Fatalf("bound to n4, node 5 claimed at once: %v", env.SentSummary())
	}
	env.Fire(n, bound)
	hb := env.SentKind("HEARTBEAT")
	if len(hb) != 4 || hb[0].Msg.(ring.Heartbeat).Epoch != 3 {
		t.Fatalf("after the binding expired: sent %v, want a claim of epoch 3 (above the 2 it stored)", env.Sent)
	}
	if v := view(n); v.Leader != ordo.None || v.Role == election.Leader {
		t.Fatalf("a claimant still names its old leader: %+v", v)
	}
	// A node not bound to anyone has nothing deferred: its binding's end
	// claims nothing.
	env2, n2 := node(t, 5, quorum)
	env2.Start(n2)
	env2.Fire(n2, env2.OneTimer(t, election.TimerBound).Timer)
	if len(env2.Sent) != 0 {
		t.Fatalf("nothing deferred, yet the binding's end sent %v", env2.SentSummary())
	}
}

// An Ack settles exactly the hop it names: that hop's timer then finds
// nothing to retry, while another unacknowledged hop is still retried.
func TestRingAckSettlesItsHop(t *testing.T) {
	env, n := node(t, 3, quiet)
	env.Start(n)
	env.Receive(n, 2, ring.Coordinator{Hop: 1, Origin: 1, Leader: 5, Epoch: 1})
	h1 := env.OneTimer(t, "hop").Timer
	env.Receive(n, 2, ring.Coordinator{Hop: 2, Origin: 1, Leader: 5, Epoch: 1})
	h2 := env.OneTimer(t, "hop").Timer
	env.Receive(n, 4, ring.Ack{Hop: uint64(h2.Arg)})
	env.Fire(n, h2)
	if len(env.Sent) != 0 {
		t.Fatalf("an acknowledged hop was retried: %v", env.SentSummary())
	}
	env.Fire(n, h1)
	env.WantSent(t, "COORDINATOR→n5")
}

// Hints of different generations: the second successor marked dead (a
// later generation) is revived by its own hint timer, while the first
// stays skipped.
func TestRingSecondDeadHintRevives(t *testing.T) {
	env, n := node(t, 3, quiet)
	initiate(t, env, n)
	env.Fire(n, env.OneTimer(t, "hop").Timer) // n4 dead (generation 1), on to n5
	env.Fire(n, env.OneTimer(t, "hop").Timer) // n5 dead (generation 2), on to n1
	env.WantSent(t, "ELECTION→n1")
	alive5 := env.OneTimer(t, "alive").Timer
	env.Fire(n, alive5)
	env.Receive(n, 2, ring.Coordinator{Hop: 9, Origin: 2, Leader: 5, Epoch: 1})
	if got := env.SentSummary(); !slices.Contains(got, "COORDINATOR→n5") {
		t.Fatalf("n5's hint (generation 2) expired, yet a COORDINATOR went %v", got)
	}
}

// STALE (someone knows an epoch at least the leader's token): a plain
// leader claims again above every epoch seen; a STALE about an older
// epoch, or one sent to a follower, changes no role.
func TestRingStaleMakesLeaderReclaim(t *testing.T) {
	for _, tc := range []struct {
		epoch, token uint64
	}{{1, 2}, {2, 3}, {5, 6}} {
		env, n := leading(t, 4, 2)
		env.Receive(n, 1, ring.Stale{Epoch: tc.epoch})
		if v := view(n); v.Role != election.Leader || v.Token != tc.token {
			t.Errorf("leader with token 2 after STALE of epoch %d: %+v, want token %d", tc.epoch, v, tc.token)
		}
	}
	env, n := node(t, 2, quiet)
	env.Start(n)
	env.Receive(n, 1, ring.Stale{Epoch: 7})
	if v := view(n); v.Role != election.Follower || len(env.Sent) != 0 || storedEpoch(t, env) != 7 {
		t.Fatalf("a follower's STALE: %+v, sent %v", v, env.SentSummary())
	}
}

// Section 5 (quorum): a sitting leader's lease is renewed by a majority's
// acknowledgements of a newer round of its epoch.
func TestRingQuorumLeaseRenewedByAcks(t *testing.T) {
	env, n := node(t, 5, quorum)
	env.Start(n)
	env.Fire(n, env.OneTimer(t, election.TimerBound).Timer)
	env.Receive(n, 4, ring.Coordinator{Hop: 1, Origin: 3, Leader: 5, Epoch: 1})
	claim := env.SentKind("HEARTBEAT")[0].Msg.(ring.Heartbeat)
	env.Receive(n, 1, ring.HeartbeatAck{Epoch: 1, Round: claim.Round})
	env.Receive(n, 2, ring.HeartbeatAck{Epoch: 1, Round: claim.Round})
	if v := view(n); v.Role != election.Leader {
		t.Fatalf("not leader after 3 of 5: %+v", v)
	}
	leases := env.TimersNamed(election.TimerLease)
	next := env.SentKind("HEARTBEAT")[0].Msg.(ring.Heartbeat)
	env.Receive(n, 1, ring.HeartbeatAck{Epoch: 1, Round: next.Round})
	env.Receive(n, 2, ring.HeartbeatAck{Epoch: 1, Round: next.Round})
	env.Fire(n, leases[0].Timer)
	if v := view(n); v.Role != election.Leader {
		t.Fatalf("a leader whose newer round a majority acknowledged lost its lease: %+v", v)
	}
}

// A ring of one: its detector fires, nobody else answers, and it leads
// with the next epoch.
func TestRingAloneLeadsWithNextEpoch(t *testing.T) {
	env := ordotest.ForProtocol(ring.Protocol, 1, ordo.NewRoster(1, 0, 0), 1)
	n := env.NewNode(t, ring.Protocol, quiet)
	env.Start(n)
	env.Fire(n, env.OneTimer(t, election.TimerSuspect).Timer)
	if v := view(n); v.Role != election.Leader || v.Token != 1 {
		t.Fatalf("a ring of one after its detector fired: %+v, want leader with token 1", v)
	}
}

// The oldest pending hop (the first in the list) is settled by its Ack too.
func TestRingAckSettlesOldestHop(t *testing.T) {
	env, n := node(t, 3, quiet)
	env.Start(n)
	env.Receive(n, 2, ring.Coordinator{Hop: 1, Origin: 1, Leader: 5, Epoch: 1})
	h1 := env.OneTimer(t, "hop").Timer
	env.Receive(n, 4, ring.Ack{Hop: uint64(h1.Arg)})
	env.Fire(n, h1)
	if len(env.Sent) != 0 {
		t.Fatalf("the acknowledged oldest hop was retried: %v", env.SentSummary())
	}
}

// Chang and Roberts' variant (section 4, Ring): a node passes on an
// election of a higher candidate, replaces a lower candidate by itself
// unless it already takes part, and wins when its own candidacy comes back,
// above every epoch the message saw.
func TestRingChangRoberts(t *testing.T) {
	cr := map[string]string{"suspect_jitter": "0s", "variant": "chang-roberts"}
	env, n := node(t, 3, cr)
	env.Start(n)
	env.Receive(n, 2, ring.Election{Hop: 1, ID: 7, Initiator: 1, Candidate: 5, MaxEpoch: 2})
	env.WantSent(t, "ACK→n2", "ELECTION→n4")
	if m := env.Sent[1].Msg.(ring.Election); m.Candidate != 5 || m.MaxEpoch != 2 {
		t.Fatalf("passed on %+v, want candidate 5", m)
	}
	env.Receive(n, 2, ring.Election{Hop: 2, ID: 8, Initiator: 1, Candidate: 2})
	env.WantSent(t, "ACK→n2") // taking part already: a lower candidate dies

	env, n = node(t, 3, cr)
	env.Start(n)
	env.Receive(n, 2, ring.Election{Hop: 1, ID: 7, Initiator: 1, Candidate: 2, MaxEpoch: 4})
	env.WantSent(t, "ACK→n2", "ELECTION→n4")
	if m := env.Sent[1].Msg.(ring.Election); m.Candidate != 3 {
		t.Fatalf("a lower candidate was passed on as %+v, want candidate 3", m)
	}
	env.Receive(n, 2, ring.Election{Hop: 2, ID: 7, Initiator: 1, Candidate: 3, MaxEpoch: 4})
	if c := env.SentKind("COORDINATOR"); len(c) != 1 || c[0].Msg.(ring.Coordinator).Leader != 3 || c[0].Msg.(ring.Coordinator).Epoch != 5 {
		t.Fatalf("its own candidacy back: sent %v, want COORDINATOR of n3 in epoch 5", env.SentSummary())
	}
}
