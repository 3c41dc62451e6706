package election

import (
	"fmt"
	"slices"
	"time"

	"ordo"
)

// Note kinds: the role transitions of the chapter's requirements ("Safety:
// 동시에 최대 1명의 리더", "Liveness: 결국 리더가 선출됨") are checked on them.
const (
	NoteLeader    = "leader"
	NoteFollower  = "follower"
	NoteCandidate = "candidate"
	NoteFence     = "fence"
)

// Role is what a node is doing in the election.
type Role int

const (
	Follower Role = iota
	Candidate
	Leader
)

func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// View is one node's belief about leadership.
type View struct {
	Role   Role
	Leader ordo.NodeID // the leader it believes in (None: unknown)
	Since  time.Time   // when it came to believe it (its local clock)
	Term   uint64      // Raft's term, Bully's and Ring's epoch
	Token  uint64      // fencing token of Leader's leadership (0: none)
}

// Elector is implemented by every election protocol's node.
type Elector interface {
	ordo.Node
	View() View
}

// Majority is the chapter's quorum, N/2 + 1 ("과반수 (N/2 + 1)").
func Majority(n int) int { return n/2 + 1 }

// Rounds is a leader's lease counted in heartbeat rounds: it numbers the
// rounds the leader sends and tracks, from the acknowledgements, the
// newest round a majority answered (the leader itself answers every round
// it sends). It reads no clock; Raft times when each round began on the
// monotonic clock, Ring counts rounds only. A leader whose newest majority
// round is too old must step down before the followers' timeouts let
// anyone else win.
type Rounds struct {
	sent    uint64   // rounds sent by this incarnation
	newest  uint64   // newest round acknowledged by a majority
	acked   []uint64 // by NodeID; index 0 unused
	scratch []uint64 // for the majority's round, so acks allocate nothing
	self    ordo.NodeID
	n       int
}

// NewRounds tracks acks for self in a cluster of n.
func NewRounds(self ordo.NodeID, n int) *Rounds {
	if self < 1 || int(self) > n {
		panic("election: Rounds self out of range")
	}
	return &Rounds{acked: make([]uint64, n+1), scratch: make([]uint64, 0, n), self: self, n: n}
}

// Next numbers a new round, the leader's own acknowledgement of it
// included (alone, in a cluster of one, it is its own majority).
func (q *Rounds) Next() uint64 {
	q.sent++
	q.update()
	return q.sent
}

// Ack records that peer answered round r.
func (q *Rounds) Ack(peer ordo.NodeID, r uint64) {
	if peer < 1 || int(peer) > q.n {
		return
	}
	q.acked[peer] = max(q.acked[peer], r)
	q.update()
}

// Restart begins a new leadership (or claim): it forgets every ack and
// takes round r as the newest a majority acknowledged (0: none yet; a
// candidate's votes are its majority's answer to its candidacy's round).
func (q *Rounds) Restart(r uint64) {
	clear(q.acked)
	q.newest = r
}

// Newest returns the newest round acknowledged by a majority.
func (q *Rounds) Newest() uint64 { return q.newest }

func (q *Rounds) update() {
	vals := q.scratch[:0]
	for id := 1; id <= q.n; id++ {
		if ordo.NodeID(id) == q.self {
			vals = append(vals, q.sent)
		} else {
			vals = append(vals, q.acked[id])
		}
	}
	slices.Sort(vals)
	q.newest = max(q.newest, vals[len(vals)-Majority(q.n)])
}
