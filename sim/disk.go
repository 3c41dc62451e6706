package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"ordo"
	"ordo/clock"
	"ordo/trace"
)

// Disk is the simulator's disk model (Config.Disk): what reaches stable
// storage and when, the durability contract of ordo.Storage made
// observable. The zero value turns the model off: every write is durable
// the moment it is made and sends leave at once, the runs of before the
// model, byte for byte.
//
// With the model on, each node's writes of one event are pending until a
// simulated fsync completes SyncLatency later. The node is busy meanwhile
// (events that arrive wait, as the live event loop waits in fsync), and
// the messages the event sent are held until the fsync returns, so a vote
// or an acknowledgement never leaves before the state it promises is on
// disk. A crash drops every write not yet synced and every held message.
// Reads see writes at once. An event that writes nothing syncs nothing
// and its sends leave at the end of the event.
//
// Storage faults, drawn from the seed (a source of each node's own, so the
// network's and the nemesis's draws do not move) or forced with the Sim
// methods FailSync, FillDisk, CorruptRead and CrashTorn:
//   - a failed fsync (EIO) or a full disk (ENOSPC) stops the node
//     (fail-stop): a crash event named "fail-stop" with the reason; the
//     unsynced batch and the held messages are lost;
//   - a torn batch at a crash: the batch in flight reached the disk in
//     part; recovery finds its checksum wrong and discards it whole, so a
//     batch is all or nothing (the live log does exactly this, tested
//     with a real kill -9); the trace records a "torn-write" fault;
//   - a corrupt read: the node's recovery at a restart reads a block whose
//     checksum fails, and the node stops (fail-stop) instead of starting
//     on invented or lost state.
//
// Unlike the live runtime, which groups the events of one loop turn into
// one fsync, the simulator syncs after each event that wrote: the same
// contract, with at least as many sync waits.
type Disk struct {
	// SyncLatency is how long one fsync takes (0..MaxSyncLatency). With no
	// fault rate set, 0 means the model is off.
	SyncLatency time.Duration
	// FailSync and Full are the probabilities that one fsync fails with
	// EIO or finds the disk full; both stop the node.
	FailSync, Full float64
	// Tear is the probability that a crash with an fsync in flight tears
	// the batch (it is discarded whole at recovery).
	Tear float64
	// CorruptRead is the probability that a restart's recovery reads a
	// corrupt block, which stops the node.
	CorruptRead float64
}

// MaxSyncLatency bounds Disk.SyncLatency.
const MaxSyncLatency = time.Minute

// On reports whether the model is on.
func (d Disk) On() bool {
	return d.SyncLatency > 0 || d.FailSync > 0 || d.Full > 0 || d.Tear > 0 || d.CorruptRead > 0
}

func (d Disk) validate() error {
	if d.SyncLatency < 0 || d.SyncLatency > MaxSyncLatency {
		return fmt.Errorf("sim: disk sync latency %v out of 0..%v", d.SyncLatency, MaxSyncLatency)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"fail-sync", d.FailSync}, {"full", d.Full}, {"tear", d.Tear}, {"corrupt-read", d.CorruptRead}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("sim: disk %s probability %v out of 0..1", p.name, p.v)
		}
	}
	return nil
}

// nodeDisk is one node's disk, and the ordo.Storage its Env hands out when
// the model is on. nodeState.store is the working state (what reads see);
// synced is what is on the disk.
type nodeDisk struct {
	s      *Sim
	ns     *nodeState
	rng    *rand.Rand
	synced *ordo.MemStorage
	ev     ordo.Batch  // this event's writes
	flight *ordo.Batch // the batch whose fsync is in progress
	held   []heldSend  // sends waiting for this event's fsync
	// Forced faults (Sim methods): the next fsync fails with failNext;
	// the next restart's recovery reads a corrupt block; the next crash
	// tears the batch in flight.
	failNext string
	corrupt  bool
	tear     bool
}

type heldSend struct {
	// timer: an AfterSync wake-up, not a message (fired at release).
	timer   *ordo.Timer
	to      ordo.NodeID
	m       ordo.Message
	id      uint64
	size    int
	lamport uint64
	vc      clock.Vector
}

var _ ordo.Storage = (*nodeDisk)(nil)

// initDisk gives every node a disk when the model is on.
func (s *Sim) initDisk() error {
	if err := s.cfg.Disk.validate(); err != nil {
		return err
	}
	if !s.cfg.Disk.On() {
		return nil
	}
	for i := 1; i < len(s.nodes); i++ {
		ns := s.nodes[i]
		ns.disk = &nodeDisk{s: s, ns: ns, synced: ns.store.Clone(),
			rng: rand.New(rand.NewPCG(s.cfg.Seed, 0x6469736b00+uint64(i)))} // "disk"
	}
	return nil
}

func (d *nodeDisk) Get(key string) ([]byte, bool) { return d.ns.store.Get(key) }
func (d *nodeDisk) Scan(start, end string, fn func(string, []byte) bool) {
	d.ns.store.Scan(start, end, fn)
}

// grow panics if this event's writes would pass the bounds.
func (d *nodeDisk) grow(ops, kv int) {
	if d.ev.Len()+ops > ordo.MaxBatchOps || d.ev.Bytes()+kv > ordo.MaxBatchBytes {
		panic(fmt.Sprintf("sim: %v writes more than MaxBatchOps (%d) operations or MaxBatchBytes (%d) bytes to storage in one event", d.ns.id, ordo.MaxBatchOps, ordo.MaxBatchBytes))
	}
}

func (d *nodeDisk) Put(key string, value []byte) {
	ordo.CheckKV(key, value)
	d.grow(1, len(key)+len(value))
	d.ns.store.Put(key, value)
	d.ev.Put(key, value)
}

func (d *nodeDisk) Delete(key string) {
	ordo.CheckKV(key, nil)
	d.grow(1, len(key))
	d.ns.store.Delete(key)
	d.ev.Delete(key)
}

func (d *nodeDisk) DeleteRange(start, end string) {
	ordo.CheckKV(start, nil)
	ordo.CheckKV(end, nil)
	d.grow(1, len(start)+len(end))
	d.ns.store.DeleteRange(start, end)
	d.ev.DeleteRange(start, end)
}

func (d *nodeDisk) Apply(b *ordo.Batch) {
	ordo.CheckBatch(b)
	d.grow(b.Len(), b.Bytes())
	d.ns.store.Apply(b)
	b.Replay(&d.ev)
}

// holdSend keeps a message the node sent until its event's writes are on
// disk; it remembers the send's stamps, which the node's clock has left
// behind by the time it leaves.
func (s *Sim) holdSend(ns *nodeState, to ordo.NodeID, m ordo.Message, id uint64, size int) {
	h := heldSend{to: to, m: m, id: id, size: size, lamport: ns.stamp.Lamport}
	if s.vec {
		h.vc = s.getVec()
		copy(h.vc, ns.stamp.Vector)
	}
	ns.disk.held = append(ns.disk.held, h)
}

// release hands the held messages to the network, in the order sent, each
// with the stamps of its send.
func (d *nodeDisk) release() {
	if len(d.held) == 0 {
		return
	}
	s, ns := d.s, d.ns
	lamport := ns.stamp.Lamport
	var vec clock.Vector
	if s.vec {
		vec = s.getVec()
		copy(vec, ns.stamp.Vector)
	}
	for i := range d.held {
		h := &d.held[i]
		if h.timer != nil {
			it := item{at: s.now, kind: itemTimer, to: ns.id, timer: *h.timer, inc: ns.inc}
			s.q.push(&it)
			*h = heldSend{}
			continue
		}
		ns.stamp.Lamport = h.lamport
		if h.vc != nil {
			copy(ns.stamp.Vector, h.vc)
			s.putVec(h.vc)
		}
		s.net.route(s, ns, h.to, h.m, h.id, h.size)
		*h = heldSend{}
	}
	ns.stamp.Lamport = lamport
	if vec != nil {
		copy(ns.stamp.Vector, vec)
		s.putVec(vec)
	}
	d.held = d.held[:0]
}

// dropHeld loses the held messages (a crash, a fail-stop).
func (d *nodeDisk) dropHeld(why string) {
	for i := range d.held {
		h := &d.held[i]
		if h.timer != nil {
			*h = heldSend{} // the wake-up dies with the writes
			continue
		}
		d.s.putVec(h.vc)
		d.s.drop(d.ns.id, h.to, h.id, h.m.Kind(), h.size, why)
		*h = heldSend{}
	}
	d.held = d.held[:0]
}

// endEvent is called after every event a node handles (Start, Receive,
// Fire): the event's writes go to the disk, and its sends leave when they
// are there.
func (s *Sim) endEvent(ns *nodeState) {
	if ns.up {
		// A turn is one event here: the node flushes what it batched
		// (ordo.Flusher) before the event's writes are committed.
		ordo.Flush(ns.node, ns)
	}
	d := ns.disk
	if d == nil || !ns.up {
		return
	}
	if d.ev.Len() == 0 {
		d.release()
		return
	}
	b := d.ev
	d.ev = ordo.Batch{}
	lat := s.cfg.Disk.SyncLatency
	if lat == 0 {
		d.sync(&b)
		return
	}
	d.flight = &b
	ns.busy = max(ns.busy, s.now+lat) // the loop waits in fsync
	inc := ns.inc
	s.At(s.now+lat, func(s *Sim) {
		if ns.inc != inc || d.flight == nil {
			return // crashed meanwhile: the batch is lost
		}
		f := d.flight
		d.flight = nil
		d.sync(f)
	})
}

// sync completes an fsync of b, or fails it (fail-stop).
func (d *nodeDisk) sync(b *ordo.Batch) {
	cfg := &d.s.cfg.Disk
	why := d.failNext
	d.failNext = ""
	if why == "" && cfg.FailSync > 0 && d.rng.Float64() < cfg.FailSync {
		why = "fsync failed (EIO)"
	}
	if why == "" && cfg.Full > 0 && d.rng.Float64() < cfg.Full {
		why = "disk full (ENOSPC)"
	}
	if why != "" {
		d.s.failStop(d.ns, why)
		return
	}
	d.synced.Apply(b)
	d.release()
}

// crashed is the disk's side of a crash: unsynced writes and held
// messages are lost; a batch in flight may be torn (and is discarded
// whole by recovery either way).
func (d *nodeDisk) crashed(why string) {
	if d.flight != nil {
		cfg := &d.s.cfg.Disk
		if d.tear || (cfg.Tear > 0 && d.rng.Float64() < cfg.Tear) {
			d.s.emitFault("torn-write", "node", int(d.ns.id), "ops", d.flight.Len(), "recovery", "checksum mismatch: batch discarded whole")
		}
		d.flight = nil
	}
	d.tear = false
	d.ev = ordo.Batch{}
	d.dropHeld(why)
	d.ns.store = d.synced.Clone()
}

// recoverFails reports whether a restart's recovery reads a corrupt block.
func (d *nodeDisk) recoverFails() bool {
	cfg := &d.s.cfg.Disk
	bad := d.corrupt || (cfg.CorruptRead > 0 && d.rng.Float64() < cfg.CorruptRead)
	d.corrupt = false
	return bad
}

// failStop stops ns for a storage failure: a crash event named
// "fail-stop" with the reason, then a crash like any other.
func (s *Sim) failStop(ns *nodeState, why string) {
	if !ns.up {
		return
	}
	ns.stopWhy = why
	s.crash(ns.id, true)
	ns.stopWhy = ""
}

// crashEvent is the crash event of ns: a plain crash, or a fail-stop.
func (ns *nodeState) crashEvent() trace.Event {
	if ns.stopWhy == "" {
		return trace.Event{Kind: trace.Crash}
	}
	return trace.Event{Kind: trace.Crash, Name: trace.NameFailStop, Attrs: trace.Attrs{{Key: "why", Value: ns.stopWhy}}}
}

func (s *Sim) diskOf(id ordo.NodeID) (*nodeDisk, error) {
	ns := s.node(id)
	if ns.disk == nil {
		return nil, fmt.Errorf("sim: storage faults need the disk model (Config.Disk, a scenario's disk: section)")
	}
	return ns.disk, nil
}

// FailSync makes id's next fsync fail (EIO): the node stops (fail-stop)
// with its unsynced writes and held messages lost. It needs the disk
// model on.
func (s *Sim) FailSync(id ordo.NodeID) error {
	d, err := s.diskOf(id)
	if err == nil {
		d.failNext = "fsync failed (EIO)"
		s.emitFault("fail-sync", "node", int(id))
	}
	return err
}

// FillDisk makes id's next fsync find the disk full (ENOSPC): the node
// stops (fail-stop). It needs the disk model on.
func (s *Sim) FillDisk(id ordo.NodeID) error {
	d, err := s.diskOf(id)
	if err == nil {
		d.failNext = "disk full (ENOSPC)"
		s.emitFault("disk-full", "node", int(id))
	}
	return err
}

// CorruptRead corrupts a block of id's store. A running node reads it,
// finds its checksum wrong and stops (fail-stop) at once; a node that is
// down fails the same way at its next restart. Restarting it again
// recovers the state it had synced (the operator restored the file). It
// needs the disk model on.
func (s *Sim) CorruptRead(id ordo.NodeID) error {
	d, err := s.diskOf(id)
	if err != nil {
		return err
	}
	s.emitFault("corrupt-read", "node", int(id))
	if ns := s.node(id); ns.up {
		s.failStop(ns, "corrupt read: checksum mismatch in its store")
		return nil
	}
	d.corrupt = true
	return nil
}

// CrashTorn crashes id with its batch in flight (if an fsync is in
// progress) torn: recovery discards it whole by its checksum. It needs the
// disk model on.
func (s *Sim) CrashTorn(id ordo.NodeID) error {
	d, err := s.diskOf(id)
	if err == nil {
		d.tear = true
		s.Crash(id)
		d.tear = false
	}
	return err
}

// Synced returns what id's disk holds (the state a crash now would leave);
// Store is what the node reads. Without the disk model they are the same.
func (s *Sim) Synced(id ordo.NodeID) *ordo.MemStorage {
	ns := s.node(id)
	if ns.disk == nil {
		return ns.store
	}
	return ns.disk.synced
}
