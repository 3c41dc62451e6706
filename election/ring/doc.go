// Package ring is the chapter's Ring algorithm (section 4, "Ring
// Algorithm"): nodes form a logical ring 1 → 2 → … → N → 1. The node that
// detects the leader's failure sends an election message holding its ID to
// its successor; each node appends its own ID and passes it on, skipping a
// successor that does not acknowledge the hop within a timeout. When the
// message is back at its initiator, the highest ID in the list wins and a
// COORDINATOR message circulates once around the ring: O(n) messages.
//
// variant=chang-roberts instead forwards only the highest ID seen
// (Chang & Roberts 1979): between 2n and 3n−1 messages for one initiator.
// quorum=true gates leadership on a majority, as in package bully; the
// winner's claim is its first heartbeat round. Elections carry a nonce, and
// one whose initiator crashed is completed by the first node that sees its
// own ID come round again, so an election always ends once faults stop.
package ring
