package raft

import (
	"slices"

	"ordo"
	"ordo/election"
)

// rounds is a leader's lease counted in heartbeat rounds, as
// election.Rounds, but with the majority counted over the voters in
// force (a membership change moves it, thesis 4.1) rather than over
// servers 1..N. With every server a voter the two agree round for round.
type rounds struct {
	sent    uint64   // rounds sent by this incarnation
	newest  uint64   // newest round acknowledged by a majority
	acked   []uint64 // by NodeID
	scratch []uint64
	self    ordo.NodeID
	voters  []ordo.NodeID
}

// Next numbers a new round, the leader's own acknowledgement included.
func (q *rounds) Next() uint64 {
	q.sent++
	q.update()
	return q.sent
}

// Ack records that peer answered round r.
func (q *rounds) Ack(peer ordo.NodeID, r uint64) {
	if peer < 1 || int(peer) >= len(q.acked) {
		return
	}
	q.acked[peer] = max(q.acked[peer], r)
	q.update()
}

// Restart forgets every ack and takes r as the newest round a majority
// acknowledged.
func (q *rounds) Restart(r uint64) {
	clear(q.acked)
	q.newest = r
}

// Newest returns the newest round acknowledged by a majority.
func (q *rounds) Newest() uint64 { return q.newest }

func (q *rounds) update() {
	if len(q.voters) == 0 {
		return
	}
	vals := q.scratch[:0]
	for _, id := range q.voters {
		if id == q.self {
			vals = append(vals, q.sent)
		} else {
			vals = append(vals, q.acked[id])
		}
	}
	slices.Sort(vals)
	q.newest = max(q.newest, vals[len(vals)-election.Majority(len(q.voters))])
	q.scratch = vals
}
