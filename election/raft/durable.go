package raft

import (
	"ordo"
	"ordo/election"
)

// Early replication (Raft thesis 10.2.1, "the leader can write to its
// disk in parallel with replicating to the followers"): on a runtime that
// offers ordo.EarlySender and ordo.SyncNotifier, a leader's AppendEntries
// leave at once instead of waiting for the fsync of the turn that
// appended their entries, and the leader counts itself toward a commit
// only for entries its AfterSync wake-ups have reported durable. The
// commit rule is unchanged (a majority holds the entry durably), so one
// fsync leaves the critical path of a write: the followers' fsync now
// runs while the leader's does. Other runtimes (ordotest) keep the plain
// contract: every send waits for the fsync, so the leader's own entries
// are durable before any acknowledgement can arrive.

// TimerDurable is the AfterSync wake-up that reports a leader's own
// writes durable: a trace reader (kv.Rounds) times the leader's fsync by it.
const TimerDurable = "durable"

// TimerApply is the AfterSync wake-up of a follower's deferred apply
// (applyLater).
const TimerApply = "apply"

// syncAsk is one AfterSync wake-up in flight: entries up to index are
// durable when generation gen fires.
type syncAsk struct {
	gen   int64
	index uint64
}

// maxSyncAsks bounds the wake-ups in flight (one a turn: a group commit
// keeps a few turns in flight).
const maxSyncAsks = 1 << 12

// beginEarly starts a leadership's durability tracking: nothing of its
// log is counted durable until a wake-up says so (entries a follower
// appended just before winning may still be in flight to the disk).
func (r *Node) beginEarly(env ordo.Env) {
	_, _, r.early = ordo.Early(env)
	r.durable, r.syncAsked = 0, 0
	r.syncAsks = r.syncAsks[:0]
}

// selfMatch is how far the leader's own log counts toward a commit.
func (r *Node) selfMatch() uint64 {
	if r.early {
		return min(r.durable, r.log.last())
	}
	return r.log.last()
}

// askSync asks, once a turn, to be woken when the entries appended so far
// are durable (Flush).
func (r *Node) askSync(env ordo.Env) {
	if !r.early || r.log.last() <= r.syncAsked {
		return
	}
	_, sn, ok := ordo.Early(env)
	if !ok || len(r.syncAsks) >= maxSyncAsks {
		return // asked again next turn, when a wake-up has freed a slot
	}
	r.syncGen++
	r.syncAsked = r.log.last()
	r.syncAsks = append(r.syncAsks, syncAsk{gen: r.syncGen, index: r.syncAsked})
	sn.AfterSync(ordo.Timer{Name: TimerDurable, Arg: r.syncGen})
}

// synced handles a wake-up: the entries it covers are durable. Wake-ups
// of an earlier leadership find no ask of theirs and are ignored.
func (r *Node) synced(env ordo.Env, gen int64) {
	if r.role != election.Leader || !r.early {
		return
	}
	k := 0
	for k < len(r.syncAsks) && r.syncAsks[k].gen <= gen {
		if r.syncAsks[k].gen == gen {
			r.durable = max(r.durable, r.syncAsks[k].index)
		}
		k++
	}
	r.syncAsks = append(r.syncAsks[:0], r.syncAsks[k:]...)
	r.maybeCommit(env)
}

// sendAppend sends an AppendEntries: early when this leadership
// replicates early (its entries need not be durable here first).
func (r *Node) sendAppend(env ordo.Env, p ordo.NodeID, m AppendEntries) {
	if r.early {
		if es, _, ok := ordo.Early(env); ok {
			es.SendEarly(p, m)
			return
		}
	}
	env.Send(p, m)
}

// applyLater defers a follower's apply of newly committed entries to an
// AfterSync wake-up, on a runtime that offers one, and reports whether it
// did. The turn that learns a commit index usually also appends entries
// whose fsync the leader is waiting for; the runtime starts that fsync
// only at the turn's end, so applying first (a B-tree insert a put) would
// sit on every write's critical path. Deferred, the apply runs while the
// disk works. The commit index is already raised: only the machine lags,
// by at most one fsync, and nothing a follower answers depends on it
// before it catches up (reads wait for the applied index). A leader
// applies at once: its answers wait for the apply.
func (r *Node) applyLater(env ordo.Env) bool {
	if r.role == election.Leader {
		return false
	}
	_, sn, ok := ordo.Early(env)
	if !ok {
		return false
	}
	if !r.applyAsked {
		r.applyAsked = true
		sn.AfterSync(ordo.Timer{Name: TimerApply})
	}
	return true
}
