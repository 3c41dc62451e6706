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
