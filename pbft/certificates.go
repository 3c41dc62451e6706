package pbft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"ordo"
)

// Certificates (Castro and Liskov, OSDI 1999, sections 4.4 and 4.5): a
// view-change is believed only as far as it proves. Each prepared batch it
// claims carries the pre-prepare of that view's primary and the prepares of
// Q-1 other replicas, all signed (ordo.Signer), and its stable checkpoint
// carries Q signed checkpoints; a correct replica refuses a view-change
// whose certificates do not verify (bad-certificate). Without them one
// liar's view-change could name a forged batch for a sequence number — one
// prepared in a later view, or one whose digest wins a tie — or a stable
// checkpoint no quorum reached, and the new primary would re-propose the
// forgery or skip a slot that committed. With them a claim needs Q-1
// backups' prepares, and any Q share a correct replica that prepared only
// one batch for that slot and view.
//
// Votes are signed when cast and verified when received (a prepare,
// pre-prepare or checkpoint whose signature is not its sender's is
// refused, bad-signature), so a certificate holds only signatures that
// verify. Links stay authenticated as before (MACs in the simulator, TLS
// live); the signature is what a replica can show a third. Commits are
// not signed: no certificate holds them.

// Endorsement is one replica's signature in a certificate.
type Endorsement struct {
	From ordo.NodeID
	Sig  []byte
}

// Certificate proves a batch prepared at (view, seq): the primary's
// signed pre-prepare and the signed prepares of distinct backups.
type Certificate struct {
	PrePrepare []byte
	Prepares   []Endorsement
}

func validEndorsements(es []Endorsement) error {
	if len(es) > MaxReplicas {
		return errors.New("too many endorsements")
	}
	for _, e := range es {
		if e.From < 0 || len(e.Sig) > ordo.MaxSignature {
			return errors.New("malformed endorsement")
		}
	}
	return nil
}

func (c Certificate) validate() error {
	if len(c.PrePrepare) > ordo.MaxSignature {
		return errors.New("signature too long")
	}
	return validEndorsements(c.Prepares)
}

// statement is what a vote signs: a domain string naming the vote's kind
// (so a prepare's signature cannot pass as a pre-prepare's), then view,
// sequence number and digest, length-prefixed.
func statement(kind string, view, seq int64, digest string) []byte {
	b := make([]byte, 0, len(kind)+2*binary.MaxVarintLen64+len(digest)+2)
	b = append(b, kind...)
	b = append(b, 0)
	b = binary.AppendVarint(b, view)
	b = binary.AppendVarint(b, seq)
	b = binary.AppendUvarint(b, uint64(len(digest)))
	return append(b, digest...)
}

// PrePrepareStatement is what the primary of view signs to assign the
// batch of digest to seq.
func PrePrepareStatement(view, seq int64, digest string) []byte {
	return statement("pbft pre-prepare", view, seq, digest)
}

// PrepareStatement is what a backup signs to prepare it.
func PrepareStatement(view, seq int64, digest string) []byte {
	return statement("pbft prepare", view, seq, digest)
}

// CheckpointStatement is what a replica signs for its state digest state
// after executing seq.
func CheckpointStatement(seq int64, state string) []byte {
	return statement("pbft checkpoint", 0, seq, state)
}

// Resign implements adversary.Signed: the pre-prepare signed by sign.
func (p PrePrepare) Resign(sign func([]byte) []byte) ordo.Message {
	p.Sig = sign(PrePrepareStatement(p.View, p.Seq, p.Digest))
	return p
}

// Resign implements adversary.Signed.
func (p Prepare) Resign(sign func([]byte) []byte) ordo.Message {
	p.Sig = sign(PrepareStatement(p.View, p.Seq, p.Digest))
	return p
}

// Resign implements adversary.Signed.
func (c Checkpoint) Resign(sign func([]byte) []byte) ordo.Message {
	c.Sig = sign(CheckpointStatement(c.Seq, c.State))
	return c
}

// Resign implements adversary.Signed: each re-proposed batch's
// pre-prepare signed by sign.
func (n NewView) Resign(sign func([]byte) []byte) ordo.Message {
	n.Sigs = make([][]byte, len(n.Digests))
	for i, d := range n.Digests {
		n.Sigs[i] = sign(PrePrepareStatement(n.View, n.Stable+1+int64(i), d))
	}
	return n
}

// endorsedBy counts the distinct servers of es, other than skip, whose
// signature over b verifies.
func endorsedBy(s ordo.Signer, servers []ordo.NodeID, skip ordo.NodeID, es []Endorsement, b []byte) int {
	seen := make([]ordo.NodeID, 0, len(es))
	for _, e := range es {
		if e.From == skip || !slices.Contains(servers, e.From) || slices.Contains(seen, e.From) {
			continue
		}
		if s.Verify(e.From, b, e.Sig) {
			seen = append(seen, e.From)
		}
	}
	return len(seen)
}

// CheckViewChange reports what in vc does not prove what it claims, with
// quorum q among servers: a stable checkpoint above 0 needs q servers'
// signed checkpoints of its state, and each prepared claim its view's
// primary's signed pre-prepare and q-1 other servers' signed prepares,
// for the claim's batch digest, in a view before vc's. Nil when all
// verify.
func CheckViewChange(s ordo.Signer, servers []ordo.NodeID, q int, vc ViewChange) error {
	if vc.Stable > 0 {
		if got := endorsedBy(s, servers, 0, vc.StableProof, CheckpointStatement(vc.Stable, vc.StableState)); got < q {
			return fmt.Errorf("stable checkpoint %d: %d valid signed checkpoints, want %d", vc.Stable, got, q)
		}
	}
	for _, c := range vc.Prepared {
		if c.View >= vc.View {
			return fmt.Errorf("sequence number %d: prepared in view %d, not before view %d", c.Seq, c.View, vc.View)
		}
		d := BatchDigest(c.Reqs)
		primary := Primary(servers, c.View)
		if !s.Verify(primary, PrePrepareStatement(c.View, c.Seq, d), c.Cert.PrePrepare) {
			return fmt.Errorf("sequence number %d: no pre-prepare of %s signed by view %d's primary %v", c.Seq, d, c.View, primary)
		}
		if got := endorsedBy(s, servers, primary, c.Cert.Prepares, PrepareStatement(c.View, c.Seq, d)); got < q-1 {
			return fmt.Errorf("sequence number %d: %d valid signed prepares of %s, want %d", c.Seq, got, d, q-1)
		}
	}
	return nil
}

// certificate is entry e's prepared certificate: its pre-prepare
// signature and Q-1 backups' signed prepares of its digest, lowest ids
// first.
func (r *Replica) certificate(e *entry) Certificate {
	c := Certificate{PrePrepare: e.ppSig, Prepares: endorsements(e.prepares, e.prepSigs, e.digest, r.qs.Q-1)}
	if e.ppSig == nil || len(c.Prepares) < r.qs.Q-1 {
		// Every vote an entry counts was verified or signed here: a gap
		// is a bug, and a view-change without it would be refused.
		panic(fmt.Sprintf("pbft: prepared (%d, %s) with an incomplete certificate: pre-prepare signed %v, %d of %d prepares", e.view, e.digest, e.ppSig != nil, len(c.Prepares), r.qs.Q-1))
	}
	return c
}

// stableProof is the signed checkpoints that made seq stable with state:
// Q of them, lowest ids first.
func (r *Replica) stableProof(seq int64, state string) []Endorsement {
	return endorsements(r.ckpts[seq], r.ckSigs[seq], state, r.qs.Q)
}

// endorsements are the signatures (sigs, by voter) of at most k voters
// whose vote in votes is want, lowest ids first.
func endorsements(votes map[ordo.NodeID]string, sigs map[ordo.NodeID][]byte, want string, k int) []Endorsement {
	ids := make([]ordo.NodeID, 0, len(votes))
	for id, v := range votes {
		if v == want && sigs[id] != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]Endorsement, 0, min(len(ids), k))
	for _, id := range ids[:min(len(ids), k)] {
		out = append(out, Endorsement{From: id, Sig: sigs[id]})
	}
	return out
}
