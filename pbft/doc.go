// Package pbft is Practical Byzantine Fault Tolerance (Castro and Liskov,
// OSDI 1999), the normal case of its sections 4.2 and 4.3, for the
// chapter's section 5 ("Byzantine failure"): n = 3f+1 replicas agree on
// the order of client requests although f of them lie.
//
// A client (protocol pbft-client) sends a request with a timestamp to the
// primary (replica view mod n, in the roster's order), and to every
// replica when no answer came in time. The primary assigns it a sequence
// number and multicasts a pre-prepare; every backup that accepts it
// multicasts a prepare. A replica is prepared for (view, seq, digest) once
// it holds the pre-prepare and 2f prepares from backups (its own
// included) that match it; it then multicasts a commit, and is
// committed-local once a quorum (2f+1 at n = 3f+1; ⌈(n+f+1)/2⌉ in
// general) of matching commits (its own included) arrived.
// It executes committed requests in sequence order, notes each execution
// as "decide" with "slot" (the sequence number) and "value" (the request's
// digest), which the byzantine-agreement checker (package agreement)
// judges per slot, and replies to the client, which accepts a result once
// f+1 replicas sent the same one.
//
// Every K requests (option checkpoint) a replica multicasts a checkpoint
// of its state digest; 2f+1 matching ones make it stable, and the log
// below it is dropped. Every structure is bounded: the log holds the
// sequence numbers of one window (option window) above the stable
// checkpoint, each entry at most one prepare and one commit per replica,
// the checkpoint votes one per replica per checkpoint of the window, the
// reply cache one reply per client of the roster; a request beyond the
// window is dropped, and the client's retransmission brings it back.
//
// Messages carry no signatures: the simulator's authenticated links (wire
// mode, `network: {authenticated: true}`: an HMAC per pair of nodes over
// the encoded bytes, sim/wire.go) stand for PBFT's MAC authenticators, so
// a forged sender is refused at the link and a replica trusts the sender
// the runtime names. Two simplifications follow from that: a commit
// carries the request rather than only its digest (the receiver computes
// the digest), and backups do not relay a client's request to the primary
// (the client sends it to every replica itself on a timeout).
//
// View change (section 4.4, viewchange.go): a backup that receives a
// client's request directly (the client timed out on the primary) and
// does not see it executed within view_timeout moves to the next view and
// multicasts a view-change with its stable checkpoint and what it
// prepared above it; a replica that sees f+1 view-changes for higher
// views joins the smallest. The new primary, with 2f+1 view-changes (its
// own included), re-proposes at each sequence number above the highest
// stable checkpoint the request prepared in the highest view, or a null
// request (noted "decide" with "noop"), in a new-view naming the
// view-changes it used; each backup recomputes that from the
// view-changes it received itself from the same replicas and installs the
// view only if they match. A view that does not start within twice the
// timeout (doubled per failed view) gives way to the next.
//
// What that leaves out: the certificates. PBFT's view-change carries,
// for each prepared request, the signed pre-prepare and 2f prepares, so a
// lying replica cannot claim a request prepared that was not. Here a
// view-change is believed as its authenticated sender states it: safe
// against every behaviour of the simulator's adversary (silent, garbage
// and forged messages never arrive, a replay is an old view, and the
// equivocating view-change, ViewChange.Equivocate, reports nothing
// prepared, which quorum intersection tolerates), but a hand-written liar
// claiming a request prepared in a later view could make a new primary
// re-propose the wrong request. Also not built: state transfer, so a
// replica that missed messages (or was told a forged pre-prepare) stays
// behind, and one that restarts starts empty (its state is volatile);
// batching; the read-only optimisation. With n < 3f+1 the replica refuses
// to start unless option unsafe_quorum sets the quorum by hand (the
// pbft-3-unsafe scenario: with 3 replicas and quorums of 2, an
// equivocating primary makes two correct replicas execute different
// requests at one sequence number).
//
//	ordo sim pbft-4-primary --diagram
//	ordo sim pbft-4 --diagram
//	ordo sim pbft-3-unsafe
package pbft
