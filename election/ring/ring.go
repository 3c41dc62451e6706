package ring

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"ordo"
	"ordo/election"
)

// Options of the "ring" protocol.
var Options = []ordo.Option{
	{Name: "heartbeat", Default: "50ms", Help: "leader's heartbeat interval"},
	{Name: "timeout", Default: "150ms", Help: "a follower suspects the leader after a silence drawn from [timeout, timeout+suspect_jitter)"},
	{Name: "suspect_jitter", Default: "150ms", Help: "random spread of the failure detector's timeout (0: every node suspects at once)"},
	{Name: "answer_timeout", Default: "20ms", Help: "how long a node waits for its successor to acknowledge a hop before skipping it"},
	{Name: "coordinator_timeout", Default: "200ms", Help: "with quorum, how long the winner waits for a majority of acknowledgements"},
	{Name: "variant", Default: "collect", Help: "collect (the chapter: the message collects every ID) or chang-roberts (only the highest ID travels)"},
	{Name: "quorum", Default: "false", Help: "leadership needs acknowledgements from a majority; a leader without them steps down"},
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
	timerSticky    = "sticky"
	storeKey       = "ring/epoch"
)

type config struct {
	heartbeat, timeout, jitter, answer, coord time.Duration
	chang, quorum                             bool
}

type pendingHop struct {
	hop uint64
	to  ordo.NodeID
	msg ordo.Message
}

// Node is one Ring participant.
type Node struct {
	cfg config
	id  ordo.NodeID
	n   int

	epoch  uint64 // highest epoch seen; durable
	role   election.Role
	leader ordo.NodeID
	token  uint64
	since  time.Time

	participating ordo.NodeID // highest initiator (or candidate) passed on since the last COORDINATOR
	suspGen       int64
	hop           uint64
	pending       []pendingHop // hops awaiting an Ack; bounded by maxPending
	dead          []bool       // successors that failed to acknowledge (a hint)

	claiming  bool
	claimGen  int64
	acked     []bool
	acks      int
	sticky    bool
	stickyGen int64
	round     uint64
	majRound  uint64
	rounds    *election.Rounds

	// Elections counts elections this incarnation initiated.
	Elections int
}

var _ election.Elector = (*Node)(nil)

// New builds a node.
func New(c ordo.Config) (ordo.Node, error) {
	cfg := config{
		heartbeat: c.Opts.Duration("heartbeat"),
		timeout:   c.Opts.Duration("timeout"),
		jitter:    c.Opts.Duration("suspect_jitter"),
		answer:    c.Opts.Duration("answer_timeout"),
		coord:     c.Opts.Duration("coordinator_timeout"),
		quorum:    c.Opts.Bool("quorum"),
	}
	switch v := c.Opts.String("variant"); v {
	case "collect":
	case "chang-roberts":
		cfg.chang = true
	default:
		return nil, fmt.Errorf("ring: variant %q (valid: collect, chang-roberts)", v)
	}
	if cfg.heartbeat <= 0 || cfg.timeout <= cfg.heartbeat {
		return nil, fmt.Errorf("ring: need 0 < heartbeat (%v) < timeout (%v)", cfg.heartbeat, cfg.timeout)
	}
	if cfg.answer <= 0 || cfg.coord <= 0 {
		return nil, fmt.Errorf("ring: answer_timeout and coordinator_timeout must be positive")
	}
	return &Node{cfg: cfg, id: c.ID, n: c.N, dead: make([]bool, c.N+1), acked: make([]bool, c.N+1), rounds: election.NewRounds(c.ID, c.N)}, nil
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
	if v, ok := env.Store().Get(storeKey); ok {
		if len(v) != 8 {
			panic(fmt.Sprintf("ring: %v: epoch of %d bytes", r.id, len(v)))
		}
		r.epoch = binary.BigEndian.Uint64(v)
	}
	r.since = env.Now()
	env.Note(election.NoteFollower, "term", r.epoch, "leader", 0)
	if r.cfg.quorum {
		r.hearLeader(env)
	}
	r.armSuspect(env)
}

func (r *Node) see(env ordo.Env, epoch uint64) {
	if epoch > r.epoch {
		r.epoch = epoch
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], r.epoch)
		env.Store().Put(storeKey, v[:])
	}
}

func (r *Node) armSuspect(env ordo.Env) {
	r.suspGen++
	d := r.cfg.timeout
	if r.cfg.jitter > 0 {
		d += time.Duration(env.Rand().Int64N(int64(r.cfg.jitter)))
	}
	env.After(d, ordo.Timer{Name: timerSuspect, Arg: r.suspGen})
}

func (r *Node) hearLeader(env ordo.Env) {
	r.sticky = true
	r.stickyGen++
	env.After(r.cfg.timeout, ordo.Timer{Name: timerSticky, Arg: r.stickyGen})
}

// succ is the next node after id on the ring 1 → 2 → … → N → 1.
func (r *Node) succ(id ordo.NodeID) ordo.NodeID { return id%ordo.NodeID(r.n) + 1 }

// forward sends m to the first successor after `after` not known dead,
// and waits for its Ack. It reports false when no other node is left.
func (r *Node) forward(env ordo.Env, m ordo.Message, after ordo.NodeID) bool {
	to := r.succ(after)
	for to != r.id && r.dead[to] {
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
	env.After(r.cfg.answer, ordo.Timer{Name: timerHop, Arg: int64(r.hop)})
	return true
}

// startElection is step 1 of the chapter: "[initiator_id]".
func (r *Node) startElection(env ordo.Env) {
	r.Elections++
	r.participating = r.id
	if r.role != election.Candidate {
		r.role = election.Candidate
		r.since = env.Now()
		env.Note(election.NoteCandidate, "term", r.epoch)
	}
	m := Election{Initiator: r.id, IDs: []ordo.NodeID{r.id}, Candidate: r.id, MaxEpoch: r.epoch}
	if !r.forward(env, m, r.id) {
		r.elected(env, r.id, r.epoch+1) // alone on the ring
	}
	r.armSuspect(env) // try again if this election is lost
}

// elected starts the COORDINATOR round for winner.
func (r *Node) elected(env ordo.Env, winner ordo.NodeID, epoch uint64) {
	m := Coordinator{Origin: r.id, Leader: winner, Epoch: epoch}
	r.apply(env, r.id, m)
	r.forward(env, m, r.id)
}

// apply adopts the COORDINATOR's winner.
func (r *Node) apply(env ordo.Env, from ordo.NodeID, m Coordinator) {
	r.see(env, m.Epoch)
	r.participating = ordo.None
	if m.Leader == r.id {
		if r.role == election.Leader && r.token == m.Epoch {
			return
		}
		r.claim(env, m.Epoch)
		return
	}
	if r.cfg.quorum && r.sticky && r.leader != m.Leader && r.role != election.Leader {
		return // still bound to a leader heard within the timeout
	}
	r.follow(env, m.Leader, m.Epoch)
	if r.cfg.quorum {
		r.hearLeader(env)
		env.Send(m.Leader, CoordinatorAck{Epoch: m.Epoch})
	}
}

func (r *Node) follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	r.see(env, epoch)
	changed := r.role != election.Follower || r.leader != leader || r.token != epoch
	r.role, r.leader, r.token = election.Follower, leader, epoch
	r.claiming = false
	if changed {
		r.since = env.Now()
		env.Note(election.NoteFollower, "term", epoch, "leader", leader)
	}
	r.armSuspect(env)
}

func (r *Node) claim(env ordo.Env, epoch uint64) {
	r.see(env, epoch)
	r.token = epoch
	if !r.cfg.quorum {
		r.lead(env)
		return
	}
	r.claiming = true
	r.claimGen++
	clear(r.acked)
	r.acks = 1
	r.round++
	r.majRound = 0
	r.leaseTimer(env, r.round)
	env.After(r.cfg.coord, ordo.Timer{Name: timerClaim, Arg: r.claimGen})
	r.checkClaim(env)
}

func (r *Node) checkClaim(env ordo.Env) {
	if r.claiming && r.acks >= election.Majority(r.n) {
		r.claiming = false
		r.rounds.Reset()
		r.majRound = r.round
		r.lead(env)
	}
}

func (r *Node) lead(env ordo.Env) {
	r.role, r.leader = election.Leader, r.id
	r.since = env.Now()
	env.Note(election.NoteLeader, "term", r.token, "token", r.token)
	r.beat(env)
	env.After(r.cfg.heartbeat, ordo.Timer{Name: timerHeartbeat, Arg: int64(r.token)})
}

func (r *Node) beat(env ordo.Env) {
	r.round++
	r.leaseTimer(env, r.round)
	m := Heartbeat{Leader: r.id, Epoch: r.token, Round: r.round}
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
}

func (r *Node) leaseTimer(env ordo.Env, round uint64) {
	if r.cfg.quorum {
		env.After(r.cfg.timeout-r.cfg.timeout/10, ordo.Timer{Name: timerLease, Arg: int64(round)})
	}
}

func (r *Node) stepDown(env ordo.Env) {
	r.role, r.leader, r.claiming = election.Follower, ordo.None, false
	r.since = env.Now()
	env.Note(election.NoteFollower, "term", r.epoch, "leader", 0)
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
		r.dead[p.to] = true // skip it from now on
		if !r.forward(env, p.msg, p.to) {
			// Everyone else is gone: the message is back home.
			r.Receive(env, r.id, p.msg)
		}
	case timerClaim:
		if t.Arg == r.claimGen && r.claiming {
			r.stepDown(env)
		}
	case timerHeartbeat:
		if r.role == election.Leader && uint64(t.Arg) == r.token {
			r.beat(env)
			env.After(r.cfg.heartbeat, t)
		}
	case timerLease:
		if r.role == election.Leader && r.majRound <= uint64(t.Arg) {
			r.stepDown(env)
		}
	case timerSticky:
		if t.Arg == r.stickyGen {
			r.sticky = false
		}
	}
}

// Receive handles messages.
func (r *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if from != r.id {
		r.dead[from] = false // it is alive after all
	}
	switch m := m.(type) {
	case Election:
		if from != r.id {
			env.Send(from, Ack{Hop: m.Hop})
		}
		r.see(env, m.MaxEpoch)
		r.onElection(env, m)
	case Coordinator:
		if from != r.id {
			env.Send(from, Ack{Hop: m.Hop})
		}
		if m.Origin == r.id {
			return // it has been all the way round
		}
		r.apply(env, from, m)
		r.forward(env, m, r.id)
	case Ack:
		if i := slices.IndexFunc(r.pending, func(p pendingHop) bool { return p.hop == m.Hop }); i >= 0 {
			r.pending = slices.Delete(r.pending, i, i+1)
		}
	case CoordinatorAck:
		if r.claiming && m.Epoch == r.token && !r.acked[from] {
			r.acked[from] = true
			r.acks++
			r.checkClaim(env)
		}
	case Heartbeat:
		r.onHeartbeat(env, from, m)
	case HeartbeatAck:
		if r.role == election.Leader && m.Epoch == r.token {
			r.rounds.Ack(from, m.Round)
			r.majRound = max(r.majRound, r.rounds.Newest(r.round))
		}
	default:
		panic(fmt.Sprintf("ring: unexpected message %T", m))
	}
}

func (r *Node) onElection(env ordo.Env, m Election) {
	if r.cfg.chang {
		switch {
		case m.Candidate == r.id:
			r.elected(env, r.id, max(m.MaxEpoch, r.epoch)+1)
		case m.Candidate > r.id:
			r.participating = max(r.participating, m.Candidate)
			m.MaxEpoch = max(m.MaxEpoch, r.epoch)
			r.forward(env, m, r.id)
		case r.participating == ordo.None:
			r.participating = r.id
			m.Candidate = r.id
			m.MaxEpoch = max(m.MaxEpoch, r.epoch)
			r.forward(env, m, r.id)
		}
		return
	}
	if m.Initiator == r.id {
		// Step 3 of the chapter: back at the initiator, the highest wins.
		if len(m.IDs) > r.n {
			panic(fmt.Sprintf("ring: election list of %d IDs in a ring of %d", len(m.IDs), r.n))
		}
		if r.cfg.quorum && len(m.IDs) < election.Majority(r.n) {
			r.participating = ordo.None
			return // a minority ring: no leader
		}
		r.elected(env, slices.Max(m.IDs), max(m.MaxEpoch, r.epoch)+1)
		return
	}
	if r.participating > m.Initiator || slices.Contains(m.IDs, r.id) {
		return // a higher initiator's election is under way: this one dies
	}
	r.participating = m.Initiator
	// Step 2: append our ID and pass it on.
	m.IDs = append(slices.Clip(m.IDs), r.id)
	m.MaxEpoch = max(m.MaxEpoch, r.epoch)
	if !r.forward(env, m, r.id) {
		r.participating = ordo.None
	}
}

func (r *Node) onHeartbeat(env ordo.Env, from ordo.NodeID, m Heartbeat) {
	r.see(env, m.Epoch)
	switch {
	case r.role == election.Leader && from < r.id:
		return // the lower leader yields when it hears ours
	case from == r.leader && m.Epoch >= r.token, r.leader == ordo.None, from > r.leader:
		if r.cfg.quorum && from != r.leader && r.sticky && r.role != election.Leader {
			return
		}
		r.follow(env, from, m.Epoch)
	default:
		return
	}
	if r.cfg.quorum {
		r.hearLeader(env)
		env.Send(from, HeartbeatAck{Epoch: m.Epoch, Round: m.Round})
	}
}
