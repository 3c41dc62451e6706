package resilience

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"ordo"
)

// Fingerprint identifies a request's content, so a key reused for another
// request is caught (the IETF Idempotency-Key draft's "fingerprint").
type Fingerprint [32]byte

// FingerprintOf is the SHA-256 of parts, each prefixed by its length so
// ("ab","c") and ("a","bc") differ. Typical parts: method, path, body.
func FingerprintOf(parts ...[]byte) Fingerprint {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	var f Fingerprint
	h.Sum(f[:0])
	return f
}

// Stamp is where a table operation happens, for expiry: a monotonic
// reading (AtTime) for a table serving one server, or a log position
// (AtPosition) for a table inside a replicated state machine, where every
// replica must expire the same entries at the same point of the log and
// no replica's clock may decide it (the database issue's rule).
type Stamp int64

// AtTime is the stamp of a monotonic reading (ordo.Env.Monotonic).
func AtTime(now time.Duration) Stamp { return Stamp(now) }

// AtPosition is the stamp of a log position (an index ≥ 0; clamped at
// math.MaxInt64).
func AtPosition(i uint64) Stamp {
	if i > math.MaxInt64 {
		return math.MaxInt64
	}
	return Stamp(i)
}

// Expiry says what a table's stamps are.
type Expiry uint8

const (
	// ByTime: stamps are monotonic readings and TTL is a duration.
	ByTime Expiry = iota
	// ByPosition: stamps are log positions and TTL is a count of them.
	ByPosition
)

// Table errors. Every refusal leaves the table unchanged.
var (
	// ErrKeyInvalid: an empty key, or one longer than MaxKeyLen bytes.
	ErrKeyInvalid = errors.New("resilience: idempotency key empty or too long")
	// ErrKeyReused: the key was first used for a request with another
	// fingerprint (HTTP 422 in the IETF draft).
	ErrKeyReused = errors.New("resilience: idempotency key reused for a different request")
	// ErrInProgress: the key's first request has not finished (HTTP 409).
	// After a restart of a table with DurableClaims, a claim whose request
	// never finished stays in progress until it expires: it may or may
	// not have been applied (section 5's ambiguity), so it is refused
	// rather than run again.
	ErrInProgress = errors.New("resilience: a request with this idempotency key is in progress")
	// ErrTableFull: MaxEntries entries are live and none has expired; the
	// request is refused rather than forgetting a live key (HTTP 503).
	ErrTableFull = errors.New("resilience: idempotency table full")
	// ErrResponseTooLarge: Finish got a response over MaxResponseLen
	// bytes. The entry is kept as done without its response, so the key
	// is still never executed twice; Begin answers ErrResponseNotKept.
	ErrResponseTooLarge = errors.New("resilience: response too large to keep")
	// ErrResponseNotKept: the key's request finished but its response
	// was too large to keep.
	ErrResponseNotKept = errors.New("resilience: the first response under this key was not kept (too large)")
	// ErrNotInProgress: Finish for a key that has no claim in progress
	// (never begun, aborted, expired, or already finished).
	ErrNotInProgress = errors.New("resilience: no request in progress under this key")
)

// Table bounds.
const (
	DefaultMaxEntries     = 10_000
	MaxTableEntries       = 1 << 20
	DefaultMaxKeyLen      = 255 // bytes: the draft's keys are UUIDs (36)
	MaxIdempotencyKeyLen  = 512 // bytes
	DefaultMaxResponseLen = 64 << 10
	MaxResponseLimit      = 1 << 20 // bytes: ordo.MaxMessageSize
	DefaultTTL            = 24 * time.Hour
)

// TableConfig configures a Table.
type TableConfig struct {
	// MaxEntries bounds the entries kept (a count; default 10 000, at
	// most MaxTableEntries). Size it above the peak rate of keyed
	// requests times TTL: a full table refuses new keys (ErrTableFull).
	MaxEntries int
	// MaxKeyLen bounds keys (bytes; default 255, at most 512).
	MaxKeyLen int
	// MaxResponseLen bounds a kept response (bytes; default 64 KiB, at
	// most 1 MiB).
	MaxResponseLen int
	// Expiry says what stamps are; TTL (ByTime, default 24h) or
	// TTLPositions (ByPosition, required > 0) is an entry's life from its
	// Begin. An expired key may be executed again: TTL must outlast every
	// client's retries.
	Expiry       Expiry
	TTL          time.Duration
	TTLPositions uint64
	// Store, if set, makes finished entries durable: they are written to
	// it under Prefix (atomic batches) and reloaded by NewTable, so a
	// restart does not forget. Inside an ordo runtime use env.Store():
	// the writes of one event commit together with the effect they
	// record, so a crash keeps both or neither.
	Store  ordo.Storage
	Prefix string
	// DurableClaims also writes a claim at Begin, so after a crash
	// between applying a request and Finish the key stays refused
	// (ErrInProgress) until it expires instead of running again: at most
	// once, at the price of an unknown outcome. Needed when the effect
	// is not written in the same atomic event as the table (an HTTP
	// handler).
	DurableClaims bool
	// Sync, if set, is called after every durable write that must be on
	// disk before the caller proceeds (live.DiskStorage.Commit, outside a
	// runtime); its error is returned by Begin and Finish.
	Sync func() error
}

type entryState uint8

const (
	inProgress entryState = 1
	done       entryState = 2
	doneLost   entryState = 3 // done, response not kept
)

type entry struct {
	fp    Fingerprint
	at    Stamp
	state entryState
	resp  []byte
	seq   uint64
}

type queued struct {
	key string
	seq uint64
}

// Table is a bounded deduplication table of idempotency keys (the
// chapter's section 5, strategy 1, "멱등성 설계: 재시도해도 안전하게" —
// idempotent design, safe to retry). Begin claims a key for one
// execution; Finish stores its response, which every later Begin with the
// same key and fingerprint replays. Not safe for concurrent use (the
// HTTP handler locks around it).
type Table struct {
	cfg     TableConfig
	m       map[string]*entry
	queue   []queued // by Begin order (stamps non-decreasing)
	head    int
	seq     uint64
	last    Stamp
	scratch []byte
}

// NewTable returns a table, loading the entries stored under cfg.Prefix
// in cfg.Store if set. Under ByTime the loaded entries' age restarts at
// at: a monotonic clock restarts with its process, so a restart extends
// an entry's life by at most TTL and never shortens it. Errors: a
// setting out of range, a stored record that does not decode, or more
// stored entries than MaxEntries.
func NewTable(cfg TableConfig, at Stamp) (*Table, error) {
	if cfg.MaxEntries < 0 || cfg.MaxEntries > MaxTableEntries {
		return nil, fmt.Errorf("resilience: table: MaxEntries %d outside [1, %d]", cfg.MaxEntries, MaxTableEntries)
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxKeyLen < 0 || cfg.MaxKeyLen > MaxIdempotencyKeyLen {
		return nil, fmt.Errorf("resilience: table: MaxKeyLen %d outside [1, %d]", cfg.MaxKeyLen, MaxIdempotencyKeyLen)
	}
	if cfg.MaxKeyLen == 0 {
		cfg.MaxKeyLen = DefaultMaxKeyLen
	}
	if cfg.MaxResponseLen < 0 || cfg.MaxResponseLen > MaxResponseLimit {
		return nil, fmt.Errorf("resilience: table: MaxResponseLen %d outside [1, %d]", cfg.MaxResponseLen, MaxResponseLimit)
	}
	if cfg.MaxResponseLen == 0 {
		cfg.MaxResponseLen = DefaultMaxResponseLen
	}
	switch cfg.Expiry {
	case ByTime:
		if cfg.TTL < 0 {
			return nil, fmt.Errorf("resilience: table: negative TTL %v", cfg.TTL)
		}
		if cfg.TTL == 0 {
			cfg.TTL = DefaultTTL
		}
	case ByPosition:
		if cfg.TTLPositions == 0 || cfg.TTLPositions > math.MaxInt64 {
			return nil, errors.New("resilience: table: ByPosition needs TTLPositions in [1, 2^63)")
		}
	default:
		return nil, fmt.Errorf("resilience: table: unknown expiry %d", cfg.Expiry)
	}
	if len(cfg.Prefix)+cfg.MaxKeyLen > ordo.MaxKeyLen {
		return nil, fmt.Errorf("resilience: table: prefix %q plus MaxKeyLen %d exceed ordo.MaxKeyLen", cfg.Prefix, cfg.MaxKeyLen)
	}
	if cfg.Store != nil && cfg.Prefix == "" {
		return nil, errors.New("resilience: table: a Store needs a Prefix of its own")
	}
	t := &Table{cfg: cfg, m: map[string]*entry{}, last: at}
	if cfg.Store != nil {
		if err := t.load(at); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Table) load(at Stamp) error {
	type kv struct {
		key string
		e   *entry
	}
	var all []kv
	var err error
	t.cfg.Store.Scan(t.cfg.Prefix, prefixEnd(t.cfg.Prefix), func(k string, v []byte) bool {
		key := k[len(t.cfg.Prefix):]
		var e *entry
		e, err = decodeEntry(v, t.cfg.MaxResponseLen)
		if err == nil && (len(key) == 0 || len(key) > t.cfg.MaxKeyLen) {
			err = fmt.Errorf("key of %d bytes", len(key))
		}
		if err != nil {
			err = fmt.Errorf("resilience: table: stored entry %q: %w", clip(k), err)
			return false
		}
		if len(all) >= t.cfg.MaxEntries {
			err = fmt.Errorf("resilience: table: store holds more than MaxEntries (%d) entries under %q", t.cfg.MaxEntries, t.cfg.Prefix)
			return false
		}
		all = append(all, kv{key, e})
		return true
	})
	if err != nil {
		return err
	}
	if t.cfg.Expiry == ByTime {
		for _, x := range all {
			x.e.at = at
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].e.at < all[j].e.at })
	for _, x := range all {
		t.seq++
		x.e.seq = t.seq
		t.m[x.key] = x.e
		t.queue = append(t.queue, queued{x.key, t.seq})
		if x.e.at > t.last {
			t.last = x.e.at
		}
	}
	return nil
}

// Len is the number of entries kept (in progress and done).
func (t *Table) Len() int { return len(t.m) }

// Config returns the configuration in force, defaults filled in.
func (t *Table) Config() TableConfig { return t.cfg }

// Claim is Begin's answer when it does not refuse.
type Claim struct {
	// Replay is true when the key's request already finished: Response
	// is its stored response, to be returned without executing again.
	// When false, the caller owns the key: execute, then Finish (or
	// Abort if the request had no effect).
	Replay   bool
	Response []byte
}

// Begin claims key for a request with fingerprint fp at stamp at. It
// returns Claim{Replay: false} exactly once per live key: the caller
// executes the request and calls Finish. Later calls with the same key
// and fp replay the stored response, or get ErrInProgress while the
// first has not finished; a different fp gets ErrKeyReused. Other errors:
// ErrKeyInvalid, ErrTableFull, ErrResponseNotKept, and the Sync hook's.
// The returned Response is shared: do not modify it.
func (t *Table) Begin(at Stamp, key string, fp Fingerprint) (Claim, error) {
	if len(key) == 0 || len(key) > t.cfg.MaxKeyLen {
		return Claim{}, ErrKeyInvalid
	}
	at = t.clamp(at)
	t.Expire(at)
	if e, ok := t.m[key]; ok {
		if e.fp != fp {
			return Claim{}, ErrKeyReused
		}
		switch e.state {
		case inProgress:
			return Claim{}, ErrInProgress
		case doneLost:
			return Claim{}, ErrResponseNotKept
		}
		return Claim{Replay: true, Response: e.resp}, nil
	}
	if len(t.m) >= t.cfg.MaxEntries {
		return Claim{}, ErrTableFull
	}
	t.seq++
	e := &entry{fp: fp, at: at, state: inProgress, seq: t.seq}
	if t.cfg.Store != nil && t.cfg.DurableClaims {
		if err := t.write(key, e); err != nil {
			return Claim{}, err
		}
	}
	t.m[key] = e
	t.queue = append(t.queue, queued{key, t.seq})
	return Claim{}, nil
}

// Finish stores resp (copied) as the response of key's request, which
// Begin claimed, at stamp at (unused but for clamping; the entry's life
// runs from Begin). Errors: ErrNotInProgress, ErrResponseTooLarge (the
// entry is then kept as done without a response), and the Sync hook's.
func (t *Table) Finish(at Stamp, key string, resp []byte) error {
	t.clamp(at)
	e, ok := t.m[key]
	if !ok || e.state != inProgress {
		return ErrNotInProgress
	}
	var tooLarge error
	if len(resp) > t.cfg.MaxResponseLen {
		e.state, e.resp, tooLarge = doneLost, nil, ErrResponseTooLarge
	} else {
		e.state, e.resp = done, append([]byte(nil), resp...)
	}
	if t.cfg.Store != nil {
		if err := t.write(key, e); err != nil {
			return err
		}
	}
	return tooLarge
}

// finishLost is Finish with a response known to be over the limit,
// without materializing it.
func (t *Table) finishLost(at Stamp, key string) error {
	t.clamp(at)
	e, ok := t.m[key]
	if !ok || e.state != inProgress {
		return ErrNotInProgress
	}
	e.state, e.resp = doneLost, nil
	if t.cfg.Store != nil {
		return t.write(key, e)
	}
	return nil
}

// Abort releases key's claim in progress: call it when the request had
// no effect (it was refused before doing anything), so a retry may run
// it. It is a no-op for a key not in progress. Aborting after an effect
// breaks at-most-once: then Finish with the error response instead.
func (t *Table) Abort(key string) error {
	e, ok := t.m[key]
	if !ok || e.state != inProgress {
		return nil
	}
	delete(t.m, key)
	if t.cfg.Store != nil && t.cfg.DurableClaims {
		var b ordo.Batch
		b.Delete(t.cfg.Prefix + key)
		t.cfg.Store.Apply(&b)
		return t.sync()
	}
	return nil
}

// Expire drops every entry whose life has ended at stamp at and returns
// how many it dropped. Begin calls it; call it from a timer to free
// memory and storage between requests.
func (t *Table) Expire(at Stamp) int {
	at = t.clamp(at)
	var b ordo.Batch
	n := 0
	for t.head < len(t.queue) {
		q := t.queue[t.head]
		e, ok := t.m[q.key]
		if ok && e.seq == q.seq {
			if !t.expired(e, at) {
				break
			}
			delete(t.m, q.key)
			if t.cfg.Store != nil {
				b.Delete(t.cfg.Prefix + q.key)
			}
			n++
		}
		t.queue[t.head] = queued{}
		t.head++
	}
	if t.head > 64 && t.head*2 > len(t.queue) {
		t.queue = append(t.queue[:0], t.queue[t.head:]...)
		t.head = 0
	}
	if b.Len() > 0 {
		// Deleting is never urgent: no Sync, the next durable write
		// carries it, and a crash before that only keeps entries longer.
		t.cfg.Store.Apply(&b)
	}
	return n
}

func (t *Table) expired(e *entry, at Stamp) bool {
	age := int64(at) - int64(e.at)
	if t.cfg.Expiry == ByPosition {
		return age >= int64(t.cfg.TTLPositions)
	}
	return age >= int64(t.cfg.TTL)
}

// clamp keeps stamps non-decreasing: HTTP handlers read the clock before
// taking the lock, so two readings may arrive out of order.
func (t *Table) clamp(at Stamp) Stamp {
	if at < t.last {
		return t.last
	}
	t.last = at
	return at
}

func (t *Table) write(key string, e *entry) error {
	t.scratch = encodeEntry(t.scratch[:0], e)
	var b ordo.Batch
	b.Put(t.cfg.Prefix+key, t.scratch)
	t.cfg.Store.Apply(&b)
	return t.sync()
}

func (t *Table) sync() error {
	if t.cfg.Sync == nil {
		return nil
	}
	return t.cfg.Sync()
}

// Record format: version 1, state, fingerprint (32), stamp (8, big
// endian), uvarint response length, response.
const entryVersion = 1

func encodeEntry(dst []byte, e *entry) []byte {
	dst = append(dst, entryVersion, byte(e.state))
	dst = append(dst, e.fp[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.at))
	dst = binary.AppendUvarint(dst, uint64(len(e.resp)))
	return append(dst, e.resp...)
}

func decodeEntry(b []byte, maxResp int) (*entry, error) {
	if len(b) < 2+32+8+1 {
		return nil, fmt.Errorf("record of %d bytes is too short", len(b))
	}
	if b[0] != entryVersion {
		return nil, fmt.Errorf("record version %d, want %d", b[0], entryVersion)
	}
	e := &entry{state: entryState(b[1])}
	if e.state < inProgress || e.state > doneLost {
		return nil, fmt.Errorf("record state %d", b[1])
	}
	copy(e.fp[:], b[2:34])
	at := binary.BigEndian.Uint64(b[34:42])
	if at > math.MaxInt64 {
		return nil, fmt.Errorf("record stamp %d out of range", at)
	}
	e.at = Stamp(at)
	n, k := uvarint(b[42:])
	if k <= 0 || n > uint64(maxResp) || uint64(len(b)-42-k) != n {
		return nil, fmt.Errorf("record response length %d does not match its %d bytes (limit %d)", n, len(b)-42-max(k, 0), maxResp)
	}
	if e.state != done && n != 0 {
		return nil, fmt.Errorf("record in state %d carries a response", e.state)
	}
	if n > 0 {
		e.resp = append([]byte(nil), b[42+k:]...)
	}
	return e, nil
}

// prefixEnd is the smallest string greater than every string with prefix
// p ("" when there is none: no upper bound).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}
