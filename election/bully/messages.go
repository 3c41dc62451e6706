package bully

import "ordo"

// Election asks every higher ID whether it is alive ("ELECTION").
type Election struct{ Epoch uint64 }

// OK is a higher node's answer: "I am alive and take over".
type OK struct{ Epoch uint64 }

// Coordinator announces the winner to all ("COORDINATOR"). With quorum it
// is the claim that a majority must acknowledge.
type Coordinator struct {
	Leader ordo.NodeID
	Epoch  uint64
}

// CoordinatorAck accepts a Coordinator (quorum mode only): the sender
// promises to acknowledge no other leader for one timeout.
type CoordinatorAck struct{ Epoch uint64 }

// Heartbeat is the leader's periodic "I am alive" that the followers'
// failure detectors listen for.
type Heartbeat struct {
	Leader ordo.NodeID
	Epoch  uint64
	Round  uint64
}

// HeartbeatAck answers a Heartbeat (quorum mode only), renewing the
// sender's promise.
type HeartbeatAck struct {
	Epoch uint64
	Round uint64
}

// Stale tells a leader that its epoch is out of date: the sender has seen
// (or, with quorum, promised) Epoch. A leader that gets it re-claims with a
// larger epoch (plain) or steps down (quorum), so fencing tokens only grow.
type Stale struct{ Epoch uint64 }

func (Election) Kind() string       { return "ELECTION" }
func (OK) Kind() string             { return "OK" }
func (Coordinator) Kind() string    { return "COORDINATOR" }
func (CoordinatorAck) Kind() string { return "COORDINATOR-ACK" }
func (Heartbeat) Kind() string      { return "HEARTBEAT" }
func (HeartbeatAck) Kind() string   { return "HEARTBEAT-ACK" }
func (Stale) Kind() string          { return "STALE" }

// Messages lists one value of every message type (for codecs). No type
// declares a Size: the codec measures the real encoding, in both runtimes.
var Messages = []ordo.Message{Election{}, OK{}, Coordinator{}, CoordinatorAck{}, Heartbeat{}, HeartbeatAck{}, Stale{}}
