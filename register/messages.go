package register

import (
	"fmt"

	"ordo"
)

// Timestamp orders the writes of one key: (Counter, Writer, Round),
// compared lexicographically. ABD's multi-writer timestamp is (counter,
// writer id); a server that coordinates two writes at once may pick one
// counter for both, so the coordinator's round (unique per operation,
// across restarts) breaks that tie: distinct writes never share a
// timestamp, or replicas could keep different values under one.
type Timestamp struct {
	Counter uint64
	Writer  int    // the coordinating server's id; 0 with Counter 0: never written
	Round   uint64 // the coordinator's round of the write
}

// Less reports t < u.
func (t Timestamp) Less(u Timestamp) bool {
	if t.Counter != u.Counter {
		return t.Counter < u.Counter
	}
	if t.Writer != u.Writer {
		return t.Writer < u.Writer
	}
	return t.Round < u.Round
}

func (t Timestamp) String() string { return fmt.Sprintf("(%d,n%d,%d)", t.Counter, t.Writer, t.Round) }

// Request is a client's operation, sent to the server that coordinates
// it. Op is the client's operation id (unique per client), echoed in the
// Reply.
type Request struct {
	Op    int64
	Write bool
	Key   string
	Value string // a write's value
}

// Kind implements ordo.Message.
func (Request) Kind() string { return "reg-request" }

// Reply answers a Request: a read's value, or an acknowledged write.
// Busy means the coordinator refused it before doing anything (too many
// operations in flight): it certainly took no effect.
type Reply struct {
	Op    int64
	Value string
	Busy  bool
}

// Kind implements ordo.Message.
func (Reply) Kind() string { return "reg-reply" }

// Query asks a replica for its timestamp and value of Key (ABD's first
// phase). Round names the coordinator's operation.
type Query struct {
	Round uint64
	Key   string
}

// Kind implements ordo.Message.
func (Query) Kind() string { return "abd-query" }

// QueryAck is a replica's answer to a Query.
type QueryAck struct {
	Round uint64
	TS    Timestamp
	Value string
}

// Kind implements ordo.Message.
func (QueryAck) Kind() string { return "abd-query-ack" }

// Update asks a replica to adopt (TS, Value) for Key if TS is newer than
// its own (ABD's second phase: a write, or a read's write-back).
type Update struct {
	Round uint64
	Key   string
	TS    Timestamp
	Value string
}

// Kind implements ordo.Message.
func (Update) Kind() string { return "abd-update" }

// UpdateAck says the replica holds (TS, Value) or newer, durably: the
// runtime sends it only after the event's storage writes are synced.
type UpdateAck struct {
	Round uint64
}

// Kind implements ordo.Message.
func (UpdateAck) Kind() string { return "abd-update-ack" }

// Messages lists every message type of the register protocols.
var Messages = []ordo.Message{Request{}, Reply{}, Query{}, QueryAck{}, Update{}, UpdateAck{}}
