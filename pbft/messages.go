package pbft

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"

	"ordo"
)

// Bounds of every message field (TIGER_STYLE: a bound on everything).
const (
	// MaxOp bounds a request's operation, in bytes.
	MaxOp = 256
	// MaxView and MaxSeq bound views and sequence numbers: a message
	// claiming more is refused by the decoder.
	MaxView = 1 << 40
	MaxSeq  = 1 << 48
	// DigestLen is the length of a digest in hex characters.
	DigestLen = 16
	// maxDigest bounds a digest or state field on the wire.
	maxDigest = 64
	// MaxBatch bounds the requests of one batch (option batch; a
	// pre-prepare, a commit, a view-change's claim): the decoder refuses
	// more.
	MaxBatch = 1024
)

// Request is a client's operation, ⟨REQUEST, o, t, c⟩: Timestamp orders
// one client's requests (exactly-once execution).
type Request struct {
	Timestamp int64
	Client    ordo.NodeID
	Op        string
}

// Kind implements ordo.Message.
func (Request) Kind() string { return "request" }

// Validate implements ordo.Validator.
func (r Request) Validate() error {
	switch {
	case r.Timestamp < 0:
		return errors.New("negative timestamp")
	case r.Client < 0:
		return errors.New("negative client")
	case len(r.Op) > MaxOp:
		return errors.New("operation too long")
	}
	return nil
}

// Digest is D(m): the first DigestLen hex characters of SHA-256 over the
// request's fields.
func Digest(r Request) string {
	var b [2 * binary.MaxVarintLen64]byte
	n := binary.PutVarint(b[:], r.Timestamp)
	n += binary.PutVarint(b[n:], int64(r.Client))
	h := sha256.New()
	h.Write(b[:n])
	h.Write([]byte(r.Op))
	return hex.EncodeToString(h.Sum(nil))[:DigestLen]
}

// BatchDigest is D(m) of a batch (Castro and Liskov, OSDI 1999, section
// 5.1, batching): the first DigestLen hex characters of SHA-256 over the
// batch's encoded bytes — the count, then each request's timestamp,
// client and operation, length-prefixed, so two different batches (in
// content, order or length) have different bytes. The empty batch is the
// null request of a new view (section 4.4).
func BatchDigest(reqs []Request) string {
	h := sha256.New()
	var b [3 * binary.MaxVarintLen64]byte
	h.Write(b[:binary.PutUvarint(b[:], uint64(len(reqs)))])
	for _, r := range reqs {
		n := binary.PutVarint(b[:], r.Timestamp)
		n += binary.PutVarint(b[n:], int64(r.Client))
		n += binary.PutUvarint(b[n:], uint64(len(r.Op)))
		h.Write(b[:n])
		h.Write([]byte(r.Op))
	}
	return hex.EncodeToString(h.Sum(nil))[:DigestLen]
}

// validBatch checks a batch's bound and each of its requests.
func validBatch(reqs []Request) error {
	if len(reqs) > MaxBatch {
		return errors.New("batch too large")
	}
	for _, r := range reqs {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// ForgeBatch is the batch an equivocating replica substitutes for reqs:
// every request forged (Forge), so a different digest, and none a client
// sent.
func ForgeBatch(reqs []Request) []Request {
	out := make([]Request, len(reqs))
	for i, r := range reqs {
		out[i] = Forge(r)
	}
	return out
}

// Forge is the request an equivocating replica substitutes for r: same
// client and timestamp, a different operation, so a different digest. No
// client sent it (the validity checker names it).
func Forge(r Request) Request {
	op := "forged:" + r.Op
	if len(op) > MaxOp {
		op = op[:MaxOp]
	}
	r.Op = op
	return r
}

// lies reports whether an equivocating sender lies to recipient to: the
// odd-numbered ones hear the lie, the even-numbered ones the truth (with
// 3 replicas and primary 1: replica 2 hears the truth, replica 3 the lie).
func lies(to ordo.NodeID) bool { return to%2 == 1 }

// PrePrepare is ⟨⟨PRE-PREPARE, v, n, d⟩, m⟩ with batching (section 5.1):
// the primary of view View assigns sequence number Seq to the batch Reqs
// (one or more requests, executed in order) of digest Digest
// (BatchDigest).
type PrePrepare struct {
	View   int64
	Seq    int64
	Digest string
	Reqs   []Request
	Sig    []byte // the primary's signature over PrePrepareStatement (certificates.go)
}

// Kind implements ordo.Message.
func (PrePrepare) Kind() string { return "pre-prepare" }

// Validate implements ordo.Validator.
func (p PrePrepare) Validate() error {
	if err := validVS(p.View, p.Seq); err != nil {
		return err
	}
	if len(p.Digest) > maxDigest {
		return errors.New("digest too long")
	}
	if len(p.Sig) > ordo.MaxSignature {
		return errors.New("signature too long")
	}
	return validBatch(p.Reqs)
}

// Equivocate implements sim.Equivocator: the conflicting pre-prepares of a
// faulty primary. An odd-numbered backup is told a forged batch (every
// request forged) for the same sequence number, with its matching digest;
// an even-numbered one the truth.
func (p PrePrepare) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if !lies(to) {
		return p
	}
	p.Reqs = ForgeBatch(p.Reqs)
	p.Digest = BatchDigest(p.Reqs)
	return p
}

// Collude implements sim.Colluder: the conflicting pre-prepares of a
// faulty primary that orders two genuine requests differently. An
// odd-numbered backup is told, at this sequence number, a batch of
// another request a client really sent (the newest the liars heard that is
// not in the batch); replicas prepare only batches whose every request they
// heard from its client (Replica.authentic), so a forged one would be
// refused. With no other request known yet (the first one) it tells the
// truth: a refused forgery would only stall the liars' own split at that
// sequence number.
func (p PrePrepare) Collude(to ordo.NodeID, r *rand.Rand, known func(func(ordo.Message, ordo.NodeID) bool)) ordo.Message {
	if !lies(to) {
		return p
	}
	var other *Request
	known(func(m ordo.Message, _ ordo.NodeID) bool {
		if q, is := m.(Request); is && !slices.Contains(p.Reqs, q) {
			other = &q
			return false
		}
		return true
	})
	if other == nil {
		return p
	}
	p.Reqs = []Request{*other}
	p.Digest = BatchDigest(p.Reqs)
	return p
}

// Prepare is ⟨PREPARE, v, n, d, i⟩ (i is the authenticated sender).
type Prepare struct {
	View   int64
	Seq    int64
	Digest string
	Sig    []byte // the sender's signature over PrepareStatement (certificates.go)
}

// Kind implements ordo.Message.
func (Prepare) Kind() string { return "prepare" }

// Validate implements ordo.Validator.
func (p Prepare) Validate() error {
	if err := validVS(p.View, p.Seq); err != nil {
		return err
	}
	if len(p.Digest) > maxDigest {
		return errors.New("digest too long")
	}
	if len(p.Sig) > ordo.MaxSignature {
		return errors.New("signature too long")
	}
	return nil
}

// Equivocate implements sim.Equivocator: an odd-numbered replica is told
// the digest of a forged batch.
func (p Prepare) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) {
		p.Digest = "f" + p.Digest
	}
	return p
}

// Collude implements sim.Colluder: coordinated liars. An equivocating
// backup's prepare names, to each replica, the digest of the request the
// primary pre-prepared to that very replica at this view and sequence
// number (found in the liars' book), so it backs an equivocating
// primary's every version; without one in the book it lies as Equivocate
// does.
func (p Prepare) Collude(to ordo.NodeID, r *rand.Rand, known func(func(ordo.Message, ordo.NodeID) bool)) ordo.Message {
	reqs, ok := toldAt(p.View, p.Seq, to, known)
	if !ok {
		return p.Equivocate(to, r)
	}
	p.Digest = BatchDigest(reqs)
	return p
}

// toldAt is the batch pre-prepared at (view, seq) to replica to, as the
// liars' book has it (for the primary itself, what it pre-prepared: the
// book has its own message under its own id); else the newest
// pre-prepare at (view, seq) the book holds (an honest primary's, which
// told everyone the same).
func toldAt(view, seq int64, to ordo.NodeID, known func(func(ordo.Message, ordo.NodeID) bool)) (reqs []Request, ok bool) {
	var newest []Request
	after := 0 // entries read since the newest pre-prepare at (view, seq)
	known(func(m ordo.Message, rcpt ordo.NodeID) bool {
		if newest != nil {
			after++
		}
		pp, is := m.(PrePrepare)
		switch {
		case !is || pp.View != view || pp.Seq != seq:
			// A primary books its pre-prepares of one sequence number
			// together: far past them, the one for to is not there.
			return after < toldWithin
		case rcpt == to:
			reqs, ok = pp.Reqs, true
			return false
		case newest == nil:
			newest = pp.Reqs
		}
		return true
	})
	if !ok && newest != nil {
		return newest, true
	}
	return reqs, ok
}

// toldWithin is how far past the newest pre-prepare of a sequence number
// toldAt looks for the one told to a given replica (the entries of one
// multicast: two each for up to 32 replicas).
const toldWithin = 64

// Commit is ⟨COMMIT, v, n, D(m), i⟩. It carries the batch itself, not
// only its digest (the receiver computes D(m)): see the package comment.
type Commit struct {
	View int64
	Seq  int64
	Reqs []Request
}

// Kind implements ordo.Message.
func (Commit) Kind() string { return "commit" }

// Validate implements ordo.Validator.
func (c Commit) Validate() error {
	if err := validVS(c.View, c.Seq); err != nil {
		return err
	}
	return validBatch(c.Reqs)
}

// Equivocate implements sim.Equivocator: an odd-numbered replica is told
// the commit of the forged batch, so a liar backs the lie its pre-prepare
// told.
func (c Commit) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) {
		c.Reqs = ForgeBatch(c.Reqs)
	}
	return c
}

// Collude implements sim.Colluder: the commit of the batch the primary
// pre-prepared to that replica (Prepare.Collude).
func (c Commit) Collude(to ordo.NodeID, r *rand.Rand, known func(func(ordo.Message, ordo.NodeID) bool)) ordo.Message {
	reqs, ok := toldAt(c.View, c.Seq, to, known)
	if !ok {
		return c.Equivocate(to, r)
	}
	c.Reqs = reqs
	return c
}

// Reply is ⟨REPLY, v, t, c, i, r⟩: Result is the replica's state digest
// after executing the request (equal at correct replicas).
type Reply struct {
	View      int64
	Timestamp int64
	Client    ordo.NodeID
	Result    string
}

// Kind implements ordo.Message.
func (Reply) Kind() string { return "reply" }

// Validate implements ordo.Validator.
func (r Reply) Validate() error {
	switch {
	case r.View < 0 || r.View > MaxView:
		return errors.New("view out of range")
	case r.Timestamp < 0:
		return errors.New("negative timestamp")
	case len(r.Result) > MaxResult:
		return errors.New("result too long")
	}
	return nil
}

// Equivocate implements sim.Equivocator: a wrong result to odd-numbered
// clients.
func (r Reply) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) {
		r.Result = "forged"
	}
	return r
}

// Checkpoint is ⟨CHECKPOINT, n, d, i⟩: the state digest after executing
// sequence number Seq.
type Checkpoint struct {
	Seq   int64
	State string
	Sig   []byte // the sender's signature over CheckpointStatement (certificates.go)
}

// Kind implements ordo.Message.
func (Checkpoint) Kind() string { return "checkpoint" }

// Validate implements ordo.Validator.
func (c Checkpoint) Validate() error {
	if err := validVS(0, c.Seq); err != nil {
		return err
	}
	if len(c.State) > maxDigest {
		return errors.New("state digest too long")
	}
	if len(c.Sig) > ordo.MaxSignature {
		return errors.New("signature too long")
	}
	return nil
}

// Equivocate implements sim.Equivocator: a wrong state digest to
// odd-numbered replicas.
func (c Checkpoint) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) {
		c.State = "f" + c.State
	}
	return c
}

func validVS(view, seq int64) error {
	switch {
	case view < 0 || view > MaxView:
		return errors.New("view out of range")
	case seq < 0 || seq > MaxSeq:
		return errors.New("sequence number out of range")
	}
	return nil
}

// Claim is one prepared batch a view-change reports: Reqs was prepared
// at sequence number Seq in view View, and Cert proves it (PBFT's P set;
// an empty batch is a null request).
type Claim struct {
	Seq  int64
	View int64
	Reqs []Request
	Cert Certificate
}

// ViewChange is ⟨VIEW-CHANGE, v+1, n, C, P, i⟩: the sender moves to view
// View; Stable is its stable checkpoint, StableState the state digest
// there and StableProof the quorum of signed checkpoints that made it
// stable (C; none at 0), Prepared what it prepared above it (P).
type ViewChange struct {
	View        int64
	Stable      int64
	StableState string
	StableProof []Endorsement
	Prepared    []Claim
}

// Kind implements ordo.Message.
func (ViewChange) Kind() string { return "view-change" }

// Validate implements ordo.Validator.
func (v ViewChange) Validate() error {
	if err := validVS(v.View, v.Stable); err != nil {
		return err
	}
	if len(v.Prepared) > MaxWindow {
		return errors.New("too many prepared claims")
	}
	if len(v.StableState) > maxDigest {
		return errors.New("state digest too long")
	}
	if err := validEndorsements(v.StableProof); err != nil {
		return err
	}
	for _, c := range v.Prepared {
		if err := validVS(c.View, c.Seq); err != nil {
			return err
		}
		if err := validBatch(c.Reqs); err != nil {
			return err
		}
		if err := c.Cert.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Equivocate implements sim.Equivocator: every replica is told the same
// lie — a split one could not count, as the new primary and its backups
// must agree on the view-changes they read — that only the certificates
// catch: a forged batch claimed prepared, in the view just before View,
// at the sequence number above every one the view-change claims (a slot
// no correct replica executed, so a new view that believed it would have
// every correct replica execute the forgery), with a certificate of real
// signatures moved from where they belong (the first honest claim's; a
// liar holds no other replica's key). A correct replica refuses the
// view-change (bad-certificate). (Believed, this forgery would still not
// execute: no client sent it, so no correct backup prepares it —
// Replica.authentic; a lie that reorders genuine requests is what the
// certificates alone stop: TestPBFTTrustingViewChangesOrdersTheLie.)
func (v ViewChange) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	top, forged := v.Stable, Request{Timestamp: 1, Client: to}
	var moved Certificate
	for _, c := range v.Prepared {
		top = max(top, c.Seq)
	}
	if len(v.Prepared) > 0 {
		moved = v.Prepared[0].Cert
		if len(v.Prepared[0].Reqs) > 0 {
			forged = v.Prepared[0].Reqs[0]
		}
	}
	if len(v.Prepared) >= MaxWindow || v.View < 1 || top >= MaxSeq {
		return v
	}
	v.Prepared = append(slices.Clone(v.Prepared), Claim{Seq: top + 1, View: v.View - 1, Reqs: []Request{Forge(forged)}, Cert: moved})
	return v
}

// NewView is ⟨NEW-VIEW, v+1, V, O⟩: the new primary names the 2f+1
// replicas whose view-changes it used (From, ascending), and the digests
// of the batches it re-proposes at Stable+1, Stable+2, ... (a null
// request, the empty batch, where nothing was prepared). Each backup recomputes them from
// the view-changes it received itself from those replicas (authenticated
// links) and installs the view only if they match.
type NewView struct {
	View    int64
	From    []ordo.NodeID
	Stable  int64
	Digests []string
	// Sigs are the new primary's pre-prepares of the batches it
	// re-proposes: its signature over PrePrepareStatement(View,
	// Stable+1+i, Digests[i]) for each i, so a certificate of the new
	// view has a pre-prepare to show for them.
	Sigs [][]byte
}

// Kind implements ordo.Message.
func (NewView) Kind() string { return "new-view" }

// Validate implements ordo.Validator.
func (n NewView) Validate() error {
	if err := validVS(n.View, n.Stable); err != nil {
		return err
	}
	if len(n.From) > MaxReplicas || len(n.Digests) > MaxWindow {
		return errors.New("too many replicas or slots")
	}
	for _, d := range n.Digests {
		if len(d) > maxDigest {
			return errors.New("digest too long")
		}
	}
	if len(n.Sigs) != len(n.Digests) {
		return errors.New("a signature for each digest, no more")
	}
	for _, sig := range n.Sigs {
		if len(sig) > ordo.MaxSignature {
			return errors.New("signature too long")
		}
	}
	return nil
}

// Equivocate implements sim.Equivocator: an odd-numbered replica is told
// no digests, which it refuses (a new primary that lies is replaced by
// the next view change).
func (n NewView) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) {
		n.Digests, n.Sigs = nil, nil
	}
	return n
}

// CatchUp is the answer to a replica that missed a view change: the
// sender's own view-change for the view it installed and, when it is that
// view's primary, its new-view. A separate kind so that it is never
// answered: a view-change for an installed view is answered with a
// catch-up, and two replicas that both installed the view would otherwise
// answer each other's answers forever (found by ordo bench bft -n 7 -f 3
// --replay 1: 85 000 events, two thirds of them such a ping-pong).
type CatchUp struct {
	VC    ViewChange
	HasNV bool
	NV    NewView
}

// Kind implements ordo.Message.
func (CatchUp) Kind() string { return "catch-up" }

// Validate implements ordo.Validator.
func (c CatchUp) Validate() error {
	if err := c.VC.Validate(); err != nil {
		return err
	}
	if !c.HasNV {
		if c.NV.View != 0 || c.NV.Stable != 0 || len(c.NV.From) > 0 || len(c.NV.Digests) > 0 || len(c.NV.Sigs) > 0 {
			return errors.New("a new-view where none is said to be")
		}
		return nil
	}
	if c.NV.View != c.VC.View {
		return errors.New("new-view and view-change of different views")
	}
	return c.NV.Validate()
}

// Equivocate implements sim.Equivocator: the parts lie as they would sent
// alone.
func (c CatchUp) Equivocate(to ordo.NodeID, rng *rand.Rand) ordo.Message {
	c.VC = c.VC.Equivocate(to, rng).(ViewChange)
	if c.HasNV {
		c.NV = c.NV.Equivocate(to, rng).(NewView)
	}
	return c
}

// votesFor is what a replica that votes for everything (sim's
// vote-for-everything behaviour) casts on hearing batch reqs at (view,
// seq): a prepare and a commit for it, and for the forged batch of the
// same clients and timestamps, a conflicting value no primary proposed.
func votesFor(view, seq int64, reqs []Request) []ordo.Message {
	forged := ForgeBatch(reqs)
	return []ordo.Message{
		Prepare{View: view, Seq: seq, Digest: BatchDigest(reqs)}, Commit{View: view, Seq: seq, Reqs: reqs},
		Prepare{View: view, Seq: seq, Digest: BatchDigest(forged)}, Commit{View: view, Seq: seq, Reqs: forged},
	}
}

// VotesFor implements sim.Voter: a prepare and a commit for the batch
// pre-prepared, whatever the liar's view or log, and for a conflicting
// one.
func (p PrePrepare) VotesFor(*rand.Rand) []ordo.Message { return votesFor(p.View, p.Seq, p.Reqs) }

// VotesFor implements sim.Voter: the digest heard, prepared back (the
// request behind it is unknown, so no commit).
func (p Prepare) VotesFor(*rand.Rand) []ordo.Message { return []ordo.Message{p} }

// VotesFor implements sim.Voter: a prepare and a commit for the batch
// committed, and for a conflicting one.
func (c Commit) VotesFor(*rand.Rand) []ordo.Message { return votesFor(c.View, c.Seq, c.Reqs) }

// Slot implements agreement.Slotted (the equivocation checker): one
// pre-prepare per view and sequence number.
func (p PrePrepare) Slot() (view, seq int64) { return p.View, p.Seq }

// Slot implements agreement.Slotted: one prepare per view and sequence
// number.
func (p Prepare) Slot() (view, seq int64) { return p.View, p.Seq }

// Slot implements agreement.Slotted: one commit per view and sequence
// number.
func (c Commit) Slot() (view, seq int64) { return c.View, c.Seq }

// Slot implements agreement.Slotted: one state digest per checkpoint.
func (c Checkpoint) Slot() (view, seq int64) { return 0, c.Seq }

// Slot implements agreement.Slotted: one view-change per view.
func (v ViewChange) Slot() (view, seq int64) { return v.View, 0 }

// Slot implements agreement.Slotted: one new-view per view.
func (n NewView) Slot() (view, seq int64) { return n.View, 0 }
