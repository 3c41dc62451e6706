package sim

import (
	"fmt"
	"sync"
	"time"

	"ordo"
	"ordo/clock"
)

type itemKind uint8

const (
	itemDeliver itemKind = iota + 1
	itemTimer
	itemAction
	itemSync  // NTP sync of a node's clock
	itemDrain // a busy node is free again: handle what it holds
)

// item is one scheduled happening. Items live in a slab reused through a
// free list, so steady-state scheduling allocates nothing; the heap orders
// small keys that point into the slab, so sifting moves 24 bytes, not a
// whole item.
type item struct {
	at      time.Duration
	kind    itemKind
	inc     uint32 // the target's incarnation (timers, drains, hints)
	deadInc uint32 // a hint's: the crashed node's incarnation after the crash
	to      ordo.NodeID
	from    ordo.NodeID
	size    int
	msg     ordo.Message
	msgID   uint64
	lamport uint64
	vc      clock.Vector // nil unless vector stamps are kept (tracing on)
	timer   ordo.Timer
	action  func(*Sim)
}

// hint reports whether it is a runtime hint (ordo.PeerDown) rather than a
// message: message ids start at 1, hints carry 0 and no stamps.
func (it *item) hint() bool { return it.kind == itemDeliver && it.msgID == 0 }

// key orders the heap: by time, then by scheduling order, so two items due
// at the same instant run in the order they were scheduled (deterministic
// tie-breaking).
type key struct {
	at   time.Duration
	seq  uint64
	slot int32
}

func (a key) less(b key) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// MaxQueue bounds the items scheduled at once: a protocol that floods the
// network must fail loudly rather than exhaust memory.
const MaxQueue = 1 << 26

// queue is a binary min-heap of keys over a slab of items. Hand-written
// rather than container/heap so that nothing is boxed in an interface.
type queue struct {
	h    []key
	slab []item
	free []int32
	seq  uint64
}

func (q *queue) len() int              { return len(q.h) }
func (q *queue) peekAt() time.Duration { return q.h[0].at }

func (q *queue) push(it *item) {
	if len(q.h) >= MaxQueue {
		panic(fmt.Sprintf("sim: %d items scheduled at once (bound %d): a protocol floods the network", len(q.h), MaxQueue))
	}
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		slot = int32(len(q.slab))
		q.slab = append(q.slab, item{})
	}
	q.slab[slot] = *it
	q.seq++
	k := key{at: it.at, seq: q.seq, slot: slot}
	q.h = append(q.h, k)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !k.less(q.h[p]) {
			break
		}
		q.h[i] = q.h[p]
		i = p
	}
	q.h[i] = k
}

// pop removes the earliest item and copies it into out.
func (q *queue) pop(out *item) {
	top := q.h[0]
	last := len(q.h) - 1
	k := q.h[last]
	q.h = q.h[:last]
	if last > 0 {
		i, n := 0, last
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			m := l
			if r := l + 1; r < n && q.h[r].less(q.h[l]) {
				m = r
			}
			if !q.h[m].less(k) {
				break
			}
			q.h[i] = q.h[m]
			i = m
		}
		q.h[i] = k
	}
	*out = q.slab[top.slot]
	q.slab[top.slot] = item{} // let the GC have the message
	q.free = append(q.free, top.slot)
}

// queues keeps the memory of finished runs' queues for the next run: a
// campaign runs thousands of short simulations one after another, and
// growing a fresh slab and heap for each was a third of its allocation.
var queues = sync.Pool{New: func() any { return new(queue) }}

// reset empties q for reuse, dropping every reference its items held.
func (q *queue) reset() {
	clear(q.slab)
	q.h, q.slab, q.free, q.seq = q.h[:0], q.slab[:0], q.free[:0], 0
}
