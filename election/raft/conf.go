package raft

import (
	"fmt"
	"slices"

	"ordo"
	"ordo/election"
)

// ChangeMembership adds or removes one voter (thesis 4.1, single-server
// changes): the leader appends a configuration entry, in force on each
// node as soon as it is in its log; quorums count over it. Only one may
// be pending (uncommitted), and only after the leader's no-op of its term
// committed (thesis 4.1's fix, bug found in 2015: otherwise two leaders'
// changes can form disjoint majorities). id must be a server of the
// roster (the set of processes). A removed node stops campaigning and is
// not sent to; a leader that removes itself steps down once the change
// commits. Returns the entry's index. Note "conf-change" (op, node,
// index). Errors: ErrNotLeader; ErrBusy (no-op not committed, a change
// pending, a transfer under way); a bad op or id.
func (r *Node) ChangeMembership(env ordo.Env, op ConfOp, id ordo.NodeID) (uint64, error) {
	if !r.leading(env) {
		return 0, ErrNotLeader
	}
	if r.transferring(env) || r.confs[len(r.confs)-1].index > r.commit {
		return 0, ErrBusy
	}
	if t, _ := r.log.term(r.commit); t != r.term && !r.rc.unsafeEarlyConf {
		return 0, ErrBusy
	}
	v := slices.Clone(r.voters)
	switch op {
	case AddVoter:
		if !env.Roster().IsServer(id) {
			return 0, fmt.Errorf("raft: add %v: not a server of the roster", id)
		}
		if r.isVoter(id) {
			return 0, fmt.Errorf("raft: add %v: already a voter", id)
		}
		v = append(v, id)
	case RemoveVoter:
		i := slices.Index(v, id)
		if i < 0 {
			return 0, fmt.Errorf("raft: remove %v: not a voter", id)
		}
		if len(v) == 1 {
			return 0, fmt.Errorf("raft: remove %v: the last voter", id)
		}
		v = slices.Delete(v, i, i+1)
	default:
		return 0, fmt.Errorf("raft: unknown membership change %d", op)
	}
	sortIDs(v)
	idx := r.appendEntry(env, Entry{Term: r.term, Type: EntryConf, Data: encodeVoters(v)})
	env.Note("conf-change", "op", op.String(), "node", id, "index", idx)
	return idx, nil
}

// applyConf puts the configuration of the entry at idx in force. A
// leader starts probing a voter it did not have.
func (r *Node) applyConf(idx uint64, v []ordo.NodeID) {
	old := r.voters
	r.confs = append(r.confs, confAt{index: idx, voters: v})
	r.setVoters(v)
	if r.role != election.Leader {
		return
	}
	for _, p := range r.peers {
		if !slices.Contains(old, p) {
			r.prs[p] = progress{next: idx, probing: true}
		}
	}
}
