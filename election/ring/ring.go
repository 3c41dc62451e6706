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
	timerHop   = "hop"
	timerAlive = "alive" // a dead-successor hint expires
	timerPart  = "part"  // participation in a higher election expires
)

type pendingHop struct {
	hop uint64
	to  ordo.NodeID
	msg ordo.Message
}

// Node is one Ring participant: the chapter's steps (the ELECTION token
// collecting IDs around the ring, then COORDINATOR) over the shared
// election.Leadership, which keeps the role, epoch, failure detector,
// heartbeats and quorum lease.
type Node struct {
	lead  *election.Leadership
	chang bool // variant=chang-roberts

	participating ordo.NodeID // highest initiator (or candidate) passed on recently
	partGen       int64
	mine          uint64 // nonce of this node's running election (0: none)
	tookOver      uint64 // nonce of the last election this node completed for a lost initiator
	hop           uint64
	pending       []pendingHop // hops awaiting an Ack; bounded by maxPending
	dead          []int64      // successors that failed to acknowledge: hint generation (0: alive)
	deadGen       int64

	// Quorum mode: the winner's claim is its first heartbeat round, which
	// a majority must acknowledge (election.Leadership.Claim).
	deferred uint64 // epoch of a claim waiting for the binding to expire
	claimGen int64

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
	w, err := election.ParseWatch("ring", c)
	if err != nil {
		return nil, err
	}
	hb := func(leader ordo.NodeID, epoch, round uint64) ordo.Message {
		return Heartbeat{Leader: leader, Epoch: epoch, Round: round}
	}
	return &Node{lead: election.NewLeadership("ring", c, w, hb), chang: chang, dead: make([]int64, c.N+1)}, nil
}

// maxPending bounds the unacknowledged hops a node keeps.
func (r *Node) maxPending() int { return 4 * r.lead.N }

// View implements election.Elector.
func (r *Node) View() election.View { return r.lead.View() }

// ElectionTimeout implements election.TimeoutReporter.
func (r *Node) ElectionTimeout() (lo, hi time.Duration) { return r.lead.ElectionTimeout() }

// Start boots the node as a follower that knows no leader; its failure
// detector starts an election if no heartbeat arrives.
func (r *Node) Start(env ordo.Env) {
	r.lead.Boot(env)
	r.lead.ArmSuspect(env)
}

// succ is the next node after id on the ring 1 → 2 → … → N → 1.
func (r *Node) succ(id ordo.NodeID) ordo.NodeID { return id%ordo.NodeID(r.lead.N) + 1 }

// markDead remembers, for one timeout, that id did not acknowledge a hop.
func (r *Node) markDead(env ordo.Env, id ordo.NodeID) {
	r.deadGen++
	r.dead[id] = r.deadGen
	env.After(r.lead.Watch.Timeout, ordo.Timer{Name: timerAlive, Arg: int64(id)<<32 | r.deadGen&(1<<32-1)})
}

// forward sends m to the first successor after `after` not known dead,
// and waits for its Ack. It reports false when no other node is left.
func (r *Node) forward(env ordo.Env, m ordo.Message, after ordo.NodeID) bool {
	self := r.lead.ID
	to := r.succ(after)
	for to != self && r.dead[to] != 0 {
		to = r.succ(to)
	}
	if to == self {
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
	env.After(r.lead.Watch.Answer, ordo.Timer{Name: timerHop, Arg: int64(r.hop)})
	return true
}

// participate records that an election of initiator (or candidate) id
// passed through; it suppresses lower ones only for one ring traversal's
// worth of time, so an election lost with a crashed node cannot block
// every later one.
func (r *Node) participate(env ordo.Env, id ordo.NodeID) {
	r.participating = id
	r.partGen++
	w := r.lead.Watch
	env.After(w.Timeout+time.Duration(r.lead.N)*w.Answer, ordo.Timer{Name: timerPart, Arg: r.partGen})
}

// startElection is step 1 of the chapter: "[initiator_id]".
func (r *Node) startElection(env ordo.Env) {
	l := r.lead
	if !election.CanIncrement(env, l.Epoch.N) {
		return // the winner's epoch+1 would pass ordo.MaxTerm (noted)
	}
	r.Elections++
	r.participate(env, l.ID)
	r.mine = env.Rand().Uint64() | 1
	l.Run(env, l.Epoch.N)
	m := Election{ID: r.mine, Initiator: l.ID, IDs: []ordo.NodeID{l.ID}, Candidate: l.ID, MaxEpoch: l.Epoch.N}
	if !r.forward(env, m, l.ID) {
		r.elected(env, l.ID, l.Epoch.N+1) // alone on the ring
	}
	l.ArmSuspect(env) // try again if this election is lost
}

// elected starts the COORDINATOR round for winner (step 4).
func (r *Node) elected(env ordo.Env, winner ordo.NodeID, epoch uint64) {
	r.mine = 0
	m := Coordinator{Origin: r.lead.ID, Leader: winner, Epoch: epoch}
	m = r.apply(env, m)
	r.forward(env, m, r.lead.ID)
}

// apply adopts the COORDINATOR's winner; the winner may raise the epoch
// above every epoch it has seen, and the round carries that on.
func (r *Node) apply(env ordo.Env, m Coordinator) Coordinator {
	l := r.lead
	r.participating = ordo.None
	if m.Leader == l.ID {
		e := m.Epoch
		if l.Epoch.N >= e {
			e = l.Epoch.N + 1 // a newer epoch exists: the token must exceed it
		}
		l.Epoch.See(env, e)
		m.Epoch = e
		if l.Role == election.Leader && l.Token == e {
			return m
		}
		r.claim(env, e)
		return m
	}
	l.Epoch.See(env, m.Epoch)
	if l.Watch.Quorum && !l.Promise.May(m.Leader, m.Epoch) {
		return m // bound to another leader: the winner's claim round decides
	}
	if l.Role == election.Leader {
		if m.Epoch < l.Token || (m.Epoch == l.Token && m.Leader < l.ID) {
			return m
		}
	}
	r.follow(env, m.Leader, m.Epoch)
	return m
}

func (r *Node) follow(env ordo.Env, leader ordo.NodeID, epoch uint64) {
	r.deferred = 0
	r.mine = 0
	r.lead.Follow(env, leader, epoch)
}

// claim makes this node leader with token epoch: at once, or with quorum
// once a majority acknowledged its first heartbeat round (acknowledgements
// of the COORDINATOR, sent before the claim, could not start a lease).
func (r *Node) claim(env ordo.Env, epoch uint64) {
	l := r.lead
	l.Epoch.See(env, epoch)
	r.deferred = 0
	r.mine = 0
	if !l.Watch.Quorum {
		l.Lead(env, epoch)
		return
	}
	if !l.Promise.May(l.ID, epoch) {
		if l.Promise.Bound && l.Promise.BoundTo != l.ID && epoch > l.Promise.Epoch {
			r.deferred = epoch // bound to another leader: claim when it expires
		}
		return
	}
	l.Promise.Keep(env, l.ID, epoch)
	l.Token = epoch
	if l.Role != election.Candidate {
		l.Leader = ordo.None
	}
	l.Run(env, epoch)
	r.claimGen++
	l.Rounds.Restart(0)
	l.Claim(env, r.claimGen, func(round uint64) ordo.Message {
		return Heartbeat{Leader: l.ID, Epoch: epoch, Round: round}
	})
	r.checkClaim(env)
}

func (r *Node) checkClaim(env ordo.Env) {
	l := r.lead
	if l.Claiming && l.Rounds.Newest() >= l.ClaimRound {
		l.Win(env, l.Token)
	}
}

// reclaim answers a leader's discovery that its epoch is not the newest:
// plain Ring leads on with a token above every epoch seen; a quorum
// leader steps down (a majority may have promised the newer epoch) and
// its failure detector starts the next election.
func (r *Node) reclaim(env ordo.Env) {
	l := r.lead
	switch {
	case l.Claiming:
		l.Claiming = false
		r.claim(env, l.Epoch.N+1)
	case l.Role != election.Leader:
	case l.Watch.Quorum:
		l.StepDown(env)
	default:
		l.Run(env, l.Epoch.N)
		r.claim(env, l.Epoch.N+1)
	}
}

// Fire handles timers.
func (r *Node) Fire(env ordo.Env, t ordo.Timer) {
	l := r.lead
	switch t.Name {
	case election.TimerSuspect:
		if l.Suspects(t) && l.Role != election.Leader && !l.Claiming {
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
			r.Receive(env, l.ID, p.msg)
		}
	case timerAlive:
		id, gen := ordo.NodeID(t.Arg>>32), t.Arg&(1<<32-1)
		if id >= 1 && int(id) <= l.N && r.dead[id]&(1<<32-1) == gen {
			r.dead[id] = 0
		}
	case timerPart:
		if t.Arg == r.partGen {
			r.participating = ordo.None
		}
	case election.TimerClaim:
		if t.Arg == r.claimGen && l.Claiming {
			l.StepDown(env) // no majority: not a leader
		}
	case election.TimerHeartbeat:
		l.Beating(env, t)
	case election.TimerLease:
		if l.LeaseLost(t) {
			l.StepDown(env)
		}
	case election.TimerBound:
		if l.Promise.Expired(t) {
			if e := r.deferred; e != 0 && l.Role != election.Leader && !l.Claiming {
				r.claim(env, max(e, l.Epoch.N+1))
			}
		}
	}
}

// Receive handles messages.
func (r *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	l := r.lead
	if from != l.ID {
		r.dead[from] = 0 // it is alive after all
	}
	switch m := m.(type) {
	case Election:
		if from != l.ID {
			env.Send(from, Ack{Hop: m.Hop})
		}
		l.Epoch.See(env, m.MaxEpoch)
		r.onElection(env, m)
	case Coordinator:
		if from != l.ID {
			env.Send(from, Ack{Hop: m.Hop})
		}
		if m.Origin == l.ID {
			return // it has been all the way round
		}
		m = r.apply(env, m)
		r.forward(env, m, l.ID)
	case Ack:
		if i := slices.IndexFunc(r.pending, func(p pendingHop) bool { return p.hop == m.Hop }); i >= 0 {
			r.pending = slices.Delete(r.pending, i, i+1)
		}
	case Heartbeat:
		r.onHeartbeat(env, from, m)
	case HeartbeatAck:
		if (l.Role == election.Leader || l.Claiming) && m.Epoch == l.Token {
			l.Rounds.Ack(from, m.Round)
			r.checkClaim(env)
		}
	case Stale:
		mine := l.Token
		l.Epoch.See(env, m.Epoch)
		if (l.Role == election.Leader || l.Claiming) && m.Epoch >= mine {
			r.reclaim(env)
		}
	default:
		panic(fmt.Sprintf("ring: unexpected message %T", m))
	}
}

// onElection is steps 2 and 3 of the chapter: append this node's ID and
// pass the message on; back at its initiator, the highest ID wins.
func (r *Node) onElection(env ordo.Env, m Election) {
	l := r.lead
	if m.Travelled > 2*l.N {
		return // went round twice without an end: its election is lost
	}
	m.Travelled++
	if r.chang {
		switch {
		case m.Candidate == l.ID:
			r.elected(env, l.ID, max(m.MaxEpoch, l.Epoch.N)+1)
		case m.Candidate > l.ID:
			r.participate(env, max(r.participating, m.Candidate))
			m.MaxEpoch = max(m.MaxEpoch, l.Epoch.N)
			r.forward(env, m, l.ID)
		case r.participating == ordo.None:
			r.participate(env, l.ID)
			m.Candidate = l.ID
			m.MaxEpoch = max(m.MaxEpoch, l.Epoch.N)
			r.forward(env, m, l.ID)
		}
		return
	}
	if len(m.IDs) > l.N {
		panic(fmt.Sprintf("ring: election list of %d IDs in a ring of %d", len(m.IDs), l.N))
	}
	switch {
	case m.Initiator == l.ID:
		// Step 3 of the chapter: back at the initiator, the highest wins.
		if m.ID != r.mine {
			return // an older election of this node (or of an earlier incarnation)
		}
		r.complete(env, m, m.IDs)
		return
	case slices.Contains(m.IDs, l.ID):
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
	m.IDs = append(slices.Clip(m.IDs), l.ID)
	m.MaxEpoch = max(m.MaxEpoch, l.Epoch.N)
	if !r.forward(env, m, l.ID) {
		r.participating = ordo.None
		r.complete(env, m, m.IDs[1:]) // nobody else answers
	}
}

// complete announces the highest of ids as the winner.
func (r *Node) complete(env ordo.Env, m Election, ids []ordo.NodeID) {
	l := r.lead
	r.participating = ordo.None
	if l.Watch.Quorum && len(m.IDs) < election.Majority(l.N) {
		r.mine = 0
		return // a minority ring: no leader
	}
	if len(ids) == 0 {
		ids = m.IDs
	}
	r.elected(env, slices.Max(ids), max(m.MaxEpoch, l.Epoch.N)+1)
}

func (r *Node) onHeartbeat(env ordo.Env, from ordo.NodeID, m Heartbeat) {
	l := r.lead
	stale, known := l.Conflicts(from, m.Epoch)
	l.Epoch.See(env, m.Epoch)
	if stale {
		env.Send(from, Stale{Epoch: known})
		return
	}
	if l.Watch.Quorum {
		if !l.Promise.May(from, m.Epoch) {
			return // bound to another leader
		}
		if l.Role == election.Leader || l.Claiming {
			if from == l.ID {
				return
			}
			// Another leadership with a newer epoch (ours would conflict).
		}
		l.Promise.Keep(env, from, m.Epoch)
		r.follow(env, from, m.Epoch)
		env.Send(from, HeartbeatAck{Epoch: m.Epoch, Round: m.Round})
		return
	}
	// Plain: the newest leadership wins — higher epoch, then higher ID.
	newer := m.Epoch > l.Token || (m.Epoch == l.Token && from > l.Leader)
	switch {
	case l.Role == election.Leader && !newer:
		return // ours is newer: the other leader yields when it hears ours
	case from == l.Leader && m.Epoch >= l.Token, l.Leader == ordo.None, newer:
		r.follow(env, from, m.Epoch)
	}
}
