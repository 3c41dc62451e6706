package pbft

import (
	"slices"
	"time"

	"ordo"
	"ordo/election"
)

// Section 4.4, view changes: a backup that holds a client's request not
// executed after view_timeout suspects the primary and moves to the next
// view; the new primary, with 2f+1 view-changes, re-proposes every request
// prepared above the stable checkpoint (a null request where none was) in
// a new-view, and the view starts.

// maxViewsAhead bounds the views above the one a replica is in (or
// changing to) whose view-changes it keeps. Relative to that view, not
// to the last one installed: replicas whose new-views kept failing moved
// through more views than this without installing one, and a bound on
// the installed view then dropped every view-change, their own included,
// and they never changed view again (found by a new user: an outage that
// outlived its liars).
const maxViewsAhead = 8

// maxBackoff bounds the doubling of the view-change timeout.
const maxBackoff = 6

const (
	timerRequest = "request" // Arg: the watch generation
	timerView    = "view"    // Arg: the view being changed to
)

// watched is the client request a backup waits to see executed.
type watched struct {
	active bool
	client ordo.NodeID
	ts     int64
}

// watchRequest: a backup that receives a client's request directly
// (clients send each request to every replica) starts its timer, unless
// one runs.
func (r *Replica) watchRequest(env ordo.Env, m Request) {
	if r.changing || r.watch.active {
		return
	}
	r.gen++
	r.watch = watched{active: true, client: m.Client, ts: m.Timestamp}
	env.After(r.viewTimeout, ordo.Timer{Name: timerRequest, Arg: r.gen})
}

// Fire implements ordo.Node.
func (r *Replica) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case timerRequest:
		if t.Arg == r.gen && r.watch.active && !r.changing {
			r.startViewChange(env, r.view+1)
		}
	case timerView:
		if r.changing && t.Arg == r.view {
			r.startViewChange(env, r.view+1) // the new view did not start in time
		}
	case timerRetransmit:
		r.onRetransmit(env)
	}
}

// startViewChange moves to view v: stop taking part in the old one and
// multicast what was prepared above the stable checkpoint.
func (r *Replica) startViewChange(env ordo.Env, v int64) {
	if v <= r.view && r.changing || v <= r.installed || v > MaxView {
		return
	}
	if r.sentVC != nil && r.sentVC.View >= r.installed && r.sentVC.View < v {
		r.keepEarlier(env, *r.sentVC)
	}
	r.view, r.changing, r.prim = v, true, Primary(env.Roster().Servers, v)
	r.stalledTicks = 0
	for w := range r.vcs {
		if w < v {
			delete(r.vcs, w) // views it moved past: their view-changes count for nothing now
		}
	}
	r.watch = watched{}
	r.dropQueue()
	r.viewChanges++
	vc := ViewChange{View: v, Stable: r.low, StableState: r.stable.state, StableProof: r.stable.proof}
	seqs := make([]int64, 0, len(r.log))
	for s, e := range r.log {
		if e.pB != nil && s > r.low {
			seqs = append(seqs, s)
		}
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		e := r.log[s]
		vc.Prepared = append(vc.Prepared, Claim{Seq: s, View: e.pView, Reqs: e.pB.reqs, Cert: e.pCert})
	}
	env.Note("view-change", "view", v, "prepared", len(vc.Prepared))
	r.noteRole(env)
	r.keepViewChange(env.ID(), vc)
	r.sentVC = &vc          // resent verbatim until the view is installed (retransmit.go)
	put(env, keySentVC, vc) // and after a restart (durable.go)
	r.broadcast(env, vc)
	r.armViewTimer(env)
	r.tryNewView(env)
}

// armViewTimer starts the timer of the view being changed to once 2f+1
// view-changes for it are in, its own included (section 4.5.2): a replica
// that alone suspects the primary waits, resending its view-change, for
// the others rather than running ahead through views they will not join.
func (r *Replica) armViewTimer(env ordo.Env) {
	if !r.changing || r.armed == r.view || len(r.vcs[r.view]) < r.qs.Q {
		return
	}
	r.armed = r.view
	backoff := min(r.view-r.installed-1, maxBackoff)
	env.After(r.viewTimeout*time.Duration(int64(1)<<backoff)*2, ordo.Timer{Name: timerView, Arg: r.view})
}

// keepsViewChangesOf reports whether view-changes for view v are kept:
// above the view installed, from the view this replica is in or changing
// to, up to maxViewsAhead above it.
func (r *Replica) keepsViewChangesOf(v int64) bool {
	return v > r.installed && v >= r.view && v <= r.view+maxViewsAhead
}

func (r *Replica) keepViewChange(from ordo.NodeID, vc ViewChange) {
	if !r.keepsViewChangesOf(vc.View) {
		return
	}
	m := r.vcs[vc.View]
	if m == nil {
		m = map[ordo.NodeID]ViewChange{}
		r.vcs[vc.View] = m
	}
	if _, dup := m[from]; !dup {
		m[from] = vc
	}
}

// onViewChange takes a view-change (section 4.4): it answers one for a
// view it installed or moved past (within answerBudget), keeps one for a
// view it may join, and joins the smallest later view f+1 replicas
// change to.
func (r *Replica) onViewChange(env ordo.Env, from ordo.NodeID, vc ViewChange) {
	r.takeViewChange(env, from, vc, true)
}

// takeViewChange is onViewChange; answer is false for a catch-up's
// view-change, which is never answered (CatchUp): answered, a replica
// changing to a later view sent its view-changes back, which were
// answered with a catch-up again, for as long as it changed view (and
// for good when the view-changes were a liar's).
func (r *Replica) takeViewChange(env ordo.Env, from ordo.NodeID, vc ViewChange, answer bool) {
	if vc.View <= r.installed {
		// A view-change for a view this replica installed: the sender
		// missed the new-view (or the view-changes it names). Help it.
		if answer && r.mayAnswer(env, from, vc) {
			r.catchUp(env, from, vc.View, true)
		}
		return
	}
	if vc.View < r.view && answer && r.mayAnswer(env, from, vc) {
		// The sender still changes to a view this replica moved past
		// without installing it: its own view-change for that view, if
		// it sent one (the sender may never have had it, or lost it in a
		// restart, and without it waits for 2f+1 that will not come), and
		// the one for its view now (the sender joins it with f others).
		// Found by a fresh user's trial: two correct replicas restarted
		// changing to view 4, the third changing to 5, none moving again.
		if e, ok := r.earlier[vc.View]; ok {
			env.Send(from, e)
		}
		r.sendViewChangePast(env, from, vc.View)
	}
	if _, dup := r.vcs[vc.View][from]; dup {
		r.refuse(env, from, vc, reasonDuplicate) // resent: still read below, its view may need joining
	} else if r.keepsViewChangesOf(vc.View) && !r.trustViewChanges {
		if err := CheckViewChange(r.signer, env.Roster().Servers, r.qs.Q, vc); err != nil {
			r.refuse(env, from, vc, reasonCertificate, err.Error()) // a liar: it counts toward no view
			return
		}
	}
	r.keepViewChange(from, vc)
	r.armViewTimer(env)
	// f+1 replicas moving past this view: at least one correct one
	// suspects the primary, so join the smallest such view (section 4.5.2).
	if vc.View > r.view {
		var above []int64
		voters := map[ordo.NodeID]bool{}
		for v, m := range r.vcs {
			if v > r.view {
				for id := range m {
					voters[id] = true
				}
				above = append(above, v)
			}
		}
		if len(voters) >= r.qs.F+1 {
			r.startViewChange(env, slices.Min(above))
		}
	}
	r.tryNewView(env)
	if r.pendingNV != nil {
		r.onNewView(env, Primary(env.Roster().Servers, r.pendingNV.View), *r.pendingNV)
	}
}

// newViewSlots computes O from view-changes: above the highest stable
// checkpoint, each sequence number gets the batch prepared in the highest
// view (the smallest digest on a tie), or a null request (the empty
// batch). A prepared batch keeps its sequence number: it may have
// committed at some replica.
func newViewSlots(vcs []ViewChange) (stable int64, batches [][]Request) {
	for _, vc := range vcs {
		stable = max(stable, vc.Stable)
	}
	best := map[int64]Claim{}
	top := stable
	for _, vc := range vcs {
		for _, c := range vc.Prepared {
			if c.Seq <= stable || c.Seq > vc.Stable+MaxWindow {
				continue
			}
			b, ok := best[c.Seq]
			if !ok || c.View > b.View || c.View == b.View && BatchDigest(c.Reqs) < BatchDigest(b.Reqs) {
				best[c.Seq] = c
			}
			top = max(top, c.Seq)
		}
	}
	for s := stable + 1; s <= top; s++ {
		batches = append(batches, best[s].Reqs) // none: the null request
	}
	return stable, batches
}

func digests(batches [][]Request) []string {
	out := make([]string, len(batches))
	for i, b := range batches {
		out[i] = BatchDigest(b)
	}
	return out
}

// tryNewView: the new primary with 2f+1 view-changes for its view (its own
// included) sends the new-view and starts the view.
func (r *Replica) tryNewView(env ordo.Env) {
	if !r.changing || r.prim != env.ID() {
		return
	}
	m := r.vcs[r.view]
	if _, mine := m[env.ID()]; !mine || len(m) < r.qs.Q {
		return
	}
	from := make([]ordo.NodeID, 0, len(m))
	for id := range m {
		from = append(from, id)
	}
	slices.Sort(from)
	// Its own, then the lowest-numbered others: 2f+1 in all.
	from = slices.DeleteFunc(from, func(id ordo.NodeID) bool { return id == env.ID() })
	from = append([]ordo.NodeID{env.ID()}, from[:r.qs.Q-1]...)
	slices.Sort(from)
	vcs := make([]ViewChange, len(from))
	for i, id := range from {
		vcs[i] = m[id]
	}
	stable, batches := newViewSlots(vcs)
	nv := NewView{View: r.view, From: from, Stable: stable, Digests: digests(batches)}.Resign(r.signer.Sign).(NewView)
	r.sentNV = &nv // resent to a replica that asks for this view (retransmit.go)
	put(env, keySentNV, nv)
	r.broadcast(env, nv)
	r.install(env, stable, batches, nv.Sigs, true)
	r.propose(env)
}

// onNewView: a backup checks the new-view against the view-changes it
// received itself from the replicas named, and installs it if they give
// the same requests. One naming a view-change not received yet waits.
func (r *Replica) onNewView(env ordo.Env, from ordo.NodeID, nv NewView) {
	switch {
	case from != Primary(env.Roster().Servers, nv.View):
		r.refuse(env, from, nv, reasonSender)
		return
	case nv.View == r.installed:
		r.refuse(env, from, nv, reasonDuplicate) // the new-view this replica installed, again
		return
	case nv.View < r.installed || nv.View < r.view:
		r.refuse(env, from, nv, reasonStaleView)
		return
	case nv.View > r.view+maxViewsAhead:
		r.refuse(env, from, nv, reasonFutureView)
		return
	case len(nv.From) != r.qs.Q || !slices.IsSorted(nv.From) || len(slices.Compact(slices.Clone(nv.From))) != len(nv.From) || !slices.Contains(nv.From, from):
		r.refuse(env, from, nv, reasonNewView)
		return
	}
	m := r.vcs[nv.View]
	vcs := make([]ViewChange, 0, len(nv.From))
	for _, id := range nv.From {
		vc, ok := m[id]
		if !ok {
			p := nv
			r.pendingNV = &p
			return
		}
		vcs = append(vcs, vc)
	}
	r.pendingNV = nil
	stable, batches := newViewSlots(vcs)
	if stable != nv.Stable || !slices.Equal(digests(batches), nv.Digests) {
		r.refuse(env, from, nv, reasonNewView)
		return // a new primary that lies: the view timer moves on
	}
	for i, d := range nv.Digests {
		if !r.signer.Verify(from, PrePrepareStatement(nv.View, stable+1+int64(i), d), nv.Sigs[i]) {
			r.refuse(env, from, nv, reasonSignature)
			return
		}
	}
	r.view, r.prim = nv.View, from
	r.install(env, stable, batches, nv.Sigs, true)
	// The new view's pre-prepares are the new-view's: prepare them.
	for i := range batches {
		s := stable + int64(i) + 1
		if e := r.log[s]; e != nil && e.view == r.view && e.b != nil {
			r.prepare(env, s)
			r.advance(env, s)
		}
	}
}

// install starts view r.view with O = batches at stable+1..., each
// pre-prepared by the new primary's signature in sigs. known says O is the
// new view's (a new-view checked or sent): only then are the entries it
// does not re-propose known never to have committed, and dropped. A
// replica joining a view f+1 others say they installed (saysInstalled)
// does not know O and keeps every entry it holds, certificates and all.
func (r *Replica) install(env ordo.Env, stable int64, batches [][]Request, sigs [][]byte, known bool) {
	r.changing, r.installed, r.stalledTicks = false, r.view, 0
	put(env, keyInstalled, installedView{View: r.view}) // durable.go
	r.forgetEarlier(env)
	r.installedVC = nil
	if r.sentVC != nil && r.sentVC.View == r.view {
		r.installedVC = r.sentVC // for a replica that missed this view change
	}
	r.watch = watched{}
	r.dropQueue()
	for v := range r.vcs {
		if v <= r.view {
			delete(r.vcs, v)
		}
	}
	for s, e := range r.log {
		// Not re-proposed: never committed anywhere. A re-proposed one
		// keeps what it prepared (entryIn resets the rest) until it
		// prepares again in this view: dropped, its certificate was gone
		// from this replica's next view-change, and after a few view
		// changes from every one's (found with replicas restarted in
		// turn: a decided slot re-ordered as a null request).
		// Joined without O (saysInstalled), it dropped them all, from its
		// store too: replicas restarted (executed nothing above their
		// checkpoint) and then joining by vouchers forgot a decided slot's
		// certificate, and a later new view re-ordered it as a null request
		// (a trial: two replicas down at a time under 10% loss); a primary
		// restarted after so joining re-assigned its own sequence numbers.
		if known && e.view < r.view && s > r.lastExec && (s <= stable || s > stable+int64(len(batches))) {
			delete(r.log, s)
			env.Store().Delete(entryKey(s))
		}
	}
	r.seq = max(stable, r.lastExec, r.low)
	// What a primary of this view must not order again: what this replica
	// executed and what the new view re-proposes. A request ordered in an
	// older view and in neither never committed anywhere, and is ordered
	// again when its client resends it (kept, it was refused for good by a
	// replica that had ordered it as an earlier primary: pbft-4-loss).
	r.assigned = map[ordo.NodeID]int64{}
	for c, lr := range r.clients {
		r.assigned[c] = lr.ts
	}
	for i, b := range batches {
		s := stable + int64(i) + 1
		r.seq = max(r.seq, s)
		if !r.inWindow(s) {
			continue
		}
		e := r.entry(s)
		e.b, e.digest, e.ppSig = newBatch(b), BatchDigest(b), sigs[i]
		e.certified = len(b) > 0 && !r.trustViewChanges // its certificate was checked (CheckViewChange)
		for _, q := range b {
			r.assigned[q.Client] = max(r.assigned[q.Client], q.Timestamp)
		}
	}
	env.Note("new-view", "view", r.view, "primary", int64(r.prim), "requests", len(batches))
	r.noteRole(env)
}

// noteRole notes this replica's role in the election package's terms
// (election.NoteLeader for the primary of the view it installed,
// election.NoteFollower with the primary for a backup, a follower that
// knows no leader while it changes view), with the view as the term: so
// a live node's status names its primary as the leader, and a fault
// aimed at `leader` (a scenario's crash: leader, a live run's) strikes
// the primary, section 4's leader, as it strikes a Raft leader.
func (r *Replica) noteRole(env ordo.Env) {
	switch {
	case r.changing:
		env.Note(election.NoteFollower, "term", r.view)
	case r.prim == env.ID():
		env.Note(election.NoteLeader, "term", r.view)
	default:
		env.Note(election.NoteFollower, "term", r.view, "leader", int64(r.prim))
	}
}

// Leads reports whether this replica is the primary of the view it has
// installed, and that view: what a fault aimed at `leader` strikes in the
// simulator (scenario.Leader), with the view as the term.
func (r *Replica) Leads() (view int64, primary bool) {
	return r.view, !r.changing && r.prim != ordo.None && r.prim == r.self
}
