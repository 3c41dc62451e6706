package kv

import (
	"ordo"
	"ordo/election/raft"
)

// State is a kv server's state as data (ordo.StateReporter): its Raft
// replica's, and the key-value machine's.
type State struct {
	raft.State
	Keys int `json:"keys"` // keys in the machine
	// MachineApplied is the last log index the machine applied.
	MachineApplied uint64 `json:"machine_applied"`
	Sessions       int    `json:"sessions"` // client sessions the machine keeps
	// PendingWrites and PendingReads count the client requests waiting
	// for the log (writes to commit, reads to be confirmed or applied).
	PendingWrites int `json:"pending_writes"`
	PendingReads  int `json:"pending_reads"`
	Watches       int `json:"watches"`
}

var _ ordo.StateReporter = (*Server)(nil)

// State implements ordo.StateReporter: a State value. It reads s only.
func (s *Server) State() any {
	return State{
		State: s.Node.RaftState(), Keys: s.m.Len(), MachineApplied: s.m.Applied(), Sessions: s.m.Sessions(),
		PendingWrites: len(s.writes), PendingReads: len(s.reads) + len(s.waiting), Watches: len(s.watches),
	}
}
