// Package raft is the chapter's "현대적 리더 선출" (section 4), Raft's leader
// election (Ongaro & Ousterhout, section 5.2; Ongaro's thesis, 9.6 PreVote
// and 6.2 CheckQuorum): terms, randomized election timeouts, RequestVote
// with a majority, heartbeats, and the term and vote persisted before any
// answer. Under the partition of section 5 only the side with a majority
// can elect, so there is never more than one leader per term.
//
// The registered "raft" protocol (New) is the election alone: no log, no
// entries, heartbeats only. NewReplica adds log replication into an
// rsm.Machine, the database of exercise 3 (package kv wraps it): the log
// with AppendEntries and the log-matching check, fast backtracking of
// nextIndex (thesis 5.3), the election restriction, commit by a majority
// of the current term only (paper 5.4.2, figure 8), the leader's no-op,
// term, vote and entries persisted in the event's batch before any
// acknowledgement, pipelined and batched replication (ordo.Flusher),
// ReadIndex and lease reads (thesis 6.4), snapshots with log compaction
// and InstallSnapshot (paper section 7), leadership transfer (thesis
// 3.10) and single-server membership changes (thesis 4.1).
//
//	n, err := raft.NewReplica(cfg, machine, host) // host: raft.Host
//	idx, term, err := n.Propose(env, cmd)         // leader: appended, sent in Flush
//	// ... host.Applied(env, idx, term, result) once a majority holds it
//	err = n.ReadIndex(env, ctx)                   // host.ReadReady(env, ctx, index, true)
//
// Safety in true time, not only per term: a leader holds a lease counted
// in heartbeat rounds. Followers refuse to vote while they have heard from
// a leader within the minimum election timeout, so a leader that has not
// had a round acknowledged by a majority for (almost) that long steps down
// before anyone else can be elected (CheckQuorum with leases).
package raft
