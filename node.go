package ordo

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// NodeID names a node. IDs are small integers 1..N, as in the chapter's
// "Node 1 .. Node 5"; 0 is never a valid node and is used for "nobody".
type NodeID int

// None is the zero NodeID: no node.
const None NodeID = 0

func (id NodeID) String() string { return fmt.Sprintf("n%d", int(id)) }

// Message is anything one node sends another. Kind names the message type
// ("ELECTION", "OK", "heartbeat"); it labels traces, counts and codecs.
//
// A message is a value owned by the runtime once sent: the sender must not
// change it afterwards (the simulator may deliver the same value twice when
// it duplicates a message).
type Message interface {
	Kind() string
}

// Sizer is implemented by messages that know their encoded size in bytes.
// Registration refuses one whose Size disagrees with the codec's encoding
// (NewCodec), and the runtimes take sizes from the codec, so a message
// rarely needs it: SizeOf serves protocols without Messages (tests), where
// a message without it counts as DefaultMessageSize bytes.
type Sizer interface {
	Size() int
}

// DefaultMessageSize is the size assumed for a message that is not a Sizer:
// roughly a small header plus a few integer fields.
const DefaultMessageSize = 64

// MaxMessageSize bounds every message on every runtime (TIGER_STYLE: a bound
// on everything). The live transport refuses larger frames.
const MaxMessageSize = 1 << 20

// SizeOf returns the size used to account for m.
func SizeOf(m Message) int {
	if s, ok := m.(Sizer); ok {
		return s.Size()
	}
	return DefaultMessageSize
}

// Timer is what a node asks to be woken with. It is a plain value so that
// arming a timer allocates nothing; Arg is the protocol's own (a term, a peer,
// a generation number for ignoring stale timers).
type Timer struct {
	Name string
	Arg  int64
}

func (t Timer) String() string {
	if t.Arg == 0 {
		return t.Name
	}
	return fmt.Sprintf("%s(%d)", t.Name, t.Arg)
}

// Node is a protocol participant written as a deterministic state machine: it
// reacts to one event at a time and performs no I/O of its own. Everything it
// does goes through the Env it is handed. It must not start goroutines, take
// locks, read the wall clock or use a global random source.
type Node interface {
	// Start is called when the node boots and again after every restart. A
	// restarted node is a fresh value: only Env.Store() survives a crash.
	Start(env Env)
	// Receive handles one message from another node.
	Receive(env Env, from NodeID, m Message)
	// Fire handles one timer set earlier with Env.After.
	Fire(env Env, t Timer)
}

// Env is the node's whole world. The simulator and the live runtime each
// provide one.
type Env interface {
	ID() NodeID
	// Peers returns every server of the cluster but this node, in ascending
	// order (for a client: every server). Quorums are counted over servers
	// only. The slice is shared and must not be modified.
	Peers() []NodeID
	// Roster is who is in the cluster now, by role. It changes only by a
	// membership change; the value is shared and must not be modified.
	Roster() *Roster
	// Now reads this node's local clock: skewed, drifting and jumping in the
	// simulator, the wall clock in the live runtime. Use it for timestamps
	// (last-write-wins, logs), never to measure an interval.
	Now() time.Time
	// Monotonic reads this node's monotonic clock: time since an arbitrary
	// origin that never steps backwards or jumps, but runs at the node's
	// drift rate (the OS monotonic clock live, scaled by a configured drift).
	// Failure detectors, leases and timeouts measure intervals with it; an
	// NTP step of Now does not move it. Timers (After) run on it.
	Monotonic() time.Duration
	// Send hands m to the network; it may be lost, delayed, duplicated or
	// reordered. Sending to oneself or to an unknown node is a bug.
	Send(to NodeID, m Message)
	// After arms a one-shot timer that fires after d of this node's local
	// (monotonic) time. Timers cannot be cancelled: use Timer.Arg as a
	// generation number and ignore stale ones.
	After(d time.Duration, t Timer)
	// Rand is this node's random source, seeded by the runtime.
	Rand() *rand.Rand
	// Store is durable: it survives crash and restart.
	Store() Storage
	// Note records a local event in the trace, e.g. Note("leader", "term", 3).
	// attrs are key, value pairs.
	Note(kind string, attrs ...any)
}

// PeerDown is not sent by any node: the runtime delivers it (via Receive,
// from = the peer) when the peer's process is gone — its connection closed
// and a reconnect was refused, so its host is up but nothing listens. It is
// evidence, not proof of anything but that: the peer may restart at once,
// and a partitioned, paused or powered-off peer produces none (only
// timeouts find those). The runtimes deliver it only to nodes that ask for
// it (PeerDownListener), so a protocol written without it never receives a
// message kind it does not know.
type PeerDown struct{}

// Kind implements Message.
func (PeerDown) Kind() string { return PeerDownKind }

// PeerDownKind is PeerDown's Kind, which labels its receive events in
// traces (they carry message id 0: no send precedes them).
const PeerDownKind = "peer-down"

// PeerDownListener is implemented by nodes that want PeerDown hints. The
// runtimes ask at the moment of delivery; false (an option turned off)
// means the node neither receives the hint nor has it in its trace.
type PeerDownListener interface {
	WantsPeerDown() bool
}

// WantsPeerDown reports whether n asked for PeerDown hints.
func WantsPeerDown(n Node) bool {
	l, ok := n.(PeerDownListener)
	return ok && l.WantsPeerDown()
}

// Flusher is implemented by nodes that batch work across the events of one
// turn (Raft batches the proposals of a turn into one AppendEntries per
// follower, as etcd-io/raft batches between two Ready calls). The runtime
// calls Flush after the events of a turn and before the turn's writes are
// committed: in the simulator after every event (a turn is one event), in
// the live runtime once per turn of its event loop (up to live.MaxTurn
// events sharing one fsync). Flush may send, write and arm timers like any
// event; its writes join the turn's commit and its sends wait for it.
type Flusher interface {
	Flush(env Env)
}

// Flush calls n.Flush(env) if n is a Flusher.
func Flush(n Node, env Env) {
	if f, ok := n.(Flusher); ok {
		f.Flush(env)
	}
}

// EarlySender is implemented by an Env whose runtime can let a message
// leave before the writes of the turn that sends it are durable. The
// sender promises that the message states nothing those writes must back:
// Raft's leader replicates entries while its own fsync of them is in
// flight (Raft thesis 10.2.1), and counts itself toward their commit only
// once AfterSync tells it they are durable. Every other message keeps the
// durability contract (Send).
type EarlySender interface {
	SendEarly(to NodeID, m Message)
}

// SyncNotifier is implemented by an Env whose runtime can wake a node
// when the writes it made so far are durable: AfterSync(t) fires t (as a
// timer event) once they are, on the path its held sends take. A crash
// before then loses it, with the writes.
type SyncNotifier interface {
	AfterSync(t Timer)
}

// Early reports whether env offers both SendEarly and AfterSync, and
// returns them.
func Early(env Env) (EarlySender, SyncNotifier, bool) {
	e, ok1 := env.(EarlySender)
	s, ok2 := env.(SyncNotifier)
	return e, s, ok1 && ok2
}

// StateReporter is implemented by nodes that can show their protocol state
// as data, for debuggers and visualisers (sim.Sim.NodeState, the scenario
// stepper). State returns a small value that encoding/json marshals into
// an object of the protocol's state, with the protocol's own vocabulary:
// role, term, leader, log length, commit index, messages delivered, and
// the like (a few fields, never the whole log or store).
//
// State is a pure read: it must not change the node, send, arm timers,
// write storage, read a clock or draw from Rand, so calling it or not
// leaves a run unchanged bit for bit. The value it returns shares no
// mutable memory with the node (copy any slice), so it stays as it was
// while the run goes on.
type StateReporter interface {
	State() any
}
