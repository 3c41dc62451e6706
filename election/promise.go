package election

import (
	"encoding/binary"
	"fmt"
	"time"

	"ordo"
)

// Promise is the acknowledgement rule of the quorum-gated Bully and Ring
// (section 5: "과반수 (N/2 + 1) 이상 노드와 통신 가능해야 리더 역할 수행").
// Having acknowledged leadership (To, Epoch), a node acknowledges no lower
// epoch ever — the pair is durable — and no other leader for one timeout,
// during which it is Bound. A leader's lease is shorter than that timeout,
// so while a majority is bound to it, no other leader can gather one.
type Promise struct {
	Epoch   uint64      // durable
	To      ordo.NodeID // durable
	Bound   bool
	BoundTo ordo.NodeID

	key     string        // storage key of (Epoch, To)
	timer   string        // name of the binding's timer
	timeout time.Duration // how long a binding lasts
	gen     int64         // generation of the binding's timer
}

// NewPromise returns the promise of a protocol that stores it under key and
// names its timer timer.
func NewPromise(key, timer string, timeout time.Duration) Promise {
	return Promise{key: key, timer: timer, timeout: timeout}
}

// Load reads the durable pair at boot.
func (p *Promise) Load(env ordo.Env) {
	if w, ok := LoadWords(env, p.key, 2); ok {
		p.Epoch, p.To = w[0], ordo.NodeID(w[1])
	}
}

// Bind binds the node to leader to (None: to nobody, as after a restart,
// since a promise made before the crash may still be in force) for one
// timeout.
func (p *Promise) Bind(env ordo.Env, to ordo.NodeID) {
	p.Bound, p.BoundTo = true, to
	p.gen++
	env.After(p.timeout, ordo.Timer{Name: p.timer, Arg: p.gen})
}

// May reports whether leadership (l, e) may be acknowledged.
func (p *Promise) May(l ordo.NodeID, e uint64) bool {
	if p.Bound && p.BoundTo != l {
		return false
	}
	return e > p.Epoch || (e == p.Epoch && l == p.To)
}

// Keep records (l, e) durably, before any acknowledgement leaves, and binds
// the node to l. Keeping a promise May refuses is a bug.
func (p *Promise) Keep(env ordo.Env, l ordo.NodeID, e uint64) {
	if !p.May(l, e) {
		panic(fmt.Sprintf("election: %v promises (%v, %d) against (%v, %d) bound=%v to %v", env.ID(), l, e, p.To, p.Epoch, p.Bound, p.BoundTo))
	}
	if e != p.Epoch || l != p.To {
		p.Epoch, p.To = e, l
		var v [16]byte
		binary.BigEndian.PutUint64(v[:], e)
		binary.BigEndian.PutUint64(v[8:], uint64(l))
		env.Store().Put(p.key, v[:])
	}
	p.Bind(env, l)
}

// Expired handles the binding's timer: it reports whether t ended the
// current binding (a stale timer of an earlier binding does not).
func (p *Promise) Expired(t ordo.Timer) bool {
	if t.Name != p.timer || t.Arg != p.gen {
		return false
	}
	p.Bound = false
	return true
}
