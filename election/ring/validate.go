package ring

import (
	"errors"
	"fmt"

	"ordo"
)

// Validate methods refuse what no honest peer sends (ordo.Validator): an
// epoch above ordo.MaxTerm, which would wrap epoch+1; a hop or round above
// ordo.MaxIndex; a node id outside 1..ordo.MaxNodeID; a list of more ids
// than any ring holds; a negative hop count. The codec calls them after
// decoding, so an absurd message is dropped and counted, never delivered.

func (m Election) Validate() error {
	errs := []error{ordo.CheckTerm("hop", m.Hop), node("initiator", m.Initiator), node("candidate", m.Candidate),
		ordo.CheckTerm("max epoch", m.MaxEpoch)}
	if m.Travelled < 0 || m.Travelled > 2*ordo.MaxNodeID+2 {
		errs = append(errs, fmt.Errorf("travelled %d hops, out of 0..%d", m.Travelled, 2*ordo.MaxNodeID+2))
	}
	if len(m.IDs) > ordo.MaxNodeID {
		errs = append(errs, fmt.Errorf("%d ids, more than any ring holds", len(m.IDs)))
	} else {
		for _, id := range m.IDs {
			if err := node("id", id); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (m Coordinator) Validate() error {
	return errors.Join(ordo.CheckTerm("hop", m.Hop), node("origin", m.Origin), node("leader", m.Leader),
		ordo.CheckTerm("epoch", m.Epoch))
}

func (m Ack) Validate() error   { return ordo.CheckTerm("hop", m.Hop) }
func (m Stale) Validate() error { return ordo.CheckTerm("epoch", m.Epoch) }

func (m Heartbeat) Validate() error {
	return errors.Join(node("leader", m.Leader), ordo.CheckTerm("epoch", m.Epoch), ordo.CheckTerm("round", m.Round))
}

func (m HeartbeatAck) Validate() error {
	return errors.Join(ordo.CheckTerm("epoch", m.Epoch), ordo.CheckTerm("round", m.Round))
}

// node bounds an id field: None (0) or 1..ordo.MaxNodeID. (A peer that
// names no node is odd, not absurd: the protocol's own checks handle it.)
func node(what string, id ordo.NodeID) error { return ordo.CheckNode(what, id) }
