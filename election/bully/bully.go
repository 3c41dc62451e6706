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
	timerAnswer    = "answer"
	timerCoordWait = "coordinator-wait"
)

// Node is one Bully participant: the chapter's steps (ELECTION to higher
// IDs, OK, COORDINATOR) over the shared election.Leadership, which keeps
// the role, epoch, failure detector, heartbeats and quorum lease.
type Node struct {
	lead *election.Leadership

	electing bool
	gotOK    bool
	gen      int64 // generation of the answer/coordinator-wait/claim timers

	// Quorum mode: a claim counts COORDINATOR-ACKs (the claimant's own
	// included) until a majority; deferred holds an election back while
	// this node's promise binds it to another leader.
	deferred bool
	acked    []bool
	acks     int

	// Elections counts the elections this incarnation started.
	Elections int
}

var _ election.Elector = (*Node)(nil)

// New builds a node.
func New(c ordo.Config) (ordo.Node, error) {
	w, err := election.ParseWatch("bully", c)
	if err != nil {
		return nil, err
	}
	hb := func(leader ordo.NodeID, epoch, round uint64) ordo.Message {
		return Heartbeat{Leader: leader, Epoch: epoch, Round: round}
	}
	return &Node{lead: election.NewLeadership("bully", c, w, hb), acked: make([]bool, c.N+1)}, nil
}

// View implements election.Elector.
func (b *Node) View() election.View { return b.lead.View() }

// ElectionTimeout implements election.TimeoutReporter.
func (b *Node) ElectionTimeout() (lo, hi time.Duration) { return b.lead.ElectionTimeout() }

// Start boots the node; a (re)started node holds an election at once, as
// Garcia-Molina's recovering process does — which is why an unstable
// high-ID node disturbs the cluster at every restart.
func (b *Node) Start(env ordo.Env) {
	b.lead.Boot(env)
	b.startElection(env)
}

func (b *Node) follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	b.electing, b.deferred = false, false
	b.gen++
	b.lead.Follow(env, leader, epoch)
}

// startElection is step 1 of the chapter: ELECTION to every higher ID.
func (b *Node) startElection(env ordo.Env) {
	l := b.lead
	if b.electing || l.Claiming || l.Role == election.Leader {
		return
	}
	if l.Watch.Quorum && l.Promise.Bound && l.Promise.BoundTo != l.ID {
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
	l.Run(env, l.Epoch.N)
	sent := 0
	for _, p := range env.Peers() {
		if p > l.ID {
			env.Send(p, Election{Epoch: l.Epoch.N})
			sent++
		}
	}
	if sent == 0 {
		b.claim(env)
		return
	}
	env.After(l.Watch.Answer, ordo.Timer{Name: timerAnswer, Arg: b.gen})
}

// claim makes this node coordinator with an epoch above every epoch it has
// seen: at once, or with quorum once a majority has acknowledged.
func (b *Node) claim(env ordo.Env) {
	l := b.lead
	b.electing = false
	b.gen++
	if !election.CanIncrement(env, l.Epoch.N) {
		b.stepDown(env) // epoch+1 would pass ordo.MaxTerm: never wrap (noted)
		return
	}
	if l.Watch.Quorum && !l.Promise.May(l.ID, l.Epoch.N+1) {
		// Bound to another leader since the election began.
		b.deferred = true
		b.stepDown(env)
		return
	}
	l.Epoch.See(env, l.Epoch.N+1) // durable before anyone hears of it
	m := Coordinator{Leader: l.ID, Epoch: l.Epoch.N}
	if !l.Watch.Quorum {
		// COORDINATOR to all (step 4); lead once answer_timeout passed
		// without a STALE: a node that knows a newer epoch (this one
		// may have been down while others elected) says so, and the claim
		// is repeated above it, so the token is new when leadership starts.
		l.Claiming = true
		for _, p := range env.Peers() {
			env.Send(p, m)
		}
		env.After(l.Watch.Answer, ordo.Timer{Name: election.TimerClaim, Arg: b.gen})
		return
	}
	l.Promise.Keep(env, l.ID, l.Epoch.N) // its own acknowledgement
	clear(b.acked)
	b.acks = 1
	l.Claim(env, b.gen, func(uint64) ordo.Message { return m })
	b.checkClaim(env)
}

func (b *Node) checkClaim(env ordo.Env) {
	l := b.lead
	if l.Claiming && b.acks >= election.Majority(l.N) {
		l.Rounds.Restart(l.ClaimRound)
		l.Win(env, l.Epoch.N)
	}
}

// reclaim answers a leader's (or claimant's) discovery that its epoch is
// not the newest: plain Bully claims again above every epoch seen (a new,
// larger fencing token); a quorum leader steps down, since a majority may
// have promised that epoch, and holds a new election.
func (b *Node) reclaim(env ordo.Env) {
	l := b.lead
	switch {
	case l.Claiming:
		b.claim(env) // repeat the claim above the newer epoch
	case l.Role != election.Leader:
	case l.Watch.Quorum:
		b.stepDown(env)
		b.startElection(env)
	default:
		l.Run(env, l.Epoch.N)
		b.claim(env)
	}
}

func (b *Node) stepDown(env ordo.Env) {
	b.electing = false
	b.gen++
	b.lead.StepDown(env)
}

// Fire handles timers.
func (b *Node) Fire(env ordo.Env, t ordo.Timer) {
	l := b.lead
	switch t.Name {
	case election.TimerSuspect:
		// Step 1 of the chapter: the failure detector fires.
		if l.Suspects(t) && l.Role != election.Leader {
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
	case election.TimerClaim:
		if t.Arg != b.gen || !l.Claiming {
			return
		}
		l.Claiming = false
		if l.Watch.Quorum {
			b.stepDown(env) // no majority: not a leader
		} else {
			l.Lead(env, l.Epoch.N)
		}
	case election.TimerHeartbeat:
		l.Beating(env, t)
	case election.TimerLease:
		if l.LeaseLost(t) {
			b.stepDown(env)
		}
	case election.TimerBound:
		if l.Promise.Expired(t) {
			if b.deferred {
				b.startElection(env)
			}
		}
	}
}

// Receive handles messages.
func (b *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	l := b.lead
	switch m := m.(type) {
	case Election:
		l.Epoch.See(env, m.Epoch)
		if from > l.ID {
			return // only lower IDs ask higher ones
		}
		// Step 2: a higher node answers OK ...
		env.Send(from, OK{Epoch: l.Epoch.N})
		if l.Role == election.Leader {
			if m.Epoch > l.Token {
				b.reclaim(env)
				if l.Role == election.Leader {
					return // reclaim announced the new epoch to all
				}
			} else {
				env.Send(from, Coordinator{Leader: l.ID, Epoch: l.Token})
				return
			}
		}
		// ... and step 3: holds its own election.
		b.startElection(env)
	case OK:
		l.Epoch.See(env, m.Epoch)
		if b.electing && !b.gotOK {
			b.gotOK = true
			b.gen++
			env.After(l.Watch.Coord, ordo.Timer{Name: timerCoordWait, Arg: b.gen})
		}
	case Coordinator:
		b.onCoordinator(env, from, m.Leader, m.Epoch)
	case CoordinatorAck:
		if l.Claiming && m.Epoch == l.Epoch.N && !b.acked[from] {
			b.acked[from] = true
			b.acks++
			b.checkClaim(env)
		}
	case Heartbeat:
		b.onHeartbeat(env, from, m)
	case HeartbeatAck:
		if l.Role == election.Leader && m.Epoch == l.Token {
			l.Rounds.Ack(from, m.Round)
		}
	case Stale:
		mine := l.Token
		if l.Claiming {
			mine = l.Epoch.N
		}
		l.Epoch.See(env, m.Epoch)
		if (l.Role == election.Leader || l.Claiming) && m.Epoch >= mine {
			b.reclaim(env)
		}
	default:
		panic(fmt.Sprintf("bully: unexpected message %T", m))
	}
}

// onCoordinator is step 4 seen from a receiver: a lower claimant is
// bullied, a higher one followed (with quorum: acknowledged if the
// promise allows).
func (b *Node) onCoordinator(env ordo.Env, from, leader ordo.NodeID, epoch uint64) {
	l := b.lead
	stale, known := l.Conflicts(leader, epoch)
	l.Epoch.See(env, epoch)
	if leader < l.ID {
		// A lower node claims while this higher one lives: bully it.
		if l.Role == election.Leader {
			if l.Token < epoch {
				b.reclaim(env)
			} else {
				env.Send(from, Coordinator{Leader: l.ID, Epoch: l.Token})
			}
			if l.Role == election.Leader {
				return
			}
		}
		b.startElection(env)
		return
	}
	if stale {
		env.Send(from, Stale{Epoch: known})
	}
	if !l.Watch.Quorum {
		b.follow(env, leader, epoch)
		return
	}
	if !l.Promise.May(leader, epoch) {
		return // bound to another leader, or promised a newer epoch
	}
	l.Promise.Keep(env, leader, epoch)
	b.follow(env, leader, epoch)
	env.Send(from, CoordinatorAck{Epoch: epoch})
}

func (b *Node) onHeartbeat(env ordo.Env, from ordo.NodeID, m Heartbeat) {
	l := b.lead
	stale, known := l.Conflicts(from, m.Epoch)
	l.Epoch.See(env, m.Epoch)
	switch {
	case l.Role == election.Leader && from < l.ID:
		// Two leaders meet after a partition heals: the higher bullies,
		// with a token above the other's.
		if m.Epoch > l.Token {
			b.reclaim(env)
		} else {
			env.Send(from, Coordinator{Leader: l.ID, Epoch: l.Token})
		}
		return
	case l.Watch.Quorum:
		// An established leadership is judged by its epoch and this
		// node's promise, not by IDs: a majority already acknowledged it.
	case l.Role == election.Leader && from > l.ID:
		b.follow(env, from, m.Epoch) // a higher leader: yield
	case from == l.Leader && m.Epoch >= l.Token, l.Leader == ordo.None, from > l.Leader:
		b.follow(env, from, m.Epoch)
	default:
		return // a lower leader than ours: ignore
	}
	if stale {
		env.Send(from, Stale{Epoch: known})
	}
	if !l.Watch.Quorum || !l.Promise.May(from, m.Epoch) {
		return
	}
	l.Promise.Keep(env, from, m.Epoch)
	b.follow(env, from, m.Epoch)
	env.Send(from, HeartbeatAck{Epoch: m.Epoch, Round: m.Round})
}
