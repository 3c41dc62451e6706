package raft

import (
	"ordo"
	"ordo/election"
)

// snapRecv is a follower's InstallSnapshot being assembled.
type snapRecv struct {
	active bool
	meta   snapMeta
	buf    []byte
}

// takeSnapshot stores the machine's state at the applied index (chunked,
// with its meta, in this event's batch) and compacts the log behind it,
// keeping a quarter of snapshot_entries so a follower a little behind
// catches up from the log rather than a whole snapshot (paper section 7).
func (r *Node) takeSnapshot(env ordo.Env) {
	data := r.m.Snapshot()
	if len(data) > MaxSnapshotBytes {
		env.Note("snapshot-too-large", "index", r.applied, "bytes", len(data))
		r.sinceSnap = r.applied + r.rc.snapshotEntries
		return
	}
	t, _ := r.log.term(r.applied)
	meta := snapMeta{index: r.applied, term: t, hash: r.hash, size: uint64(len(data)), voters: r.confAt(r.applied)}
	writeSnapshot(env.Store(), &meta, data)
	r.snap = meta
	keep := r.rc.snapshotEntries / 4
	if to := r.applied - min(keep, r.applied); to > r.log.start {
		r.compactLog(env, to)
	}
	env.Note("snapshot", "index", meta.index)
}

// compactLog deletes the entries up to to (on disk and in memory).
func (r *Node) compactLog(env ordo.Env, to uint64) {
	st := env.Store()
	st.DeleteRange(logKey(r.log.start+1), logKey(to+1))
	r.log.compact(to)
	st.Put(logStartKey, encodeWords(r.log.start, r.log.startTerm))
	k := 0
	for k+1 < len(r.confs) && r.confs[k+1].index <= to {
		k++
	}
	r.confs = append([]confAt(nil), r.confs[k:]...)
}

// confAt returns the voters in force at index i.
func (r *Node) confAt(i uint64) []ordo.NodeID {
	v := r.confs[0].voters
	for _, c := range r.confs[1:] {
		if c.index <= i {
			v = c.voters
		}
	}
	return v
}

// sendSnapshot sends follower p the chunk of the snapshot at its offset
// (one chunk in flight; each answer asks for the next). A newer snapshot
// taken meanwhile replaces the one under way, from its start.
func (r *Node) sendSnapshot(env ordo.Env, p ordo.NodeID) {
	pr := &r.prs[p]
	if pr.snapIndex != r.snap.index {
		pr.snapIndex, pr.snapOff = r.snap.index, 0
	}
	n := min(snapMsgChunk, r.snap.size-pr.snapOff)
	var data []byte
	if n > 0 {
		data = readSnapshotPart(env.Store(), pr.snapOff, n)
	}
	env.Send(p, InstallSnapshot{Term: r.term, Leader: r.id, Index: r.snap.index, SnapTerm: r.snap.term, Hash: r.snap.hash,
		Voters: r.snap.voters, Offset: pr.snapOff, Total: r.snap.size, Data: data})
}

func (r *Node) handleSnapshotResp(env ordo.Env, from ordo.NodeID, m InstallSnapshotResp) {
	if m.Term > r.term {
		r.becomeFollower(env, m.Term, ordo.None)
		return
	}
	if r.m == nil || r.role != election.Leader || m.Term != r.term || !r.isVoter(from) || from == r.id {
		return
	}
	pr := &r.prs[from]
	if !pr.snapping || m.Index != pr.snapIndex {
		return
	}
	if m.Done {
		pr.snapping = false
		pr.match = max(pr.match, min(m.Index, r.log.last()))
		pr.next = pr.match + 1
		pr.probing, pr.probeSent, pr.infl, pr.stall, pr.snapOff = false, false, pr.infl[:0], 0, 0
		r.maybeCommit(env)
		r.maybeTimeoutNow(env, from)
		return
	}
	if m.Offset == pr.snapOff || m.Offset > r.snap.size {
		return // a duplicate answer
	}
	pr.snapOff = m.Offset
	r.sendSnapshot(env, from)
}

// handleSnapshot is the follower's side of InstallSnapshot (paper figure
// 13): assemble the chunks (at most MaxSnapshotBytes), then restore the
// machine, store the snapshot and keep the log after it only if it holds
// the snapshot's last entry; otherwise discard the whole log.
func (r *Node) handleSnapshot(env ordo.Env, from ordo.NodeID, m InstallSnapshot) {
	if r.m == nil {
		return
	}
	if m.Term < r.term {
		env.Send(from, InstallSnapshotResp{Term: r.term, Index: m.Index})
		return
	}
	r.followLeader(env, m.Term, m.Leader)
	if m.Index <= r.commit {
		// Committed here already: the logs agree up to it.
		r.recv = snapRecv{}
		env.Send(from, InstallSnapshotResp{Term: r.term, Index: m.Index, Offset: m.Total, Done: true})
		return
	}
	if m.Offset == 0 {
		r.recv = snapRecv{active: true, meta: snapMeta{index: m.Index, term: m.SnapTerm, hash: m.Hash, size: m.Total, voters: m.Voters},
			buf: make([]byte, 0, min(m.Total, snapChunk))}
	}
	rv := &r.recv
	if !rv.active || rv.meta.index != m.Index || rv.meta.term != m.SnapTerm || rv.meta.size != m.Total || m.Offset != uint64(len(rv.buf)) {
		off := uint64(0)
		if rv.active && rv.meta.index == m.Index {
			off = uint64(len(rv.buf))
		}
		env.Send(from, InstallSnapshotResp{Term: r.term, Index: m.Index, Offset: off})
		return
	}
	rv.buf = append(rv.buf, m.Data...)
	if uint64(len(rv.buf)) < rv.meta.size {
		env.Send(from, InstallSnapshotResp{Term: r.term, Index: m.Index, Offset: uint64(len(rv.buf))})
		return
	}
	meta, data := rv.meta, rv.buf
	r.recv = snapRecv{}
	if _, err := decodeVoters(encodeVoters(meta.voters)); err != nil {
		env.Note("install-snapshot-refused", "index", meta.index, "err", err.Error())
		return
	}
	if err := r.m.Restore(meta.index, data); err != nil {
		env.Note("install-snapshot-refused", "index", meta.index, "err", err.Error())
		return
	}
	r.installSnapshot(env, meta, data)
	env.Send(from, InstallSnapshotResp{Term: r.term, Index: meta.index, Offset: meta.size, Done: true})
}

// installSnapshot makes a restored snapshot the node's state, durably.
func (r *Node) installSnapshot(env ordo.Env, meta snapMeta, data []byte) {
	st := env.Store()
	writeSnapshot(st, &meta, data)
	var later []confAt
	if t, ok := r.log.term(meta.index); ok && t == meta.term {
		st.DeleteRange(logKey(r.log.start+1), logKey(meta.index+1))
		r.log.compact(meta.index)
		for _, c := range r.confs[1:] {
			if c.index > meta.index {
				later = append(later, c)
			}
		}
	} else {
		st.DeleteRange(logPrefix, logEnd)
		r.log.reset(meta.index, meta.term)
	}
	st.Put(logStartKey, encodeWords(r.log.start, r.log.startTerm))
	r.snap = meta
	r.commit, r.applied, r.hash, r.sinceSnap = meta.index, meta.index, meta.hash, meta.index
	r.confs = append([]confAt{{index: meta.index, voters: meta.voters}}, later...)
	r.setVoters(r.confs[len(r.confs)-1].voters)
	env.Note("install-snapshot", "index", meta.index)
	env.Note("applied", "index", r.applied, "hash", r.hash)
}
