package trace

import "ordo/clock"

// Stamper keeps one node's Lamport and vector clocks by the chapter's rules.
// Both runtimes stamp every process event with it, so a trace's stamps mean
// the same thing whether the run was simulated or real.
type Stamper struct {
	Node    int // 1-based
	Lamport uint64
	Vector  clock.Vector
}

// NewStamper returns the stamper of node (1..n) in a cluster of n.
func NewStamper(node, n int) Stamper {
	if node < 1 || node > n {
		panic("trace: stamper node out of range")
	}
	return Stamper{Node: node, Vector: make(clock.Vector, n)}
}

// Tick stamps a local or send event: C = C + 1, V[i] = V[i] + 1.
func (s *Stamper) Tick() {
	s.Lamport++
	s.Vector[s.Node-1]++
}

// Recv stamps the receipt of a message stamped (lamport, v):
// C = max(C, msg.C) + 1; V[j] = max(V[j], msg.V[j]) for all j, then V[i]++.
func (s *Stamper) Recv(lamport uint64, v clock.Vector) {
	s.Lamport = max(s.Lamport, lamport) + 1
	s.Vector.Merge(v)
	s.Vector[s.Node-1]++
}
