package raft_test

// One-step tests of vote counting and of the term rules under the faults
// the nemesis generates (duplication, one-way cuts, stale deliveries),
// found missing by mutation testing (docs/mutation.md). Each cites the rule
// of the Raft paper (§5.x) or of Ongaro's thesis (§9.6) it checks.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/raft"
	"ordo/ordotest"
)

// five boots node 1 of 5 as follower with its post-boot promise lapsed.
func five(t *testing.T, opts map[string]string) (*ordotest.Env, ordo.Node, ordo.Timer) {
	t.Helper()
	env := ordotest.ForProtocol(raft.Protocol, 1, ordo.NewRoster(5, 0, 0), 1)
	n, elect := follower(t, env, opts)
	return env, n, elect
}

func view(n ordo.Node) election.View { return n.(election.Elector).View() }

// §5.2 ("A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster for the same term"): votes are counted
// per server, so a duplicated grant (the network duplicates messages) from
// n2 does not make 1+2 of 5 a majority; a third distinct server does.
func TestRaft_Paper5_2_DuplicatedVoteCountsOnce(t *testing.T) {
	env, n, elect := five(t, map[string]string{"prevote": "false"})
	expire(env, n, elect)
	if v := view(n); v.Role != election.Candidate || v.Term != 1 {
		t.Fatalf("after its timeout node 1 is %+v, want a candidate of term 1", v)
	}
	grant := raft.RequestVoteResp{Term: 1, Granted: true}
	env.Receive(n, 2, grant)
	env.Receive(n, 2, grant) // the duplicate
	if v := view(n); v.Role != election.Candidate {
		t.Fatalf("votes of n1 and n2 (twice) made node 1 %v of 5, want still a candidate", v.Role)
	}
	if len(env.Sent) != 0 || len(env.NotesOf(election.NoteLeader)) != 0 {
		t.Fatalf("a duplicated vote sent %v and noted %v", env.Sent, env.Notes)
	}
	// A refusal, or a grant of another term, is not a vote either.
	env.Receive(n, 3, raft.RequestVoteResp{Term: 1, Granted: false})
	env.Receive(n, 4, raft.RequestVoteResp{Term: 0, Granted: true})
	if v := view(n); v.Role != election.Candidate {
		t.Fatalf("a refusal or an old term's grant counted: node 1 is %v", v.Role)
	}
	env.Receive(n, 3, grant)
	if v := view(n); v.Role != election.Leader || v.Term != 1 {
		t.Fatalf("votes of n1, n2, n3 of 5 left node 1 %+v, want leader of term 1", v)
	}
	if len(env.NotesOf(election.NoteLeader)) != 1 || len(env.SentKind("Heartbeat")) != 4 {
		t.Fatalf("winning noted %v and sent %v, want a leader note and a heartbeat to each of 4 peers", env.Notes, env.Sent)
	}
	// Late grants after winning change nothing (a leader counts no votes).
	env.Receive(n, 4, grant)
	if len(env.Sent)+len(env.Notes)+len(env.Writes) != 0 {
		t.Fatalf("a late vote to a leader acted: %v %v %v", env.Sent, env.Notes, env.Writes)
	}
}

// Thesis §9.6 (PreVote): the pre-candidate becomes a candidate only after
// PreVotes from a majority of distinct servers; a duplicated PreVote grant
// counts once, and a grant for another term counts not at all.
func TestRaft_Thesis9_6_DuplicatedPreVoteCountsOnce(t *testing.T) {
	env, n, elect := five(t, nil)
	expire(env, n, elect)
	if got := len(env.SentKind("PreVote")); got != 4 {
		t.Fatalf("the timeout sent %d PreVotes, want 4", got)
	}
	if v := view(n); v.Term != 0 || v.Role != election.Follower {
		t.Fatalf("a pre-candidate is %+v, want a follower of term 0 (PreVote raises no term)", v)
	}
	grant := raft.PreVoteResp{Term: 1, Granted: true}
	env.Receive(n, 2, grant)
	env.Receive(n, 2, grant)
	env.Receive(n, 3, raft.PreVoteResp{Term: 2, Granted: true}) // not this round's term
	if len(env.Sent) != 0 || view(n).Term != 0 {
		t.Fatalf("two distinct PreVotes of 5 (one duplicated) started an election: sent %v, term %d", env.Sent, view(n).Term)
	}
	env.Receive(n, 3, grant)
	if v := view(n); v.Role != election.Candidate || v.Term != 1 {
		t.Fatalf("PreVotes of n1, n2, n3 of 5 left node 1 %+v, want a candidate of term 1", v)
	}
	if got := len(env.SentKind("RequestVote")); got != 4 {
		t.Fatalf("becoming a candidate sent %d RequestVotes, want 4", got)
	}
	// A PreVote grant arriving after the pre-vote round is over is ignored.
	env.Receive(n, 4, grant)
	if len(env.Sent)+len(env.Notes) != 0 {
		t.Fatalf("a late PreVote grant acted: %v %v", env.Sent, env.Notes)
	}
}

// §5.1 ("If a server receives a request with a stale term number, it
// rejects the request"), at a leader: a heartbeat of an older term (a
// deposed leader's, delivered late or duplicated) is refused with the
// current term, and the leader keeps leading.
func TestRaft_Paper5_1_LeaderRejectsStaleHeartbeat(t *testing.T) {
	env, n, _ := leader(t)
	env.Receive(n, 3, raft.Heartbeat{Term: 0, Leader: 3, Round: 9})
	if s := onlySent(t, env); s.To != 3 || s.Msg != (raft.HeartbeatResp{Term: 1, Round: 9, Success: false}) {
		t.Fatalf("stale heartbeat answered with %v, want a failure carrying term 1", s)
	}
	if v := view(n); v.Role != election.Leader || v.Term != 1 || v.Leader != 1 {
		t.Fatalf("a stale heartbeat left the leader %+v", v)
	}
	if len(env.Notes)+len(env.Writes)+len(env.Timers) != 0 {
		t.Fatalf("a stale heartbeat noted %v, wrote %v, armed %v", env.Notes, env.Writes, env.Timers)
	}
}

// §5.1 ("Current terms are exchanged whenever servers communicate; if one
// server's current term is smaller than the other's, then it updates its
// current term to the larger value"): a heartbeat of a newer term makes a
// follower adopt the term (durably, with no vote), follow its sender and
// re-arm its election timer; one of the same term only re-arms it.
func TestRaft_Paper5_1_HeartbeatOfNewerTermIsAdopted(t *testing.T) {
	env := newEnv()
	setHardState(env, 2, 3)
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.Heartbeat{Term: 4, Leader: 2, Round: 5})
	if s := onlySent(t, env); s.Msg != (raft.HeartbeatResp{Term: 4, Round: 5, Success: true}) {
		t.Fatalf("answered %v, want success in term 4", s)
	}
	if term, vote := hardState(t, env); !env.Wrote(hardStateKey) || term != 4 || vote != ordo.None {
		t.Fatalf("storage holds term %d votedFor %v, want term 4 and no vote written this step", term, vote)
	}
	if v := view(n); v.Leader != 2 || v.Term != 4 || v.Token != 4 {
		t.Fatalf("view %+v, want leader n2 in term 4 (token 4)", v)
	}
	if d, p := n.(*raft.Node).ElectionDeadline(), n.(*raft.Node).PromiseUntil(); d < env.Mono+150*time.Millisecond || p != env.Mono+150*time.Millisecond {
		t.Fatalf("election deadline %v and promise until %v (now %v), want the timeout reset and a 150ms promise", d, p, env.Mono)
	}
	if f := env.NotesOf(election.NoteFollower); len(f) != 1 {
		t.Fatalf("notes %v, want one follower note", env.Notes)
	}
	env.Receive(n, 2, raft.Heartbeat{Term: 4, Leader: 2, Round: 6})
	if len(env.Writes) != 0 || len(env.Notes) != 0 {
		t.Fatalf("a heartbeat of the same leader wrote %v and noted %v", env.Writes, env.Notes)
	}
}

// §5.2 ("each server will vote for at most one candidate in a given
// term") and §5.4.1 (the election restriction: a voter denies a candidate
// whose log is less up-to-date, comparing last terms, then lengths).
func TestRaft_Paper5_4_1_VoteNeedsUpToDateLog(t *testing.T) {
	for _, tc := range []struct {
		name                string
		lastTerm, lastIndex uint64
		granted             bool
	}{
		{"empty log, as ours", 0, 0, true},
		{"longer log", 0, 3, true},
		{"newer last term", 1, 0, true},
	} {
		env := newEnv()
		n, _ := follower(t, env, nil)
		env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2, LastLogTerm: tc.lastTerm, LastLogIndex: tc.lastIndex})
		if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: tc.granted}) {
			t.Errorf("%s: answered %v, want granted=%v", tc.name, s, tc.granted)
		}
	}
	// Having voted for n2 in term 1, a request of n3 in the same term is
	// refused and changes nothing.
	env := newEnv()
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2})
	env.Receive(n, 3, raft.RequestVote{Term: 1, Candidate: 3})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: false}) {
		t.Fatalf("a second candidate of term 1 got %v", s)
	}
	if len(env.Writes)+len(env.Timers) != 0 {
		t.Fatalf("a refused vote wrote %v and armed %v", env.Writes, env.Timers)
	}
}

// Thesis §9.6 ("a server grants a PreVote if the candidate's log is
// up-to-date and the proposed term is higher than its own"): a PreVote
// for the node's own term or below is denied.
func TestRaft_Thesis9_6_PreVoteNeedsHigherTerm(t *testing.T) {
	env := newEnv()
	setHardState(env, 3, ordo.None)
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.PreVote{Term: 3, Candidate: 2})
	if s := onlySent(t, env); s.Msg != (raft.PreVoteResp{Term: 3, Granted: false}) {
		t.Fatalf("a PreVote for the current term got %v, want a denial", s)
	}
	env.Receive(n, 2, raft.PreVote{Term: 4, Candidate: 2})
	if s := onlySent(t, env); s.Msg != (raft.PreVoteResp{Term: 4, Granted: true}) {
		t.Fatalf("a PreVote for term 4 got %v, want a grant", s)
	}
}

// Thesis §6.2 (CheckQuorum): a leader's lease for a heartbeat round ends
// its leadership unless a majority acknowledged a newer round. With 3
// nodes one peer's successful acknowledgement of the current term is that
// majority; a failed one, or one of an older term, is not.
func TestRaft_Thesis6_2_LeaseNeedsMajorityAcks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ack   raft.HeartbeatResp
		leads bool
	}{
		{"success", raft.HeartbeatResp{Term: 1, Success: true}, true},
		{"failure", raft.HeartbeatResp{Term: 1, Success: false}, false},
		{"older term", raft.HeartbeatResp{Term: 0, Success: true}, false},
	} {
		env, n, hb := leader(t)
		// Becoming leader armed one lease timer: the votes acknowledged
		// the candidacy's round, whose lease is the minimum election
		// timeout less a tenth (clock drift between the leader's timers
		// and the followers').
		lease := env.TimersNamed("lease")
		if len(lease) != 1 || lease[0].After != 135*time.Millisecond {
			t.Fatalf("becoming leader armed %v, want one lease timer of 135ms for election_timeout_min 150ms", env.Timers)
		}
		env.Advance(15 * time.Millisecond)
		env.Fire(n, hb)
		if len(env.SentKind("Heartbeat")) != 2 || len(env.TimersNamed("lease")) != 0 {
			t.Fatalf("a heartbeat round sent %v and armed %v, want 2 heartbeats and no second lease timer", env.Sent, env.Timers)
		}
		newer := env.SentKind("Heartbeat")[0].Msg.(raft.Heartbeat).Round
		ack := tc.ack
		ack.Round = newer
		env.Receive(n, 2, ack)
		// The candidacy round's lease ends 135ms after it began, 15ms
		// before the newer round's.
		env.Advance(lease[0].After - 15*time.Millisecond)
		env.Fire(n, lease[0].Timer)
		if got := view(n).Role == election.Leader; got != tc.leads {
			t.Errorf("%s ack of round %d: still leading after the older round's lease = %v, want %v", tc.name, newer, got, tc.leads)
		}
	}
}

// Thesis §9.6 and issue 9, case 4: a node that starts a PreVote has no
// leader any more (the one it followed went quiet); its status must not
// name the old leader while it asks for votes.
func TestRaft_Thesis9_6_PreCandidateFollowsNobody(t *testing.T) {
	env := newEnv()
	n, elect := follower(t, env, nil)
	env.Receive(n, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1})
	// The heartbeat moved the election deadline; the pending timer, when
	// it fires at that deadline, starts the PreVote.
	env.Advance(n.(*raft.Node).ElectionDeadline() - env.Mono)
	env.Fire(n, elect)
	if got := len(env.SentKind("PreVote")); got != 2 {
		t.Fatalf("the election timeout sent %v, want a PreVote to each peer", env.Sent)
	}
	if v := view(n); v.Leader != ordo.None || v.Token != 0 {
		t.Fatalf("a pre-candidate still names leader %v (token %d)", v.Leader, v.Token)
	}
	f := env.NotesOf(election.NoteFollower)
	if len(f) != 1 {
		t.Fatalf("notes %v, want a follower note with no leader before the PreVote", env.Notes)
	}
	if l, _ := f[0].Int("leader"); l != 0 {
		t.Fatalf("follower note names leader %d, want 0", l)
	}
}

// A stale election timer (armed before a later reset) does nothing, also
// after the runtime said the leader's process is gone (PeerDown re-arms
// the timer at a short delay; the older timers must stay dead).
func TestRaft_StaleElectionTimerIgnoredAfterPeerDown(t *testing.T) {
	env := newEnv()
	// Heartbeats move the deadline of the boot's election timer, which
	// stays pending (no timer a heartbeat); PeerDown arms an earlier one.
	n, old := follower(t, env, nil)
	env.Receive(n, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1})
	env.Receive(n, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 2})
	current := old
	env.Receive(n, 2, ordo.PeerDown{})
	quick := env.TimersNamed("election")
	if len(quick) != 1 || quick[0].After >= 15*time.Millisecond {
		t.Fatalf("PeerDown from the leader armed %v, want one election timer within a heartbeat (15ms)", env.Timers)
	}
	for _, stale := range []ordo.Timer{old, current} {
		env.Fire(n, stale)
		if len(env.Sent)+len(env.Timers) != 0 {
			t.Fatalf("stale election timer %v acted: %v %v", stale, env.Sent, env.Timers)
		}
	}
	env.Advance(quick[0].After)
	env.Fire(n, quick[0].Timer)
	if got := len(env.SentKind("PreVote")); got != 2 {
		t.Fatalf("the PeerDown timer sent %v, want PreVotes", env.Sent)
	}
	// PeerDown about a node that is not the leader changes nothing.
	env2 := newEnv()
	n2, _ := follower(t, env2, nil)
	env2.Receive(n2, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1})
	env2.Receive(n2, 3, ordo.PeerDown{})
	if len(env2.Timers)+len(env2.Sent) != 0 {
		t.Fatalf("PeerDown of a non-leader acted: %v %v", env2.Timers, env2.Sent)
	}
}

// §4.2.3 of the thesis (a server that heard a leader within the minimum
// election timeout denies votes): each heartbeat starts a new promise, a
// deadline on the monotonic clock; a PeerDown ends the dead leader's
// promise at once, and a new leader's heartbeat starts a new one that
// holds for the whole minimum timeout.
func TestRaft_Thesis4_2_3_StalePromiseTimerEndsNothing(t *testing.T) {
	env := newEnv()
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1})
	env.Receive(n, 2, ordo.PeerDown{})
	if p := n.(*raft.Node).PromiseUntil(); p != 0 {
		t.Fatalf("PeerDown of the leader left its promise until %v, want it ended", p)
	}
	env.Receive(n, 3, raft.Heartbeat{Term: 2, Leader: 3, Round: 1})
	if p := n.(*raft.Node).PromiseUntil() - env.Mono; p != 150*time.Millisecond {
		t.Fatalf("the new leader's heartbeat promised %v, want 150ms", p)
	}
	env.Advance(100 * time.Millisecond)
	env.Receive(n, 2, raft.PreVote{Term: 3, Candidate: 2})
	if s := onlySent(t, env); s.Msg != (raft.PreVoteResp{Term: 2, Granted: false}) {
		t.Fatalf("the first leader's promise timer ended the promise to n3: PreVote answered %v", s)
	}
}

// §5.2: a cluster of one is its own majority: its election timeout makes
// it pre-candidate, candidate and leader in one step, noting each.
func TestRaft_Paper5_2_ClusterOfOneElectsItself(t *testing.T) {
	for _, prevote := range []string{"true", "false"} {
		env := ordotest.ForProtocol(raft.Protocol, 1, ordo.NewRoster(1, 0, 0), 1)
		n, elect := follower(t, env, map[string]string{"prevote": prevote})
		expire(env, n, elect)
		if v := view(n); v.Role != election.Leader || v.Term != 1 {
			t.Fatalf("prevote=%s: a cluster of one after its timeout: %+v, want leader of term 1", prevote, v)
		}
		if prevote == "true" {
			p := env.NotesOf("precandidate")
			if len(p) != 1 {
				t.Fatalf("notes %v, want one precandidate note", env.Notes)
			}
			if term, _ := p[0].Int("term"); term != 1 {
				t.Fatalf("precandidate note for term %d, want the next term, 1", term)
			}
		}
	}
}

// §5.2 (a vote is answered the same way however often it is asked: a
// candidate whose grant was lost asks again) — also while the voter's
// promise not to help elect anyone else holds.
func TestRaft_Paper5_2_RetransmittedRequestGetsTheSameVote(t *testing.T) {
	env := newEnv()
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: true}) {
		t.Fatalf("first request: %v", s)
	}
	env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: true}) {
		t.Fatalf("the same candidate asking again within the promise got %v, want the vote again", s)
	}
	// Another candidate of a newer term within the promise is refused,
	// and the term stays.
	env.Receive(n, 3, raft.RequestVote{Term: 2, Candidate: 3})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: false}) || view(n).Term != 1 {
		t.Fatalf("a newer candidate within the promise got %v (term now %d)", s, view(n).Term)
	}
}

// Thesis §9.6: a PreVote denial carrying a newer term makes the
// pre-candidate adopt it (durably, with no vote) and stop; a denial in its
// own term only counts as a "no", and grants from a majority still elect.
func TestRaft_Thesis9_6_PreVoteDenials(t *testing.T) {
	env, n, elect := five(t, nil)
	expire(env, n, elect)
	env.Receive(n, 2, raft.PreVoteResp{Term: 0, Granted: false})
	env.Receive(n, 3, raft.PreVoteResp{Term: 1, Granted: true})
	env.Receive(n, 4, raft.PreVoteResp{Term: 1, Granted: true})
	if v := view(n); v.Role != election.Candidate || v.Term != 1 {
		t.Fatalf("a denial in its own term and 3 of 5 PreVotes: %+v, want candidate of term 1", v)
	}

	env, n, elect = five(t, nil)
	expire(env, n, elect)
	env.Receive(n, 2, raft.PreVoteResp{Term: 5, Granted: false})
	if term, vote := hardState(t, env); term != 5 || vote != ordo.None {
		t.Fatalf("a denial of term 5 left storage at term %d vote %v", term, vote)
	}
	env.Receive(n, 3, raft.PreVoteResp{Term: 1, Granted: true})
	env.Receive(n, 4, raft.PreVoteResp{Term: 1, Granted: true})
	if v := view(n); v.Role != election.Follower || v.Term != 5 {
		t.Fatalf("after adopting term 5, old PreVotes made it %+v", v)
	}
}

// Thesis §6.2: the lease runs for exactly lease() from its round's start;
// at that instant it is over, and a heartbeat timer firing then sends
// nothing.
func TestRaft_Thesis6_2_LeaseEndsAtItsBound(t *testing.T) {
	for _, tc := range []struct {
		after  time.Duration
		speaks bool
	}{{135*time.Millisecond - 1, true}, {135 * time.Millisecond, false}} {
		env, n, hb := leader(t)
		env.Advance(tc.after)
		env.Fire(n, hb)
		if got := len(env.SentKind("Heartbeat")) > 0; got != tc.speaks {
			t.Errorf("heartbeat timer %v after the votes' round began: spoke %v, want %v", tc.after, got, tc.speaks)
		}
	}
}

// §5.1 ("If a candidate or leader discovers that its term is out of date,
// it immediately reverts to follower state"): a leader hearing a heartbeat
// of a newer term follows its sender. Two leaders of one term break
// Election Safety (§5.2, Figure 3): the node asserts it rather than
// carrying on.
func TestRaft_Paper5_1_LeaderFollowsNewerHeartbeat(t *testing.T) {
	env, n, _ := leader(t)
	env.Receive(n, 3, raft.Heartbeat{Term: 2, Leader: 3, Round: 1})
	if v := view(n); v.Role != election.Follower || v.Leader != 3 || v.Term != 2 {
		t.Fatalf("a leader of term 1 after a heartbeat of term 2: %+v, want follower of n3", v)
	}
	if s := onlySent(t, env); s.Msg != (raft.HeartbeatResp{Term: 2, Round: 1, Success: true}) {
		t.Fatalf("answered %v", s)
	}

	env, n, _ = leader(t)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "both lead term 1") {
			t.Fatalf("a second leader of term 1 did not trip the assertion: %v", r)
		}
	}()
	env.Receive(n, 3, raft.Heartbeat{Term: 1, Leader: 3, Round: 1})
}

// Thesis §6.2 for a candidate: its votes carry the lease of its
// candidacy's round, so a vote arriving when that lease has run out
// (exactly lease() after the round began) makes no leader; one a
// nanosecond earlier does.
func TestRaft_Thesis6_2_VotesAtTheLeaseBound(t *testing.T) {
	for _, tc := range []struct {
		after time.Duration
		leads bool
	}{{135*time.Millisecond - 1, true}, {135 * time.Millisecond, false}} {
		env := newEnv()
		n, elect := follower(t, env, map[string]string{"prevote": "false"})
		env.Advance(300 * time.Millisecond)
		env.Fire(n, elect)
		env.Advance(tc.after)
		env.Receive(n, 2, raft.RequestVoteResp{Term: 1, Granted: true})
		if got := view(n).Role == election.Leader; got != tc.leads {
			t.Errorf("a vote %v after the candidacy: leader %v, want %v", tc.after, got, tc.leads)
		}
	}
}
