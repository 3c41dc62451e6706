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
	ntp    bool   // an NTP sync chain is scheduled for this node
	inc    uint32 // incarnation: bumped at every boot and crash; old timers die
	// speed is the time one event occupies the node; busy is when it is
	// free again. Events that arrive while the node is paused or busy wait
	// in inbox (from head on), in arrival order, like packets in a socket
	// buffer and expired timers in a run queue.
	speed    time.Duration
	busy     time.Duration
	inbox    []item
	head     int
	draining bool // an itemDrain is scheduled for this incarnation
	// disk is the node's disk when the disk model is on (disk.go);
	// stopWhy names a fail-stop while its crash is recorded.
	disk    *nodeDisk
	stopWhy string
	// adv is the node's adversary when it is Byzantine (adversary.go).
	adv *byzNode
}

// MaxInbox bounds the events a paused or busy node holds. A message that
// arrives at a full inbox is dropped ("receive buffer full"), as a kernel
// drops packets at a full socket buffer.
const MaxInbox = 1 << 20

var _ ordo.Env = (*nodeState)(nil)

func (n *nodeState) ID() ordo.NodeID          { return n.id }
func (n *nodeState) Peers() []ordo.NodeID     { return n.peers }
func (n *nodeState) Now() time.Time           { return epoch.Add(n.clk.local(n.sim.now)) }
func (n *nodeState) Monotonic() time.Duration { return n.clk.monotonic(n.sim.now) }
func (n *nodeState) Roster() *ordo.Roster     { return n.sim.roster }
func (n *nodeState) Rand() *rand.Rand         { return n.rng }
func (n *nodeState) Store() ordo.Storage {
	if n.disk != nil {
		return n.disk
	}
	return n.store
}
func (n *nodeState) Send(to ordo.NodeID, m ordo.Message) { n.sim.send(n, to, m) }

// SendEarly implements ordo.EarlySender: m leaves now, not after the
// event's fsync.
func (n *nodeState) SendEarly(to ordo.NodeID, m ordo.Message) { n.sim.sendEarly(n, to, m) }

// AfterSync implements ordo.SyncNotifier: t fires once the event's writes
// (and every earlier one) are on disk, at once without a disk model.
func (n *nodeState) AfterSync(t ordo.Timer) {
	if n.disk == nil {
		n.After(0, t)
		return
	}
	n.disk.held = append(n.disk.held, heldSend{timer: &t})
}

func (n *nodeState) After(d time.Duration, t ordo.Timer) {
	if d < 0 {
		panic(fmt.Sprintf("sim: %v arms timer %v with negative duration %v", n.id, t, d))
	}
	it := item{at: n.sim.now + n.clk.trueDuration(d), kind: itemTimer, to: n.id, timer: t, inc: n.inc}
	n.sim.q.push(&it)
}

func (n *nodeState) Note(kind string, attrs ...any) {
	s := n.sim
	s.tick(n)
	if s.tr != nil && !s.skip(trace.Note) {
		s.record(n, trace.Event{Kind: trace.Note, Name: kind, Attrs: trace.MakeAttrs(attrs)})
	}
}

// epoch is what a simulated clock reads at true time 0 with no offset.
// A fixed date keeps runs reproducible.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Epoch returns the wall time that simulated time 0 stands for.
func Epoch() time.Time { return epoch }

// holding reports whether an event arriving now must wait: the node is
// paused, still busy with an earlier event, or has older events waiting
// (which keep their place in line).
func (n *nodeState) holding() bool {
	return n.paused || n.busy > n.sim.now || n.head < len(n.inbox)
}

// hold appends an arriving event to the inbox and makes sure someone will
// drain it: a drain at the end of the busy period (a paused node is drained
// by Resume).
func (n *nodeState) hold(it *item) {
	if it.kind == itemDeliver && len(n.inbox)-n.head >= MaxInbox {
		if it.hint() {
			return // a hint is no message: nothing to drop
		}
		n.sim.dropInFlight(it, "receive buffer full")
		return
	}
	if n.head > 0 && n.head == len(n.inbox) {
		n.inbox, n.head = n.inbox[:0], 0
	}
	n.inbox = append(n.inbox, *it)
	n.scheduleDrain()
}

func (n *nodeState) scheduleDrain() {
	if n.paused || n.draining {
		return
	}
	n.draining = true
	it := item{at: max(n.busy, n.sim.now), kind: itemDrain, to: n.id, inc: n.inc}
	n.sim.q.push(&it)
}

// occupy marks the node busy for one event's processing time.
func (n *nodeState) occupy() {
	if n.speed > 0 {
		n.busy = n.sim.now + n.speed
	}
}

// drain handles held events in arrival order until the inbox is empty or
// the node is busy or paused again.
func (n *nodeState) drain() {
	s := n.sim
	for n.up && !n.paused && n.busy <= s.now && n.head < len(n.inbox) {
		it := n.inbox[n.head]
		n.inbox[n.head] = item{}
		n.head++
		switch it.kind {
		case itemDeliver:
			s.deliver(n, &it)
		case itemTimer:
			s.fire(n, &it)
		default:
			panic(fmt.Sprintf("sim: item kind %d in an inbox", it.kind))
		}
	}
	if n.head == len(n.inbox) {
		n.inbox, n.head = n.inbox[:0], 0
		return
	}
	if n.up {
		n.scheduleDrain()
	}
}

// clearInbox forgets held events at a crash: held messages are lost (they
// were in the dead process's buffers), held timers die with it.
func (n *nodeState) clearInbox() {
	for i := n.head; i < len(n.inbox); i++ {
		if it := &n.inbox[i]; it.kind == itemDeliver && !it.hint() {
			n.sim.dropInFlight(it, trace.NameCrashed)
		}
		n.inbox[i] = item{}
	}
	n.inbox, n.head = n.inbox[:0], 0
	n.draining = false
	n.busy = 0
}
