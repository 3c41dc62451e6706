package ring

import (
	"fmt"
	"slices"
	"time"

	"ordo"
	"ordo/election"
)

// Options of the "ring" protocol.
var Options = []ordo.Option{
	{Name: "heartbeat", Default: "50ms", Help: "leader's heartbeat interval"},
	{Name: "timeout", Default: "150ms", Help: "a follower suspects the leader after a silence drawn from [timeout, timeout+suspect_jitter); with quorum also the length of a follower's promise"},
	{Name: "suspect_jitter", Default: "150ms", Help: "random spread of the failure detector's timeout (0: every node suspects at once)"},
	{Name: "first_detector", Default: "none", Help: "node whose failure detector fires first, after exactly `timeout`; every other node waits 2×timeout plus its jitter (the chapter's figure: 3; none: nobody is favoured)"},
	{Name: "answer_timeout", Default: "20ms", Help: "how long a node waits for its successor to acknowledge a hop before skipping it"},
	{Name: "coordinator_timeout", Default: "200ms", Help: "with quorum, how long the winner waits for a majority of acknowledgements (at most the lease)"},
	{Name: "variant", Default: "collect", Help: "collect (the chapter: the message collects every ID) or chang-roberts (only the highest ID travels)"},
	{Name: "quorum", Default: "false", Help: "leadership needs acknowledgements from a majority within a lease; a leader without them steps down"},
}

// Protocol is the registered "ring" protocol.
var Protocol = &ordo.Protocol{
	Name:     "ring",
	Doc:      "Ring election: the message collects IDs around the ring, the highest wins, COORDINATOR circulates (section 4)",
	Options:  Options,
	New:      New,
	Messages: Messages,
}

func init() { ordo.Register(Protocol) }

const (
	timerSuspect   = "suspect"
	timerHop       = "hop"
	timerClaim     = "claim"
	timerHeartbeat = "heartbeat"
	timerLease     = "lease"
	timerBound     = "bound"
	timerAlive     = "alive" // a dead-successor hint expires
	timerPart      = "part"  // participation in a higher election expires
	storeKey       = "ring/epoch"
	storePromise   = "ring/promise"
)

type pendingHop struct {
	hop uint64
	to  ordo.NodeID
	msg ordo.Message
}

// Node is one Ring participant.
type Node struct {
	cfg   election.Watch
	chang bool // variant=chang-roberts
	id    ordo.NodeID
	n     int

	epoch  election.Epoch // highest epoch seen; durable
	role   election.Role
	leader ordo.NodeID
	token  uint64
	since  time.Time

	participating ordo.NodeID // highest initiator (or candidate) passed on recently
	partGen       int64
	mine          uint64 // nonce of this node's running election (0: none)
	tookOver      uint64 // nonce of the last election this node completed for a lost initiator
	suspGen       int64
	hop           uint64
	pending       []pendingHop // hops awaiting an Ack; bounded by maxPending
	dead          []int64      // successors that failed to acknowledge: hint generation (0: alive)
	deadGen       int64

	// Quorum mode: as in package bully, a node acknowledges leadership
	// (L, e) only if e is at least its durable promise and it is not bound
	// to another leader; an acknowledgement binds it to L for one timeout.
	prom       election.Promise
	deferred   uint64 // epoch of a claim waiting for the binding to expire
	claiming   bool
	claimGen   int64
	claimRound uint64
	rounds     *election.Rounds

	// Elections counts elections this incarnation initiated.
	Elections int
}

var _ election.Elector = (*Node)(nil)

// New builds a node.
func New(c ordo.Config) (ordo.Node, error) {
	var chang bool
	switch v := c.Opts.String("variant"); v {
	case "collect":
	case "chang-roberts":
		chang = true
	default:
		return nil, fmt.Errorf("ring: variant %q (valid: collect, chang-roberts)", v)
	}
	cfg, err := election.ParseWatch("ring", c)
	if err != nil {
		return nil, err
	}
	return &Node{cfg: cfg, chang: chang, id: c.ID, n: c.N, epoch: election.NewEpoch(storeKey), dead: make([]int64, c.N+1),
		rounds: election.NewRounds(c.ID, c.N), prom: election.NewPromise(storePromise, timerBound, cfg.Timeout)}, nil
}

// maxPending bounds the unacknowledged hops a node keeps.
func (r *Node) maxPending() int { return 4 * r.n }

// View implements election.Elector.
func (r *Node) View() election.View {
	return election.View{Role: r.role, Leader: r.leader, Since: r.since, Term: r.token, Token: r.token}
}

// Start boots the node as a follower that knows no leader; its failure
// detector starts an election if no heartbeat arrives.
func (r *Node) Start(env ordo.Env) {
	r.epoch.Load(env)
	r.prom.Load(env)
	r.since = env.Now()
	env.Note(election.NoteFollower, "term", r.epoch.N, "leader", 0)
	if r.cfg.Quorum {
		r.prom.Bind(env, ordo.None) // keep any promise made before the crash
	}
	r.armSuspect(env)
}

func (r *Node) armSuspect(env ordo.Env) {
	r.suspGen++
	env.After(r.cfg.SuspectAfter(env.Rand(), r.id), ordo.Timer{Name: timerSuspect, Arg: r.suspGen})
}

// conflicts reports whether leadership (l, e) is older than what this node
// knows, and the epoch to tell l.
func (r *Node) conflicts(l ordo.NodeID, e uint64) (bool, uint64) {
	if r.cfg.Quorum {
		return e < r.prom.Epoch || (e == r.prom.Epoch && l != r.prom.To), r.prom.Epoch
	}
	return e < r.epoch.N || (e == r.token && r.leader != ordo.None && r.leader != l), r.epoch.N
}

// succ is the next node after id on the ring 1 → 2 → … → N → 1.
func (r *Node) succ(id ordo.NodeID) ordo.NodeID { return id%ordo.NodeID(r.n) + 1 }

// markDead remembers, for one timeout, that id did not acknowledge a hop.
func (r *Node) markDead(env ordo.Env, id ordo.NodeID) {
	r.deadGen++
	r.dead[id] = r.deadGen
	env.After(r.cfg.Timeout, ordo.Timer{Name: timerAlive, Arg: int64(id)<<32 | r.deadGen&(1<<32-1)})
}

// forward sends m to the first successor after `after` not known dead,
// and waits for its Ack. It reports false when no other node is left.
func (r *Node) forward(env ordo.Env, m ordo.Message, after ordo.NodeID) bool {
	to := r.succ(after)
	for to != r.id && r.dead[to] != 0 {
		to = r.succ(to)
	}
	if to == r.id {
		return false
	}
	r.hop++
	switch mm := m.(type) {
	case Election:
		mm.Hop = r.hop
		m = mm
	case Coordinator:
		mm.Hop = r.hop
		m = mm
	}
	if len(r.pending) >= r.maxPending() {
		r.pending = r.pending[1:] // forget the oldest: its election is long lost
	}
	r.pending = append(r.pending, pendingHop{hop: r.hop, to: to, msg: m})
	env.Send(to, m)
	env.After(r.cfg.Answer, ordo.Timer{Name: timerHop, Arg: int64(r.hop)})
	return true
}

// participate records that an election of initiator (or candidate) id
// passed through; it suppresses lower ones only for one ring traversal's
// worth of time, so an election lost with a crashed node cannot block
// every later one.
func (r *Node) participate(env ordo.Env, id ordo.NodeID) {
	r.participating = id
	r.partGen++
	env.After(r.cfg.Timeout+time.Duration(r.n)*r.cfg.Answer, ordo.Timer{Name: timerPart, Arg: r.partGen})
}

// startElection is step 1 of the chapter: "[initiator_id]".
func (r *Node) startElection(env ordo.Env) {
	r.Elections++
	r.participate(env, r.id)
	r.mine = env.Rand().Uint64() | 1
	if r.role != election.Candidate {
		r.role = election.Candidate
		r.since = env.Now()
		env.Note(election.NoteCandidate, "term", r.epoch.N)
	}
	m := Election{ID: r.mine, Initiator: r.id, IDs: []ordo.NodeID{r.id}, Candidate: r.id, MaxEpoch: r.epoch.N}
	if !r.forward(env, m, r.id) {
		r.elected(env, r.id, r.epoch.N+1) // alone on the ring
	}
	r.armSuspect(env) // try again if this election is lost
}

// elected starts the COORDINATOR round for winner.
func (r *Node) elected(env ordo.Env, winner ordo.NodeID, epoch uint64) {
	r.mine = 0
	m := Coordinator{Origin: r.id, Leader: winner, Epoch: epoch}
	m = r.apply(env, m)
	r.forward(env, m, r.id)
}

// apply adopts the COORDINATOR's winner; the winner may raise the epoch
// above every epoch it has seen, and the round carries that on.
func (r *Node) apply(env ordo.Env, m Coordinator) Coordinator {
	r.participating = ordo.None
	if m.Leader == r.id {
		e := m.Epoch
		if r.epoch.N >= e {
			e = r.epoch.N + 1 // a newer epoch exists: the token must exceed it
		}
		r.epoch.See(env, e)
		m.Epoch = e
		if r.role == election.Leader && r.token == e {
			return m
		}
		r.claim(env, e)
		return m
	}
	r.epoch.See(env, m.Epoch)
	if r.cfg.Quorum && !r.prom.May(m.Leader, m.Epoch) {
		return m // bound to another leader: the winner's claim round decides
	}
	if r.role == election.Leader {
		if m.Epoch < r.token || (m.Epoch == r.token && m.Leader < r.id) {
			return m
		}
	}
	r.follow(env, m.Leader, m.Epoch)
	return m
}

func (r *Node) follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	r.epoch.See(env, epoch)
	changed := r.role != election.Follower || r.leader != leader || r.token != epoch
	r.role, r.leader, r.token = election.Follower, leader, epoch
	r.claiming, r.deferred = false, 0
	r.mine = 0
	if changed {
		r.since = env.Now()
		env.Note(election.NoteFollower, "term", epoch, "leader", leader)
	}
	r.armSuspect(env)
}

// claim makes this node leader with token epoch: at once, or with quorum
// once a majority acknowledged its first heartbeat round (acknowledgements
// of the COORDINATOR, sent before the claim, could not start a lease).
func (r *Node) claim(env ordo.Env, epoch uint64) {
	r.epoch.See(env, epoch)
	r.deferred = 0
	r.mine = 0
	if !r.cfg.Quorum {
		r.token = epoch
		r.lead(env)
		return
	}
	if !r.prom.May(r.id, epoch) {
		if r.prom.Bound && r.prom.BoundTo != r.id && epoch > r.prom.Epoch {
			r.deferred = epoch // bound to another leader: claim when it expires
		}
		return
	}
	r.prom.Keep(env, r.id, epoch)
	r.token = epoch
	if r.role != election.Candidate {
		r.role, r.leader = election.Candidate, ordo.None
		r.since = env.Now()
		env.Note(election.NoteCandidate, "term", epoch)
	}
	r.claiming = true
	r.claimGen++
	r.rounds.Restart(0)
	r.claimRound = r.rounds.Next()
	m := Heartbeat{Leader: r.id, Epoch: epoch, Round: r.claimRound}
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
	env.After(min(r.cfg.Coord, r.cfg.Lease()), ordo.Timer{Name: timerClaim, Arg: r.claimGen})
	r.checkClaim(env)
}

func (r *Node) checkClaim(env ordo.Env) {
	if r.claiming && r.rounds.Newest() >= r.claimRound {
		r.claiming = false
		env.After(r.cfg.Lease(), ordo.Timer{Name: timerLease, Arg: int64(r.claimRound)})
		r.lead(env)
	}
}

func (r *Node) lead(env ordo.Env) {
	r.role, r.leader = election.Leader, r.id
	r.since = env.Now()
	env.Note(election.NoteLeader, "term", r.token, "token", r.token)
	r.beat(env)
	env.After(r.cfg.Heartbeat, ordo.Timer{Name: timerHeartbeat, Arg: int64(r.token)})
}

func (r *Node) beat(env ordo.Env) {
	round := r.rounds.Next()
	if r.cfg.Quorum {
		env.After(r.cfg.Lease(), ordo.Timer{Name: timerLease, Arg: int64(round)})
	}
	m := Heartbeat{Leader: r.id, Epoch: r.token, Round: round}
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
}

// reclaim answers a leader's discovery that its epoch is not the newest:
// plain Ring leads on with a token above every epoch seen; a quorum
// leader steps down (a majority may have promised the newer epoch) and
// its failure detector starts the next election.
func (r *Node) reclaim(env ordo.Env) {
	switch {
	case r.claiming:
		r.claiming = false
		r.claim(env, r.epoch.N+1)
	case r.role != election.Leader:
	case r.cfg.Quorum:
		r.stepDown(env)
	default:
		r.role = election.Candidate
		r.since = env.Now()
		env.Note(election.NoteCandidate, "term", r.epoch.N)
		r.claim(env, r.epoch.N+1)
	}
}

func (r *Node) stepDown(env ordo.Env) {
	if r.role != election.Follower || r.leader != ordo.None {
		r.since = env.Now()
		env.Note(election.NoteFollower, "term", r.epoch.N, "leader", 0)
	}
	r.role, r.leader, r.claiming = election.Follower, ordo.None, false
	r.armSuspect(env)
}

// Fire handles timers.
func (r *Node) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case timerSuspect:
		if t.Arg == r.suspGen && r.role != election.Leader && !r.claiming {
			r.startElection(env)
		}
	case timerHop:
		i := slices.IndexFunc(r.pending, func(p pendingHop) bool { return p.hop == uint64(t.Arg) })
		if i < 0 {
			return // acknowledged
		}
		p := r.pending[i]
		r.pending = slices.Delete(r.pending, i, i+1)
		r.markDead(env, p.to) // skip it for a while
		if !r.forward(env, p.msg, p.to) {
			// Everyone else is gone: the message is back home.
			r.Receive(env, r.id, p.msg)
		}
	case timerAlive:
		id, gen := ordo.NodeID(t.Arg>>32), t.Arg&(1<<32-1)
		if id >= 1 && int(id) <= r.n && r.dead[id]&(1<<32-1) == gen {
			r.dead[id] = 0
		}
	case timerPart:
		if t.Arg == r.partGen {
			r.participating = ordo.None
		}
	case timerClaim:
		if t.Arg == r.claimGen && r.claiming {
			r.stepDown(env) // no majority: not a leader
		}
	case timerHeartbeat:
		if r.role == election.Leader && uint64(t.Arg) == r.token {
			r.beat(env)
			env.After(r.cfg.Heartbeat, t)
		}
	case timerLease:
		if r.role == election.Leader && r.rounds.Newest() <= uint64(t.Arg) {
			r.stepDown(env)
		}
	case timerBound:
		if r.prom.Expired(t) {
			if e := r.deferred; e != 0 && r.role != election.Leader && !r.claiming {
				r.claim(env, max(e, r.epoch.N+1))
			}
		}
	}
}

// Receive handles messages.
func (r *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if from != r.id {
		r.dead[from] = 0 // it is alive after all
	}
	switch m := m.(type) {
	case Election:
		if from != r.id {
			env.Send(from, Ack{Hop: m.Hop})
		}
		r.epoch.See(env, m.MaxEpoch)
		r.onElection(env, m)
	case Coordinator:
		if from != r.id {
			env.Send(from, Ack{Hop: m.Hop})
		}
		if m.Origin == r.id {
			return // it has been all the way round
		}
		m = r.apply(env, m)
		r.forward(env, m, r.id)
	case Ack:
		if i := slices.IndexFunc(r.pending, func(p pendingHop) bool { return p.hop == m.Hop }); i >= 0 {
			r.pending = slices.Delete(r.pending, i, i+1)
		}
	case Heartbeat:
		r.onHeartbeat(env, from, m)
	case HeartbeatAck:
		if (r.role == election.Leader || r.claiming) && m.Epoch == r.token {
			r.rounds.Ack(from, m.Round)
			r.checkClaim(env)
		}
	case Stale:
		mine := r.token
		r.epoch.See(env, m.Epoch)
		if (r.role == election.Leader || r.claiming) && m.Epoch >= mine {
			r.reclaim(env)
		}
	default:
		panic(fmt.Sprintf("ring: unexpected message %T", m))
	}
}

func (r *Node) onElection(env ordo.Env, m Election) {
	if m.Travelled > 2*r.n {
		return // went round twice without an end: its election is lost
	}
	m.Travelled++
	if r.chang {
		switch {
		case m.Candidate == r.id:
			r.elected(env, r.id, max(m.MaxEpoch, r.epoch.N)+1)
		case m.Candidate > r.id:
			r.participate(env, max(r.participating, m.Candidate))
			m.MaxEpoch = max(m.MaxEpoch, r.epoch.N)
			r.forward(env, m, r.id)
		case r.participating == ordo.None:
			r.participate(env, r.id)
			m.Candidate = r.id
			m.MaxEpoch = max(m.MaxEpoch, r.epoch.N)
			r.forward(env, m, r.id)
		}
		return
	}
	if len(m.IDs) > r.n {
		panic(fmt.Sprintf("ring: election list of %d IDs in a ring of %d", len(m.IDs), r.n))
	}
	switch {
	case m.Initiator == r.id:
		// Step 3 of the chapter: back at the initiator, the highest wins.
		if m.ID != r.mine {
			return // an older election of this node (or of an earlier incarnation)
		}
		r.complete(env, m, m.IDs)
		return
	case slices.Contains(m.IDs, r.id):
		// The message went round without reaching its initiator, which
		// did not acknowledge the hop: it is gone. The first node to see
		// its own ID again completes the election in its place.
		if m.ID == r.tookOver {
			return
		}
		r.tookOver = m.ID
		r.complete(env, m, m.IDs[1:])
		return
	}
	if r.participating > m.Initiator {
		return // a higher initiator's election is under way: this one dies
	}
	r.participate(env, m.Initiator)
	// Step 2: append our ID and pass it on.
	m.IDs = append(slices.Clip(m.IDs), r.id)
	m.MaxEpoch = max(m.MaxEpoch, r.epoch.N)
	if !r.forward(env, m, r.id) {
		r.participating = ordo.None
		r.complete(env, m, m.IDs[1:]) // nobody else answers
	}
}

// complete announces the highest of ids as the winner.
func (r *Node) complete(env ordo.Env, m Election, ids []ordo.NodeID) {
	r.participating = ordo.None
	if r.cfg.Quorum && len(m.IDs) < election.Majority(r.n) {
		r.mine = 0
		return // a minority ring: no leader
	}
	if len(ids) == 0 {
		ids = m.IDs
	}
	r.elected(env, slices.Max(ids), max(m.MaxEpoch, r.epoch.N)+1)
}

func (r *Node) onHeartbeat(env ordo.Env, from ordo.NodeID, m Heartbeat) {
	stale, known := r.conflicts(from, m.Epoch)
	r.epoch.See(env, m.Epoch)
	if stale {
		env.Send(from, Stale{Epoch: known})
		return
	}
	if r.cfg.Quorum {
		if !r.prom.May(from, m.Epoch) {
			return // bound to another leader
		}
		if r.role == election.Leader || r.claiming {
			if from == r.id {
				return
			}
			// Another leadership with a newer epoch (ours would conflict).
		}
		r.prom.Keep(env, from, m.Epoch)
		r.follow(env, from, m.Epoch)
		env.Send(from, HeartbeatAck{Epoch: m.Epoch, Round: m.Round})
		return
	}
	// Plain: the newest leadership wins — higher epoch, then higher ID.
	newer := m.Epoch > r.token || (m.Epoch == r.token && from > r.leader)
	switch {
	case r.role == election.Leader && !newer:
		return // ours is newer: the other leader yields when it hears ours
	case from == r.leader && m.Epoch >= r.token, r.leader == ordo.None, newer:
		r.follow(env, from, m.Epoch)
	}
}
