package ring

import "ordo"

// Election travels around the ring. IDs is the chapter's list
// ("[3, 4, 5, 1, 2]"); Candidate is Chang–Roberts' highest ID so far.
type Election struct {
	Hop       uint64 // the sender's hop number, echoed by Ack
	Initiator ordo.NodeID
	IDs       []ordo.NodeID
	Candidate ordo.NodeID
	MaxEpoch  uint64
}

// Coordinator circulates the winner once around the ring.
type Coordinator struct {
	Hop    uint64
	Origin ordo.NodeID // where it started; it stops there
	Leader ordo.NodeID
	Epoch  uint64
}

// Ack acknowledges one hop, so the sender can skip a dead successor.
type Ack struct{ Hop uint64 }

// CoordinatorAck tells the winner that a node follows it (quorum mode).
type CoordinatorAck struct{ Epoch uint64 }

// Heartbeat is the leader's periodic "I am alive".
type Heartbeat struct {
	Leader ordo.NodeID
	Epoch  uint64
	Round  uint64
}

// HeartbeatAck answers a Heartbeat (quorum mode).
type HeartbeatAck struct {
	Epoch uint64
	Round uint64
}

func (Election) Kind() string       { return "ELECTION" }
func (Coordinator) Kind() string    { return "COORDINATOR" }
func (Ack) Kind() string            { return "ACK" }
func (CoordinatorAck) Kind() string { return "COORDINATOR-ACK" }
func (Heartbeat) Kind() string      { return "HEARTBEAT" }
func (HeartbeatAck) Kind() string   { return "HEARTBEAT-ACK" }

func (m Election) Size() int     { return 8 + 32 + 8*len(m.IDs) }
func (Coordinator) Size() int    { return 8 + 32 }
func (Ack) Size() int            { return 8 + 8 }
func (CoordinatorAck) Size() int { return 8 + 8 }
func (Heartbeat) Size() int      { return 8 + 24 }
func (HeartbeatAck) Size() int   { return 8 + 16 }

// Messages lists one value of every message type (for codecs).
var Messages = []ordo.Message{Election{}, Coordinator{}, Ack{}, CoordinatorAck{}, Heartbeat{}, HeartbeatAck{}}
