package election

import (
	"time"

	"ordo"
)

// Timer names of a Leadership. They are the same in Bully and Ring, so a
// trace reads alike whichever protocol wrote it.
const (
	TimerSuspect   = "suspect"   // the follower's failure detector (Arg: generation)
	TimerHeartbeat = "heartbeat" // the leader's next round (Arg: its token)
	TimerLease     = "lease"     // a round's lease ends (Arg: the round)
	TimerBound     = "bound"     // a promise's binding ends (Arg: generation)
	TimerClaim     = "claim"     // a claim's deadline (Arg: the protocol's generation)
)

// HeartbeatFunc builds a protocol's heartbeat message: leader's round
// round of leadership epoch.
type HeartbeatFunc func(leader ordo.NodeID, epoch, round uint64) ordo.Message

// Leadership is what Bully and Ring share around the chapter's election
// steps (section 4), and what section 5 adds to them: the role and the
// believed leader, the durable Epoch (the fencing token), the followers'
// failure detector (Watch.SuspectAfter), the leader's heartbeat rounds and,
// with Watch.Quorum, the majority's Promise and the lease counted in Rounds.
// A protocol keeps only its own steps (ELECTION/OK/COORDINATOR, the ring
// token) and calls these when a step makes it follow, run, claim or lead.
//
// Every method that takes an Env performs its sends, timers, notes and
// storage writes in a fixed order (documented per method), so a protocol
// built on it replays a seed byte for byte.
type Leadership struct {
	Watch Watch
	ID    ordo.NodeID
	N     int

	Epoch  Epoch       // highest epoch seen; durable
	Role   Role        // this node's role
	Leader ordo.NodeID // the leader it believes in (None: unknown)
	Token  uint64      // epoch of that leader's leadership
	Since  time.Time   // local clock at the last role or leader change

	// Quorum mode (Watch.Quorum). A node acknowledges leadership (L, e)
	// only as its Promise allows; a claimant leads once a majority
	// acknowledged ClaimRound, and keeps leading while a majority
	// acknowledges a round within the lease (Rounds).
	Promise    Promise
	Rounds     *Rounds
	Claiming   bool   // a claim awaits its majority
	ClaimRound uint64 // the round the claim's acknowledgements stand for

	suspGen   int64
	heartbeat HeartbeatFunc
}

// NewLeadership returns the leadership of node c.ID of protocol name, whose
// epoch and promise are stored under name+"/epoch" and name+"/promise",
// and whose heartbeats heartbeat builds.
func NewLeadership(name string, c ordo.Config, w Watch, heartbeat HeartbeatFunc) *Leadership {
	if heartbeat == nil {
		panic("election: NewLeadership without a heartbeat")
	}
	return &Leadership{Watch: w, ID: c.ID, N: c.N, Epoch: NewEpoch(name + "/epoch"),
		Rounds: NewRounds(c.ID, c.N), Promise: NewPromise(name+"/promise", TimerBound, w.Timeout), heartbeat: heartbeat}
}

// View implements Elector's View for the protocol that holds l.
func (l *Leadership) View() View {
	return View{Role: l.Role, Leader: l.Leader, Since: l.Since, Term: l.Token, Token: l.Token}
}

// Boot is a (re)start: it loads the durable epoch and promise, notes
// "follower" of no leader and, with quorum, binds the node to nobody for
// one timeout (a promise made before the crash may still be in force).
func (l *Leadership) Boot(env ordo.Env) {
	l.Epoch.Load(env)
	l.Promise.Load(env)
	l.Since = env.Now()
	env.Note(NoteFollower, "term", l.Epoch.N, "leader", 0)
	if l.Watch.Quorum {
		l.Promise.Bind(env, ordo.None)
	}
}

// ArmSuspect (re)arms the failure detector (section 4, step 1: "장애 감지");
// earlier suspect timers become stale.
func (l *Leadership) ArmSuspect(env ordo.Env) {
	l.suspGen++
	env.After(l.Watch.SuspectAfter(env.Rand(), l.ID), ordo.Timer{Name: TimerSuspect, Arg: l.suspGen})
}

// Suspects reports whether t is the current suspect timer: the detector
// heard nothing from the leader for its timeout.
func (l *Leadership) Suspects(t ordo.Timer) bool {
	return t.Name == TimerSuspect && t.Arg == l.suspGen
}

// Follow makes the node follow leader in epoch: the epoch is stored
// first, "follower" is noted if anything changed, then the detector is
// re-armed.
func (l *Leadership) Follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	l.Epoch.See(env, epoch)
	changed := l.Role != Follower || l.Leader != leader || l.Token != epoch
	l.Role, l.Leader, l.Token = Follower, leader, epoch
	l.Claiming = false
	if changed {
		l.Since = env.Now()
		env.Note(NoteFollower, "term", epoch, "leader", leader)
	}
	l.ArmSuspect(env)
}

// Run makes the node a candidate of term, noting "candidate" unless it
// already was one.
func (l *Leadership) Run(env ordo.Env, term uint64) {
	if l.Role == Candidate {
		return
	}
	l.Role = Candidate
	l.Since = env.Now()
	env.Note(NoteCandidate, "term", term)
}

// Lead makes the node leader with fencing token token: it notes "leader",
// sends the first heartbeat round and arms the next.
func (l *Leadership) Lead(env ordo.Env, token uint64) {
	l.Role, l.Leader, l.Token = Leader, l.ID, token
	l.Since = env.Now()
	env.Note(NoteLeader, "term", token, "token", token)
	l.Beat(env)
	env.After(l.Watch.Heartbeat, ordo.Timer{Name: TimerHeartbeat, Arg: int64(token)})
}

// Beat sends one heartbeat round to every peer; with quorum it first arms
// the round's lease.
func (l *Leadership) Beat(env ordo.Env) {
	round := l.Rounds.Next()
	if l.Watch.Quorum {
		env.After(l.Watch.Lease(), ordo.Timer{Name: TimerLease, Arg: int64(round)})
	}
	m := l.heartbeat(l.ID, l.Token, round)
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
}

// Beating handles TimerHeartbeat: a leader whose token is t's sends the
// next round and re-arms the timer; a stale timer does nothing.
func (l *Leadership) Beating(env ordo.Env, t ordo.Timer) {
	if l.Role == Leader && uint64(t.Arg) == l.Token {
		l.Beat(env)
		env.After(l.Watch.Heartbeat, t)
	}
}

// LeaseLost handles TimerLease: it reports whether the node leads but no
// round sent since t's has been acknowledged by a majority, so the
// followers' promises may be running out and it must step down.
func (l *Leadership) LeaseLost(t ordo.Timer) bool {
	return l.Role == Leader && l.Rounds.Newest() <= uint64(t.Arg)
}

// StepDown makes the node a follower of nobody (noting it if that is a
// change) and re-arms the detector.
func (l *Leadership) StepDown(env ordo.Env) {
	if l.Role != Follower || l.Leader != ordo.None {
		l.Since = env.Now()
		env.Note(NoteFollower, "term", l.Epoch.N, "leader", 0)
	}
	l.Role, l.Leader = Follower, ordo.None
	l.Claiming = false
	l.ArmSuspect(env)
}

// Conflicts reports whether leadership (leader, epoch) is older than what
// this node knows — an epoch below the newest it has seen (with quorum:
// promised), or the same epoch held by another leader — and the epoch to
// tell that leader (a STALE message).
func (l *Leadership) Conflicts(leader ordo.NodeID, epoch uint64) (stale bool, known uint64) {
	if l.Watch.Quorum {
		p := &l.Promise
		return epoch < p.Epoch || (epoch == p.Epoch && leader != p.To), p.Epoch
	}
	return epoch < l.Epoch.N || (epoch == l.Token && l.Leader != ordo.None && l.Leader != leader), l.Epoch.N
}

// Claim starts a quorum claim (section 5: "과반수 이상 노드와 통신 가능해야
// 리더 역할 수행"): it numbers the claim's round, sends msg(round) to every
// peer and arms the claim's deadline — the claim must complete within the
// lease its round starts — as TimerClaim with Arg gen. The caller keeps
// its own promise first and completes the claim with Win.
func (l *Leadership) Claim(env ordo.Env, gen int64, msg func(round uint64) ordo.Message) {
	l.Claiming = true
	l.ClaimRound = l.Rounds.Next()
	m := msg(l.ClaimRound)
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
	env.After(min(l.Watch.Coord, l.Watch.Lease()), ordo.Timer{Name: TimerClaim, Arg: gen})
}

// Win completes a claim a majority acknowledged: the claim round's lease
// starts, and the node leads with token.
func (l *Leadership) Win(env ordo.Env, token uint64) {
	l.Claiming = false
	env.After(l.Watch.Lease(), ordo.Timer{Name: TimerLease, Arg: int64(l.ClaimRound)})
	l.Lead(env, token)
}

// ElectionTimeout implements TimeoutReporter: the silence after which a
// follower's detector fires, from Watch.Timeout (the favoured first
// detector) to twice that plus the jitter (every other node, when a first
// detector is set) or the timeout plus the jitter.
func (l *Leadership) ElectionTimeout() (lo, hi time.Duration) {
	hi = l.Watch.Timeout
	if l.Watch.First != ordo.None {
		hi *= 2
	}
	return l.Watch.Timeout, hi + l.Watch.Jitter
}
