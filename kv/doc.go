// Package kv is the chapter's exercise 3 made real — "5개 노드의 분산
// 데이터베이스에서 리더 선출 메커니즘을 설계하세요" (partitions, no split
// brain, automatic recovery when the leader fails) — and section 4's first
// reason for a leader, the database primary: one node orders the writes,
// every replica applies them in that order.
//
// Servers ("kv") are Raft replicas (package election/raft's replicated
// log, embedded: the election the chapter describes is the one that
// orders the writes) applying committed commands to a Machine, an ordered
// key-value map with revisions (a key's revision is the log index of its
// last change). The leader answers clients:
//
//   - put, delete, cas: proposed to the log, answered when applied (with
//     the term Propose returned: an entry replaced by another leader's is
//     answered StatusUnknown, never with the other entry's result); a
//     leader that loses leadership answers its pending writes unknown;
//   - get, range: ReadIndex by default (the leader confirms its leadership
//     with a majority after its commit index, Raft thesis 6.4), the lease
//     when asked (safe while clock drift stays within the lease's margin:
//     election_timeout_min minus the time a majority took to answer), or
//     serializable (any replica, from its own state, possibly stale; the
//     client's history labels such reads stale);
//   - watch (long poll on a key's revision), snapshot (live API only),
//     member (add or remove one server) and transfer (leadership).
//
// A follower answers StatusNotLeader with the leader it knows of. Client
// sessions make a retried write apply once: the machine keeps each
// session's last (seq, result) and drops entries by log position, never by
// clock, so replicas cannot diverge (thesis 6.3).
//
// "kv-stale" is DELIBERATELY BROKEN: it serves every read from the asked
// server's own state, so the linearizable checker finds stale reads.
//
// Clients ("kv-client") are the simulated workload: seeded gets, puts,
// cas and deletes over a few keys, following leader hints, retrying a
// write with the same session and seq, recording every operation (package
// history) for the linearizable and no-lost-write checkers; with
// admin_every they also transfer leadership and remove and re-add servers.
// The "agreement" checker compares the replicas' applied logs.
//
//	protocol: kv
//	nodes: 5
//	clients: {count: 3, options: {concurrency: 2, keys: 3}}
//	faults:
//	  - {at: 2s, crash: 1}            # the leader (usually) dies
//	  - {at: 3s, partition: "1,2/3,4,5"}
//	  - {at: 5s, heal: true}
//	checks: [linearizable, no-lost-write, agreement, single-leader]
//
// In Go, the machine alone:
//
//	m := kv.NewMachine(kv.DefaultMachineConfig)
//	res, _ := kv.DecodeResult(m.Apply(1, kv.EncodeCommand(kv.Request{Op: kv.OpPut, Key: "x", Value: "1"})))
//	// res.Status == kv.StatusOK, res.Rev == 1
package kv
