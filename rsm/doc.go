// Package rsm is the replicated state machine: the interface every
// replicated store of ordo implements (the Raft-replicated key-value
// database of the chapter's exercise 3, the PBFT service of section 5) and
// the replication layers drive. It is the chapter's section 4 answer to
// "why a leader": one node orders the commands, every replica applies the
// same commands in the same order, and so every replica holds the same
// state (Schneider, "Implementing fault-tolerant services using the state
// machine approach", 1990).
//
// A Machine is deterministic: no clock, no random source, no map
// iteration order in its results. Two replicas that applied the same
// commands hold equal Snapshots, byte for byte.
//
//	m := kv.NewMachine()
//	res := m.Apply(1, cmd)   // the command committed at log index 1
//	snap := m.Snapshot()     // state as of index 1
//	_ = other.Restore(snap)  // a lagging replica catches up
package rsm
