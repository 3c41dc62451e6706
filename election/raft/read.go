package raft

import (
	"ordo"
	"ordo/election"
)

// pendingRead is a ReadIndex request: served at index once a heartbeat
// round numbered round (0: not sent yet) is acknowledged by a majority.
type pendingRead struct {
	ctx, index, round uint64
}

// ReadIndex starts a linearizable read (thesis 6.4): the leader records
// its commit index, confirms it still leads by a heartbeat round a
// majority of the voters acknowledges (sent in this turn's Flush, shared
// by every read of the turn; one round in flight at a time), then calls
// Host.ReadReady(ctx, index, true); the host serves the read once the
// machine applied index. ReadReady(ctx, 0, false) if leadership is lost
// first. Errors: ErrNotLeader; ErrBusy before an entry of the leader's
// term has committed (its no-op: until then it does not know the commit
// index) or with too many reads pending.
func (r *Node) ReadIndex(env ordo.Env, ctx uint64) error {
	if !r.leading(env) {
		return ErrNotLeader
	}
	if t, _ := r.log.term(r.commit); t != r.term || len(r.reads) >= maxPendingReads {
		return ErrBusy
	}
	r.reads = append(r.reads, pendingRead{ctx: ctx, index: r.commit})
	r.readRound = true
	return nil
}

// startReadRound sends a heartbeat round for the reads that wait for one.
func (r *Node) startReadRound(env ordo.Env) {
	r.readRound = false
	round := r.broadcastHeartbeat(env)
	r.readInFlight = round
	for i := range r.reads {
		if r.reads[i].round == 0 {
			r.reads[i].round = round
		}
	}
	r.checkReads(env)
}

// checkReads serves the reads whose round a majority acknowledged.
func (r *Node) checkReads(env ordo.Env) {
	if r.role != election.Leader || len(r.reads) == 0 {
		return
	}
	newest := r.rounds.Newest()
	k := 0
	for k < len(r.reads) && r.reads[k].round != 0 && r.reads[k].round <= newest {
		k++
	}
	if k == 0 {
		return
	}
	done := r.reads[:k]
	r.reads = append([]pendingRead(nil), r.reads[k:]...)
	for _, rd := range done {
		r.host.ReadReady(env, rd.ctx, rd.index, true)
	}
	if len(r.reads) > 0 && r.reads[0].round == 0 {
		r.readRound = true
	}
}

// LeaseRead returns the commit index a read may be served at without a
// round trip (thesis 6.4.1): the leader holds its CheckQuorum lease (a
// round a majority acknowledged began less than the lease ago), an entry
// of its term has committed, and no transfer began this term. Clock-drift
// margin: the lease is election_timeout_min minus 10%, and followers
// refuse to elect anyone for election_timeout_min after hearing the
// leader; so reads are safe while the leader's monotonic clock runs no
// more than about 10% slower than the followers' (the simulator's drift
// is 100 ppm; real quartz is within 0.01%). A paused leader is caught by
// reading the clock at each call. ok false: use ReadIndex.
func (r *Node) LeaseRead(env ordo.Env) (index uint64, ok bool) {
	if r.m == nil || r.role != election.Leader || !r.cfg.checkQuorum || r.noLeaseReads || r.transferring(env) {
		return 0, false
	}
	if !r.leaseHeld(env) {
		return 0, false
	}
	if t, _ := r.log.term(r.commit); t != r.term {
		return 0, false
	}
	return r.commit, true
}

// transferring reports whether a leadership transfer is under way; one
// older than an election timeout is over (thesis 3.10).
func (r *Node) transferring(env ordo.Env) bool {
	if r.transferee == ordo.None {
		return false
	}
	if env.Monotonic() > r.transferUntil {
		r.transferee = ordo.None
		return false
	}
	return true
}
