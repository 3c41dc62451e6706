// Package coord is the coordination service of the chapter's section 4,
// "현대적 리더 선출 → 외부 서비스 활용": instead of electing among
// themselves, nodes ask an etcd or ZooKeeper. Each candidate creates an
// ephemeral key under /leader-election/ bound to its session lease; the
// oldest key is the leader, each other candidate watches the key just
// before its own, and when a leader dies its lease expires, its key
// disappears and the watcher behind it takes over.
//
// The package holds the service's API (messages.go: a small subset of
// etcd v3 — leases and their time to live, create-if-absent, lookups ordered by create revision,
// conditional delete, a one-shot delete watch — plus a fenced write) and
// two service protocols (Role ordo.Service) that run as service nodes in
// the simulator:
//
//   - "coord": a deterministic model of etcd v3 for exactly that API.
//     Revisions are cluster-wide, start at 1 and grow by one per mutating
//     txn (a failed create does not bump; a lease's expiry or revoke
//     deletes all its keys in one txn, as etcd's lessor does). A lease
//     expires TTL seconds after its grant or last keepalive on the
//     service's own monotonic clock (env.Monotonic, env.After), so a
//     service whose clock runs fast expires leases early — one of the
//     unsafe clock directions the lease election must survive. As in
//     etcd, an expired lease is revoked by the lessor's next pass (option
//     sweep, 500 ms by default, at a random phase; 0: at the deadline),
//     is never renewed in between (a keepalive waits for the revocation
//     and is answered "no lease"), and TimeToLive answers its remaining
//     whole seconds truncated toward zero. State is
//     bounded (max_keys, max_leases, max_watches: beyond, ErrBadRequest).
//   - "fenced-store": a resource that accepts a Write only with a fencing
//     token at least the highest it has accepted (option fencing, default
//     true) and notes "fence" {token, accepted, writer, seq} for the
//     fencing checker.
//
// Live, the same messages go to a real etcd through the adapters of
// package coord/etcdsvc, so a protocol cannot tell the model from etcd;
// coord/etcdsvc's conformance test runs one sequence of operations against
// both and compares the answers.
//
// A client node (election/lease) finds the services in its roster and
// speaks to them by message; each request carries a Req the client picks
// and is answered by one Reply with the same Req:
//
//	svc := env.Roster().Services[0]
//	env.Send(svc, coord.Grant{Req: 1, TTL: 2})
//	// ← coord.Reply{Req: 1, Lease: 0x5d1c…, TTL: 2, Rev: 1}
//	env.Send(svc, coord.Create{Req: 2, Key: "/leader-election/5d1c…", Lease: 0x5d1c…})
//	// ← coord.Reply{Req: 2, Succeeded: true, Found: true, CreateRev: 2, …}
//	env.Send(svc, coord.Find{Req: 3, Prefix: "/leader-election/", Below: 2, Last: true})
//	// ← coord.Reply{Req: 3, Found: false}: no older key, this node leads
//	env.Send(svc, coord.Watch{Req: 4, Key: predecessor, Rev: 2})
//	// ← coord.Deleted{Req: 4, Key: predecessor, Rev: 7} when it goes
//
// And in a scenario, a protocol that declares Services: {"coord",
// "fenced-store"} gets both service nodes laid out after its clients.
package coord
