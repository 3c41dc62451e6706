package raft

import (
	"fmt"

	"ordo"
	"ordo/election"
)

// TransferLeadership hands leadership to voter to (thesis 3.10): the
// leader stops taking proposals (ErrBusy) for at most an election timeout
// (election_timeout_min), brings to up to date, then sends it TimeoutNow,
// on which it campaigns at once; voters grant it despite having heard a
// leader. The leader steps down as it sends TimeoutNow (so it never
// overlaps its successor); if the target does not win, an ordinary
// election follows (so TransferLeadership may itself call
// Host.LeaderChanged, when to is already caught up). Lease reads stop for the rest of the leader's term (the
// followers' promise no longer holds). Note "transfer" (from, to).
// Errors: ErrNotLeader; ErrBusy if a transfer is under way; to not a voter.
func (r *Node) TransferLeadership(env ordo.Env, to ordo.NodeID) error {
	if !r.leading(env) {
		return ErrNotLeader
	}
	if to == r.id {
		return nil
	}
	if !r.isVoter(to) {
		return fmt.Errorf("raft: transfer to %v: not a voter", to)
	}
	if r.transferring(env) {
		return ErrBusy
	}
	r.transferee, r.transferUntil, r.noLeaseReads, r.timeoutSent = to, env.Monotonic()+r.cfg.min, true, false
	env.Note("transfer", "from", r.id, "to", to)
	r.maybeTimeoutNow(env, to)
	return nil
}

// maybeTimeoutNow sends TimeoutNow to the transfer's target once it holds
// the leader's whole log.
func (r *Node) maybeTimeoutNow(env ordo.Env, p ordo.NodeID) {
	if r.transferee != p || r.timeoutSent || !r.transferring(env) || r.prs[p].match != r.log.last() {
		return
	}
	r.timeoutSent = true
	env.Send(p, TimeoutNow{Term: r.term})
	// It abdicates at once: the target's transfer vote passes the other
	// followers' promise, so a leader that went on acting until it heard
	// the new term would overlap with its successor.
	r.becomeFollower(env, r.term, ordo.None)
}

func (r *Node) handleTimeoutNow(env ordo.Env, from ordo.NodeID, m TimeoutNow) {
	if r.m == nil || m.Term != r.term || r.role != election.Follower || from != r.leader || !r.isVoter(r.id) {
		return
	}
	if !election.CanIncrement(env, r.term) {
		return
	}
	r.startElection(env, true)
}
