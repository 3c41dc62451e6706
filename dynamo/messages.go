package dynamo

import (
	"fmt"

	"ordo"
)

// Bounds of requests and stored state.
const (
	MaxKeyLen   = 128
	MaxValueLen = 1 << 10
	// MaxKeys is the default of option max_keys, the keys one server
	// holds; a put of a new key beyond it is refused (store full).
	MaxKeys = 1024
	// MaxKeysCap bounds option max_keys.
	MaxKeysCap = 1 << 20
	// MaxSiblingsCap bounds the max_siblings option.
	MaxSiblingsCap = 256
	// MaxPending bounds the requests one server coordinates at once; more
	// are refused busy.
	MaxPending = 1024
	// MaxPushKeys bounds the objects of one anti-entropy message.
	MaxPushKeys = 64
	// MaxHints bounds the hinted objects one stand-in keeps.
	MaxHints = 1024
	// maxVec is the most servers a sibling's display vector spans.
	maxVec = 64
)

// Op is what a client asks.
type Op uint8

// The operations.
const (
	OpGet Op = iota + 1
	OpPut
	// OpDelete writes a tombstone (Dynamo 2007, section 4.4: a delete is
	// a put of a deletion marker): it supersedes what its context covers
	// and is a sibling of the writes it did not see. It carries the
	// context of a get and no value.
	OpDelete
)

func (o Op) String() string {
	switch o {
	case OpGet:
		return "get"
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// Status is a reply's outcome.
type Status uint8

// The statuses.
const (
	StatusOK Status = iota + 1
	// StatusBadRequest: refused before anything was stored (a bad key,
	// value or cart; a malformed or forged context; the sibling cap).
	StatusBadRequest
	// StatusUnavailable: fewer than R (W) replicas answered in time. A put
	// may have been stored by some replicas: its outcome is unknown.
	StatusUnavailable
	// StatusBusy: the coordinator has MaxPending requests in flight.
	StatusBusy
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusBadRequest:
		return "bad-request"
	case StatusUnavailable:
		return "unavailable"
	case StatusBusy:
		return "busy"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Request is a client's get, put or delete. Any server takes it: one not
// in the key's preference list forwards it (Forwarded, Client set) to the
// member Attempt picks, which answers the client directly. With Relay the
// forwarder names itself as Client and relays the answer: a client that
// can hear only the server it asked (a live client API call) sets it.
type Request struct {
	ID        uint64
	Op        Op
	Key       string
	Value     string
	Context   []byte // opaque, from a get; empty: a blind write
	Attempt   uint8
	Forwarded bool
	Client    ordo.NodeID // set when Forwarded
	Relay     bool
}

// Kind implements ordo.Message.
func (Request) Kind() string { return "dyn-request" }

// check refuses what no server serves: an unknown op, an empty key.
func (r Request) check() error {
	switch {
	case r.Op != OpGet && r.Op != OpPut && r.Op != OpDelete:
		return fmt.Errorf("unknown op %d", r.Op)
	case len(r.Key) == 0:
		return fmt.Errorf("empty key")
	case r.Op == OpDelete && r.Value != "":
		return fmt.Errorf("a delete carries no value")
	case r.Op == OpDelete && len(r.Context) == 0:
		// A tombstone that covers nothing deletes nothing: it would only
		// add a sibling.
		return fmt.Errorf("a delete needs the context of a get of the key (it deletes what that get saw)")
	}
	return r.Validate()
}

// Validate implements ordo.Validator: the bounds.
func (r Request) Validate() error {
	switch {
	case len(r.Key) > MaxKeyLen:
		return fmt.Errorf("key of %d bytes (1..%d)", len(r.Key), MaxKeyLen)
	case len(r.Value) > MaxValueLen:
		return fmt.Errorf("value of %d bytes (max %d)", len(r.Value), MaxValueLen)
	case len(r.Context) > MaxContextBytes:
		return fmt.Errorf("context of %d bytes (max %d)", len(r.Context), MaxContextBytes)
	}
	return nil
}

// Reply answers a Request. A get's Values are the siblings (one value
// after last-write-wins or a merge; none when the key was never written),
// Vecs their version vectors as the chapter writes them; Context is what
// the next put must carry. Deleted marks the tombstones among Values (nil
// when there are none): a key whose siblings are all tombstones is not
// found, yet its Context still matters to the next write. Merge names a
// merging bucket's cart (orset or union; "" when it does not merge), so
// a client knows how to edit the value. A put's or delete's Vecs[0] is
// the new write's vector.
type Reply struct {
	ID      uint64
	Status  Status
	Values  []string
	Vecs    []string
	Context []byte
	Err     string
	Deleted []bool
	Merge   string
}

// Found reports whether a get's answer holds a value that is not a
// tombstone.
func (r Reply) Found() bool {
	for i := range r.Values {
		if i >= len(r.Deleted) || !r.Deleted[i] {
			return true
		}
	}
	return false
}

// Kind implements ordo.Message.
func (Reply) Kind() string { return "dyn-reply" }

// Validate implements ordo.Validator.
func (r Reply) Validate() error {
	if len(r.Values) > 2*MaxSiblingsCap || len(r.Vecs) > 2*MaxSiblingsCap || len(r.Err) > 1024 {
		return fmt.Errorf("reply with %d values, %d vectors, %d bytes of error", len(r.Values), len(r.Vecs), len(r.Err))
	}
	if len(r.Deleted) != 0 && len(r.Deleted) != len(r.Values) || len(r.Merge) > 16 {
		return fmt.Errorf("reply with %d tombstone marks for %d values, merge %q", len(r.Deleted), len(r.Values), r.Merge)
	}
	return nil
}

// Replicate carries a coordinator's new version of a key to a replica,
// which merges it and acknowledges (ID 0: a read repair, not answered).
// Hint names the preference-list member a stand-in holds it for (sloppy
// quorum): the stand-in keeps it aside and hands it off when it can.
type Replicate struct {
	ID   uint64
	Key  string
	Obj  Object
	Hint ordo.NodeID
}

// Kind implements ordo.Message.
func (Replicate) Kind() string { return "dyn-replicate" }

// Validate implements ordo.Validator.
func (r Replicate) Validate() error { return validObject(r.Key, &r.Obj) }

// Ack acknowledges a Replicate.
type Ack struct{ ID uint64 }

// Kind implements ordo.Message.
func (Ack) Kind() string { return "dyn-ack" }

// Fetch asks a replica for its version of a key.
type Fetch struct {
	ID  uint64
	Key string
}

// Kind implements ordo.Message.
func (Fetch) Kind() string { return "dyn-fetch" }

// Fetched answers a Fetch (Has false: never written here).
type Fetched struct {
	ID  uint64
	Has bool
	Obj Object
}

// Kind implements ordo.Message.
func (Fetched) Kind() string { return "dyn-fetched" }

// Validate implements ordo.Validator.
func (f Fetched) Validate() error { return validObject("k", &f.Obj) }

// Push carries objects that differ (anti-entropy), and the keys the sender
// wants back; Final pushes are not answered.
type Push struct {
	Keys  []string
	Objs  []Object
	Want  []string
	Final bool
}

// Kind implements ordo.Message.
func (Push) Kind() string { return "dyn-push" }

// Validate implements ordo.Validator.
func (p Push) Validate() error {
	if len(p.Keys) != len(p.Objs) || len(p.Keys) > MaxPushKeys || len(p.Want) > MaxSyncKeys {
		return fmt.Errorf("push of %d keys, %d objects, %d wants", len(p.Keys), len(p.Objs), len(p.Want))
	}
	for i := range p.Objs {
		if err := validObject(p.Keys[i], &p.Objs[i]); err != nil {
			return err
		}
	}
	return nil
}

func validObject(key string, o *Object) error {
	if len(key) > MaxKeyLen {
		return fmt.Errorf("key of %d bytes (max %d)", len(key), MaxKeyLen)
	}
	if len(o.Entries) > MaxContextEntries || len(o.Clock) > MaxContextEntries {
		return fmt.Errorf("object with %d entries, %d clock entries (max %d)", len(o.Entries), len(o.Clock), MaxContextEntries)
	}
	if o.Count() > MaxSiblingsCap*2 {
		return fmt.Errorf("object with %d siblings", o.Count())
	}
	for i, e := range o.Entries {
		if i > 0 && e.Replica <= o.Entries[i-1].Replica || e.N > MaxCounter || uint64(len(e.Values)) > e.N {
			return fmt.Errorf("object entry %d (%v:%d with %d values) out of order or bounds", i, e.Replica, e.N, len(e.Values))
		}
	}
	for _, v := range o.Siblings() {
		if len(v.Value) > MaxValueLen || len(v.Vec) > maxVec || v.Dot > MaxCounter {
			return fmt.Errorf("sibling of %d bytes, vector of %d", len(v.Value), len(v.Vec))
		}
	}
	return nil
}

// Messages are the store's and its clients' message types.
var Messages = []ordo.Message{Request{}, Reply{}, Replicate{}, Ack{}, Fetch{}, Fetched{}, SyncTree{}, SyncLeaves{}, Push{}}
