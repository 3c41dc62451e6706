package ordo

import (
	"fmt"
	"sort"
	"strings"
)

// Storage is a node's durable, ordered key-value state.
//
// The durability contract, the same in both runtimes: a write is visible to
// Get and Scan at once, and every write made while handling one event (one
// Start, Receive or Fire) reaches stable storage together, atomically,
// before any message that event sent leaves the node. So a vote, an
// acknowledgement or a reply never promises state that a crash can take
// back. After a crash a node finds every event's writes or none of them.
// Apply makes a batch atomic on its own as well (for use outside a runtime).
//
// A storage failure (a failed fsync, a full disk, a corrupt file) stops the
// node (fail-stop): there is no error to handle. A key longer than
// MaxKeyLen, a value longer than MaxValueLen or an event whose writes exceed
// MaxBatchBytes is a protocol bug and panics in both runtimes alike.
type Storage interface {
	Get(key string) ([]byte, bool)
	Put(key string, value []byte)
	Delete(key string)
	// DeleteRange deletes every key k with start <= k < end; end "" means
	// no upper bound.
	DeleteRange(start, end string)
	// Scan calls fn for every key k with start <= k < end in ascending
	// byte order (end "" means no upper bound) until fn returns false.
	// value is valid only during the call. fn must not write to the store.
	Scan(start, end string, fn func(key string, value []byte) bool)
	// Apply performs every operation of b, in order, atomically.
	Apply(b *Batch)
}

// Storage bounds, the same for every backend.
const (
	MaxKeyLen     = 1 << 10  // bytes
	MaxValueLen   = 4 << 20  // bytes
	MaxBatchBytes = 64 << 20 // bytes of keys and values written by one event
)

// OpKind is what one batch operation does.
type OpKind uint8

// The batch operations.
const (
	OpPut OpKind = iota + 1
	OpDelete
	OpDeleteRange
)

// Op is one operation of a Batch. For OpDeleteRange, Key is the start and
// End the (exclusive) end of the range.
type Op struct {
	Kind  OpKind
	Key   string
	End   string
	Value []byte
}

// Batch is an ordered list of writes applied all or nothing.
type Batch struct {
	Ops   []Op
	bytes int
}

// Put adds a put of a copy of value.
func (b *Batch) Put(key string, value []byte) {
	CheckKV(key, value)
	b.Ops = append(b.Ops, Op{Kind: OpPut, Key: key, Value: append([]byte(nil), value...)})
	b.bytes += len(key) + len(value)
}

// Delete adds a delete.
func (b *Batch) Delete(key string) {
	CheckKV(key, nil)
	b.Ops = append(b.Ops, Op{Kind: OpDelete, Key: key})
	b.bytes += len(key)
}

// DeleteRange adds a range delete of [start, end).
func (b *Batch) DeleteRange(start, end string) {
	CheckKV(start, nil)
	CheckKV(end, nil)
	b.Ops = append(b.Ops, Op{Kind: OpDeleteRange, Key: start, End: end})
	b.bytes += len(start) + len(end)
}

// Len is the number of operations.
func (b *Batch) Len() int { return len(b.Ops) }

// Bytes is the bytes of keys and values the batch writes.
func (b *Batch) Bytes() int { return b.bytes }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() { b.Ops, b.bytes = b.Ops[:0], 0 }

// CheckKV panics if key or value exceeds the storage bounds.
func CheckKV(key string, value []byte) {
	if len(key) > MaxKeyLen {
		panic(fmt.Sprintf("ordo: storage key of %d bytes exceeds MaxKeyLen (%d)", len(key), MaxKeyLen))
	}
	if len(value) > MaxValueLen {
		panic(fmt.Sprintf("ordo: storage value of %d bytes for key %q exceeds MaxValueLen (%d)", len(value), key, MaxValueLen))
	}
}

// InRange reports whether start <= k < end, where end "" means no bound.
func InRange(k, start, end string) bool {
	return k >= start && (end == "" || k < end)
}

// MemStorage is a Storage kept in memory, with no durability of its own
// (the simulator models what reaches the disk; see sim). Keys are kept
// sorted, so Scan is ordered.
type MemStorage struct {
	m    map[string][]byte
	keys []string // sorted; nil when it must be rebuilt
}

// NewMemStorage returns an empty MemStorage.
func NewMemStorage() *MemStorage { return &MemStorage{m: map[string][]byte{}} }

// Get implements Storage.
func (s *MemStorage) Get(key string) ([]byte, bool) {
	v, ok := s.m[key]
	return v, ok
}

// Put implements Storage.
func (s *MemStorage) Put(key string, value []byte) {
	CheckKV(key, value)
	if _, ok := s.m[key]; !ok {
		s.keys = nil
	}
	s.m[key] = append([]byte(nil), value...)
}

// Delete implements Storage.
func (s *MemStorage) Delete(key string) {
	if _, ok := s.m[key]; ok {
		delete(s.m, key)
		s.keys = nil
	}
}

// DeleteRange implements Storage.
func (s *MemStorage) DeleteRange(start, end string) {
	var del []string
	s.Scan(start, end, func(k string, _ []byte) bool { del = append(del, k); return true })
	for _, k := range del {
		s.Delete(k)
	}
}

// Scan implements Storage.
func (s *MemStorage) Scan(start, end string, fn func(key string, value []byte) bool) {
	if s.keys == nil {
		s.keys = make([]string, 0, len(s.m))
		for k := range s.m {
			s.keys = append(s.keys, k)
		}
		sort.Strings(s.keys)
	}
	keys := s.keys
	for i := sort.SearchStrings(keys, start); i < len(keys); i++ {
		k := keys[i]
		if end != "" && strings.Compare(k, end) >= 0 {
			return
		}
		if !fn(k, s.m[k]) {
			return
		}
	}
}

// Apply implements Storage.
func (s *MemStorage) Apply(b *Batch) {
	for _, op := range b.Ops {
		switch op.Kind {
		case OpPut:
			s.Put(op.Key, op.Value)
		case OpDelete:
			s.Delete(op.Key)
		case OpDeleteRange:
			s.DeleteRange(op.Key, op.End)
		default:
			panic(fmt.Sprintf("ordo: batch op kind %d", op.Kind))
		}
	}
}

// Len is the number of keys.
func (s *MemStorage) Len() int { return len(s.m) }
