package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"ordo"
	"ordo/trace"
)

// nodeState is the simulator's side of one node, and the node's Env.
type nodeState struct {
	sim    *Sim
	id     ordo.NodeID
	node   ordo.Node
	peers  []ordo.NodeID
	store  *ordo.MemStorage
	rng    *rand.Rand
	stamp  trace.Stamper
	clk    nodeClock
	up     bool
	absent bool // has not joined, or has left for good
	paused bool
	inc    uint32 // incarnation: bumped at every boot; old timers die
	// speed is the time one event occupies the node; busy is when it is
	// free again. Events arriving earlier wait in deferred.
	speed    time.Duration
	busy     time.Duration
	deferred []item
	drainAt  time.Duration // a drain is scheduled at this time (0: none)
}

var _ ordo.Env = (*nodeState)(nil)

func (n *nodeState) ID() ordo.NodeID                     { return n.id }
func (n *nodeState) Peers() []ordo.NodeID                { return n.peers }
func (n *nodeState) Now() time.Time                      { return epoch.Add(n.clk.local(n.sim.now)) }
func (n *nodeState) Rand() *rand.Rand                    { return n.rng }
func (n *nodeState) Store() ordo.Storage                 { return n.store }
func (n *nodeState) Send(to ordo.NodeID, m ordo.Message) { n.sim.send(n, to, m) }

func (n *nodeState) After(d time.Duration, t ordo.Timer) {
	if d < 0 {
		panic(fmt.Sprintf("sim: %v arms timer %v with negative duration %v", n.id, t, d))
	}
	n.sim.push(item{at: n.sim.now + n.clk.trueDuration(d), kind: itemTimer, to: n.id, timer: t, inc: n.inc})
}

func (n *nodeState) Note(kind string, attrs ...any) {
	e := n.sim.emit(n, trace.Event{Kind: trace.Note, Name: kind}, false)
	if e != nil {
		e.Attrs = trace.MakeAttrs(attrs)
	}
}

// epoch is what a simulated clock reads at true time 0 with no offset.
// A fixed date keeps runs reproducible.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Epoch returns the wall time that simulated time 0 stands for.
func Epoch() time.Time { return epoch }

// occupy marks the node busy for one event's processing time.
func (n *nodeState) occupy() {
	if n.speed > 0 {
		n.busy = n.sim.now + n.speed
		n.scheduleDrain(n.busy)
	}
}

// defer_ holds an event for a paused or busy node, in arrival order.
func (n *nodeState) defer_(it item) {
	n.deferred = append(n.deferred, it)
	if !n.paused && n.busy > n.sim.now {
		n.scheduleDrain(n.busy)
	}
}

func (n *nodeState) scheduleDrain(at time.Duration) {
	if n.drainAt == at {
		return
	}
	n.drainAt = at
	inc := n.inc
	n.sim.push(item{at: at, kind: itemAction, action: func(s *Sim) {
		if n.inc != inc || n.drainAt != at {
			return
		}
		n.drainAt = 0
		n.drain()
	}})
}

// drain re-queues held events at the current time, keeping their order.
func (n *nodeState) drain() {
	if n.paused || len(n.deferred) == 0 {
		return
	}
	held := n.deferred
	n.deferred = nil
	for _, it := range held {
		it.at = n.sim.now
		n.sim.push(it)
	}
}
