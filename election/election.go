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

// Rounds tracks, for a leader, which heartbeat round each peer last
// acknowledged, so the leader knows the newest round a majority answered.
// A leader whose newest majority round is too old must step down before
// the followers' timeouts let anyone else win (a lease, counted in rounds
// so it needs no wall clock).
type Rounds struct {
	acked []uint64 // by NodeID; index 0 unused
	self  ordo.NodeID
	n     int
}

// NewRounds tracks acks for self in a cluster of n.
func NewRounds(self ordo.NodeID, n int) *Rounds {
	if self < 1 || int(self) > n {
		panic("election: Rounds self out of range")
	}
	return &Rounds{acked: make([]uint64, n+1), self: self, n: n}
}

// Ack records that peer answered round r.
func (q *Rounds) Ack(peer ordo.NodeID, r uint64) {
	if peer < 1 || int(peer) > q.n {
		return
	}
	q.acked[peer] = max(q.acked[peer], r)
}

// Reset forgets every ack (a new leadership).
func (q *Rounds) Reset() { clear(q.acked) }

// Newest returns the newest round acknowledged by a majority, counting self
// as having acknowledged round current.
func (q *Rounds) Newest(current uint64) uint64 {
	vals := make([]uint64, 0, q.n)
	for id := 1; id <= q.n; id++ {
		if ordo.NodeID(id) == q.self {
			vals = append(vals, current)
		} else {
			vals = append(vals, q.acked[id])
		}
	}
	slices.Sort(vals)
	slices.Reverse(vals)
	return vals[Majority(q.n)-1]
}
