package pbft

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"ordo"
)

// Durable replica state. A replica restarted without what it voted for
// is faulty in PBFT's model until its state is back: restart the
// replicas one after another, with a little message loss so that
// catch-ups lag, and more than f of them have forgotten the same slots —
// a new view built from their view-changes re-ordered a decided slot,
// and correct replicas disagreed with no liar (a fresh user's trial;
// pbft/restarts_test.go). So a replica writes, in the event that casts
// it, what each of its votes commits it to, and the runtime's durability
// contract (a turn's sends leave after its writes are durable) keeps
// every vote behind its record:
//
//   - each sequence number's entry above the stable checkpoint, when this
//     replica pre-prepares, prepares or commits there: the view, the batch
//     and the primary's signature it accepted, its own prepare, and what it
//     prepared (the certificate its view-changes claim);
//   - the view-change it sent last and the new-view it sent last, resent
//     verbatim after a restart rather than computed again differently;
//   - the view it installed last, so that it comes back in that view
//     rather than changing to it again (below), and the view-changes it
//     sent for that view and the views it moved past since, which a
//     replica still changing to one of them may need;
//   - the stable checkpoint with its proof and snapshot, from which a
//     restarted replica starts instead of from nothing.
//
// What a replica only learned (others' votes, commits decided without
// its vote, executions above the checkpoint) is not written: it learns
// them again, as a replica behind does. Every record read back is checked
// as the message it came from would be (Validate) and refused as corrupt
// (ordo.Corrupt: the node stops and says which file) if it is not.

// Storage keys.
const (
	keyEntryPrefix = "pbft/entry/" // + 20-digit sequence number
	keyStable      = "pbft/stable"
	keySentVC      = "pbft/view-change"
	keySentNV      = "pbft/new-view"
	keyInstalled   = "pbft/installed"
	keyEarlierVC   = "pbft/earlier-view-change/" // + 20-digit view
)

func earlierKey(view int64) string { return fmt.Sprintf("%s%020d", keyEarlierVC, view) }

// maxEarlier bounds the earlier view-changes a replica keeps: views whose
// timeouts double, so several minutes of failed views at the default.
const maxEarlier = 8

// keepEarlier keeps vc, a view-change it sent for a view it moves past
// (the view it installed, or one it never installed), in memory and on
// disk; beyond maxEarlier the lowest view's is forgotten.
func (r *Replica) keepEarlier(env ordo.Env, vc ViewChange) {
	r.earlier[vc.View] = vc
	put(env, earlierKey(vc.View), vc)
	if len(r.earlier) > maxEarlier {
		lowest := vc.View
		for v := range r.earlier {
			lowest = min(lowest, v)
		}
		delete(r.earlier, lowest)
		env.Store().Delete(earlierKey(lowest))
	}
}

// forgetEarlier drops the earlier view-changes of views below the one
// installed (that one's is the installed view's, for catchUp): a replica
// that missed those view changes catches up to the installed view.
func (r *Replica) forgetEarlier(env ordo.Env) {
	for v := range r.earlier {
		if v < r.installed {
			delete(r.earlier, v)
		}
	}
	env.Store().DeleteRange(keyEarlierVC, earlierKey(r.installed))
}

// installedView is the view a replica installed last, as stored.
type installedView struct{ View int64 }

// Validate bounds the view as a message's.
func (v installedView) Validate() error {
	if v.View < 0 || v.View > MaxView {
		return fmt.Errorf("installed view %d out of range 0..%d", v.View, MaxView)
	}
	return nil
}

func entryKey(seq int64) string { return fmt.Sprintf("%s%020d", keyEntryPrefix, seq) }

// storedEntry is one sequence number's entry as written.
type storedEntry struct {
	Seq       int64
	View      int64     // the view of Reqs, PPSig and Prepare
	Digest    string    // BatchDigest(Reqs); "" with no pre-prepare accepted
	Reqs      []Request `json:",omitempty"`
	PPSig     []byte    `json:",omitempty"`
	Prepare   []byte    `json:",omitempty"`        // its own prepare's signature (nil: none sent in View)
	Commit    bool      `json:",omitempty"`        // its commit sent in View
	Certified bool      `json:"Vouched,omitempty"` // entry.certified (the name on disk is the earlier one)
	// What it prepared, in PView (PReqs nil: nothing).
	PView int64       `json:",omitempty"`
	PReqs []Request   `json:",omitempty"`
	PCert Certificate `json:",omitempty"`
}

// persist writes seq's entry (in the event that casts this replica's vote
// there, so that the vote leaves after it).
func (r *Replica) persist(env ordo.Env, seq int64, e *entry) {
	s := storedEntry{Seq: seq, View: e.view, Digest: e.digest, PPSig: e.ppSig, Commit: e.sentCommit, Certified: e.certified, PView: e.pView, PCert: e.pCert}
	if e.b != nil {
		s.Reqs = e.b.reqs
	}
	if e.pB != nil {
		s.PReqs = e.pB.reqs
	}
	if _, ok := e.prepares[env.ID()]; ok {
		s.Prepare = e.prepSigs[env.ID()]
	}
	put(env, entryKey(seq), s)
}

// forget deletes the entries at and below seq (a stable checkpoint).
func (r *Replica) forget(env ordo.Env, seq int64) {
	env.Store().DeleteRange(keyEntryPrefix, entryKey(seq+1))
}

func put(env ordo.Env, key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("pbft: %s cannot be encoded: %v", key, err)) // a bug
	}
	env.Store().Put(key, b)
}

// get reads the message stored under key into m, if there is one; one
// that does not decode or validate as the message put wrote stops the
// node as corrupt.
func get(env ordo.Env, key string, m interface{ Validate() error }) bool {
	b, ok := env.Store().Get(key)
	if !ok {
		return false
	}
	err := json.Unmarshal(b, m)
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		panic(ordo.Corrupt{Key: key, Err: err})
	}
	return true
}

// recoverState restores what a restarted replica wrote before (Start).
func (r *Replica) recoverState(env ordo.Env) {
	var t StateTransfer
	if get(env, keyStable, &t) {
		if t.Seq <= 0 || t.Seq%r.k != 0 || snapshotDigest(t.Snap) != t.State {
			panic(ordo.Corrupt{Key: keyStable, Err: fmt.Errorf("checkpoint %d is not one of every %d, or its snapshot not the one its digest names", t.Seq, r.k)})
		}
		s, err := decodeState(t.Snap)
		if err != nil {
			panic(ordo.Corrupt{Key: keyStable, Err: err})
		}
		r.restore(env, t, s)
	}
	voted := int64(0) // the highest view it voted in
	env.Store().Scan(keyEntryPrefix, keyEntryPrefix+"~", func(key string, b []byte) bool {
		s, err := parseEntry(key, b)
		if err != nil {
			panic(ordo.Corrupt{Key: key, Err: err})
		}
		seq := s.Seq
		if seq <= r.low {
			return true // below the checkpoint (its deletion and the checkpoint were one batch: not expected)
		}
		e := newEntry(s.View)
		if s.Reqs != nil || s.Digest != "" {
			e.b, e.digest, e.ppSig, e.certified = newBatch(s.Reqs), s.Digest, s.PPSig, s.Certified
		}
		if s.Prepare != nil {
			e.prepares[env.ID()], e.prepSigs[env.ID()] = s.Digest, s.Prepare
		}
		if s.Commit {
			e.sentCommit = true
			e.commits[env.ID()] = s.Digest
		}
		if s.PReqs != nil {
			e.pView, e.pB, e.pCert = s.PView, newBatch(s.PReqs), s.PCert
		}
		r.log[seq] = e
		r.seq = max(r.seq, seq)
		voted = max(voted, s.View)
		return true
	})
	if vc := new(ViewChange); get(env, keySentVC, vc) {
		r.sentVC = vc
	}
	if nv := new(NewView); get(env, keySentNV, nv) {
		r.sentNV = nv
		voted = max(voted, nv.View)
	}
	// A view it installed and cast no vote in that it still holds (its
	// log emptied by a stable checkpoint, or nothing ordered since): back
	// in it, not changing to it again. Changing, it waited for a new-view
	// or for 2f+1 view-changes of a view the others had left: restart every
	// correct replica in turn under a liar that is the view's primary,
	// and none of them could install it or move on (found live: a trial's
	// four replicas at one checkpoint, three of them changing for good).
	if iv := new(installedView); get(env, keyInstalled, iv) {
		voted = max(voted, iv.View)
	}
	// Back in the view it last voted in, or changing to the one its last
	// view-change named: never again in a view it left, where it could
	// vote otherwise than it did.
	r.view, r.installed = voted, voted
	if r.sentVC != nil && r.sentVC.View > voted {
		r.view, r.changing = r.sentVC.View, true
		r.keepViewChange(env.ID(), *r.sentVC)
	}
	// The view-changes it sent for the view it installed and for views it
	// moved past since (keepEarlier); older ones recovery drops.
	env.Store().Scan(keyEarlierVC, keyEarlierVC+"~", func(key string, b []byte) bool {
		vc := new(ViewChange)
		err := json.Unmarshal(b, vc)
		if err == nil {
			err = vc.Validate()
		}
		if err == nil && key != earlierKey(vc.View) {
			err = fmt.Errorf("holds the view-change of view %d", vc.View)
		}
		if err != nil {
			panic(ordo.Corrupt{Key: key, Err: err})
		}
		if vc.View >= r.installed && vc.View < r.view {
			r.earlier[vc.View] = *vc
		}
		return true
	})
	// The view-change it sent for the view it installed (for a replica
	// that missed that view change: catchUp), its last one or kept as
	// earlier when it moved on. Without it a primary restarted after its
	// new-view, or a replica restarted changing to the next view, answered
	// the replicas still changing to the installed view with nothing, and
	// they waited for good (a fresh user's trial, live and simulated).
	if r.sentVC != nil && r.sentVC.View == r.installed {
		r.installedVC = r.sentVC
	} else if vc, ok := r.earlier[r.installed]; ok {
		r.installedVC = &vc
	}
	// A primary back in the view of its last new-view assigned the new
	// view's slots there, whose entries it never wrote (the primary does
	// not prepare): it must not assign them again (found: a primary
	// restarted right after its new-view pre-prepared, in the same view,
	// another batch at the new-view's first slot).
	if r.sentNV != nil && r.sentNV.View == r.view && !r.changing {
		r.seq = max(r.seq, r.sentNV.Stable+int64(len(r.sentNV.Digests)))
	}
	r.prim = r.primary(env)
	if r.low > 0 || voted > 0 || r.sentVC != nil {
		env.Note("recovered", "view", r.view, "stable", r.low, "entries", len(r.log))
	}
}

// parseEntry reads the entry stored under key, refusing one persist
// did not write there.
func parseEntry(key string, b []byte) (storedEntry, error) {
	var s storedEntry
	seq, err := strconv.ParseInt(strings.TrimPrefix(key, keyEntryPrefix), 10, 64)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err == nil {
		err = s.check(seq)
	}
	return s, err
}

// check refuses a stored entry that is not one persist wrote for seq.
func (s storedEntry) check(seq int64) error {
	switch {
	case s.Seq != seq || seq <= 0 || seq > MaxSeq:
		return fmt.Errorf("entry %d under the key of %d", s.Seq, seq)
	case s.View < 0 || s.View > MaxView || s.PView < 0 || s.PView > s.View:
		return fmt.Errorf("views %d, %d out of bounds", s.View, s.PView)
	case (s.Prepare != nil || s.Commit) && s.Digest == "":
		return fmt.Errorf("a vote without a batch")
	}
	if s.Digest != "" {
		pp := PrePrepare{View: s.View, Seq: seq, Digest: s.Digest, Reqs: s.Reqs, Sig: s.PPSig}
		if err := pp.Validate(); err != nil {
			return err
		}
		if s.Digest != BatchDigest(s.Reqs) {
			return fmt.Errorf("batch digest")
		}
	}
	if s.PReqs != nil {
		vc := ViewChange{View: s.PView + 1, Prepared: []Claim{{Seq: seq, View: s.PView, Reqs: s.PReqs, Cert: s.PCert}}}
		if err := vc.Validate(); err != nil {
			return err
		}
	}
	return nil
}
