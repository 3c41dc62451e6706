// Package agreement is the agreement problem of the chapter's section 5
// ("Byzantine failure"): nodes each decide a value, and no two correct
// nodes may decide differently. A Byzantine node lies (node A tells B "the
// value is 5" and C "the value is 7"), and the simulator's adversary
// (sim.Config.Byzantine, issue 14) makes one lie deterministically from the
// seed.
//
// The checker byzantine-agreement reads decisions as notes, "decide" with a
// "value" and an optional "slot" (a sequence number: 0 when absent), and
// the liars from the trace's Meta.Byzantine: no two correct nodes decide
// different values for one slot. A protocol that orders batches (PBFT,
// section 5.1) notes each request of a batch with "index", its place in
// the batch, and "batch", the batch's digest: values are compared per
// (slot, index), and so are the batch digests, so two batches that share
// a request but differ elsewhere disagree too. Its violation names the two deciding
// events and the Byzantine nodes. The kv database's replicated-log checker
// is already called "agreement", hence the name, which is also the
// problem's (Lamport, Shostak and Pease 1982).
//
// validity: every value a correct node decides was proposed ("propose"
// notes; PBFT: only requests a client sent are executed). bft-liveness:
// every request a correct client proposed it also accepted ("accept").
//
// equivocation: no node sends two different messages of one kind for
// one slot (a message type names its slot by implementing Slotted), read
// from the bodies of the send events (sim.Config.KeepMessages); a
// finding names the node and both sends. The evidence a receiver could
// gather, where the trace's "byzantine" notes are the simulator's
// confession; a retransmission, the same message again, is none.
//
// agreement/naive is the chapter's figure: each node decides by the
// majority of what it heard, so one liar among three splits the others.
package agreement
