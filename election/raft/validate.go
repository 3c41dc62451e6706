package raft

import (
	"errors"

	"ordo"
)

// Validate methods refuse what no honest peer sends (ordo.Validator): a
// term above ordo.MaxTerm, which would wrap term+1 and wedge every node
// that adopted it; an index or round above ordo.MaxIndex; a candidate or
// leader that is not a node id. The codec calls them after decoding, so an
// absurd message is dropped and counted, never delivered or persisted.

func (m RequestVote) Validate() error {
	return errors.Join(ordo.CheckTerm("term", m.Term), candidate(m.Candidate),
		index("last log index", m.LastLogIndex), ordo.CheckTerm("last log term", m.LastLogTerm))
}

func (m RequestVoteResp) Validate() error { return ordo.CheckTerm("term", m.Term) }

func (m PreVote) Validate() error {
	return errors.Join(ordo.CheckTerm("term", m.Term), candidate(m.Candidate),
		index("last log index", m.LastLogIndex), ordo.CheckTerm("last log term", m.LastLogTerm))
}

func (m PreVoteResp) Validate() error { return ordo.CheckTerm("term", m.Term) }

func (m Heartbeat) Validate() error {
	return errors.Join(ordo.CheckTerm("term", m.Term), candidate(m.Leader), index("round", m.Round),
		index("prev log index", m.PrevLogIndex), ordo.CheckTerm("prev log term", m.PrevLogTerm),
		index("commit index", m.CommitIndex))
}

func (m HeartbeatResp) Validate() error {
	return errors.Join(ordo.CheckTerm("term", m.Term), index("round", m.Round))
}

// candidate bounds a candidate or leader field: None (0) or
// 1..ordo.MaxNodeID.
func candidate(id ordo.NodeID) error { return ordo.CheckNode("node", id) }

func index(what string, v uint64) error {
	if v > ordo.MaxIndex {
		return errors.New(what + " exceeds ordo.MaxIndex")
	}
	return nil
}
