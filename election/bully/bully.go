package bully

import (
	"encoding/binary"
	"fmt"
	"time"

	"ordo"
	"ordo/election"
)

// Options of the "bully" protocol.
var Options = []ordo.Option{
	{Name: "heartbeat", Default: "50ms", Help: "leader's heartbeat interval"},
	{Name: "timeout", Default: "150ms", Help: "a follower suspects the leader after a silence drawn from [timeout, timeout+suspect_jitter)"},
	{Name: "suspect_jitter", Default: "150ms", Help: "random spread of the failure detector's timeout (0: every node suspects at once)"},
	{Name: "answer_timeout", Default: "20ms", Help: "how long a candidate waits for an OK from a higher ID"},
	{Name: "coordinator_timeout", Default: "100ms", Help: "how long a node that got OK waits for COORDINATOR (and, with quorum, a claimant waits for acks)"},
	{Name: "quorum", Default: "false", Help: "leadership needs acknowledgements from a majority; a leader without them steps down"},
}

// Protocol is the registered "bully" protocol.
var Protocol = &ordo.Protocol{
	Name:     "bully",
	Doc:      "Bully election: ELECTION to higher IDs, OK, COORDINATOR (section 4); quorum=true adds a majority (section 5)",
	Options:  Options,
	New:      New,
	Messages: Messages,
}

func init() { ordo.Register(Protocol) }

const (
	timerSuspect   = "suspect"
	timerAnswer    = "answer"
	timerCoordWait = "coordinator-wait"
	timerClaim     = "claim"
	timerHeartbeat = "heartbeat"
	timerLease     = "lease"
	timerSticky    = "sticky"
	storeKey       = "bully/epoch"
)

type config struct {
	heartbeat, timeout, jitter, answer, coord time.Duration
	quorum                                    bool
}

// Node is one Bully participant.
type Node struct {
	cfg config
	id  ordo.NodeID
	n   int

	epoch  uint64 // highest epoch seen; durable
	role   election.Role
	leader ordo.NodeID
	token  uint64 // epoch of the leader's leadership
	since  time.Time

	electing bool
	gotOK    bool
	gen      int64 // generation of the answer/coordinator-wait timers
	suspGen  int64

	// Quorum mode.
	claiming  bool
	acked     []bool
	acks      int
	sticky    bool
	stickyGen int64
	round     uint64
	majRound  uint64
	rounds    *election.Rounds

	// Elections counts the elections this incarnation started.
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
	if cfg.heartbeat <= 0 || cfg.timeout <= cfg.heartbeat {
		return nil, fmt.Errorf("bully: need 0 < heartbeat (%v) < timeout (%v)", cfg.heartbeat, cfg.timeout)
	}
	if cfg.answer <= 0 || cfg.coord <= 0 {
		return nil, fmt.Errorf("bully: answer_timeout and coordinator_timeout must be positive")
	}
	return &Node{cfg: cfg, id: c.ID, n: c.N, acked: make([]bool, c.N+1), rounds: election.NewRounds(c.ID, c.N)}, nil
}

// View implements election.Elector.
func (b *Node) View() election.View {
	return election.View{Role: b.role, Leader: b.leader, Since: b.since, Term: b.token, Token: b.token}
}

// Start boots the node; a (re)started node holds an election at once, as
// Garcia-Molina's recovering process does — which is why an unstable
// high-ID node disturbs the cluster at every restart.
func (b *Node) Start(env ordo.Env) {
	if v, ok := env.Store().Get(storeKey); ok {
		if len(v) != 8 {
			panic(fmt.Sprintf("bully: %v: epoch of %d bytes", b.id, len(v)))
		}
		b.epoch = binary.BigEndian.Uint64(v)
	}
	b.since = env.Now()
	env.Note(election.NoteFollower, "term", b.epoch, "leader", 0)
	if b.cfg.quorum {
		b.hearLeader(env) // keep any promise made before the crash
	}
	b.startElection(env)
}

func (b *Node) see(env ordo.Env, epoch uint64) {
	if epoch > b.epoch {
		b.epoch = epoch
		b.persist(env)
	}
}

func (b *Node) persist(env ordo.Env) {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], b.epoch)
	env.Store().Put(storeKey, v[:])
}

func (b *Node) armSuspect(env ordo.Env) {
	b.suspGen++
	d := b.cfg.timeout
	if b.cfg.jitter > 0 {
		d += time.Duration(env.Rand().Int64N(int64(b.cfg.jitter)))
	}
	env.After(d, ordo.Timer{Name: timerSuspect, Arg: b.suspGen})
}

func (b *Node) hearLeader(env ordo.Env) {
	b.sticky = true
	b.stickyGen++
	env.After(b.cfg.timeout, ordo.Timer{Name: timerSticky, Arg: b.stickyGen})
}

func (b *Node) follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	b.see(env, epoch)
	changed := b.role != election.Follower || b.leader != leader || b.token != epoch
	b.role, b.leader, b.token = election.Follower, leader, epoch
	b.electing, b.claiming = false, false
	b.gen++
	if changed {
		b.since = env.Now()
		env.Note(election.NoteFollower, "term", epoch, "leader", leader)
	}
	b.armSuspect(env)
}

func (b *Node) startElection(env ordo.Env) {
	if b.electing || b.claiming || b.role == election.Leader {
		return
	}
	b.Elections++
	b.electing, b.gotOK = true, false
	b.gen++
	if b.role != election.Candidate {
		b.role = election.Candidate
		b.since = env.Now()
		env.Note(election.NoteCandidate, "term", b.epoch)
	}
	sent := 0
	for _, p := range env.Peers() {
		if p > b.id {
			env.Send(p, Election{Epoch: b.epoch})
			sent++
		}
	}
	if sent == 0 {
		b.claim(env)
		return
	}
	env.After(b.cfg.answer, ordo.Timer{Name: timerAnswer, Arg: b.gen})
}

// claim makes this node coordinator: at once, or with quorum once a
// majority has acknowledged.
func (b *Node) claim(env ordo.Env) {
	b.electing = false
	b.epoch++
	b.persist(env) // the epoch is durable before anyone hears of it
	b.gen++
	m := Coordinator{Leader: b.id, Epoch: b.epoch}
	if !b.cfg.quorum {
		for _, p := range env.Peers() {
			env.Send(p, m)
		}
		b.lead(env)
		return
	}
	b.claiming = true
	clear(b.acked)
	b.acks = 1
	b.round++
	b.majRound = 0
	claimRound := b.round
	b.leaseTimer(env, claimRound)
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
	env.After(b.cfg.coord, ordo.Timer{Name: timerClaim, Arg: b.gen})
	b.checkClaim(env, claimRound)
}

func (b *Node) checkClaim(env ordo.Env, claimRound uint64) {
	if b.claiming && b.acks >= election.Majority(b.n) {
		b.claiming = false
		b.rounds.Reset()
		b.majRound = claimRound
		b.lead(env)
	}
}

func (b *Node) lead(env ordo.Env) {
	b.role, b.leader, b.token = election.Leader, b.id, b.epoch
	b.since = env.Now()
	env.Note(election.NoteLeader, "term", b.epoch, "token", b.epoch)
	b.beat(env)
	env.After(b.cfg.heartbeat, ordo.Timer{Name: timerHeartbeat, Arg: int64(b.token)})
}

func (b *Node) beat(env ordo.Env) {
	b.round++
	b.leaseTimer(env, b.round)
	m := Heartbeat{Leader: b.id, Epoch: b.epoch, Round: b.round}
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
}

func (b *Node) leaseTimer(env ordo.Env, round uint64) {
	if b.cfg.quorum {
		env.After(b.cfg.timeout-b.cfg.timeout/10, ordo.Timer{Name: timerLease, Arg: int64(round)})
	}
}

func (b *Node) stepDown(env ordo.Env) {
	b.role, b.leader = election.Follower, ordo.None
	b.claiming, b.electing = false, false
	b.gen++
	b.since = env.Now()
	env.Note(election.NoteFollower, "term", b.epoch, "leader", 0)
	b.armSuspect(env)
}

// Fire handles timers.
func (b *Node) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case timerSuspect:
		// Step 1 of the chapter: the failure detector fires.
		if t.Arg == b.suspGen && b.role != election.Leader {
			b.electing = false
			b.startElection(env)
		}
	case timerAnswer:
		// No OK from any higher ID: this node is the highest alive.
		if t.Arg == b.gen && b.electing && !b.gotOK {
			b.claim(env)
		}
	case timerCoordWait:
		// A higher node answered OK but never announced itself.
		if t.Arg == b.gen && b.electing {
			b.electing = false
			b.startElection(env)
		}
	case timerClaim:
		if t.Arg == b.gen && b.claiming {
			b.stepDown(env) // no majority: not a leader
		}
	case timerHeartbeat:
		if b.role == election.Leader && uint64(t.Arg) == b.token {
			b.beat(env)
			env.After(b.cfg.heartbeat, t)
		}
	case timerLease:
		if b.role == election.Leader && b.majRound <= uint64(t.Arg) {
			b.stepDown(env)
		}
	case timerSticky:
		if t.Arg == b.stickyGen {
			b.sticky = false
		}
	}
}

// Receive handles messages.
func (b *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Election:
		b.see(env, m.Epoch)
		if from > b.id {
			return // only lower IDs ask higher ones
		}
		// Step 2: a higher node answers OK ...
		env.Send(from, OK{Epoch: b.epoch})
		if b.role == election.Leader {
			env.Send(from, Coordinator{Leader: b.id, Epoch: b.token})
			return
		}
		// ... and step 3: holds its own election.
		b.startElection(env)
	case OK:
		b.see(env, m.Epoch)
		if b.electing && !b.gotOK {
			b.gotOK = true
			b.gen++
			env.After(b.cfg.coord, ordo.Timer{Name: timerCoordWait, Arg: b.gen})
		}
	case Coordinator:
		b.onCoordinator(env, from, m.Leader, m.Epoch)
	case CoordinatorAck:
		if b.claiming && m.Epoch == b.epoch && !b.acked[from] {
			b.acked[from] = true
			b.acks++
			b.checkClaim(env, b.round)
		}
	case Heartbeat:
		b.onHeartbeat(env, from, m)
	case HeartbeatAck:
		if b.role == election.Leader && m.Epoch == b.token {
			b.rounds.Ack(from, m.Round)
			b.majRound = max(b.majRound, b.rounds.Newest(b.round))
		}
	default:
		panic(fmt.Sprintf("bully: unexpected message %T", m))
	}
}

func (b *Node) onCoordinator(env ordo.Env, from, leader ordo.NodeID, epoch uint64) {
	b.see(env, epoch)
	if leader < b.id {
		// A lower node claims while this higher one lives: bully it.
		if b.role == election.Leader {
			env.Send(from, Coordinator{Leader: b.id, Epoch: b.token})
			return
		}
		b.startElection(env)
		return
	}
	if b.cfg.quorum && b.sticky && b.leader != leader && b.role != election.Leader {
		return // still bound to a leader heard within the timeout
	}
	b.follow(env, leader, epoch)
	if b.cfg.quorum {
		b.hearLeader(env)
		env.Send(from, CoordinatorAck{Epoch: epoch})
	}
}

func (b *Node) onHeartbeat(env ordo.Env, from ordo.NodeID, m Heartbeat) {
	b.see(env, m.Epoch)
	switch {
	case b.role == election.Leader && from < b.id:
		// Two leaders meet after a partition heals: the higher bullies.
		env.Send(from, Coordinator{Leader: b.id, Epoch: b.token})
		return
	case from == b.leader && m.Epoch >= b.token, b.leader == ordo.None, from > b.leader:
		if b.cfg.quorum && from != b.leader && b.sticky && b.role != election.Leader {
			return
		}
		b.follow(env, from, m.Epoch)
	default:
		return // a lower leader than ours: ignore
	}
	if b.cfg.quorum {
		b.hearLeader(env)
		env.Send(from, HeartbeatAck{Epoch: m.Epoch, Round: m.Round})
	}
}
