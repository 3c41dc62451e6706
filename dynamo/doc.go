// Package dynamo is a Dynamo-style replicated key-value store (DeCandia et
// al., "Dynamo: Amazon's Highly Available Key-value Store", SOSP 2007) in
// the simulator: the chapter's two warnings about ordering writes, made
// runnable.
//
//   - Section 2, "타임스탬프 기반 순서화의 위험" (the danger of ordering by
//     timestamps): with resolution=lww a bucket keeps, of two concurrent
//     writes, the one whose coordinator's wall clock (Env.Now, so the
//     simulator's skew and drift apply) read later. A later write from a
//     slow clock is acknowledged and then thrown away; the servers note it
//     "lost-write" and the shared no-lost-write checker finds it in the
//     clients' history (scenarios lww-section2, dynamo-section3-lww,
//     dynamo-workload-lww).
//   - Section 3, "Vector Clock 활용 예: DynamoDB": every value carries a
//     causal context, dotted version vectors by default (clock.DVVEntry
//     entries, so replicas can ship them, run by clock.DVVUpdate and
//     clock.DVVSync, the code of clock.DVVSet) or one vector clock per object
//     (versions=vv, which shows the sibling explosion). A write that does
//     not descend from what it replaces becomes a sibling: X = "A" at
//     [1,0], "B" at replica 1 is [2,0], "C" at replica 2 is [1,1], and
//     [2,0] ∥ [1,1] keeps both (notes dynamo-concurrent). resolution=client
//     returns every sibling and one opaque context, and put(key, context,
//     value) supersedes exactly what the context covers;
//     resolution=merge applies a shopping-cart merge on read: an
//     observed-remove set (merge=orset: a removed item stays removed) or
//     Dynamo's plain union (merge=union: removed items resurface).
//
// The store: consistent hashing with virtual nodes (Ring), N replicas
// per key (the preference list), R and W per request, any server
// coordinating (one outside the preference list forwards), read repair,
// hinted handoff (sloppy: true) and anti-entropy by Merkle trees
// (merkle.go: one tree per peer over the keys both replicate, kept up to
// date on every write; an exchange descends only into differing
// subtrees, so its bytes follow the differing keys, not the store).
// Contexts are opaque bytes tagged with an HMAC of the key
// (DecodeContext): a malformed or forged one is refused with an error,
// never merged. Keys, values, siblings
// (max_siblings: a put beyond it is refused and noted), pending requests
// and messages are bounded.
//
// The client, "dynamo-client", runs a seeded workload (gets, and puts
// with the context of its last get, resolving siblings it reads) and
// records a history as kv-client does, or a script of exact steps:
//
//	protocol: dynamo
//	options: {n_replicas: 2, r: 1, w: 1, resolution: client}
//	nodes: 2
//	clients:
//	  - count: 1
//	    options:
//	      script: >-
//	        100ms put X A @1, 200ms get X @1 as c1, 300ms put X B @1 ctx c1,
//	        400ms put X C @2 ctx c1, 600ms get X @1, 700ms resolve X @1
//	checks: [no-lost-write, convergence]
//
// Run it with `go run ./cmd/ordo sim dynamo-section3`. The checkers
// registered here are no-lost-sibling (no-lost-write over a read's whole
// sibling set), convergence (every replica of a key ends with the same
// versions), no-resurrection and no-lost-add (carts). A delete (OpDelete)
// is a tombstone version, a sibling of the writes it did not see. Live,
// the servers serve a client API (package dynamo/clientapi; `ordo kv`
// through dynamo/client). docs/dynamo.md says what is not built yet
// (sloppy reads, tombstone reaping).
package dynamo
