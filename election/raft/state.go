package raft

import (
	"slices"

	"ordo"
	"ordo/election"
)

// State is a Raft node's state as data (ordo.StateReporter). The log
// fields are zero for the election alone (the "raft" protocol), which
// replicates nothing.
type State struct {
	Role     string      `json:"role"`                    // follower, candidate or leader
	PreVote  bool        `json:"pre_candidate,omitempty"` // asked for PreVotes, term unchanged
	Term     uint64      `json:"term"`
	VotedFor ordo.NodeID `json:"voted_for"` // in Term (0: nobody)
	Leader   ordo.NodeID `json:"leader"`    // the leader it believes in (0: unknown)
	// Votes counts the votes (or PreVotes) a candidate has this round.
	Votes int `json:"votes,omitempty"`
	// LogLength is the index of the last entry (compacted ones count);
	// LastTerm its term; SnapshotIndex the index the log starts after.
	LogLength     uint64 `json:"log_length"`
	LastTerm      uint64 `json:"last_term"`
	SnapshotIndex uint64 `json:"snapshot_index,omitempty"`
	Commit        uint64 `json:"commit"`
	Applied       uint64 `json:"applied"`
	// Voters is the configuration in force.
	Voters []ordo.NodeID `json:"voters"`
	// Transferee is the node a leadership transfer is handing to (0: none).
	Transferee ordo.NodeID `json:"transferee,omitempty"`
}

var _ ordo.StateReporter = (*Node)(nil)

// State implements ordo.StateReporter: a State value. It reads r only
// (Voters is a copy).
func (r *Node) State() any { return r.RaftState() }

// RaftState returns the node's State, typed: a protocol that embeds a
// Node (kv.Server) builds its own State on it.
func (r *Node) RaftState() State {
	st := State{
		Role: r.role.String(), Term: r.term, VotedFor: r.votedFor, Leader: r.leader,
		LogLength: r.log.last(), LastTerm: r.log.lastTerm(), SnapshotIndex: r.log.start,
		Commit: r.commit, Applied: r.applied, Voters: slices.Clone(r.voters), Transferee: r.transferee,
	}
	switch {
	case r.pre:
		st.PreVote, st.Votes = true, r.prevotes
	case r.role == election.Candidate:
		st.Votes = r.votes
	}
	return st
}
