package kv

import (
	"fmt"

	"ordo"
)

// Op is what a Request asks of the database.
type Op uint8

// The operations of the key-value API.
const (
	OpGet    Op = 1 // value of Key
	OpPut    Op = 2 // set Key to Value
	OpDelete Op = 3 // remove Key
	OpCAS    Op = 4 // set Key to Value if its value is Expect (Exists=false: if it is absent)
	OpRange  Op = 5 // keys in [Key, End), at most Limit of them
	OpWatch  Op = 6 // answer when Key's revision exceeds After (long poll)
	OpSnap   Op = 7 // the state machine's snapshot (operators' backup)
	OpMember Op = 8 // membership change: Value "add" or "remove", Node
	OpMove   Op = 9 // leadership transfer to Node
)

var opNames = [...]string{OpGet: "get", OpPut: "put", OpDelete: "delete", OpCAS: "cas", OpRange: "range", OpWatch: "watch", OpSnap: "snapshot", OpMember: "member", OpMove: "transfer"}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Valid reports whether o is a known operation.
func (o Op) Valid() bool { return o >= OpGet && o <= OpMove }

// Read is how a read is served (ignored by writes).
type Read uint8

// Read levels. Linearizable is the default.
const (
	// ReadIndex: the leader confirms with a majority that it still leads
	// (a heartbeat round) after its commit index, then reads (thesis 6.4).
	ReadIndex Read = 0
	// ReadLease: the leader reads at once while its CheckQuorum lease
	// holds; safe only while clocks drift less than the lease's margin.
	ReadLease Read = 1
	// ReadSerializable: any replica answers from its own state, possibly
	// stale; the history labels such reads and the linearizable checker
	// does not hold them to real time.
	ReadSerializable Read = 2
)

// Request is a client's request to one server. Session and Seq make a
// retried write apply once: a server that already applied (Session, Seq)
// answers with the first result.
type Request struct {
	ID      uint64 // the client's request id, echoed in the Response
	Session uint64 // client session (0: none, no deduplication)
	Seq     uint64 // sequence number within the session, from 1
	Op      Op
	Read    Read
	Key     string
	End     string // OpRange: exclusive end ("" : to the last key)
	Value   string
	Expect  string // OpCAS: expected current value
	Exists  bool   // OpCAS: the key must exist (with value Expect); false: must be absent
	Limit   uint32 // OpRange: most keys returned (0: MaxRange)
	After   uint64 // OpWatch: answer once the key's revision exceeds this
	Node    ordo.NodeID
}

// Status is how a request ended.
type Status uint8

// Statuses. Only StatusUnknown leaves the outcome of a write open.
const (
	StatusOK          Status = 0
	StatusNotFound    Status = 1 // get/delete of an absent key (delete: nothing changed)
	StatusMismatch    Status = 2 // cas: the current value was not Expect (nothing changed)
	StatusNotLeader   Status = 3 // ask Leader (0: unknown); nothing changed
	StatusUnavailable Status = 4 // no majority reachable, or shutting down; nothing changed
	StatusUnknown     Status = 5 // the write may or may not have taken effect (leadership lost while it was in flight)
	StatusBadRequest  Status = 6 // malformed or oversize; nothing changed
	StatusBusy        Status = 7 // too many requests in flight; nothing changed, retry later
	StatusTimeout     Status = 8 // a watch ended without a change
)

var statusNames = [...]string{"ok", "not-found", "mismatch", "not-leader", "unavailable", "unknown", "bad-request", "busy", "timeout"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Pair is one key and value of a range.
type Pair struct {
	Key   string
	Value string
	Rev   uint64 // log index of the key's last change
}

// Response answers a Request.
type Response struct {
	ID     uint64
	Status Status
	Leader ordo.NodeID // StatusNotLeader: the leader this server knows of
	Value  string      // get, cas on mismatch: the current value
	Rev    uint64      // the log index the operation was applied or read at
	Pairs  []Pair      // range
	Err    string      // human-readable detail of a non-OK status
	ModRev uint64      // get, watch: the log index of the key's last change (watch: of the last delete when absent)
	More   bool        // range: stopped at Limit or MaxRangeBytes before the end; continue after the last key
}

// BackupRead asks for the part of the backup taken at Rev that starts at
// byte Offset (above 0: OpSnap answers the first part). The live client
// API streams ordo kv snapshot save with it. Request and Response are
// stored (Raft's log, the session table), this pair never: paging a
// backup leaves their encoding as it was.
type BackupRead struct {
	ID     uint64
	Rev    uint64
	Offset uint64
}

// BackupPart answers OpSnap and BackupRead: the backup taken at Rev, its
// bytes from Offset in Data (at most MaxSnapReply), Total in all.
type BackupPart struct {
	ID     uint64
	Rev    uint64
	Offset uint64
	Total  uint64
	Data   string
}

func (BackupRead) Kind() string { return "KVBackupRead" }
func (BackupPart) Kind() string { return "KVBackupPart" }

func (Request) Kind() string  { return "KVRequest" }
func (Response) Kind() string { return "KVResponse" }
