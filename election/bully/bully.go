package bully

import (
	"fmt"
	"time"

	"ordo"
	"ordo/election"
)

// Options of the "bully" protocol.
var Options = []ordo.Option{
	{Name: "heartbeat", Default: "50ms", Help: "leader's heartbeat interval"},
	{Name: "timeout", Default: "150ms", Help: "a follower suspects the leader after a silence drawn from [timeout, timeout+suspect_jitter); with quorum also the length of a follower's promise"},
	{Name: "suspect_jitter", Default: "150ms", Help: "random spread of the failure detector's timeout (0: every node suspects at once)"},
	{Name: "first_detector", Default: "none", Help: "node whose failure detector fires first, after exactly `timeout`; every other node waits 2×timeout plus its jitter (the chapter's figure: 2; none: nobody is favoured)"},
	{Name: "answer_timeout", Default: "20ms", Help: "how long a candidate waits for an OK from a higher ID"},
	{Name: "coordinator_timeout", Default: "100ms", Help: "how long a node that got OK waits for COORDINATOR (and, with quorum, a claimant waits for acks, at most the lease)"},
	{Name: "quorum", Default: "false", Help: "leadership needs acknowledgements from a majority within a lease; a leader without them steps down"},
}

// Protocol is the registered "bully" protocol.
var Protocol = &ordo.Protocol{
	Name:     "bully",
	Doc:      "Bully election: ELECTION to higher IDs, OK, COORDINATOR (section 4); quorum=true adds a majority and leases (section 5)",
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
	timerBound     = "bound"
	storeKey       = "bully/epoch"
	storePromise   = "bully/promise"
)

// Node is one Bully participant.
type Node struct {
	cfg election.Watch
	id  ordo.NodeID
	n   int

	epoch  election.Epoch // highest epoch seen; durable
	role   election.Role
	leader ordo.NodeID
	token  uint64 // epoch of the believed leader's leadership
	since  time.Time

	electing bool
	gotOK    bool
	gen      int64 // generation of the answer/coordinator-wait/claim timers
	suspGen  int64

	// Quorum mode. A node acknowledges a leadership (L, e) only if e is at
	// least its durable promise (promised, promisedTo) and it is not bound
	// to another leader: an acknowledgement binds it to L for one timeout
	// (a restart binds it to nobody for one timeout, since the promise
	// made before the crash may still be in force). A leader leads only
	// while a majority acknowledged a round sent within the lease.
	prom       election.Promise
	deferred   bool // an election waits until the binding expires
	claiming   bool
	claimRound uint64 // the round a claim's acknowledgements stand for
	acked      []bool
	acks       int
	rounds     *election.Rounds

	// Elections counts the elections this incarnation started.
	Elections int
}

var _ election.Elector = (*Node)(nil)

// New builds a node.
func New(c ordo.Config) (ordo.Node, error) {
	cfg, err := election.ParseWatch("bully", c)
	if err != nil {
		return nil, err
	}
	return &Node{cfg: cfg, id: c.ID, n: c.N, epoch: election.NewEpoch(storeKey), acked: make([]bool, c.N+1),
		rounds: election.NewRounds(c.ID, c.N), prom: election.NewPromise(storePromise, timerBound, cfg.Timeout)}, nil
}

// View implements election.Elector.
func (b *Node) View() election.View {
	return election.View{Role: b.role, Leader: b.leader, Since: b.since, Term: b.token, Token: b.token}
}

// Start boots the node; a (re)started node holds an election at once, as
// Garcia-Molina's recovering process does — which is why an unstable
// high-ID node disturbs the cluster at every restart.
func (b *Node) Start(env ordo.Env) {
	b.epoch.Load(env)
	b.prom.Load(env)
	b.since = env.Now()
	env.Note(election.NoteFollower, "term", b.epoch.N, "leader", 0)
	if b.cfg.Quorum {
		b.prom.Bind(env, ordo.None) // keep any promise made before the crash
	}
	b.startElection(env)
}

func (b *Node) armSuspect(env ordo.Env) {
	b.suspGen++
	env.After(b.cfg.SuspectAfter(env.Rand(), b.id), ordo.Timer{Name: timerSuspect, Arg: b.suspGen})
}

func (b *Node) follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	b.epoch.See(env, epoch)
	changed := b.role != election.Follower || b.leader != leader || b.token != epoch
	b.role, b.leader, b.token = election.Follower, leader, epoch
	b.electing, b.claiming, b.deferred = false, false, false
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
	if b.cfg.Quorum && b.prom.Bound && b.prom.BoundTo != b.id {
		// Still promised to another leader: an election now could only
		// produce a claim this node itself must refuse. Hold it until the
		// promise expires.
		b.deferred = true
		return
	}
	b.deferred = false
	b.Elections++
	b.electing, b.gotOK = true, false
	b.gen++
	if b.role != election.Candidate {
		b.role = election.Candidate
		b.since = env.Now()
		env.Note(election.NoteCandidate, "term", b.epoch.N)
	}
	sent := 0
	for _, p := range env.Peers() {
		if p > b.id {
			env.Send(p, Election{Epoch: b.epoch.N})
			sent++
		}
	}
	if sent == 0 {
		b.claim(env)
		return
	}
	env.After(b.cfg.Answer, ordo.Timer{Name: timerAnswer, Arg: b.gen})
}

// claim makes this node coordinator with an epoch above every epoch it has
// seen: at once, or with quorum once a majority has acknowledged.
func (b *Node) claim(env ordo.Env) {
	b.electing = false
	b.gen++
	if b.cfg.Quorum && !b.prom.May(b.id, b.epoch.N+1) {
		// Bound to another leader since the election began.
		b.deferred = true
		b.stepDown(env)
		return
	}
	b.epoch.See(env, b.epoch.N+1) // durable before anyone hears of it
	m := Coordinator{Leader: b.id, Epoch: b.epoch.N}
	if !b.cfg.Quorum {
		// COORDINATOR to all (step 4); lead once answer_timeout passed
		// without a STALE: a node that knows a newer epoch (this one
		// may have been down while others elected) says so, and the claim
		// is repeated above it, so the token is new when leadership starts.
		b.claiming = true
		for _, p := range env.Peers() {
			env.Send(p, m)
		}
		env.After(b.cfg.Answer, ordo.Timer{Name: timerClaim, Arg: b.gen})
		return
	}
	b.prom.Keep(env, b.id, b.epoch.N) // its own acknowledgement
	b.claiming = true
	clear(b.acked)
	b.acks = 1
	b.claimRound = b.rounds.Next()
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
	// The claim must complete within the lease that its round starts.
	env.After(min(b.cfg.Coord, b.cfg.Lease()), ordo.Timer{Name: timerClaim, Arg: b.gen})
	b.checkClaim(env)
}

func (b *Node) checkClaim(env ordo.Env) {
	if b.claiming && b.acks >= election.Majority(b.n) {
		b.claiming = false
		b.rounds.Restart(b.claimRound)
		env.After(b.cfg.Lease(), ordo.Timer{Name: timerLease, Arg: int64(b.claimRound)})
		b.lead(env)
	}
}

func (b *Node) lead(env ordo.Env) {
	b.role, b.leader, b.token = election.Leader, b.id, b.epoch.N
	b.since = env.Now()
	env.Note(election.NoteLeader, "term", b.epoch.N, "token", b.epoch.N)
	b.beat(env)
	env.After(b.cfg.Heartbeat, ordo.Timer{Name: timerHeartbeat, Arg: int64(b.token)})
}

// reclaim answers a leader's (or claimant's) discovery that its epoch is
// not the newest: plain Bully claims again above every epoch seen (a new,
// larger fencing token); a quorum leader steps down, since a majority may
// have promised that epoch, and holds a new election.
func (b *Node) reclaim(env ordo.Env) {
	switch {
	case b.claiming:
		b.claim(env) // repeat the claim above the newer epoch
	case b.role != election.Leader:
	case b.cfg.Quorum:
		b.stepDown(env)
		b.startElection(env)
	default:
		b.role = election.Candidate
		b.since = env.Now()
		env.Note(election.NoteCandidate, "term", b.epoch.N)
		b.claim(env)
	}
}

func (b *Node) beat(env ordo.Env) {
	round := b.rounds.Next()
	if b.cfg.Quorum {
		env.After(b.cfg.Lease(), ordo.Timer{Name: timerLease, Arg: int64(round)})
	}
	m := Heartbeat{Leader: b.id, Epoch: b.token, Round: round}
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
}

func (b *Node) stepDown(env ordo.Env) {
	if b.role != election.Follower || b.leader != ordo.None {
		b.since = env.Now()
		env.Note(election.NoteFollower, "term", b.epoch.N, "leader", 0)
	}
	b.role, b.leader = election.Follower, ordo.None
	b.claiming, b.electing = false, false
	b.gen++
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
		if t.Arg != b.gen || !b.claiming {
			return
		}
		b.claiming = false
		if b.cfg.Quorum {
			b.stepDown(env) // no majority: not a leader
		} else {
			b.lead(env)
		}
	case timerHeartbeat:
		if b.role == election.Leader && uint64(t.Arg) == b.token {
			b.beat(env)
			env.After(b.cfg.Heartbeat, t)
		}
	case timerLease:
		// No round sent since this one has been acknowledged by a
		// majority: the followers' promises may be running out.
		if b.role == election.Leader && b.rounds.Newest() <= uint64(t.Arg) {
			b.stepDown(env)
		}
	case timerBound:
		if b.prom.Expired(t) {
			if b.deferred {
				b.startElection(env)
			}
		}
	}
}

// Receive handles messages.
func (b *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Election:
		b.epoch.See(env, m.Epoch)
		if from > b.id {
			return // only lower IDs ask higher ones
		}
		// Step 2: a higher node answers OK ...
		env.Send(from, OK{Epoch: b.epoch.N})
		if b.role == election.Leader {
			if m.Epoch > b.token {
				b.reclaim(env)
				if b.role == election.Leader {
					return // reclaim announced the new epoch to all
				}
			} else {
				env.Send(from, Coordinator{Leader: b.id, Epoch: b.token})
				return
			}
		}
		// ... and step 3: holds its own election.
		b.startElection(env)
	case OK:
		b.epoch.See(env, m.Epoch)
		if b.electing && !b.gotOK {
			b.gotOK = true
			b.gen++
			env.After(b.cfg.Coord, ordo.Timer{Name: timerCoordWait, Arg: b.gen})
		}
	case Coordinator:
		b.onCoordinator(env, from, m.Leader, m.Epoch)
	case CoordinatorAck:
		if b.claiming && m.Epoch == b.epoch.N && !b.acked[from] {
			b.acked[from] = true
			b.acks++
			b.checkClaim(env)
		}
	case Heartbeat:
		b.onHeartbeat(env, from, m)
	case HeartbeatAck:
		if b.role == election.Leader && m.Epoch == b.token {
			b.rounds.Ack(from, m.Round)
		}
	case Stale:
		mine := b.token
		if b.claiming {
			mine = b.epoch.N
		}
		b.epoch.See(env, m.Epoch)
		if (b.role == election.Leader || b.claiming) && m.Epoch >= mine {
			b.reclaim(env)
		}
	default:
		panic(fmt.Sprintf("bully: unexpected message %T", m))
	}
}

// conflicts reports whether leadership (l, e) is older than what this node
// knows: an epoch below the newest it has seen (with quorum: promised), or
// the same epoch held by another leader. known is the epoch to tell l.
func (b *Node) conflicts(l ordo.NodeID, e uint64) (stale bool, known uint64) {
	if b.cfg.Quorum {
		return e < b.prom.Epoch || (e == b.prom.Epoch && l != b.prom.To), b.prom.Epoch
	}
	return e < b.epoch.N || (e == b.token && b.leader != ordo.None && b.leader != l), b.epoch.N
}

func (b *Node) onCoordinator(env ordo.Env, from, leader ordo.NodeID, epoch uint64) {
	stale, known := b.conflicts(leader, epoch)
	b.epoch.See(env, epoch)
	if leader < b.id {
		// A lower node claims while this higher one lives: bully it.
		if b.role == election.Leader {
			if b.token < epoch {
				b.reclaim(env)
			} else {
				env.Send(from, Coordinator{Leader: b.id, Epoch: b.token})
			}
			if b.role == election.Leader {
				return
			}
		}
		b.startElection(env)
		return
	}
	if stale {
		env.Send(from, Stale{Epoch: known})
	}
	if !b.cfg.Quorum {
		b.follow(env, leader, epoch)
		return
	}
	if !b.prom.May(leader, epoch) {
		return // bound to another leader, or promised a newer epoch
	}
	b.prom.Keep(env, leader, epoch)
	b.follow(env, leader, epoch)
	env.Send(from, CoordinatorAck{Epoch: epoch})
}

func (b *Node) onHeartbeat(env ordo.Env, from ordo.NodeID, m Heartbeat) {
	stale, known := b.conflicts(from, m.Epoch)
	b.epoch.See(env, m.Epoch)
	switch {
	case b.role == election.Leader && from < b.id:
		// Two leaders meet after a partition heals: the higher bullies,
		// with a token above the other's.
		if m.Epoch > b.token {
			b.reclaim(env)
		} else {
			env.Send(from, Coordinator{Leader: b.id, Epoch: b.token})
		}
		return
	case b.cfg.Quorum:
		// An established leadership is judged by its epoch and this
		// node's promise, not by IDs: a majority already acknowledged it.
	case b.role == election.Leader && from > b.id:
		b.follow(env, from, m.Epoch) // a higher leader: yield
	case from == b.leader && m.Epoch >= b.token, b.leader == ordo.None, from > b.leader:
		b.follow(env, from, m.Epoch)
	default:
		return // a lower leader than ours: ignore
	}
	if stale {
		env.Send(from, Stale{Epoch: known})
	}
	if !b.cfg.Quorum || !b.prom.May(from, m.Epoch) {
		return
	}
	b.prom.Keep(env, from, m.Epoch)
	b.follow(env, from, m.Epoch)
	env.Send(from, HeartbeatAck{Epoch: m.Epoch, Round: m.Round})
}
