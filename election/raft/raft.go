package raft

import (
	"encoding/binary"
	"fmt"
	"time"

	"ordo"
	"ordo/election"
	"ordo/rsm"
)

// Options of the "raft" protocol.
var Options = []ordo.Option{
	{Name: "election_timeout_min", Default: "150ms", Help: "lower bound of the randomized election timeout"},
	{Name: "election_timeout_max", Default: "300ms", Help: "upper bound of the randomized election timeout"},
	// 10× below the minimum election timeout, as etcd keeps it: at 3× (50 ms)
	// ten 60 s runs of 3 nodes at 20 % loss saw 181 leader changes;
	// at 10×, none (ordo bench churn; docs/election.md).
	{Name: "heartbeat", Default: "15ms", Help: "leader's heartbeat interval (10× below election_timeout_min, so a few lost heartbeats do not depose a healthy leader)"},
	{Name: "prevote", Default: "true", Help: "ask for a PreVote before raising the term (thesis 9.6)"},
	{Name: "check_quorum", Default: "true", Help: "a leader without a majority within its lease steps down; followers that hear a leader refuse votes"},
	{Name: "peer_down", Default: "true", Help: "a follower told that its leader's process is gone (connection refused) campaigns within one heartbeat instead of waiting out the election timeout"},
}

// Protocol is the registered "raft" protocol.
var Protocol = &ordo.Protocol{
	Name:     "raft",
	Doc:      "Raft-style election: terms, randomized timeouts, majority votes, PreVote, CheckQuorum (section 4)",
	Options:  Options,
	New:      New,
	Messages: Messages,
}

func init() { ordo.Register(Protocol) }

// Timer names.
const (
	timerElection  = "election"
	timerHeartbeat = "heartbeat"
	timerLease     = "lease"
)

// storeKey holds the hard state: term and vote.
const storeKey = "raft/hardstate"

type config struct {
	min, max, heartbeat  time.Duration
	prevote, checkQuorum bool
	peerDown             bool
}

// Node is one Raft participant: the election alone (New, the "raft"
// protocol), or the election with log replication into a state machine
// (NewReplica).
type Node struct {
	cfg config
	id  ordo.NodeID

	// Hard state: persisted before any message that depends on it.
	term     uint64
	votedFor ordo.NodeID

	// The replicated log (replica.go, replicate.go); empty and unused
	// for the election alone (m == nil).
	m               rsm.Machine
	host            Host
	rc              replConfig
	log             raftLog
	commit, applied uint64
	hash            uint64 // chained hash of the applied entries (chain)
	snap            snapMeta
	// voters is the configuration in force (the newest in the log,
	// effective once appended, thesis 4.1); peers the voters but this
	// node, the nodes a leader sends to. confs are the configurations in
	// the log (confs[0] the one at or before its start).
	voters        []ordo.NodeID
	peers         []ordo.NodeID
	confs         []confAt
	prs           []progress // by NodeID (leader)
	scratch       []uint64
	reads         []pendingRead
	readRound     bool // a pending read waits for a heartbeat round (Flush sends it)
	transferee    ordo.NodeID
	transferUntil time.Duration // monotonic
	noLeaseReads  bool          // a transfer began this term: the followers' promise is void
	timeoutSent   bool          // TimeoutNow went to transferee
	readInFlight  uint64        // the read round awaiting a majority (0: none)
	recv          snapRecv
	sinceSnap     uint64 // the index at which snapshotting is next considered
	buf           []byte // an entry's stored form, reused
	// votersGen counts configuration changes, votersNoted the one last
	// noted (Flush notes "voters" when they differ).
	votersGen, votersNoted uint64
	// Early replication (thesis 10.2.1; durable.go): a leader on a
	// runtime with ordo.EarlySender sends its entries while its own fsync
	// is in flight and counts itself only up to durable, which AfterSync
	// wake-ups (syncAsks, by generation) raise.
	early     bool
	durable   uint64
	syncAsked uint64
	syncGen   int64
	syncAsks  []syncAsk
	// applyAsked: a follower's deferred apply waits for its wake-up
	// (applyLater).
	applyAsked bool

	role     election.Role
	pre      bool // a pre-candidate: asked for PreVotes, term unchanged
	leader   ordo.NodeID
	since    time.Time
	votes    int
	prevotes int
	voted    []bool // by NodeID: who answered this round (counts once)

	electGen int64 // generation of the election timer
	deferred bool  // postponed our candidacy for a PreVote since our timer last fired
	// The election timer is a deadline: hearing a leader moves it, and a
	// timer is armed only when none pending fires by then (armed, firesAt),
	// so a follower arms no timer per heartbeat (etcd counts ticks).
	electDeadline time.Duration // monotonic
	electArmed    bool
	electFiresAt  time.Duration
	// stickyUntil: until then (monotonic) this node heard a leader within
	// election_timeout_min and refuses to help elect anyone else.
	stickyUntil time.Duration
	leaseArmed  bool // a lease timer is pending (leaseGen)
	leaseGen    int64

	candRound  uint64         // the round standing for the vote round of a candidacy
	roundStart [64]roundStart // by round mod 64: when it began (monotonic)
	rounds     rounds         // heartbeat rounds and the lease
}

type roundStart struct {
	round uint64
	at    time.Duration
}

var _ election.Elector = (*Node)(nil)

// New builds a node from resolved options.
func New(c ordo.Config) (ordo.Node, error) {
	r, err := newNode(c)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func newNode(c ordo.Config) (*Node, error) {
	cfg := config{
		min:         c.Opts.Duration("election_timeout_min"),
		max:         c.Opts.Duration("election_timeout_max"),
		heartbeat:   c.Opts.Duration("heartbeat"),
		prevote:     c.Opts.Bool("prevote"),
		checkQuorum: c.Opts.Bool("check_quorum"),
		peerDown:    c.Opts.Bool("peer_down"),
	}
	if err := election.CheckTimers("raft",
		election.TimerOption{Name: "heartbeat", D: cfg.heartbeat, Floor: election.MinHeartbeat},
		election.TimerOption{Name: "election_timeout_min", D: cfg.min, Floor: election.MinTimeout},
		election.TimerOption{Name: "election_timeout_max", D: cfg.max, Floor: election.MinTimeout}); err != nil {
		return nil, err
	}
	if cfg.max < cfg.min {
		return nil, fmt.Errorf("raft: option election_timeout_max=%v is below election_timeout_min=%v", cfg.max, cfg.min)
	}
	if cfg.heartbeat*2 > cfg.min {
		return nil, fmt.Errorf("raft: option heartbeat=%v must be at most half of election_timeout_min=%v", cfg.heartbeat, cfg.min)
	}
	r := &Node{cfg: cfg, id: c.ID}
	r.setVoters(c.Servers().Servers)
	return r, nil
}

// View implements election.Elector.
func (r *Node) View() election.View {
	v := election.View{Role: r.role, Leader: r.leader, Since: r.since, Term: r.term}
	if r.leader != ordo.None {
		v.Token = r.term
	}
	return v
}

// ElectionDeadline is when, on this node's monotonic clock, its election
// timeout ends (tests: "the timer was reset" is "the deadline moved").
func (r *Node) ElectionDeadline() time.Duration { return r.electDeadline }

// PromiseUntil is when, on its monotonic clock, this node's promise to a
// leader it heard ends: until then it refuses (pre)votes (tests).
func (r *Node) PromiseUntil() time.Duration { return r.stickyUntil }

// Term returns the current term (tests).
func (r *Node) Term() uint64 { return r.term }

// Start boots or reboots the node from its hard state.
func (r *Node) Start(env ordo.Env) {
	// An absurd hard state (wrong length, term above ordo.MaxTerm) stops
	// this node with ordo.Corrupt rather than being believed.
	if w, ok := election.LoadWords(env, storeKey, 2); ok {
		r.term, r.votedFor = w[0], ordo.NodeID(w[1])
	}
	if r.m != nil {
		r.load(env)
	}
	r.role = election.Follower
	r.since = env.Now()
	env.Note(election.NoteFollower, "term", r.term, "leader", 0)
	// A rebooted node may have acknowledged a leader just before it
	// crashed; it keeps that promise for one minimum timeout.
	r.hearLeader(env)
	r.resetElectionTimer(env)
}

func (r *Node) persist(env ordo.Env) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.term)
	binary.BigEndian.PutUint64(b[8:], uint64(r.votedFor))
	env.Store().Put(storeKey, b[:])
}

func (r *Node) randomTimeout(env ordo.Env) time.Duration {
	span := int64(r.cfg.max - r.cfg.min)
	if span == 0 {
		return r.cfg.min
	}
	return r.cfg.min + time.Duration(env.Rand().Int64N(span+1))
}

func (r *Node) resetElectionTimer(env ordo.Env) { r.electionIn(env, r.randomTimeout(env)) }

// electionIn moves the election deadline to d from now. A timer is armed
// only when none pending fires by then: a pending one that fires earlier
// finds the deadline moved and waits out the rest.
func (r *Node) electionIn(env ordo.Env, d time.Duration) {
	r.electDeadline = env.Monotonic() + d
	if r.electArmed && r.electFiresAt <= r.electDeadline {
		return
	}
	r.electGen++
	r.electArmed, r.electFiresAt = true, r.electDeadline
	env.After(d, ordo.Timer{Name: timerElection, Arg: r.electGen})
}

// WantsPeerDown implements ordo.PeerDownListener.
func (r *Node) WantsPeerDown() bool { return r.cfg.peerDown }

// leaderDown reacts to the runtime's evidence that the leader's process is
// gone. The dead leader cannot act, so its lease needs no protecting: the
// sticky refusal ends, and the election timer is re-armed at a random delay
// below one heartbeat rather than a whole timeout. The first follower whose
// timer fires asks for PreVotes; the others grant them and so reset their
// own timers (the rule above), which keeps them from splitting the vote.
// Safety is untouched: the winner still needs a majority of votes in a new
// term. Only liveness (how soon) changes.
func (r *Node) leaderDown(env ordo.Env, from ordo.NodeID) {
	if r.role != election.Follower || r.leader != from || from == ordo.None {
		return
	}
	r.stickyUntil = 0
	r.electionIn(env, time.Duration(env.Rand().Int64N(int64(r.cfg.heartbeat))))
}

// followLeader handles a message from leader of term (>= this node's):
// it follows it, restarts its election timeout and promises it its vote
// for a minimum timeout. Two leaders of one term break Raft's election
// safety (paper 5.2): a node that leads the term itself stops rather than
// acting on it (only a forged message can bring this about).
func (r *Node) followLeader(env ordo.Env, term uint64, leader ordo.NodeID) {
	if r.role == election.Leader && term == r.term {
		panic(fmt.Sprintf("raft: %v and %v both lead term %d", r.id, leader, term))
	}
	r.becomeFollower(env, term, leader)
	r.resetElectionTimer(env)
	r.hearLeader(env)
}

// hearLeader starts (or extends) the period in which this node refuses to
// vote for anyone else.
func (r *Node) hearLeader(env ordo.Env) {
	if !r.cfg.checkQuorum {
		return
	}
	r.stickyUntil = env.Monotonic() + r.cfg.min
}

func (r *Node) becomeFollower(env ordo.Env, term uint64, leader ordo.NodeID) {
	changed := r.role != election.Follower || term != r.term || leader != r.leader
	if r.role == election.Leader {
		// A leader lets its election timer lapse; one that steps down (its
		// lease ran out, or a reply carried a higher term) must arm it
		// again, or it waits forever for a leader that may never come.
		r.resetElectionTimer(env)
	}
	if term > r.term {
		r.term = term
		r.votedFor = ordo.None
		r.persist(env)
	}
	wasLeader := r.role == election.Leader
	r.role = election.Follower
	r.pre = false
	if wasLeader {
		r.stepDown(env)
	}
	if changed {
		r.leader = leader
		r.since = env.Now()
		env.Note(election.NoteFollower, "term", r.term, "leader", leader)
		r.leaderChanged(env)
	}
}

func (r *Node) clearVotes() {
	clear(r.voted)
	r.votes, r.prevotes = 1, 1 // our own
}

// quorum is the majority of the voters in force (thesis 4.1: the newest
// configuration in the log, not the roster).
func (r *Node) quorum() int { return election.Majority(len(r.voters)) }

// sendTo is who a leader or candidate addresses: every other server for
// the election alone (as before replication), the other voters for a
// replica.
func (r *Node) sendTo(env ordo.Env) []ordo.NodeID {
	if r.m == nil {
		return env.Peers()
	}
	return r.peers
}

// Fire handles the node's timers.
func (r *Node) Fire(env ordo.Env, t ordo.Timer) {
	r.checkLease(env)
	switch t.Name {
	case timerElection:
		if t.Arg != r.electGen {
			return
		}
		r.electArmed = false
		if r.role == election.Leader {
			return
		}
		if rest := r.electDeadline - env.Monotonic(); rest > time.Microsecond {
			r.electionIn(env, rest) // a leader was heard meanwhile: the deadline moved
			return
		}
		r.deferred = false // our own attempt: the next PreVote may defer us again
		r.resetElectionTimer(env)
		if !r.isVoter(r.id) {
			return // removed from the configuration: it never campaigns (thesis 4.2.2)
		}
		if !election.CanIncrement(env, r.term) {
			return // term+1 would pass ordo.MaxTerm: stay a follower (noted)
		}
		if r.cfg.prevote {
			r.startPreVote(env)
		} else {
			r.startElection(env, false)
		}
	case TimerDurable:
		r.synced(env, t.Arg)
	case TimerApply:
		r.applyAsked = false
		r.applyTo(env)
	case timerHeartbeat:
		if r.role != election.Leader || uint64(t.Arg) != r.term {
			return
		}
		r.broadcastHeartbeat(env)
		r.heartbeatTick(env)
		env.After(r.cfg.heartbeat, t)
	case timerLease:
		// The timer only wakes the node: checkLease, above, has stepped
		// it down if no round a majority acknowledged still covers it;
		// otherwise it sleeps until the newest one stops covering it.
		if t.Arg == r.leaseGen {
			r.leaseArmed = false
			if r.role == election.Leader {
				r.armLease(env)
			}
		}
	}
}

// checkLease steps a leader whose lease has run out down before it handles
// anything. The lease can run out unnoticed while the node is paused (a GC
// pause, SIGSTOP) or starved: its timers and messages then arrive late and
// in a burst, the heartbeat timer's or a vote request's before the lease
// timer's, and a deposed leader must not act on any of them (thesis §6.2,
// CheckQuorum), so it reads its monotonic clock first.
func (r *Node) checkLease(env ordo.Env) {
	if r.role == election.Leader && r.cfg.checkQuorum && !r.leaseHeld(env) {
		r.becomeFollower(env, r.term, ordo.None)
	}
}

// nextRound numbers a new heartbeat (or candidacy) round and remembers
// when, on the monotonic clock, it began: its lease runs from then.
func (r *Node) nextRound(env ordo.Env) uint64 {
	round := r.rounds.Next()
	r.roundStart[round%uint64(len(r.roundStart))] = roundStart{round: round, at: env.Monotonic()}
	return round
}

// leaseHeld reports whether the newest round a majority acknowledged began
// less than a lease ago. A round older than the ring of starts is long past
// any lease (64 rounds at the minimum heartbeat outlast the timeout).
func (r *Node) leaseHeld(env ordo.Env) bool {
	newest := r.rounds.Newest()
	st := r.roundStart[newest%uint64(len(r.roundStart))]
	return st.round == newest && env.Monotonic()-st.at < r.lease()
}

// lease is how long a majority's acknowledgement of a round keeps this
// node leader: the minimum election timeout less a tenth, which absorbs
// clock drift between the leader's timers and the followers' (100 ppm in
// the simulator).
func (r *Node) lease() time.Duration { return r.cfg.min - r.cfg.min/10 }

// armLease arms the lease timer, unless one is pending, for the moment the
// newest round a majority acknowledged stops covering the leader: the
// timer only wakes the node (checkLease decides) and re-arms itself while
// the node leads, so a leader arms one timer a lease, not one a round.
func (r *Node) armLease(env ordo.Env) {
	if !r.cfg.checkQuorum || r.leaseArmed {
		return
	}
	// At least a microsecond: a runtime that rounds a nanosecond timer to
	// none would wake the node forever at one instant.
	d := time.Microsecond
	newest := r.rounds.Newest()
	if st := r.roundStart[newest%uint64(len(r.roundStart))]; st.round == newest {
		d = max(d, st.at+r.lease()-env.Monotonic())
	}
	r.leaseArmed = true
	r.leaseGen++
	env.After(d, ordo.Timer{Name: timerLease, Arg: r.leaseGen})
}

func (r *Node) startPreVote(env ordo.Env) {
	r.pre = true
	r.clearVotes()
	if r.leader != ordo.None {
		// Asking for PreVotes means the leader has gone quiet: this node
		// no longer follows it (thesis 9.6; a status that still names the
		// old leader is a lie).
		r.leader = ordo.None
		r.since = env.Now()
		env.Note(election.NoteFollower, "term", r.term, "leader", 0)
		r.leaderChanged(env)
	}
	if r.m != nil {
		// The log's freshness rides on the campaign: a checker tells the
		// quorum-loss limit (no server that reaches a majority has a log
		// the majority would vote for) from a liveness bug.
		env.Note("precandidate", "term", r.term+1, "last_index", r.log.last(), "last_term", r.log.lastTerm())
	} else {
		env.Note("precandidate", "term", r.term+1)
	}
	if r.prevotes >= r.quorum() {
		r.startElection(env, false)
		return
	}
	// Boxed once for every peer: a message is immutable once sent.
	var m ordo.Message = PreVote{Term: r.term + 1, Candidate: r.id, LastLogIndex: r.log.last(), LastLogTerm: r.log.lastTerm()}
	for _, p := range r.sendTo(env) {
		env.Send(p, m)
	}
}

// startElection raises the term and asks for votes; transfer: the leader
// asked for it (TimeoutNow), which voters honour despite their promise.
func (r *Node) startElection(env ordo.Env, transfer bool) {
	r.pre = false
	if !election.CanIncrement(env, r.term) {
		return // never wrap the term (the timer fired path checked already)
	}
	r.term++
	r.votedFor = r.id
	r.persist(env) // before asking anyone
	r.role = election.Candidate
	hadLeader := r.leader != ordo.None
	r.leader = ordo.None
	r.since = env.Now()
	r.clearVotes()
	if r.m != nil {
		env.Note(election.NoteCandidate, "term", r.term, "last_index", r.log.last(), "last_term", r.log.lastTerm())
	} else {
		env.Note(election.NoteCandidate, "term", r.term)
	}
	if hadLeader {
		r.leaderChanged(env)
	}
	r.candRound = r.nextRound(env)
	if r.votes >= r.quorum() {
		r.becomeLeader(env)
		return
	}
	// Boxed once for every peer: a message is immutable once sent.
	var m ordo.Message = RequestVote{Term: r.term, Candidate: r.id, LastLogIndex: r.log.last(), LastLogTerm: r.log.lastTerm(), Transfer: transfer}
	for _, p := range r.sendTo(env) {
		env.Send(p, m)
	}
}

func (r *Node) becomeLeader(env ordo.Env) {
	if r.cfg.checkQuorum {
		// The votes are the majority's acknowledgement of the candidacy's
		// round, and the lease runs from its start. Votes that arrive
		// after the lease would have lapsed (the candidate was paused or
		// starved while they waited) make a leader that must step down
		// at once, after acting: a heartbeat under a term a newer leader
		// may already have passed. Stay a follower; the election timer
		// armed for this candidacy runs on.
		st := r.roundStart[r.candRound%uint64(len(r.roundStart))]
		if st.round != r.candRound || env.Monotonic()-st.at >= r.lease() {
			r.becomeFollower(env, r.term, ordo.None)
			return
		}
	}
	r.role = election.Leader
	r.leader = r.id
	r.since = env.Now()
	r.rounds.Restart(r.candRound) // the votes were this round's acknowledgements
	r.leaseGen++                  // a lease timer of an earlier leadership wakes nobody
	r.leaseArmed = false
	r.armLease(env)
	env.Note(election.NoteLeader, "term", r.term, "token", r.term)
	r.leaderChanged(env)
	if r.m != nil {
		r.beginEarly(env)
		r.startLeading(env)
	}
	r.broadcastHeartbeat(env)
	env.After(r.cfg.heartbeat, ordo.Timer{Name: timerHeartbeat, Arg: int64(r.term)})
}

// broadcastHeartbeat sends a new round to every peer and returns its
// number. A replica's heartbeat carries the commit index, capped at what
// the peer is known to hold (etcd does the same): the follower may then
// commit without a log check.
func (r *Node) broadcastHeartbeat(env ordo.Env) uint64 {
	round := r.nextRound(env)
	if r.m != nil {
		for _, p := range r.peers {
			env.Send(p, Heartbeat{Term: r.term, Leader: r.id, Round: round, CommitIndex: min(r.commit, r.prs[p].match)})
		}
		return round
	}
	// Boxed once for every peer: a message is immutable once sent.
	var m ordo.Message = Heartbeat{Term: r.term, Leader: r.id, Round: round}
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
	return round
}

// logUpToDate is the election restriction (paper 5.4.1): a vote only for
// a candidate whose log is at least as up-to-date as this node's.
func (r *Node) logUpToDate(lastTerm, lastIndex uint64) bool {
	lt := r.log.lastTerm()
	return lastTerm > lt || (lastTerm == lt && lastIndex >= r.log.last())
}

// inLease reports whether this node refuses to help elect anyone: it is
// the leader, or it heard from one within the minimum election timeout.
func (r *Node) inLease(env ordo.Env) bool {
	return r.cfg.checkQuorum && (r.role == election.Leader || env.Monotonic() < r.stickyUntil)
}

// Receive handles one message.
func (r *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r.checkLease(env)
	switch m := m.(type) {
	case PreVote:
		granted := !r.inLease(env) && m.Term > r.term && r.logUpToDate(m.LastLogTerm, m.LastLogIndex) && r.isVoter(m.Candidate)
		resp := PreVoteResp{Term: r.term, Granted: granted}
		if granted {
			resp.Term = m.Term
			// Someone else is trying: postpone our own candidacy once.
			// Two followers whose timers fire within a PreVote round
			// trip split the vote, which costs a whole election timeout
			// (after a peer-down hint every follower's timer fires within
			// one heartbeat). Only once until our own timer fires: a node
			// that postponed for every PreVote it granted was starved by
			// candidates that can never win (a star: only the hub
			// reaches a majority, and every leaf keeps asking it).
			if r.role == election.Follower && !r.deferred {
				r.deferred = true
				r.resetElectionTimer(env)
			}
		}
		env.Send(from, resp)
	case PreVoteResp:
		if !m.Granted {
			if m.Term > r.term {
				r.becomeFollower(env, m.Term, ordo.None)
			}
			return
		}
		if !r.pre || m.Term != r.term+1 || !r.isVoter(from) || r.voted[from] {
			return
		}
		r.voted[from] = true
		r.prevotes++
		if r.prevotes >= r.quorum() {
			r.startElection(env, false)
		}
	case RequestVote:
		if m.Term > r.term && r.inLease(env) && !m.Transfer {
			// Ignored outright (no term change): a leader is alive.
			env.Send(from, RequestVoteResp{Term: r.term, Granted: false})
			return
		}
		if m.Term > r.term {
			r.becomeFollower(env, m.Term, ordo.None)
		}
		granted := m.Term == r.term && (r.votedFor == ordo.None || r.votedFor == m.Candidate) &&
			r.logUpToDate(m.LastLogTerm, m.LastLogIndex) && r.isVoter(m.Candidate)
		if granted {
			r.votedFor = m.Candidate
			r.persist(env) // the vote is durable before it is sent
			r.resetElectionTimer(env)
			r.hearLeader(env) // promise: no other vote for a minimum timeout
		}
		env.Send(from, RequestVoteResp{Term: r.term, Granted: granted})
	case RequestVoteResp:
		if m.Term > r.term {
			r.becomeFollower(env, m.Term, ordo.None)
			return
		}
		if r.role != election.Candidate || m.Term != r.term || !m.Granted || !r.isVoter(from) || r.voted[from] {
			return
		}
		r.voted[from] = true
		r.votes++
		if r.votes >= r.quorum() {
			r.becomeLeader(env)
		}
	case Heartbeat:
		if m.Term < r.term {
			env.Send(from, HeartbeatResp{Term: r.term, Round: m.Round, Success: false})
			return
		}
		r.followLeader(env, m.Term, m.Leader)
		if r.m != nil {
			r.commitTo(env, min(m.CommitIndex, r.log.last()))
		}
		env.Send(from, HeartbeatResp{Term: r.term, Round: m.Round, Success: true})
	case HeartbeatResp:
		if m.Term > r.term {
			r.becomeFollower(env, m.Term, ordo.None)
			return
		}
		if r.role != election.Leader || m.Term != r.term || !m.Success {
			return
		}
		r.ackRound(env, from, m.Round)
	case AppendEntries:
		r.handleAppend(env, from, m)
	case AppendResp:
		r.handleAppendResp(env, from, m)
	case InstallSnapshot:
		r.handleSnapshot(env, from, m)
	case InstallSnapshotResp:
		r.handleSnapshotResp(env, from, m)
	case TimeoutNow:
		r.handleTimeoutNow(env, from, m)
	case ordo.PeerDown:
		r.leaderDown(env, from)
	default:
		panic(fmt.Sprintf("raft: unexpected message %T", m))
	}
}
