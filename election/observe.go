package election

import (
	"fmt"
	"time"

	"ordo"
	"ordo/trace"
)

// Status is one node's leadership as its own role notes tell it (the
// conventions of the package doc): what a runtime shows — the live admin
// endpoint, its metrics — without knowing which election runs.
type Status struct {
	Role          string      // NoteLeader, NoteFollower or NoteCandidate; "" before the first role note
	Term          int64       // the newest term (epoch) a role note named
	Leader        ordo.NodeID // the leader it believes in (None: unknown)
	Elections     int         // candidacies: "candidate" notes
	LeaderChanges int         // times Leader changed to a known node
}

// IsRoleNote reports whether a note of this kind is a role transition.
func IsRoleNote(kind string) bool {
	return kind == NoteLeader || kind == NoteFollower || kind == NoteCandidate
}

// Observe applies node self's note (kind, attrs) to s and reports whether
// it was a role note (other notes leave s as it was). A new term forgets
// the leader of the old one; "leader" makes self the leader, "candidate"
// counts an election and knows no leader, and a "leader" attribute names
// the leader.
func (s *Status) Observe(self ordo.NodeID, kind string, a trace.Attrs) bool {
	if !IsRoleNote(kind) {
		return false
	}
	prev := s.Leader
	if t, ok := a.Int("term"); ok {
		if t != s.Term {
			s.Leader = ordo.None
		}
		s.Term = t
	}
	s.Role = kind
	switch kind {
	case NoteLeader:
		s.Leader = self
	case NoteCandidate:
		s.Elections++
		s.Leader = ordo.None
	}
	if l, ok := a.Int("leader"); ok {
		s.Leader = ordo.NodeID(l)
	}
	if s.Leader != prev && s.Leader != ordo.None {
		s.LeaderChanges++
	}
	return true
}

// Leading reports whether the node's last role note made it the leader.
func (s *Status) Leading() bool { return s.Role == NoteLeader }

// TimeoutReporter is implemented by election nodes that can say how long
// a follower stays silent before it acts on a leader's absence (section
// 4, step 1; Raft's randomized election timeout).
type TimeoutReporter interface {
	// ElectionTimeout returns the shortest and longest such silence.
	ElectionTimeout() (lo, hi time.Duration)
}

// Timeouts returns the election timeout range [lo, hi] of registered
// protocol name with options opts (defaults filled in) in a cluster of n
// servers, as its node reports it (TimeoutReporter). An unknown protocol,
// bad options, or a protocol whose nodes do not report one is an error.
func Timeouts(name string, opts map[string]string, n int) (lo, hi time.Duration, err error) {
	p, err := ordo.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	o, err := p.Resolve(opts)
	if err != nil {
		return 0, 0, err
	}
	nd, err := p.New(ordo.Config{ID: 1, N: max(n, 1), Opts: o, Proto: p})
	if err != nil {
		return 0, 0, err
	}
	tr, ok := nd.(TimeoutReporter)
	if !ok {
		return 0, 0, fmt.Errorf("protocol %s reports no election timeout", name)
	}
	lo, hi = tr.ElectionTimeout()
	return lo, hi, nil
}
