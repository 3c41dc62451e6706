package raft

import (
	"errors"

	"ordo"
	"ordo/rsm"
)

// Host receives what the replicated log produces. Its methods are called
// from inside the node's events (Start, Receive, Fire, Flush), so they may
// send and write through env like any event; they must not call back into
// the Node's mutating methods (Propose, ReadIndex, ...) re-entrantly.
type Host interface {
	// Applied: the entry at index (of term) was applied to the machine,
	// in index order, result = Machine.Apply's result. The proposer
	// compares term to the term Propose returned: a different term means
	// its entry was overwritten (answer StatusUnknown or retry; never
	// report the other entry's result as its own). Raft's own entries
	// (the leader's no-op, membership changes) are applied too, as a nil
	// cmd (the machine treats it as a no-op), so indexes stay consecutive.
	Applied(env ordo.Env, index, term uint64, result []byte)
	// ReadReady: the ReadIndex request ctx is confirmed (ok) at index:
	// serve it once the machine has applied index; !ok: leadership was
	// lost, fail it (not-leader).
	ReadReady(env ordo.Env, ctx uint64, index uint64, ok bool)
	// LeaderChanged: this node's view of the leader changed (None:
	// unknown). Drop or fail pending requests when it is no longer the
	// leader: their writes are StatusUnknown.
	LeaderChanged(env ordo.Env, leader ordo.NodeID)
}

// ConfOp is a single-server membership change (thesis 4.1).
type ConfOp uint8

// The membership changes.
const (
	AddVoter ConfOp = iota + 1
	RemoveVoter
)

func (o ConfOp) String() string {
	switch o {
	case AddVoter:
		return "add"
	case RemoveVoter:
		return "remove"
	}
	return "unknown"
}

// Errors of the replica API.
var (
	// ErrNotLeader: this node is not the leader (Leader() names the one it
	// believes in, None if unknown).
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrBusy: the leader cannot take this now (the uncommitted log is at
	// its bound, a transfer or a membership change is under way, or its
	// no-op of the term has not committed yet); retry later.
	ErrBusy = errors.New("raft: busy, retry")
	// ErrTooLarge: the command exceeds max_batch_bytes (wrapped with the
	// sizes: test with errors.Is).
	ErrTooLarge = errors.New("raft: command too large")
)

// ReplicaOptions are the options of a replicating node: the "raft"
// election options plus the replication ones. A protocol built on
// NewReplica declares them (and its own) as its Options.
var ReplicaOptions = append(append([]ordo.Option(nil), Options...), []ordo.Option{
	{Name: "max_batch_bytes", Default: "262144", Help: "bytes of entries in one AppendEntries (bounded by ordo.MaxMessageSize/2); also the largest command Propose takes"},
	{Name: "max_inflight", Default: "64", Help: "un-acknowledged AppendEntries per follower (pipelining)"},
	{Name: "max_uncommitted", Default: "8192", Help: "entries the leader holds uncommitted before Propose answers ErrBusy (backpressure)"},
	{Name: "snapshot_entries", Default: "100000", Help: "take a snapshot and compact the log every this many applied entries, node n a further (n mod 5) tenths of it so that nodes do not snapshot together (the snapshot serializes the whole machine inside the event loop: rarer means fewer stalls, a longer log to replay at restart)"},
	{Name: "note_every", Default: "16", Help: "note \"applied\" (index, hash) at every index this divides (1: every index); the hash chains every entry before it, so a divergence shows at the next noted index"},
	{Name: "unsafe_commit_any_term", Default: "false", Help: "DELIBERATELY BROKEN: commit entries of earlier terms by counting replicas (the Raft paper's figure 8 bug); for tests that must find violations"},
	{Name: "unsafe_early_conf_change", Default: "false", Help: "DELIBERATELY BROKEN: allow a membership change before the leader's no-op of its term commits; for tests that must find violations"},
}...)

// ReplicaMessages lists one value of every message a replicating node
// sends (a host protocol includes them in its Messages).
var ReplicaMessages = append(append([]ordo.Message(nil), Messages...),
	AppendEntries{}, AppendResp{}, InstallSnapshot{}, InstallSnapshotResp{}, TimeoutNow{})

// IsMessage reports whether m is one of raft's messages (a host forwards
// those to Node.Receive and handles its own).
func IsMessage(m ordo.Message) bool {
	switch m.(type) {
	case RequestVote, RequestVoteResp, PreVote, PreVoteResp, Heartbeat, HeartbeatResp,
		AppendEntries, AppendResp, InstallSnapshot, InstallSnapshotResp, TimeoutNow, ordo.PeerDown:
		return true
	}
	return false
}

var _ ordo.Flusher = (*Node)(nil)
var _ rsm.Machine = rsm.Machine(nil)
