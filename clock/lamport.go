package clock

import "sync/atomic"

// Lamport is a Lamport clock following the chapter's four rules:
//  1. each process keeps a counter C;
//  2. on every event, C = C + 1;
//  3. a message carries the sender's C (the send is itself an event);
//  4. on receipt, C = max(C, msg.C) + 1.
//
// Not safe for concurrent use; see AtomicLamport.
type Lamport struct {
	c uint64
}

// Tick records a local event (rule 2) and returns its timestamp.
func (l *Lamport) Tick() uint64 {
	l.c++
	return l.c
}

// Send records a send event (rules 2 and 3) and returns the timestamp the
// message carries.
func (l *Lamport) Send() uint64 { return l.Tick() }

// Receive records the receipt of a message stamped remote (rule 4) and
// returns the receive event's timestamp.
func (l *Lamport) Receive(remote uint64) uint64 {
	l.c = max(l.c, remote) + 1
	return l.c
}

// Now returns the current counter without ticking.
func (l *Lamport) Now() uint64 { return l.c }

// AtomicLamport is a Lamport clock safe for concurrent use by many
// goroutines (the live runtime's connection handlers). It is lock-free:
// Tick is one atomic add, Receive a compare-and-swap loop.
type AtomicLamport struct {
	c atomic.Uint64
}

// Tick records a local or send event and returns its timestamp. Concurrent
// Ticks return distinct values.
func (l *AtomicLamport) Tick() uint64 { return l.c.Add(1) }

// Send is Tick: the returned value goes on the message.
func (l *AtomicLamport) Send() uint64 { return l.c.Add(1) }

// Receive sets C = max(C, remote) + 1 atomically and returns the new C.
func (l *AtomicLamport) Receive(remote uint64) uint64 {
	for {
		cur := l.c.Load()
		next := max(cur, remote) + 1
		if l.c.CompareAndSwap(cur, next) {
			return next
		}
	}
}

// Now returns the current counter.
func (l *AtomicLamport) Now() uint64 { return l.c.Load() }
