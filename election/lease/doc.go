// Package lease is the chapter's modern leader election over an external
// coordination service (section 4, "현대적 리더 선출 → 외부 서비스 활용"):
// every candidate creates an ephemeral key under /leader-election/, bound to
// a session lease it keeps alive; the oldest key wins; every other
// candidate watches only the key just before its own (no thundering herd);
// when the leader fails, its lease expires, its key disappears and the
// next candidate takes over. The service is etcd v3 (live, through the
// runtime's adapter) or its deterministic model (package coord, in the
// simulator): the node cannot tell them apart.
//
// The recipe is done right where etcd's own concurrency.Election is not
// (etcd issues #11051 and #19597; Jepsen's etcd 3.4.3 analysis; section 5's
// fencing tokens):
//
//   - The fencing token is the leader key's creation revision:
//     cluster-wide, only increasing. The leader writes it to a fenced store
//     (the "fenced-store" service) every write_every; the store refuses a
//     token below the highest it accepted.
//   - Fail closed: the node's own lease deadline is the monotonic time the
//     keepalive (or grant) REQUEST was sent, plus the TTL, minus a margin
//     for clock rate error on both sides and a round trip
//     (ttl·2·max_drift_ppm + rtt). Before every leader act the node checks
//     it and steps down once it has passed; ErrNoLease or a refused token
//     steps it down at once.
//   - A campaign re-checks after its wait: when the predecessor's key goes
//     away it reads its own key again (Get: still there, same creation
//     revision, same lease) and its deadline, so a session that expired
//     while it waited never reports leadership.
//   - A restart is a new session (the old one is revoked); resign deletes
//     the key only at its own creation revision.
//   - No wait beyond the lease: etcd revokes an expired lease only at its
//     lessor's next pass (every 500 ms), so its recipe fails over up to
//     half a second past the TTL. A waiting candidate asks how long its
//     predecessor's lease has left (TimeToLive, every probe near its end)
//     and revokes it itself once a chain of answers proves it expired
//     (probe.go gives the proof); "pred-revoked" {lease, chain_ms} notes
//     it. probe 0 waits for the lessor, as etcd's recipe does.
//
// Two options break the recipe on purpose, to show what it prevents:
// unsafe_no_fail_closed (act as leader until the service says the lease is
// gone) and unsafe_no_margin (deadline = last keepalive reply + full TTL).
//
// Notes follow package election's conventions: "leader" {term, token} (the
// key's creation revision), "follower" {term: the leader's token, leader},
// "candidate" {term: the last leader token known}; plus "session" {lease,
// ttl}, "session-lost" {why, lease} and, for every answered write, "fence"
// {resource, token, accepted, writer, seq} on the store's behalf (see
// election's fencing checker: accepted writes are deduplicated by the
// store's sequence number, so the store's own notes in the simulator and
// these in a live trace are judged alike).
//
// A scenario (scenarios/lease-paused-leader.yaml) names the protocol; the
// simulator adds its services (Protocol.Services) after the servers:
//
//	protocol: lease          # servers 1..3, n4 coord, n5 fenced-store
//	nodes: 3
//	faults: [{at: 3s, pause: 2, for: 4s}]
//	checks: [single-leader, stale-leader, fencing]
//
// and a node's view is the election interface's:
//
//	v := node.(election.Elector).View() // Role, Leader, Token (= CreateRev)
//	d, held := node.(*lease.Node).Deadline()
package lease
