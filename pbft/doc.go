// Package pbft is Practical Byzantine Fault Tolerance (Castro and Liskov,
// OSDI 1999), the normal case of its sections 4.2 and 4.3 with the
// batching of section 5.1, for the chapter's section 5 ("Byzantine
// failure"): n = 3f+1 replicas agree on the order of client requests
// although f of them lie.
//
// A client (protocol pbft-client) sends a request with a timestamp to
// every replica (see authentic, below), again when no answer came in time.
// The primary (replica view mod n, in the roster's order) queues it,
// assigns the queued requests a sequence number as one batch and
// multicasts a pre-prepare; every backup that accepts it multicasts a
// prepare. A replica is prepared for (view, seq, digest) once it holds
// the pre-prepare and 2f prepares from backups (its own included) that
// match it; it then multicasts a commit, and is committed-local once a
// quorum (2f+1 at n = 3f+1; ⌈(n+f+1)/2⌉ in general) of matching commits
// (its own included) arrived. The digest is the batch's (BatchDigest,
// over its encoded bytes), so every vote is for the whole batch.
// It executes committed batches in sequence order, each batch's requests
// in order, notes each request executed as "decide" with "slot" (the
// sequence number), "index" (its place in the batch), "value" (the
// request's digest) and "batch" (the batch's digest), which the
// byzantine-agreement checker (package agreement) judges per (slot,
// index), and replies to the client, which accepts a result once f+1
// replicas sent the same one. A request whose client already had a reply
// for that timestamp or a later one is not answered again.
//
// Batching (section 5.1; Castro's thesis, section 5.1.4): the primary
// starts a batch only while fewer than option inflight (2) batches are
// ordered and not executed, and the window has room; the requests that
// arrive meanwhile wait in its queue (at most one per client of the
// roster: its newest) and go, oldest first, into the next batch, up to
// option batch (64; at most MaxBatch) requests and a byte bound that
// keeps a view-change of a whole window of batches within the message
// size bound. Under load batches form by themselves; with one client a
// batch holds one request. batch=1 (inflight then defaults to the whole
// window) is the protocol before batching, one request per sequence
// number.
//
// Every K sequence numbers (option checkpoint) a replica multicasts a
// checkpoint of its state digest; 2f+1 matching ones make it stable, and
// the log below it is dropped. Every structure is bounded: the log holds
// the sequence numbers of one window (option window) above the stable
// checkpoint, each entry one batch and at most one prepare and one commit
// per replica, the checkpoint votes one per replica per checkpoint of the
// window, the reply cache one reply per client of the roster, the
// primary's queue one request per client of the roster; a request waits
// in the queue while the window is full.
//
// Links are authenticated: the simulator's (wire mode, `network:
// {authenticated: true}`: an HMAC per pair of nodes over the encoded
// bytes, or with `auth: ed25519` a signature, sim/auth.go) stand for
// PBFT's MAC authenticators, and live links are mutual TLS, so a forged
// sender is refused at the link and a replica trusts the sender the
// runtime names. Two simplifications follow from that: a commit carries
// the batch rather than only its digest (the receiver computes the
// digest), and backups do not relay a client's request to the primary
// (the client sends it to every replica itself). A link proves the sender
// to the receiver only, so the votes a replica must show a third are
// also signed (ordo.Signer; certificates.go): pre-prepares, prepares and
// checkpoints carry their sender's signature over what they state,
// verified on receipt (bad-signature). The simulator signs with keys from
// the seed (ed25519 under `auth: ed25519`, else a keyed hash only it can
// compute), a live node with its TLS certificate's key.
//
// View change (section 4.4, viewchange.go): a backup that receives a
// client's request directly and does not see it executed within
// view_timeout moves to the next view and multicasts a view-change with
// its stable checkpoint and the batches it prepared above it, each with
// its certificate — the signed pre-prepare and 2f signed prepares, and
// for the stable checkpoint 2f+1 signed checkpoints — and a replica
// refuses a view-change whose certificates do not verify
// (bad-certificate, CheckViewChange); a replica
// that sees f+1 view-changes for higher views joins the smallest. The new
// primary, with 2f+1 view-changes (its own included), re-proposes at each
// sequence number above the highest stable checkpoint the batch prepared
// in the highest view, at the same sequence number, or a null request
// (the empty batch, noted "decide" with "noop"), in a new-view naming the
// view-changes it used and signing the pre-prepare of each batch it
// re-proposes; each backup recomputes that from the view-changes it
// received itself from the same replicas and installs the view only if
// they match. A replica that executed a slot the new view re-proposes
// votes for it again (the batch it executed, nothing else), so that the
// replicas that had not executed it reach their quorum, and asks for the
// votes it lacks until it committed it in the new view (pending). A
// batch a replica prepared in an earlier view binds it until a new-view
// it checked says otherwise: a replica that joined a view by vouchers
// (below) refuses a pre-prepare of another batch there. A view that does not start within twice the
// timeout (doubled per failed view) gives way to the next; that timer
// starts only once 2f+1 view-changes for the view are in (section
// 4.5.2), so a replica that alone suspects the primary waits for the
// others instead of running ahead through views they will not join.
//
// Roles: a replica notes its role as the election package's protocols
// do (election.NoteLeader for the primary of the view it installed,
// NoteFollower naming the primary for a backup, or no leader while it
// changes view; the view is the term), so a live node's status names the
// primary as leader and a fault aimed at `leader` strikes the primary
// (Leads; the pbft-4-primary-crash scenario, in the simulator and live).
//
// Retransmission (retransmit.go; Castro's thesis, section 5.2): every
// message is sent once, and the network loses some. On a timer (option
// retransmit, 100ms) a replica changing view resends its view-change,
// verbatim, until the view is installed; a replica that installed a
// later view answers a view-change or status of an older one with its own
// view-change for it and, as its primary, the new-view, so a replica that
// missed a view change catches up; and a replica that executed nothing
// for a tick while something is pending multicasts a status (view, stable
// checkpoint, last executed), which the others answer with the
// pre-prepares, prepares, commits and checkpoints of that view they hold
// above its stable checkpoint — the same messages again, never a second,
// different one for a slot. A catch-up is never answered, and one peer's
// statuses and stale view-changes are answered at most answerBudget
// times a tick, so a liar costs in proportion to time, not to what it
// sends. A replica that keeps asking while nothing changes (its
// statuses, its view-change resent) backs off after askPatience (8) asks
// a tick: 2, 4, ... ticks apart, up to 1.6 s (0.4 s while it changes
// view), and every tick again once something moves (askBackoff); the
// once-a-second status of a replica changing view is never backed off. Bounded: one
// status or view-change per replica per tick, an answer at most one
// window. After restarts, a
// replica keeps (durable) the view-change it sent for the view it
// installed and for views it moved past, and answers a view-change for
// one of them with it and with its current one, so replicas split
// between views meet again; a replica whose stable checkpoint lags takes
// the others' proof of a later one (onStableProof) when its own state
// there is the one signed; a backup holding an uncommitted slot of its
// view for twice the view timeout, executing nothing, suspects the
// primary (stalled); and a status from a replica of its view behind it
// makes a replica ask, at its next tick, when it lacks pre-prepares that
// replica may need (behind). The pbft-4-loss
// scenario (15% loss, the primary silent) completes every request;
// without retransmission it stalled on every seed tried.
//
// Refusals (refuse.go): a message a replica will not take — of a stale or
// not yet installed view, outside the window, with a digest that is not
// its request's, from the wrong sender for its role, a second vote for a
// slot that differs from the sender's first, a new-view the view-changes
// do not give, the same message again (a retransmission or a replay), a
// status or stale view-change beyond the answerBudget (4) a replica
// answers one peer per tick (rate-limited) — is
// dropped and counted by reason in State (refused, refused_by), with a
// note "refused" at the 1st, 2nd, 4th, 8th... of each reason. A forged
// sender and a malformed message never reach it: the link's MAC and the
// decoder refuse them (sim.Stats.AuthFailed, Malformed; FuzzDecode checks
// the decoder never panics).
//
// A backup prepares a batch only if it is authentic: every request in it
// came to this replica from its client itself (the authenticated link
// stands for the client's signature), or f+1 other replicas prepared or
// committed the batch (one of them correct). So a batch a lying primary padded with one
// forged request is prepared by no correct replica, and none of its
// requests commits; the sequence number stalls until a view change
// replaces the primary, and the genuine requests are ordered again when
// their clients resend them.
//
// For the adversary and the checkers: every message type implements
// sim.Equivocator (the lies of an equivocating replica, below: a forged
// batch, every request in it forged; a colluding primary,
// PrePrepare.Collude, tells odd-numbered backups a batch of another
// genuine request instead); PrePrepare, Prepare and Commit implement
// sim.Voter (the replica that votes for everything answers each with a
// prepare and a commit for the batch heard and for a forged one, which no
// correct replica pre-prepared and so never makes a quorum); and PrePrepare, Prepare, Commit, Checkpoint,
// ViewChange and NewView implement agreement.Slotted, one message per
// view and sequence number, which the equivocation checker reads from the
// messages sent to name a replica that sent two different ones.
//
// The service (service.go): a request whose operation starts with
// KVPrefix is a command of the kv database's machine (kv.Machine),
// applied in sequence-number order on every replica and answered with the
// machine's result; any other operation changes only the state digest,
// which is its result. Live, clients outside the roster (client ids >=
// ExternalBase) reach a replica through its client API (package
// pbft/clientapi): the request arrives from a gateway id, and the replica
// answers that gateway when it executes it; the API's Go client sends it
// to every replica and accepts f+1 matching replies.
//
// State transfer (statetransfer.go; section 4.3): a checkpoint signs
// the digest of the replica's snapshot (the chain of executed requests,
// the client reply table, the kv machine), so a stable checkpoint
// certifies a state. A replica behind the others' stable checkpoint — it
// lost what it needed and the others garbage-collected it, or it
// restarted from an older checkpoint than theirs — asks with a status, and a replica past it answers with the
// checkpoint, its 2f+1 signed checkpoints and the snapshot, which it
// restores once they verify. A replica that suspects the primary alone
// changes view and votes no more in the view it left, but keeps up: its
// status (changing) is answered with the others' commits, it executes
// what 2f+1 commit in any view it left or skipped (adoptCommitted) and
// restores their stable checkpoints, and it rejoins at the next view
// change; a replica joins a view f+1 replicas say they
// installed. A request ordered again is a no-op (exactly once).
//
// What that leaves out: the read-only optimisation; the MAC-only view
// change of Castro's thesis (chapter 3: view-changes acknowledged instead
// of signed certificates); a state larger than MaxSnapshot (PBFT's
// partition tree fetches only the parts that differ).
// The deliberately broken option unsafe_trust_view_changes believes
// view-changes without their certificates, for the test that shows what
// they stop (a liar's claim reorders a genuine request into a slot where
// another committed). With n < 3f+1
// the replica refuses to start unless option unsafe_quorum sets the
// quorum by hand (the pbft-3-unsafe scenario: with 3 replicas and quorums
// of 2, an equivocating primary makes two correct replicas execute
// different requests at one sequence number).
//
//	ordo sim pbft-4-loss
//	ordo sim pbft-4-primary --diagram
//	ordo sim pbft-4 --diagram
//	ordo sim pbft-3-unsafe
package pbft
