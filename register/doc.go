// Package register is a replicated read/write register with clients: the
// demonstration that ordo's pieces fit (servers and clients, durable
// storage, client histories, the linearizable checker). It answers the
// chapter's section 5 with data instead of leaders: a majority quorum
// (정족수, N/2+1) makes every read see every acknowledged write, across
// partitions and partial failures, without any leader.
//
// Servers ("register") run ABD (Attiya, Bar-Noy and Dolev, "Sharing
// memory robustly in message-passing systems", JACM 1995; the multi-writer
// form of Lynch and Shvartsman 1997). Every replica keeps, durably, one
// (timestamp, value) per key, the timestamp a (counter, writer id) pair.
// The server a client asks coordinates the operation:
//
//   - write(v): query a majority for their timestamps, pick (max.counter+1,
//     self), store it with v at a majority, then acknowledge;
//   - read: query a majority, take the value of the largest timestamp,
//     WRITE IT BACK to a majority, then return it. The write-back is what
//     makes the register atomic: a later read cannot see an older value.
//
// "register-stale" is the same servers with reads answered by the one
// replica asked, from its own copy, without quorum or write-back: a
// replica that missed a write (it was in the minority, partitioned, or
// just slower) returns an old value after a newer one was acknowledged,
// and the linearizable checker finds it.
//
// Clients ("register-client") are seeded workload generators: reads and
// writes of unique values over a few keys, closed loop or at a rate, with
// a concurrency and a timeout. A client sends each request to one server
// (its coordinator) and, on a timeout, records the operation as info (its
// outcome is unknown: section 5's ambiguity of partial failure) and
// retries it once at another server. Each operation is recorded with
// package history, so the linearizable and no-lost-write checkers judge
// the run:
//
//	protocol: register
//	nodes: 5
//	clients: {count: 3, options: {ops: 100, concurrency: 2}}
//	checks: [linearizable, no-lost-write]
package register
