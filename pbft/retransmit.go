package pbft

import (
	"errors"
	"math/rand/v2"
	"time"

	"ordo"
)

// Retransmission. Every protocol message is sent once, and a lost
// view-change, new-view, prepare or commit can stall the replicas that
// need it (at n = 3f+1 with f faulty, every quorum needs every correct
// replica). As in Castro's thesis (section 5.2) the replicas that lack
// something ask, and the others resend, on a timer (option retransmit):
//
//   - a replica changing view resends its view-change, verbatim, until the
//     new view is installed;
//   - a replica that installed a later view answers a view-change or a
//     status of an older one with a catch-up: its own view-change for that
//     view and, as its primary, the new-view, so a replica that missed the
//     view change catches up (it installs the new-view once it holds the
//     view-changes it names); a catch-up is never answered;
//   - a replica that made no progress for a tick while something is
//     pending (a log entry not executed, a client's request watched, a
//     checkpoint not stable, a message of a later view seen) multicasts a
//     status, and every replica in its view resends the pre-prepare,
//     prepares, commits and checkpoints of its view above the stable
//     checkpoint.
//
// Everything resent is the message first sent, so a retransmission is
// never a second, different message for one slot (the equivocation
// checker's test). Bounded: one status or view-change per replica per
// tick, and an answer at most one window of entries.

const timerRetransmit = "retransmit"

// askEvery is how many retransmit ticks a replica changing view alone
// waits between two changing statuses when nothing else asks.
const askEvery = 10

// maxAskGap bounds, in retransmit ticks, how long a replica that keeps
// asking while nothing changes waits between two asks (1.6 s at the
// default retransmit); maxResendGap the same for the view-change a
// replica resends while it changes view (0.4 s), which the others need
// to move on together (a longer gap slowed view changes under 15% loss).
const (
	maxAskGap    = 16
	maxResendGap = 4
)

// askBackoff spaces a replica's asks — its view-change resent while it
// changes view, and the statuses of a replica stuck with something
// pending — while nothing changes: every tick for askPatience asks, then
// 2, 4, ... up to maxAskGap ticks apart, and every tick again once
// something moves (its view, what it
// executed or made stable, its log, the view-changes it holds, a request
// heard). Each ask is answered with up to a window of messages, and when
// no answer can help (a view change a liar's refused view-change keeps
// one short, a checkpoint that never becomes stable) they went on every
// tick for as long as the cluster was idle: n = 7 with two liars and 5%
// loss sent 193 253 messages in 30 s, 1.3 MB a second after its last
// request (a fresh user's trial).
type askBackoff struct {
	mark       askMark
	tries      int64 // asks since the last change
	gap, after int64 // the next gap, and the ticks left before the next ask
}

// askPatience is how many asks, one a tick, a replica makes after a
// change before it backs off: a lost answer is asked for again at once
// (under 15% loss, backing off from the first ask left more runs
// unfinished), a stall that asking cannot end is asked about less and less.
const askPatience = 8

// askMark is what moving resets the backoff on.
type askMark struct {
	view, lastExec, low, installed, heard int64
	changing                              bool
	log, vcs                              int
}

func (r *Replica) askMark() askMark {
	return askMark{view: r.view, lastExec: r.lastExec, low: r.low, installed: r.installed, heard: r.heardCount,
		changing: r.changing, log: len(r.log), vcs: len(r.vcs[r.view])}
}

// due reports whether a replica that wants to ask may ask this tick,
// with gaps of at most most ticks.
func (a *askBackoff) due(m askMark, most int64) bool {
	if m != a.mark || a.gap == 0 {
		a.mark, a.tries, a.gap, a.after = m, 0, 1, 0
	}
	if a.after > 0 {
		a.after--
		return false
	}
	a.after = a.gap - 1
	if a.tries++; a.tries >= askPatience {
		a.gap = min(2*a.gap, most)
	}
	return true
}

// bootAskTicks is how many retransmit ticks a restarted replica keeps
// asking, every askEvery-th one, until it has executed something (five
// asks after its first; 5 s at the default 100 ms).
const bootAskTicks = 5 * askEvery

// Status is ⟨STATUS, v, h, le⟩: the sender is in view View (changing to
// it when Changing), its stable checkpoint is Stable and it executed up
// to LastExec. The receivers resend what it lacks.
type Status struct {
	View     int64
	Changing bool
	Stable   int64
	LastExec int64
}

// Kind implements ordo.Message.
func (Status) Kind() string { return "status" }

// Validate implements ordo.Validator.
func (s Status) Validate() error {
	if err := validVS(s.View, s.Stable); err != nil {
		return err
	}
	if s.LastExec < s.Stable || s.LastExec > MaxSeq {
		return errors.New("last executed out of range")
	}
	return nil
}

// onRetransmit is the retransmit timer: one per replica, always armed.
func (r *Replica) onRetransmit(env ordo.Env) {
	env.After(r.retransmit, ordo.Timer{Name: timerRetransmit})
	clear(r.answered)
	stuck := r.lastExec == r.lastTick
	r.lastTick = r.lastExec
	if r.changing {
		due := r.ask.due(r.askMark(), maxResendGap)
		if due && r.sentVC != nil && r.sentVC.View == r.view {
			r.broadcast(env, *r.sentVC)
		}
		// Commits it still lacks (onLateCommit): a changing status makes
		// the others resend their commits above what it executed, of any
		// view, and the checkpoints it reached. And, once a second while
		// no progress, in any case: a replica
		// that suspected alone hears nothing more of the view it left
		// once the others fall quiet, and may lack its last commits
		// (found: a restarted replica two slots short, for good).
		r.changingTicks++
		// The once-a-second status is not backed off: spaced on the
		// backoff's turns it could fall on none of them, and the
		// replica it is for stayed short for good again (a fresh user's
		// check of the backoff).
		if stuck && (due && r.lateCommitsPending() || r.changingTicks%askEvery == 0) || r.behind {
			r.behind = false
			r.broadcast(env, Status{View: r.view, Changing: true, Stable: r.low, LastExec: r.lastExec})
		}
		return
	}
	if r.stalled(env, stuck) {
		r.startViewChange(env, r.view+1)
		return
	}
	asking := false
	if r.bootAsks > 0 {
		r.bootAsks--
		asking = r.lastExec == 0 && r.bootAsks%askEvery == 0
	}
	if r.behind || stuck && r.pending() && r.ask.due(r.askMark(), maxAskGap) || asking {
		r.behind = false
		r.broadcast(env, Status{View: r.view, Stable: r.low, LastExec: r.lastExec})
	}
}

// stalled reports, once a tick, whether this backup has held a slot of
// its view that is pre-prepared and not committed in it for twice the
// view timeout while executing nothing: it then suspects the primary, as
// for a client's request it watches (viewchange.go). A backup that had
// executed every request it heard watched none, so when the only other
// correct backup left the view alone (its own timer expired under loss)
// and the primary cannot suspect itself, nobody moved again: the two in
// the view waited for the third's votes, the third for f+1 view-changes
// (pbft-4-loss, seeds 152 and 190, found after the trial's other fixes).
func (r *Replica) stalled(env ordo.Env, stuck bool) bool {
	if !stuck || r.primary(env) == env.ID() || !r.holdsUncommitted() {
		r.stalledTicks = 0
		return false
	}
	r.stalledTicks++
	if time.Duration(r.stalledTicks)*r.retransmit < 2*r.viewTimeout {
		return false
	}
	r.stalledTicks = 0
	return true
}

// lacksPrePrepares reports whether a slot in (from, lastExec] within the
// window holds no batch of this replica's view: what a replica behind it
// may need its vote for again. Only then does it ask (a status from a
// replica behind is no reason to ask for what it holds: every replica
// ahead would, every tick, for as long as one lags).
func (r *Replica) lacksPrePrepares(from int64) bool {
	for s := max(from, r.low) + 1; s <= r.lastExec; s++ {
		if e := r.log[s]; e == nil || e.view != r.view || e.b == nil {
			return true
		}
	}
	return false
}

// holdsUncommitted reports whether a slot of the replica's view holds a
// batch not committed in that view.
func (r *Replica) holdsUncommitted() bool {
	for _, e := range r.log {
		if e.view == r.view && e.b != nil && !e.committed {
			return true
		}
	}
	return false
}

// pending reports whether the replica waits for something others may
// have sent: an entry of its view not executed, or one it executed in an
// earlier view that this view re-proposed and it has not committed in
// this view (the others may need its commit), a client's request it
// watches, or a checkpoint it reached that is not stable.
//
// The re-proposed entry: a replica that executed a slot in view v, whose
// commits the others missed, prepares it again in v+1 but, having lost
// the other backup's prepare, never commits it there; with nothing of its
// own to execute it asked for nothing, and the others, one commit short,
// waited for good (a fresh user's trial: pbft-4-loss, seed 16, 2 of 20
// requests never completed).
func (r *Replica) pending() bool {
	if r.watch.active || r.lastExec/r.k*r.k > r.low {
		return true
	}
	for s, e := range r.log {
		if e.view != r.view {
			continue
		}
		if s > r.lastExec && (e.b != nil || len(e.prepares) > 0 || len(e.commits) > 0) || e.b != nil && !e.committed {
			return true
		}
	}
	return false
}

// onStatus resends to a replica what its status says it lacks.
func (r *Replica) onStatus(env ordo.Env, from ordo.NodeID, st Status) {
	if !st.Changing {
		r.saysInstalled(env, from, st.View)
	}
	// A replica of this view behind this one: the slots between may need
	// this replica's votes again in this view, for which it may lack the
	// primary's pre-prepares (joined by vouchers, or lost): it asks too,
	// at its next tick. Without it a replica that had executed them asked
	// for nothing, and the others waited for its votes for good
	// (pbft-4-loss, seed 190, found after the trial's other fixes).
	if !st.Changing && !r.changing && st.View == r.view && st.LastExec < r.lastExec && r.lacksPrePrepares(st.LastExec) {
		r.behind = true
	}
	if !r.mayAnswer(env, from, st) {
		return
	}
	r.catchUp(env, from, st.View, st.Changing)
	// Behind this replica's stable checkpoint: the entries it lacks are
	// gone here, so the state there (statetransfer.go).
	if st.LastExec < r.low && r.stable.snap != nil {
		env.Send(from, StateTransfer{Seq: r.low, State: r.stable.state, Proof: r.stable.proof, Snap: r.stable.snap})
	}
	// Checkpoints it reached and cannot make stable: the stable one, and
	// this replica's votes above it — also to a replica changing view,
	// which keeps executing (and checkpointing) what the others commit.
	me := env.ID()
	if st.Stable < r.low && st.LastExec >= r.low && r.stable.sig != nil {
		env.Send(from, Checkpoint{Seq: r.low, State: r.stable.state, Sig: r.stable.sig})
	}
	// And the proof of it, which it may not gather vote by vote: the
	// replicas past it dropped their votes (onStableProof). Small: 2f+1
	// signatures, no snapshot (it executed as far).
	if st.Stable < r.low && st.LastExec >= r.low && len(r.stable.proof) >= r.qs.Q {
		env.Send(from, StateTransfer{Seq: r.low, State: r.stable.state, Proof: r.stable.proof})
	}
	for c := max(st.Stable, r.low)/r.k*r.k + r.k; c <= min(st.LastExec, r.low+r.window); c += r.k {
		if v, ok := r.ckpts[c][me]; ok {
			env.Send(from, Checkpoint{Seq: c, State: v, Sig: r.ckSigs[c][me]})
		}
	}
	if st.Changing {
		// It votes in no view until its view change ends, but executes
		// what 2f+1 commit (onLateCommit): this replica's commits above
		// what it executed, whatever their view — a commit stays true.
		for s := max(st.LastExec, r.low) + 1; s <= r.low+r.window; s++ {
			if e := r.log[s]; e != nil && e.sentCommit && e.b != nil {
				env.Send(from, Commit{View: e.view, Seq: s, Reqs: e.b.reqs})
			}
		}
		return
	}
	// Its view's messages still in the log, even when this replica has
	// moved on: a commit sent in view v stays true after it, and a replica
	// still in v may need it to execute what the others executed.
	primary := Primary(env.Roster().Servers, st.View)
	// Every entry above its stable checkpoint, not only above what it
	// executed: a slot a new-view re-proposed needs its quorum again in
	// the new view, from replicas that executed it in the old one.
	for s := max(st.Stable, r.low) + 1; s <= r.low+r.window; s++ { // at most one window
		e := r.log[s]
		if e == nil || e.view != st.View || e.b == nil {
			continue
		}
		// A null request's too (a replica that executed it votes for it
		// again: onPrePrepare). ppSig nil: decided from others' commits
		// (adoptCommitted), its pre-prepare lost in a restart: not resent
		// unsigned.
		if me == primary && !r.changing && e.ppSig != nil {
			env.Send(from, PrePrepare{View: e.view, Seq: s, Digest: e.digest, Reqs: e.b.reqs, Sig: e.ppSig})
		}
		if d, ok := e.prepares[me]; ok && me != primary {
			env.Send(from, Prepare{View: e.view, Seq: s, Digest: d, Sig: e.prepSigs[me]})
		}
		if e.sentCommit {
			env.Send(from, Commit{View: e.view, Seq: s, Reqs: e.b.reqs})
		}
	}
}

// answerBudget bounds the statuses and stale view-changes of one peer a
// replica answers per retransmit tick. A correct replica sends one status
// a tick, with its view-change when changing view, and a status more
// after a state transfer or a join; an answer is up to a window of
// messages. A liar sending faster was answered message for message: an
// equivocating backup that answered each catch-up with two view-changes
// kept two correct replicas sending catch-ups to it at a thousand a
// second each, for good (a fresh user's trial: a backup equivocating and
// the primary restarted). Beyond the budget the message is refused
// (rate-limited) and still read for what it says of views; the sender's
// next tick asks again.
const answerBudget = 4

// mayAnswer takes one of from's answers this tick, or refuses m
// (rate-limited) when none is left.
func (r *Replica) mayAnswer(env ordo.Env, from ordo.NodeID, m ordo.Message) bool {
	if r.answered[from] >= answerBudget {
		r.refuse(env, from, m, reasonRate)
		return false
	}
	r.answered[from]++
	return true
}

// catchUp answers a replica in view v (changing to it when changing)
// with the view-changes and new-view of a later view this replica has
// installed or is changing to, so it can follow.
func (r *Replica) catchUp(env ordo.Env, to ordo.NodeID, v int64, changing bool) {
	need := v + 1 // the first view it lacks
	if changing {
		need = v
	}
	if r.installed >= need && r.installed > 0 && r.installedVC != nil && r.installedVC.View == r.installed {
		cu := CatchUp{VC: *r.installedVC}
		if r.sentNV != nil && r.sentNV.View == r.installed {
			cu.HasNV, cu.NV = true, *r.sentNV
		}
		env.Send(to, cu)
	}
	r.sendViewChangePast(env, to, v)
}

// sendViewChangePast sends to a replica of view v the view-change this
// replica is changing with, to a later view: with f others it joins that
// view.
func (r *Replica) sendViewChangePast(env ordo.Env, to ordo.NodeID, v int64) {
	if r.changing && r.view > v && r.sentVC != nil && r.sentVC.View == r.view {
		env.Send(to, *r.sentVC)
	}
}

// onCatchUp takes a catch-up's view-change and new-view as if they had
// come alone, except that nothing in it is answered (CatchUp says why).
func (r *Replica) onCatchUp(env ordo.Env, from ordo.NodeID, cu CatchUp) {
	if cu.VC.View > r.installed {
		r.takeViewChange(env, from, cu.VC, false)
	}
	if cu.HasNV {
		r.onNewView(env, from, cu.NV)
	}
	r.saysInstalled(env, from, cu.VC.View) // a catch-up comes from a replica that installed its view
}

// saysInstalled records that replica from says it installed view v (a
// catch-up, or a status not changing view) and joins the highest view
// f+1 replicas say so of — at least one of them correct, so the view
// started with a valid new-view — when this replica has not installed
// it. It needs no new-view of its own: one that lost its own view-change
// by restarting could never recompute the new-view that used it
// (bad-new-view, found by a new user: a replica restarted after a view
// change stayed out for good), and a replica whose installed view fell
// more than maxViewsAhead behind the others' could not follow their
// view-changes. What the new view re-proposed reaches it as the others
// resend it (the primary's pre-prepares of them carry the new-view's
// signatures) or by state transfer. It does not join a view it would be
// the primary of — restarted, it would not know what it assigned — and
// asks for the next one instead.
func (r *Replica) saysInstalled(env ordo.Env, from ordo.NodeID, v int64) {
	if v <= 0 || v > MaxView {
		return
	}
	r.installedBy[from] = v
	if v <= r.installed || v < r.view {
		return
	}
	n := 0
	for _, w := range r.installedBy {
		if w == v {
			n++
		}
	}
	if n < r.qs.F+1 {
		return
	}
	if Primary(env.Roster().Servers, v) == env.ID() {
		r.startViewChange(env, v+1)
		return
	}
	r.view, r.prim = v, Primary(env.Roster().Servers, v)
	r.pendingNV = nil
	r.install(env, r.low, nil, nil, false) // its view-change for v, if it sent one, is what it gives as installedVC (as after a restart)
	env.Note("join-view", "view", v, "vouchers", n)
	r.broadcast(env, Status{View: r.view, Stable: r.low, LastExec: r.lastExec})
}

// Equivocate implements sim.Equivocator: an odd-numbered replica is told
// the sender executed nothing, which makes it resend a window's worth
// (bounded) of what it holds — a cost, never a wrong vote.
func (s Status) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if lies(to) {
		s.Stable, s.LastExec = 0, 0
	}
	return s
}
