package bully

import (
	"errors"

	"ordo"
)

// Validate methods refuse what no honest peer sends (ordo.Validator): an
// epoch above ordo.MaxTerm, which would wrap epoch+1; a round above
// ordo.MaxIndex; a leader that is not a node id. The codec calls them after
// decoding, so an absurd message is dropped and counted, never delivered.

func (m Election) Validate() error       { return ordo.CheckTerm("epoch", m.Epoch) }
func (m OK) Validate() error             { return ordo.CheckTerm("epoch", m.Epoch) }
func (m CoordinatorAck) Validate() error { return ordo.CheckTerm("epoch", m.Epoch) }
func (m Stale) Validate() error          { return ordo.CheckTerm("epoch", m.Epoch) }

func (m Coordinator) Validate() error {
	return errors.Join(ordo.CheckTerm("epoch", m.Epoch), leader(m.Leader))
}

func (m Heartbeat) Validate() error {
	return errors.Join(ordo.CheckTerm("epoch", m.Epoch), leader(m.Leader), ordo.CheckTerm("round", m.Round))
}

func (m HeartbeatAck) Validate() error {
	return errors.Join(ordo.CheckTerm("epoch", m.Epoch), ordo.CheckTerm("round", m.Round))
}

// leader bounds a leader field: None (0) or 1..ordo.MaxNodeID.
func leader(id ordo.NodeID) error { return ordo.CheckNode("leader", id) }
