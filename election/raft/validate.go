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

// maxEntries bounds the entries of one AppendEntries: each encodes to at
// least 3 bytes, and no message exceeds ordo.MaxMessageSize.
const maxEntries = ordo.MaxMessageSize / 3

func (m AppendEntries) Validate() error {
	err := errors.Join(ordo.CheckTerm("term", m.Term), candidate(m.Leader),
		index("prev index", m.PrevIndex), ordo.CheckTerm("prev term", m.PrevTerm), index("commit", m.Commit))
	if err != nil {
		return err
	}
	if len(m.Entries) > maxEntries || m.PrevIndex+uint64(len(m.Entries)) > ordo.MaxIndex {
		return errors.New("too many entries")
	}
	if m.PrevTerm > m.Term {
		return errors.New("prev term above the term")
	}
	t := m.PrevTerm
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Term < t || e.Term > m.Term {
			return errors.New("entry terms out of order")
		}
		t = e.Term
		if err := e.Type.check(); err != nil {
			return err
		}
		if e.Type == EntryConf {
			if _, err := decodeVoters(e.Data); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m AppendResp) Validate() error {
	return errors.Join(ordo.CheckTerm("term", m.Term), index("index", m.Index),
		index("hint index", m.HintIndex), ordo.CheckTerm("hint term", m.HintTerm))
}

func (m InstallSnapshot) Validate() error {
	err := errors.Join(ordo.CheckTerm("term", m.Term), candidate(m.Leader), index("index", m.Index),
		ordo.CheckTerm("snapshot term", m.SnapTerm))
	if err != nil {
		return err
	}
	switch {
	case m.SnapTerm > m.Term:
		return errors.New("snapshot term above the term")
	case m.Total > MaxSnapshotBytes:
		return errors.New("snapshot exceeds MaxSnapshotBytes")
	case len(m.Data) > snapMsgChunk || m.Offset > m.Total || uint64(len(m.Data)) > m.Total-m.Offset:
		return errors.New("snapshot chunk out of bounds")
	}
	if len(m.Voters) == 0 {
		return nil // refused at install: a snapshot needs voters
	}
	_, err = decodeVoters(encodeVoters(m.Voters))
	return err
}

func (m InstallSnapshotResp) Validate() error {
	return errors.Join(ordo.CheckTerm("term", m.Term), index("index", m.Index), index("offset", m.Offset))
}

func (m TimeoutNow) Validate() error { return ordo.CheckTerm("term", m.Term) }
