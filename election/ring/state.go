package ring

import (
	"ordo"
	"ordo/election"
)

// State is a Ring node's state as data (ordo.StateReporter).
type State struct {
	election.LeaderState
	// Participating is the highest initiator (or candidate) whose
	// ELECTION token this node passed on recently (0: none).
	Participating ordo.NodeID `json:"participating"`
	// Electing: an election this node initiated is going round the ring.
	Electing bool `json:"electing"`
	// PendingHops counts the hops it sent that await an Ack.
	PendingHops int `json:"pending_hops"`
	// Elections counts the elections this incarnation initiated.
	Elections int `json:"elections"`
}

var _ ordo.StateReporter = (*Node)(nil)

// State implements ordo.StateReporter: a State value. It reads r only.
func (r *Node) State() any {
	return State{LeaderState: r.lead.State(), Participating: r.participating, Electing: r.mine != 0, PendingHops: len(r.pending), Elections: r.Elections}
}
