// Package ordo is the node model every protocol is written against: a node
// is a deterministic state machine (Start, Receive, Fire) that does all its
// I/O through an Env. The chapter's protocols — leader election (section 4),
// the Dynamo-style store (section 3), PBFT (section 5) — are Nodes, and the
// same Node runs in the simulator (package sim) and as a real process
// (package live).
package ordo
