// Package bully is the chapter's Bully algorithm (section 4, "Bully
// Algorithm"; Garcia-Molina 1982): the highest live ID leads. A node that
// notices the leader is gone (a heartbeat failure detector) sends ELECTION
// to every higher ID; a higher node answers OK and holds its own election;
// a node that hears no OK within a timeout sends COORDINATOR to all.
//
// The chapter names its weaknesses and ordo shows both: under the section 5
// partition {1,2} | {3,4,5} each side elects its own leader (split brain),
// and an unstable high-ID node forces an election at every restart. The
// option quorum=true gates leadership on acknowledgements from a majority
// (N/2 + 1): an acknowledgement is a durable promise to follow no other
// leader for one timeout, and a leader leads only while a majority
// acknowledged a round within its lease — the quorum, not the algorithm,
// is what prevents split brain (under crashes, partitions, loss and clock
// jumps; a process pause defeats any lease, which is what fencing tokens
// are for). Epochs are the fencing tokens: adopted from every message, and
// a leader that learns of a newer one claims above it.
package bully
