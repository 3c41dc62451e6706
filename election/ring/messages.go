package ring

import "ordo"

// Election travels around the ring. IDs is the chapter's list
// ("[3, 4, 5, 1, 2]"); Candidate is Chang–Roberts' highest ID so far.
type Election struct {
	Hop       uint64 // the sender's hop number, echoed by Ack
	ID        uint64 // the initiator's nonce: only its newest election may complete
	Initiator ordo.NodeID
	IDs       []ordo.NodeID
	Candidate ordo.NodeID
	MaxEpoch  uint64
	Travelled int // hops so far; a message that outlives 2n hops dies
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

// Heartbeat is the leader's periodic "I am alive". With quorum the first
// round is the winner's claim, which a majority must acknowledge.
type Heartbeat struct {
	Leader ordo.NodeID
	Epoch  uint64
	Round  uint64
}

// HeartbeatAck answers a Heartbeat (quorum mode): the sender promises to
// acknowledge no other leader for one timeout.
type HeartbeatAck struct {
	Epoch uint64
	Round uint64
}

// Stale tells a leader that its epoch is out of date: the sender has seen
// (with quorum: promised) Epoch, or knows another leader with the same one.
type Stale struct{ Epoch uint64 }

func (Election) Kind() string     { return "ELECTION" }
func (Coordinator) Kind() string  { return "COORDINATOR" }
func (Ack) Kind() string          { return "ACK" }
func (Heartbeat) Kind() string    { return "HEARTBEAT" }
func (HeartbeatAck) Kind() string { return "HEARTBEAT-ACK" }
func (Stale) Kind() string        { return "STALE" }

// Messages lists one value of every message type (for codecs). No type
// declares a Size: the codec measures the real encoding, in both runtimes.
var Messages = []ordo.Message{Election{}, Coordinator{}, Ack{}, Heartbeat{}, HeartbeatAck{}, Stale{}}
