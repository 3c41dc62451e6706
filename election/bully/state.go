package bully

import (
	"ordo"
	"ordo/election"
)

// State is a Bully node's state as data (ordo.StateReporter).
type State struct {
	election.LeaderState
	// Electing: an election of this node is under way (ELECTION sent,
	// waiting for OK or COORDINATOR).
	Electing bool `json:"electing"`
	// GotOK: a higher node answered OK in this election.
	GotOK bool `json:"got_ok"`
	// Elections counts the elections this incarnation started.
	Elections int `json:"elections"`
}

var _ ordo.StateReporter = (*Node)(nil)

// State implements ordo.StateReporter: a State value. It reads b only.
func (b *Node) State() any {
	return State{LeaderState: b.lead.State(), Electing: b.electing, GotOK: b.gotOK, Elections: b.Elections}
}
