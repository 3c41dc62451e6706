package raft

import "ordo"

// RequestVote asks for a vote in Term.
type RequestVote struct {
	Term         uint64
	Candidate    ordo.NodeID
	LastLogIndex uint64
	LastLogTerm  uint64
	// Transfer: the leader asked the candidate to campaign (TimeoutNow,
	// thesis 3.10), so a voter that heard that leader lately votes anyway.
	Transfer bool
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

// EntryType tells a command from Raft's own entries.
type EntryType uint8

// The entry types.
const (
	EntryNormal EntryType = iota + 1 // a command for the machine
	EntryNoop                        // a new leader's first entry of its term (paper 5.4.2)
	EntryConf                        // the voters from this index on (thesis 4.1)
)

// Entry is one log entry.
type Entry struct {
	Term uint64
	Type EntryType
	Data []byte
}

// AppendEntries carries the entries after PrevIndex (paper figure 2).
// The follower accepts them only if its log holds PrevTerm at PrevIndex
// (the log-matching check, section 5.3).
type AppendEntries struct {
	Term      uint64
	Leader    ordo.NodeID
	PrevIndex uint64
	PrevTerm  uint64
	Commit    uint64
	Entries   []Entry
}

// AppendResp answers an AppendEntries. Success: the follower's log
// matches the leader's up to Index. Reject: Index is the refused
// PrevIndex, and the hint says where to retry (thesis 5.3): HintTerm is
// the follower's term at PrevIndex (0 if its log is shorter) and
// HintIndex the first index it holds of that term (or its last index+1).
type AppendResp struct {
	Term      uint64
	Success   bool
	Index     uint64
	HintIndex uint64
	HintTerm  uint64
}

// InstallSnapshot carries one chunk (Data at Offset of Total bytes) of
// the leader's snapshot at Index (paper figure 13).
type InstallSnapshot struct {
	Term     uint64
	Leader   ordo.NodeID
	Index    uint64
	SnapTerm uint64
	Hash     uint64
	Voters   []ordo.NodeID
	Offset   uint64
	Total    uint64
	Data     []byte
}

// InstallSnapshotResp answers one chunk: Offset is how many bytes of the
// snapshot at Index the follower holds; Done: it installed it.
type InstallSnapshotResp struct {
	Term   uint64
	Index  uint64
	Offset uint64
	Done   bool
}

// TimeoutNow tells a caught-up follower to campaign at once (leadership
// transfer, thesis 3.10).
type TimeoutNow struct {
	Term uint64
}

func (AppendEntries) Kind() string       { return "AppendEntries" }
func (AppendResp) Kind() string          { return "AppendResp" }
func (InstallSnapshot) Kind() string     { return "InstallSnapshot" }
func (InstallSnapshotResp) Kind() string { return "InstallSnapshotResp" }
func (TimeoutNow) Kind() string          { return "TimeoutNow" }

// Messages lists one value of every message type (for codecs). No type
// declares a Size: the codec measures the real encoding, in both runtimes.
var Messages = []ordo.Message{RequestVote{}, RequestVoteResp{}, PreVote{}, PreVoteResp{}, Heartbeat{}, HeartbeatResp{}}
