package sim

import (
	"time"

	"ordo"
	"ordo/clock"
)

type itemKind uint8

const (
	itemDeliver itemKind = iota + 1
	itemTimer
	itemAction
	itemSync // NTP sync of a node's clock
)

// item is one scheduled happening. Items are kept by value in the heap so
// that steady-state scheduling allocates nothing.
type item struct {
	at      time.Duration
	seq     uint64 // tie-break: earlier scheduled first
	kind    itemKind
	to      ordo.NodeID
	from    ordo.NodeID
	inc     uint32
	msg     ordo.Message
	msgID   uint64
	size    int
	lamport uint64
	vc      clock.Vector
	timer   ordo.Timer
	action  func(*Sim)
}

func (a *item) less(b *item) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// queue is a binary min-heap on (at, seq). Hand-written rather than
// container/heap so that push and pop do not box items in interfaces.
type queue struct{ h []item }

func (q *queue) len() int    { return len(q.h) }
func (q *queue) peek() *item { return &q.h[0] }

func (q *queue) push(it item) {
	q.h = append(q.h, it)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.h[i].less(&q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *queue) pop() item {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h[last] = item{} // let the GC have the message
	q.h = q.h[:last]
	i, n := 0, last
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.h[r].less(&q.h[l]) {
			m = r
		}
		if !q.h[m].less(&q.h[i]) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}
