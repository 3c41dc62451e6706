package election

import "ordo"

// LeaderState is the leadership part of an election node's state as data
// (ordo.StateReporter): what Bully and Ring report, each adding its own
// fields. It marshals with encoding/json.
type LeaderState struct {
	Role   string      `json:"role"`   // follower, candidate or leader
	Leader ordo.NodeID `json:"leader"` // the leader it believes in (0: unknown)
	// Term is the epoch of that leader's leadership (View.Term); Epoch the
	// highest epoch this node has seen (durable).
	Term  uint64 `json:"term"`
	Epoch uint64 `json:"epoch"`
	// Claiming: in quorum mode, this node's claim to lead awaits a
	// majority's acknowledgements.
	Claiming bool `json:"claiming,omitempty"`
	// PromisedTo: in quorum mode, the leader this node's promise binds it
	// to (0: not bound).
	PromisedTo ordo.NodeID `json:"promised_to,omitempty"`
}

// State returns l as a LeaderState. It reads l only.
func (l *Leadership) State() LeaderState {
	st := LeaderState{Role: l.Role.String(), Leader: l.Leader, Term: l.Token, Epoch: l.Epoch.N, Claiming: l.Claiming}
	if l.Promise.Bound {
		st.PromisedTo = l.Promise.BoundTo
	}
	return st
}
