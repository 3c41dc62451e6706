package raft

import "ordo"

// RequestVote asks for a vote in Term.
type RequestVote struct {
	Term         uint64
	Candidate    ordo.NodeID
	LastLogIndex uint64
	LastLogTerm  uint64
}

// RequestVoteResp answers a RequestVote.
type RequestVoteResp struct {
	Term    uint64
	Granted bool
}

// PreVote asks whether the receiver would vote in Term (= sender's term+1)
// without anyone changing terms (thesis 9.6): a node cut off from the
// majority cannot inflate terms and disturb the cluster when it returns.
type PreVote struct {
	Term         uint64
	Candidate    ordo.NodeID
	LastLogIndex uint64
	LastLogTerm  uint64
}

// PreVoteResp answers a PreVote.
type PreVoteResp struct {
	Term    uint64
	Granted bool
}

// Heartbeat is an empty AppendEntries: the leader asserts its term. Round
// numbers the heartbeat so the answer tells the leader how fresh its
// majority is.
type Heartbeat struct {
	Term         uint64
	Leader       ordo.NodeID
	Round        uint64
	PrevLogIndex uint64
	PrevLogTerm  uint64
	CommitIndex  uint64
}

// HeartbeatResp answers a Heartbeat.
type HeartbeatResp struct {
	Term    uint64
	Round   uint64
	Success bool
}

func (RequestVote) Kind() string     { return "RequestVote" }
func (RequestVoteResp) Kind() string { return "RequestVoteResp" }
func (PreVote) Kind() string         { return "PreVote" }
func (PreVoteResp) Kind() string     { return "PreVoteResp" }
func (Heartbeat) Kind() string       { return "Heartbeat" }
func (HeartbeatResp) Kind() string   { return "HeartbeatResp" }

// Messages lists one value of every message type (for codecs). No type
// declares a Size: the codec measures the real encoding, in both runtimes.
var Messages = []ordo.Message{RequestVote{}, RequestVoteResp{}, PreVote{}, PreVoteResp{}, Heartbeat{}, HeartbeatResp{}}
