package raft_test

// One-step tests in the style of etcd-io/raft's paper tests: a node in a
// given state receives one input through ordotest's recording Env, and the
// test reads exactly what it sent, armed, noted and wrote. Each cites the
// rule of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", USENIX ATC 2014; §5.x) or of
// Ongaro's thesis (§9.6, PreVote) that it checks.

import (
	"encoding/binary"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/raft"
	"ordo/ordotest"
)

// hardStateKey and the layout below are the node's durable state: term
// then votedFor, 8 bytes each, big-endian. The tests read them from
// storage, not from the node: a vote the node remembers only in memory
// does not survive a crash.
const hardStateKey = "raft/hardstate"

func hardState(t *testing.T, env *ordotest.Env) (term uint64, votedFor ordo.NodeID) {
	t.Helper()
	b, ok := env.Storage().Get(hardStateKey)
	if !ok {
		return 0, ordo.None
	}
	if len(b) != 16 {
		t.Fatalf("hard state of %d bytes, want 16", len(b))
	}
	return binary.BigEndian.Uint64(b), ordo.NodeID(binary.BigEndian.Uint64(b[8:]))
}

func setHardState(env *ordotest.Env, term uint64, votedFor ordo.NodeID) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], term)
	binary.BigEndian.PutUint64(b[8:], uint64(votedFor))
	env.Storage().Put(hardStateKey, b[:])
}

// follower boots node 1 of 3 (from whatever hard state env's storage
// holds) and lets its post-boot promise lapse, so that it may vote: the
// state every test starts from unless it says otherwise. It returns the
// node and the election timer its boot armed.
func follower(t *testing.T, env *ordotest.Env, opts map[string]string) (ordo.Node, ordo.Timer) {
	t.Helper()
	n := env.NewNode(t, raft.Protocol, opts)
	env.Start(n)
	elect := env.TimersNamed("election")
	if len(elect) != 1 {
		t.Fatalf("boot armed %v, want one election timer", env.Timers)
	}
	// The promise lasts election_timeout_min on the monotonic clock (a
	// deadline, no timer): let it pass. The boot's election timer, due at
	// 150–300ms, stays pending (expire fires it at its deadline).
	promise := 150 * time.Millisecond
	if v, ok := opts["election_timeout_min"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		promise = d
	}
	env.Advance(promise)
	return n, elect[0].Timer
}

// expire lets n's election timeout run out: it advances env to n's election
// deadline and fires the pending election timer elect.
func expire(env *ordotest.Env, n ordo.Node, elect ordo.Timer) {
	if d := n.(*raft.Node).ElectionDeadline() - env.Mono; d > 0 {
		env.Advance(d)
	}
	env.Fire(n, elect)
}

func newEnv() *ordotest.Env {
	return ordotest.ForProtocol(raft.Protocol, 1, ordo.NewRoster(3, 0, 0), 1)
}

func onlySent(t *testing.T, env *ordotest.Env) ordotest.Sent {
	t.Helper()
	if len(env.Sent) != 1 {
		t.Fatalf("sent %v, want exactly one message", env.Sent)
	}
	return env.Sent[0]
}

// §5.2, Figure 2 ("Persistent state on all servers: updated on stable
// storage before responding to RPCs"): a follower that grants a vote has
// written the new term AND votedFor in the same step that sends the grant
// (the runtimes release a step's sends only after its writes are durable);
// the node restarted from that storage refuses the term's vote to anyone
// else (§5.2: "each server will vote for at most one candidate in a given
// term").
func TestRaft_Paper5_2_VoteGrantedIsDurable(t *testing.T) {
	env := newEnv()
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2})
	if s := onlySent(t, env); s.To != 2 || s.Msg != (raft.RequestVoteResp{Term: 1, Granted: true}) {
		t.Fatalf("sent %v, want a granted vote in term 1 to n2", s)
	}
	if !env.Wrote(hardStateKey) {
		t.Fatalf("the vote left without a write of the hard state in its step (writes %v)", env.Writes)
	}
	if term, vote := hardState(t, env); term != 1 || vote != 2 {
		t.Fatalf("storage holds term %d votedFor %v, want term 1 votedFor n2", term, vote)
	}
	if d := n.(*raft.Node).ElectionDeadline(); d < env.Mono+150*time.Millisecond {
		t.Fatalf("granting a vote left the election deadline at %v (now %v), want it reset a whole timeout ahead", d, env.Mono)
	}

	// Crash and restart from storage: the vote of term 1 is spent.
	n, _ = follower(t, env, nil)
	env.Receive(n, 3, raft.RequestVote{Term: 1, Candidate: 3})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: false}) {
		t.Fatalf("after a restart, a second candidate in term 1 got %v, want a refusal", s)
	}
	if term, vote := hardState(t, env); term != 1 || vote != 2 {
		t.Fatalf("storage holds term %d votedFor %v after the refusal, want term 1 votedFor n2", term, vote)
	}
	// The first candidate asking again (a retransmission) gets its vote.
	env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 1, Granted: true}) {
		t.Fatalf("the candidate voted for, asking again, got %v", s)
	}
}

// §5.1 ("If a server receives a request with a stale term number, it
// rejects the request"): at term 5, a heartbeat and a vote request of term
// 4 are refused with the current term, and nothing durable changes.
func TestRaft_Paper5_1_StaleTermRejected(t *testing.T) {
	env := newEnv()
	setHardState(env, 5, ordo.None)
	n, _ := follower(t, env, nil)

	env.Receive(n, 2, raft.Heartbeat{Term: 4, Leader: 2, Round: 7})
	if s := onlySent(t, env); s.To != 2 || s.Msg != (raft.HeartbeatResp{Term: 5, Round: 7, Success: false}) {
		t.Fatalf("stale heartbeat answered with %v, want a failure carrying term 5", s)
	}
	if len(env.Writes) != 0 || len(env.Notes) != 0 {
		t.Fatalf("a stale heartbeat wrote %v and noted %v", env.Writes, env.Notes)
	}
	if v := n.(election.Elector).View(); v.Leader != ordo.None || v.Term != 5 {
		t.Fatalf("after a stale heartbeat the view is %+v, want no leader in term 5", v)
	}

	env.Receive(n, 3, raft.RequestVote{Term: 4, Candidate: 3})
	if s := onlySent(t, env); s.Msg != (raft.RequestVoteResp{Term: 5, Granted: false}) {
		t.Fatalf("stale vote request answered with %v, want a refusal carrying term 5", s)
	}
	if len(env.Writes) != 0 {
		t.Fatalf("a stale vote request wrote %v", env.Writes)
	}
}

// §5.1 ("If a candidate or leader discovers that its term is out of date,
// it immediately reverts to follower state"; Figure 2: "If RPC request or
// response contains term T > currentTerm: set currentTerm = T, convert to
// follower"): a candidate that hears of a newer term persists it with no
// vote, and notes that it follows.
func TestRaft_Paper5_1_NewerTermMakesCandidateFollow(t *testing.T) {
	env := newEnv()
	n, elect := follower(t, env, map[string]string{"prevote": "false"})
	expire(env, n, elect)
	if v := n.(election.Elector).View(); v.Role != election.Candidate || v.Term != 1 {
		t.Fatalf("after its election timeout the node is %+v, want a candidate of term 1", v)
	}
	env.Receive(n, 2, raft.RequestVoteResp{Term: 3, Granted: false})
	if term, vote := hardState(t, env); term != 3 || vote != ordo.None {
		t.Fatalf("storage holds term %d votedFor %v, want term 3 and no vote", term, vote)
	}
	if v := n.(election.Elector).View(); v.Role != election.Follower || v.Term != 3 {
		t.Fatalf("the view is %+v, want a follower of term 3", v)
	}
	if f := env.NotesOf(election.NoteFollower); len(f) != 1 {
		t.Fatalf("notes %v, want one %q note", env.Notes, election.NoteFollower)
	}
}

// §5.2 ("To begin an election, a follower increments its current term ...
// It then votes for itself and issues RequestVote RPCs in parallel to each
// of the other servers"): the new term and the vote for itself are
// written in the step that sends the requests.
func TestRaft_Paper5_2_CandidatePersistsBeforeAsking(t *testing.T) {
	env := newEnv()
	setHardState(env, 2, 3)
	n, elect := follower(t, env, map[string]string{"prevote": "false"})
	expire(env, n, elect)
	if term, vote := hardState(t, env); !env.Wrote(hardStateKey) || term != 3 || vote != 1 {
		t.Fatalf("storage holds term %d votedFor %v (written this step: %v), want term 3 votedFor n1", term, vote, env.Wrote(hardStateKey))
	}
	want := raft.RequestVote{Term: 3, Candidate: 1}
	if got := env.SentKind("RequestVote"); len(got) != 2 || got[0].To != 2 || got[1].To != 3 || got[0].Msg != want || got[1].Msg != want {
		t.Fatalf("sent %v, want %+v to n2 and n3", env.Sent, want)
	}
	if len(env.TimersNamed("election")) != 1 {
		t.Fatalf("armed %v, want a new election timer (a split vote must retry)", env.Timers)
	}
}

// Thesis §9.6 (PreVote) with §4.2.3's rule against disruptive servers:
// while a follower hears from a leader (within the minimum election
// timeout), it denies PreVotes, changing nothing; once that lease lapses it
// grants them, still changing nothing durable (a PreVote raises no term).
func TestRaft_Thesis9_6_PreVoteDeniedWhileLeaderLeaseHolds(t *testing.T) {
	env := newEnv()
	setHardState(env, 4, 2)
	n, _ := follower(t, env, nil)
	env.Receive(n, 2, raft.Heartbeat{Term: 4, Leader: 2, Round: 1})
	promise := n.(*raft.Node).PromiseUntil() - env.Mono
	if promise != 150*time.Millisecond {
		t.Fatalf("hearing the leader promised it %v, want election_timeout_min (150ms)", promise)
	}

	env.Advance(promise / 2)
	env.Receive(n, 3, raft.PreVote{Term: 5, Candidate: 3})
	if s := onlySent(t, env); s.To != 3 || s.Msg != (raft.PreVoteResp{Term: 4, Granted: false}) {
		t.Fatalf("PreVote within the leader's lease answered %v, want a denial in term 4", s)
	}
	if len(env.Writes) != 0 || len(env.Timers) != 0 {
		t.Fatalf("a denied PreVote wrote %v and armed %v", env.Writes, env.Timers)
	}

	env.Advance(promise / 2)
	env.Receive(n, 3, raft.PreVote{Term: 5, Candidate: 3})
	if s := onlySent(t, env); s.Msg != (raft.PreVoteResp{Term: 5, Granted: true}) {
		t.Fatalf("PreVote after the lease answered %v, want a grant for term 5", s)
	}
	if len(env.Writes) != 0 {
		t.Fatalf("granting a PreVote wrote %v: a PreVote changes no durable state", env.Writes)
	}
	if term, vote := hardState(t, env); term != 4 || vote != 2 {
		t.Fatalf("storage holds term %d votedFor %v, want term 4 votedFor n2 untouched", term, vote)
	}
	if v := n.(election.Elector).View(); v.Term != 4 {
		t.Fatalf("the PreVote moved the term to %d", v.Term)
	}
}

// The monotonic clock, not the wall clock, paces a Raft node: a 10 s step
// of Now between two steps changes nothing it arms or sends.
func TestRaft_ClockStepChangesNothing(t *testing.T) {
	a, b := newEnv(), newEnv()
	na, _ := follower(t, a, nil)
	nb, _ := follower(t, b, nil)
	b.StepWall(10 * time.Second)
	a.Receive(na, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1})
	b.Receive(nb, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1})
	if got, want := snapshot(b), snapshot(a); got != want {
		t.Fatalf("after a wall-clock step the step differs:\n%s\nwithout the step:\n%s", got, want)
	}
}

func snapshot(e *ordotest.Env) string {
	var s string
	for _, x := range e.Sent {
		s += x.String() + "; "
	}
	for _, x := range e.Timers {
		s += x.Timer.String() + "@" + x.After.String() + "; "
	}
	return s
}
