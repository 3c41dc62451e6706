package pbft

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"ordo"
	"ordo/kv"
	"ordo/rsm"
)

// State transfer (Castro and Liskov, OSDI 1999, section 4.3; Castro's
// thesis, section 5.3, without its partition tree): a replica that fell
// behind the others' stable checkpoint — the network lost what it needed
// and the others garbage-collected it, or it restarted empty — cannot
// execute its way back, so it fetches the state at that checkpoint.
//
// A checkpoint's digest is the digest of the replica's snapshot there
// (snapshotState: the chain of executed requests, the client reply table
// and the kv machine), so the 2f+1 signed checkpoints that made it stable
// certify the snapshot's bytes: a replica that answers a status from one
// that executed less than its stable checkpoint sends a StateTransfer —
// the checkpoint, its proof and the snapshot — and the receiver checks
// the proof's signatures and the snapshot's digest before it restores
// anything. One correct replica's answer suffices, and no liar can make
// a replica restore a state 2f+1 replicas did not sign. A snapshot over
// MaxSnapshot bytes is not sent (the replica that needs it stays behind:
// a partition tree fetching only what differs is not built).

// MaxSnapshot bounds a state transfer's snapshot, in bytes: it must fit
// one message.
const MaxSnapshot = ordo.MaxMessageSize / 2

// StateTransfer is the state at a stable checkpoint: Snap, whose digest
// is State, the state digest at sequence number Seq, proved by Proof's
// 2f+1 signed checkpoints.
type StateTransfer struct {
	Seq   int64
	State string
	Proof []Endorsement
	Snap  []byte
}

// Kind implements ordo.Message.
func (StateTransfer) Kind() string { return "state-transfer" }

// Validate implements ordo.Validator.
func (t StateTransfer) Validate() error {
	if err := validVS(0, t.Seq); err != nil {
		return err
	}
	if len(t.State) > maxDigest {
		return errors.New("state digest too long")
	}
	if len(t.Snap) > MaxSnapshot {
		return errors.New("snapshot too large")
	}
	return validEndorsements(t.Proof)
}

// Equivocate implements sim.Equivocator: an odd-numbered replica is sent
// the snapshot with one byte changed (its digest no longer the signed
// one: refused).
func (t StateTransfer) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) && len(t.Snap) > 0 {
		t.Snap = slices.Clone(t.Snap)
		t.Snap[len(t.Snap)/2] ^= 1
	}
	return t
}

// snapshotDigest is the digest a checkpoint signs: the first DigestLen
// hex characters of SHA-256 over the snapshot.
func snapshotDigest(snap []byte) string {
	h := sha256.Sum256(snap)
	return hex.EncodeToString(h[:])[:DigestLen]
}

const stateMagic = "pbftst1"

// snapshotState encodes what execution has made of this replica, the same
// bytes at every correct replica that executed the same requests:
//
//	"pbftst1" chain nclients {client ts result}* nexternal {client}* machine
//
// strings length-prefixed, numbers varints, clients ascending. A cached
// reply's view is left out (it is the view a replica executed in, which
// may differ); machine is the kv machine's snapshot.
func (r *Replica) snapshotState() []byte {
	ids := make([]ordo.NodeID, 0, len(r.clients))
	for id := range r.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := []byte(stateMagic)
	b = rsm.AppendString(b, r.state)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		lr := r.clients[id]
		b = binary.AppendVarint(b, int64(id))
		b = binary.AppendVarint(b, lr.ts)
		b = rsm.AppendString(b, lr.reply.Result)
	}
	b = binary.AppendUvarint(b, uint64(len(r.externals)))
	for _, id := range r.externals {
		b = binary.AppendVarint(b, int64(id))
	}
	if r.machine == nil {
		return rsm.AppendString(b, "")
	}
	return rsm.AppendString(b, string(r.machine.Snapshot()))
}

// restored is a decoded snapshot.
type restored struct {
	chain     string
	clients   map[ordo.NodeID]*lastReply
	externals []ordo.NodeID
	machine   *kv.Machine
}

// decodeState reads snapshotState's bytes with the snapshot reader every
// replicated machine uses (rsm.Reader: minimal varints, bounded counts
// and lengths).
func decodeState(b []byte) (restored, error) {
	var out restored
	if len(b) < len(stateMagic) || string(b[:len(stateMagic)]) != stateMagic {
		return out, errors.New("pbft snapshot: no " + stateMagic + " header")
	}
	d := rsm.NewReader(b[len(stateMagic):])
	out.chain = d.Str("chain", maxDigest)
	nc := d.Uvarint("client count", maxSnapClients)
	out.clients = make(map[ordo.NodeID]*lastReply, min(nc, uint64(d.Left())))
	prev := ordo.NodeID(-1)
	for i := uint64(0); i < nc && d.Err() == nil; i++ {
		id := ordo.NodeID(d.Varint("client", math.MaxInt64))
		ts := d.Varint("timestamp", math.MaxInt64)
		res := d.Str("result", MaxResult)
		if d.Err() == nil && id <= prev {
			d.Fail(errors.New("clients not ascending"))
		}
		prev = id
		out.clients[id] = &lastReply{ts: ts, reply: Reply{Timestamp: ts, Client: id, Result: res}}
	}
	ne := d.Uvarint("external count", MaxExternal)
	for i := uint64(0); i < ne && d.Err() == nil; i++ {
		out.externals = append(out.externals, ordo.NodeID(d.Varint("external client", math.MaxInt64)))
	}
	ms := d.Str("machine", MaxSnapshot)
	if d.Err() == nil && d.Left() != 0 {
		d.Fail(errors.New("trailing bytes"))
	}
	if d.Err() != nil {
		return restored{}, fmt.Errorf("pbft snapshot: %w", d.Err())
	}
	if ms != "" {
		idx, e := kv.SnapshotIndex([]byte(ms))
		if e != nil {
			return restored{}, e
		}
		m := kv.NewMachine(kv.DefaultMachineConfig)
		if e := m.Restore(idx, []byte(ms)); e != nil {
			return restored{}, e
		}
		out.machine = m
	}
	return out, nil
}

// onStateTransfer restores a stable checkpoint beyond what this replica
// executed, once its proof verifies and the snapshot is what the proof
// signs; the log and votes at and below it are dropped, and what was
// committed above it executes.
func (r *Replica) onStateTransfer(env ordo.Env, from ordo.NodeID, t StateTransfer) {
	if t.Seq <= r.low || t.Seq%r.k != 0 {
		r.refuse(env, from, t, reasonDuplicate) // nothing it lacks (or not a checkpoint)
		return
	}
	if t.Seq <= r.lastExec {
		r.onStableProof(env, from, t)
		return
	}
	if got := endorsedBy(r.signer, env.Roster().Servers, 0, t.Proof, CheckpointStatement(t.Seq, t.State)); got < r.qs.Q {
		r.refuse(env, from, t, reasonCertificate, fmt.Sprintf("state at %d: %d valid signed checkpoints, want %d", t.Seq, got, r.qs.Q))
		return
	}
	if snapshotDigest(t.Snap) != t.State {
		r.refuse(env, from, t, reasonDigest)
		return
	}
	st, err := decodeState(t.Snap)
	if err != nil {
		// 2f+1 replicas signed bytes this replica cannot read: a bug, not
		// a lie (a liar cannot get them signed). Refused, and noted why.
		r.refuse(env, from, t, reasonCertificate, err.Error())
		return
	}
	r.restore(env, t, st)
	put(env, keyStable, t) // durable.go
	if lr := r.clients[r.watch.client]; r.watch.active && lr != nil && lr.ts >= r.watch.ts {
		r.watch = watched{} // the request it watched executed in the state restored
	}
	r.transfers++
	env.Note(NoteStateTransfer, "seq", t.Seq, "from", int64(from), "bytes", len(t.Snap))
	r.executeCommitted(env)
	// Ask at once for what the others hold above the checkpoint: waiting
	// for the next tick, a replica restored one window behind a busy
	// cluster stays a window behind.
	if !r.changing {
		r.broadcast(env, Status{View: r.view, Stable: r.low, LastExec: r.lastExec})
	} else {
		r.behind = true // its tick asks the view it left (retransmit.go)
	}
}

// onStableProof takes the proof of a checkpoint this replica executed
// past but could not make stable itself: its own state there must be
// the one 2f+1 replicas signed. Votes for a checkpoint are resent only by
// the replicas that still hold them — the ones above it garbage-collected
// theirs, and a replica that restored its checkpoint by state transfer
// has no vote of its own to give — so a replica behind on checkpoints
// only (it executed as far as the others) could gather fewer than 2f+1
// for good, its window stuck below the others' sequence numbers: a
// fresh user's trial, n = 7 with a silent and an equivocating replica and
// restarts, every view failing from 10 s to the end.
func (r *Replica) onStableProof(env ordo.Env, from ordo.NodeID, t StateTransfer) {
	mine, ok := r.ckpts[t.Seq][env.ID()]
	if !ok || mine != t.State {
		r.refuse(env, from, t, reasonDigest) // not the state this replica reached there
		return
	}
	if got := endorsedBy(r.signer, env.Roster().Servers, 0, t.Proof, CheckpointStatement(t.Seq, t.State)); got < r.qs.Q {
		r.refuse(env, from, t, reasonCertificate, fmt.Sprintf("checkpoint %d: %d valid signed checkpoints, want %d", t.Seq, got, r.qs.Q))
		return
	}
	r.makeStable(env, t.Seq, mine, t.Proof)
}

// restore makes the stable checkpoint t, whose snapshot decodes to st,
// this replica's state: what it executed, its window and its log.
func (r *Replica) restore(env ordo.Env, t StateTransfer, st restored) {
	r.state, r.clients, r.externals, r.machine = st.chain, st.clients, st.externals, st.machine
	for c, lr := range r.clients {
		r.clients[c].reply.View = r.view
		r.assigned[c] = max(r.assigned[c], lr.ts)
	}
	r.lastExec, r.low = t.Seq, t.Seq
	r.stable = stableCheckpoint{state: t.State, proof: t.Proof, snap: t.Snap}
	r.seq = max(r.seq, t.Seq)
	r.lastTick = r.lastExec
	r.truncate(env, t.Seq)
}

// NoteStateTransfer is the note of a state restored from another replica.
const NoteStateTransfer = "state-transfer"

// maxSnapClients bounds the clients a snapshot's reply table holds: the
// external ones a replica caches and the roster's.
const maxSnapClients = MaxExternal + 1<<12

// outOfWindow refuses m, whose sequence number seq is outside the window;
// one above it says the others moved on past this replica's window, so it
// asks (a status: those whose stable checkpoint it has not executed
// answer with a state transfer).
func (r *Replica) outOfWindow(env ordo.Env, from ordo.NodeID, m ordo.Message, seq int64) {
	if seq > r.low+r.window {
		r.behind = true
	}
	r.refuse(env, from, m, reasonWindow)
}
