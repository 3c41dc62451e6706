package coord

import (
	"fmt"
	"unicode/utf8"

	"ordo"
)

// The service API: a small subset of etcd v3 (leases, keys with create and
// mod revisions, conditional create, ordered lookups under a prefix, a
// one-shot delete watch) plus a fenced write. Every request carries Req, a
// number the caller picks (unique per caller and incarnation); the service
// answers with exactly one Reply echoing it — or, for Watch, with one
// Deleted (or a Reply with an error) when the watched key goes away.
// Replies from a live adapter that could not reach the service carry
// ErrUnavailable: the outcome of the request is unknown.

// Bounds on what travels (TigerBeetle style: every message has a limit).
const (
	MaxKeyBytes   = 256
	MaxValueBytes = 1024
	// MaxTTLSeconds bounds a lease's TTL (etcd's own limit is larger; a
	// leader-election TTL beyond an hour is a mistake).
	MaxTTLSeconds = 3600
	// MinTTLSeconds: etcd refuses shorter TTLs on its defaults (1.5 × its
	// election timeout, rounded up).
	MinTTLSeconds = 2
)

// Grant asks for a new lease of TTL seconds (etcd LeaseGrant).
type Grant struct {
	Req uint64
	TTL int64 // seconds, MinTTLSeconds..MaxTTLSeconds
}

// KeepAlive renews a lease to its full TTL (one etcd LeaseKeepAlive).
type KeepAlive struct {
	Req   uint64
	Lease int64
}

// Revoke ends a lease now, deleting its keys (etcd LeaseRevoke).
type Revoke struct {
	Req   uint64
	Lease int64
}

// TimeToLive asks how long Lease has left (etcd LeaseTimeToLive). The
// reply's TTL is the remaining time in whole seconds, truncated toward
// zero as etcd does (a lease with 1.9 s left answers 1; one due but not
// yet revoked answers 0); ErrNoLease when the lease is gone. The answer
// carries no revision (etcd fills no header for it).
type TimeToLive struct {
	Req   uint64
	Lease int64
}

// Create puts Key = Value bound to Lease only if Key does not exist (etcd:
// Txn If(CreateRevision(Key) = 0) Then(Put(Key, Value, WithLease(Lease)))
// Else(Get(Key))). The reply has Succeeded, and Found/CreateRev/... of the
// key as it now is.
type Create struct {
	Req   uint64
	Key   string
	Value string
	Lease int64
}

// Get reads one key (etcd Range on one key).
type Get struct {
	Req uint64
	Key string
}

// Find reads one key under Prefix ordered by create revision: the oldest
// (Last false), or the newest with a create revision below Below (Last
// true; Below 0: no bound). etcd: Get(Prefix, WithPrefix(),
// WithFirstCreate()) or Get(Prefix, WithPrefix(), WithLastCreate(),
// WithMaxCreateRev(Below-1)).
type Find struct {
	Req    uint64
	Prefix string
	Below  int64
	Last   bool
}

// Delete removes Key if its create revision is Rev (Rev 0: whatever it is):
// etcd Txn If(CreateRevision(Key) = Rev) Then(Delete(Key)).
type Delete struct {
	Req uint64
	Key string
	Rev int64
}

// Watch waits until Key is deleted at or after revision Rev and answers
// with one Deleted (etcd Watch(Key, WithRev(Rev)) filtered to deletes).
// A key already absent is answered at once. Unwatch (same Req) cancels.
type Watch struct {
	Req uint64
	Key string
	Rev int64
}

// Unwatch cancels the watch started by the Watch with the same Req; the
// service answers with a Reply.
type Unwatch struct {
	Req uint64
}

// Deleted answers a Watch: Key was deleted at revision Rev (0 when it was
// already absent).
type Deleted struct {
	Req uint64
	Key string
	Rev int64
}

// Write is a write to the fenced store: it is accepted only if Token is at
// least the highest token the store has accepted (with fencing on; off,
// every write is accepted and the store only records). Writer is the node
// that claims to be leader; Value is what it writes.
type Write struct {
	Req    uint64
	Token  int64
	Writer ordo.NodeID
	Value  string
}

// Errors a Reply can carry.
const (
	OK             uint8 = iota
	ErrNoLease           // the lease does not exist (expired or revoked)
	ErrStaleToken        // Write refused: Token below the highest accepted
	ErrCompacted         // Watch: Rev is compacted; read again and re-watch
	ErrUnavailable       // live: the service did not answer in time; outcome unknown
	ErrBadRequest        // the service refused the request as malformed
	errMax
)

// ErrName names an error code for notes and messages.
func ErrName(code uint8) string {
	switch code {
	case OK:
		return "ok"
	case ErrNoLease:
		return "no-lease"
	case ErrStaleToken:
		return "stale-token"
	case ErrCompacted:
		return "compacted"
	case ErrUnavailable:
		return "unavailable"
	case ErrBadRequest:
		return "bad-request"
	}
	return fmt.Sprintf("error(%d)", code)
}

// Reply answers every request but a successful Watch. Rev is the store's
// revision when it answered (etcd's header revision; 0 with an error, which
// etcd answers without a header, and for Unwatch, which asks etcd nothing).
type Reply struct {
	Req uint64
	Err uint8
	Rev int64
	// Grant and KeepAlive: the lease and its TTL in seconds.
	Lease int64
	TTL   int64
	// Create and Delete: whether the condition held.
	Succeeded bool
	// Create, Get and Find: the key read (Found false: none).
	Found     bool
	Key       string
	Value     string
	CreateRev int64
	ModRev    int64
	KeyLease  int64 // the lease the key is bound to (0: none)
	// Write: the highest token accepted so far (after this write) and the
	// write's position in the store's order (0 when refused).
	Highest int64
	Seq     int64
}

func (Grant) Kind() string      { return "GRANT" }
func (KeepAlive) Kind() string  { return "KEEPALIVE" }
func (Revoke) Kind() string     { return "REVOKE" }
func (TimeToLive) Kind() string { return "TIMETOLIVE" }
func (Create) Kind() string     { return "CREATE" }
func (Get) Kind() string        { return "GET" }
func (Find) Kind() string       { return "FIND" }
func (Delete) Kind() string     { return "DELETE" }
func (Watch) Kind() string      { return "WATCH" }
func (Unwatch) Kind() string    { return "UNWATCH" }
func (Deleted) Kind() string    { return "DELETED" }
func (Write) Kind() string      { return "WRITE" }
func (Reply) Kind() string      { return "REPLY" }

// Messages lists one value of every message type (for codecs): the
// coordination service and the fenced store speak the same API, and every
// client protocol of theirs (election/lease) lists these too.
var Messages = []ordo.Message{Grant{}, KeepAlive{}, Revoke{}, Create{}, Get{}, Find{}, Delete{}, Watch{}, Unwatch{}, Deleted{}, Write{}, Reply{}, TimeToLive{}}

// checkKey bounds a key on the wire. An empty key travels (the zero value
// of every message must: the codec round-trips it) but no service accepts
// it: Check refuses it.
func checkKey(field, k string) error {
	if len(k) > MaxKeyBytes || !utf8.ValidString(k) {
		return fmt.Errorf("coord: %s of %d bytes: want at most %d bytes of UTF-8", field, len(k), MaxKeyBytes)
	}
	return nil
}

// Check is what a service (the model or a live adapter) requires of a
// request beyond Validate's bounds on the wire: a non-empty key or prefix
// and a TTL of at least MinTTLSeconds. A request it refuses is answered
// with ErrBadRequest. (etcd would raise a short TTL to its minimum
// silently; both runtimes refuse it instead, so that a node's idea of its
// TTL is the service's.)
func Check(m ordo.Message) error {
	if v, ok := m.(ordo.Validator); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	key := ""
	switch m := m.(type) {
	case Grant:
		if m.TTL < MinTTLSeconds {
			return fmt.Errorf("coord: TTL %d s out of range %d..%d", m.TTL, MinTTLSeconds, MaxTTLSeconds)
		}
		return nil
	case Create:
		key = m.Key
	case Get:
		key = m.Key
	case Find:
		key = m.Prefix
	case Delete:
		key = m.Key
	case Watch:
		key = m.Key
	default:
		return nil
	}
	if key == "" {
		return fmt.Errorf("coord: %s with an empty key", m.Kind())
	}
	return nil
}

func checkValue(v string) error {
	if len(v) > MaxValueBytes || !utf8.ValidString(v) {
		return fmt.Errorf("coord: value of %d bytes: want at most %d bytes of UTF-8", len(v), MaxValueBytes)
	}
	return nil
}

// checkLease accepts any non-negative lease id: etcd draws ids from the
// whole positive int64 range (its LeaseGrant masks a 64-bit id generator to
// 63 bits), so MaxIndex (2^62) would refuse about half of the real ones.
func checkLease(field string, l int64) error {
	if l < 0 {
		return fmt.Errorf("coord: %s %d is negative", field, l)
	}
	return nil
}

func checkRev(field string, r int64) error {
	if r < 0 || r > ordo.MaxIndex {
		return fmt.Errorf("coord: %s %d out of range 0..%d", field, r, int64(ordo.MaxIndex))
	}
	return nil
}

// Validate refuses a TTL out of 0..MaxTTLSeconds (Check also refuses one
// below MinTTLSeconds).
func (m Grant) Validate() error {
	if m.TTL < 0 || m.TTL > MaxTTLSeconds {
		return fmt.Errorf("coord: TTL %d s out of range 0..%d", m.TTL, MaxTTLSeconds)
	}
	return nil
}

// Validate refuses a negative lease.
func (m KeepAlive) Validate() error { return checkLease("lease", m.Lease) }

// Validate refuses a negative lease.
func (m Revoke) Validate() error { return checkLease("lease", m.Lease) }

// Validate refuses a negative lease.
func (m TimeToLive) Validate() error { return checkLease("lease", m.Lease) }

// Validate bounds the key and value.
func (m Create) Validate() error {
	if err := checkKey("key", m.Key); err != nil {
		return err
	}
	if err := checkValue(m.Value); err != nil {
		return err
	}
	return checkLease("lease", m.Lease)
}

// Validate bounds the key.
func (m Get) Validate() error { return checkKey("key", m.Key) }

// Validate bounds the prefix and revision.
func (m Find) Validate() error {
	if err := checkKey("prefix", m.Prefix); err != nil {
		return err
	}
	return checkRev("below", m.Below)
}

// Validate bounds the key and revision.
func (m Delete) Validate() error {
	if err := checkKey("key", m.Key); err != nil {
		return err
	}
	return checkRev("rev", m.Rev)
}

// Validate bounds the key and revision.
func (m Watch) Validate() error {
	if err := checkKey("key", m.Key); err != nil {
		return err
	}
	return checkRev("rev", m.Rev)
}

// Validate bounds the key and revision.
func (m Deleted) Validate() error {
	if err := checkKey("key", m.Key); err != nil {
		return err
	}
	return checkRev("rev", m.Rev)
}

// Validate bounds the token, writer and value.
func (m Write) Validate() error {
	if err := checkRev("token", m.Token); err != nil {
		return err
	}
	if m.Writer < 0 || m.Writer > ordo.MaxNodeID {
		return fmt.Errorf("coord: writer %d out of range", m.Writer)
	}
	return checkValue(m.Value)
}

// Validate bounds every field.
func (m Reply) Validate() error {
	if m.Err >= errMax {
		return fmt.Errorf("coord: unknown error code %d", m.Err)
	}
	for _, r := range []struct {
		n string
		v int64
	}{{"rev", m.Rev}, {"create_rev", m.CreateRev}, {"mod_rev", m.ModRev}, {"highest", m.Highest}, {"seq", m.Seq}} {
		if err := checkRev(r.n, r.v); err != nil {
			return err
		}
	}
	if err := checkLease("lease", m.Lease); err != nil {
		return err
	}
	if err := checkLease("key_lease", m.KeyLease); err != nil {
		return err
	}
	if m.TTL < -1 || m.TTL > MaxTTLSeconds {
		return fmt.Errorf("coord: TTL %d out of range -1..%d", m.TTL, MaxTTLSeconds)
	}
	if m.Key != "" {
		if err := checkKey("key", m.Key); err != nil {
			return err
		}
	}
	return checkValue(m.Value)
}
