// Package etcdsvc is the live side of the chapter's section 4, "현대적 리더
// 선출 → 외부 서비스 활용": the adapters that turn a node's requests to a
// service node (package coord's messages) into calls to a real etcd
// through go.etcd.io/etcd/client/v3, and etcd's answers and watch events
// back into Reply and Deleted messages. In the simulator the same service
// nodes run package coord's models; a protocol cannot tell them apart, and
// this package's conformance test runs one sequence of operations against
// both and compares the answers.
//
// Importing the package registers both adapters with live.RegisterService:
//
//   - "coord": Grant, KeepAlive (one LeaseKeepAlive), Revoke, TimeToLive
//     (LeaseTimeToLive; etcd's TTL -1 for an unknown lease is ErrNoLease), Create (Txn
//     If CreateRevision(k) = 0 Then Put(k, WithLease) Else Get(k)), Get,
//     Find (Get WithPrefix, WithFirstCreate or WithLastCreate and
//     WithMaxCreateRev), Delete (Txn If CreateRevision(k) = rev Then
//     Delete(k)), Watch (a Get, then Watch(k, WithRev, WithFilterPut)
//     from the revision after it, so that an absent key answers at once and
//     a present one answers its next delete, as the model does; a
//     compacted revision answers ErrCompacted, which starting after a
//     fresh read makes all but impossible; a member without a leader
//     answers ErrUnavailable), Unwatch;
//   - "fenced-store": each Write is one etcd transaction on the key
//     <key_prefix><service id> (key_prefix: /ordo/fenced/ unless the
//     option says otherwise; ordo cluster up --etcd gives each cluster
//     its own) holding the zero-padded decimal token of
//     the highest accepted write (then the writer and value): accepted iff
//     the stored token is ≤ Token, atomically in etcd; Seq is the txn's
//     header revision (the store's order), Highest the stored token after
//     it. With fencing false every write is accepted (a stale one is kept
//     under <key_prefix><id>/stale).
//
// Options (the service node's, from the cluster file): endpoints (comma
// separated client URLs, required), timeout (every call's deadline, 1s by
// default: past it the node gets ErrUnavailable — the outcome is unknown,
// as the chapter's section 5 says of every timeout), and TLS: tls_dir
// (absolute; the node presents tls_dir/node<self>.pem, trusts only
// tls_dir/ca.pem, and the pair is checked at dial — what ordo cluster up
// gives it for the etcd it starts with mutual TLS), or tls_ca with
// tls_cert and tls_key (an external etcd). TLS options need https
// endpoints and https endpoints need them; the server is always verified.
//
// An etcd that answers nothing is said in the node's log (standard
// error): a WARN once WarnAfter calls in a row got ErrUnavailable, again
// at most every WarnEvery while it lasts, an INFO when etcd answers again.
//
// Bounds: each connection has one etcd client, a queue of MaxQueue
// requests served by Workers goroutines (a request beyond is answered
// ErrUnavailable at once), at most MaxWatches pending watches (beyond:
// ErrBadRequest), and Close cancels every call and watch. Answers may come
// back out of request order (several calls are in flight), as they may
// over the simulator's network.
//
// The fence note. In the simulator the fenced store notes "fence" {token,
// accepted, writer, seq} itself; live the store is etcd, which notes
// nothing, and the node's runtime cannot note on its behalf. So live the
// writer notes it: the lease node (election/lease) notes "fence" with the
// Reply's acceptance, Seq and Highest, and "resource" naming the service
// id; the fencing checker orders those notes by seq.
//
//	import _ "ordo/coord/etcdsvc" // in the binary: registers the adapters
//
//	dial, _ := live.LookupService("coord")
//	conn, err := dial(ctx, self, svcID, opts, deliver) // opts: endpoints, timeout
//	conn.Send(coord.Grant{Req: 1, TTL: 2})             // → deliver(coord.Reply{Req: 1, Lease: …})
//	defer conn.Close()
package etcdsvc
