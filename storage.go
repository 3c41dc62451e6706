package ordo

import (
	"fmt"

	"github.com/google/btree"
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
// Live, the event loop commits the writes of a whole turn of events with
// one fsync (group commit, live.DiskStorage: an append-only log of
// checksummed records); the simulator's disk model (sim.Disk) makes the
// contract observable: sends wait for a simulated fsync, a crash drops
// unsynced writes, and the seed can tear a batch or fail a disk.
// ordotest.Storage is the contract's test suite.
//
// A storage failure (a failed fsync, a full disk, a corrupt file) stops the
// node (fail-stop): there is no error to handle. A key longer than
// MaxKeyLen, a value longer than MaxValueLen or an event (or a Batch) whose
// writes exceed MaxBatchBytes or MaxBatchOps is a protocol bug and panics
// in both runtimes alike.
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
	MaxBatchOps   = 1 << 20  // operations (puts, deletes, range deletes) of one event
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

// Writer is what Replay writes to: a Storage, or another Batch.
type Writer interface {
	Put(key string, value []byte)
	Delete(key string)
	DeleteRange(start, end string)
}

// Replay performs b's operations on w one by one, in order (not
// atomically: a Storage's Apply checks the bounds first, then replays).
// It panics on an unknown operation kind.
func (b *Batch) Replay(w Writer) {
	for _, op := range b.Ops {
		switch op.Kind {
		case OpPut:
			w.Put(op.Key, op.Value)
		case OpDelete:
			w.Delete(op.Key)
		case OpDeleteRange:
			w.DeleteRange(op.Key, op.End)
		default:
			panic(fmt.Sprintf("ordo: batch op kind %d", op.Kind))
		}
	}
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

// CheckBatch panics if b exceeds MaxBatchBytes or MaxBatchOps.
func CheckBatch(b *Batch) {
	if b.bytes > MaxBatchBytes || len(b.Ops) > MaxBatchOps {
		panic(fmt.Sprintf("ordo: storage batch of %d ops and %d bytes exceeds MaxBatchOps (%d) or MaxBatchBytes (%d)", len(b.Ops), b.bytes, MaxBatchOps, MaxBatchBytes))
	}
}

// InRange reports whether start <= k < end, where end "" means no bound.
func InRange(k, start, end string) bool {
	return k >= start && (end == "" || k < end)
}

// MemStorage is a Storage kept in memory, with no durability of its own
// (the simulator models what reaches the disk; see sim). Keys are kept in
// a B-tree (github.com/google/btree), so Get, Put and Delete cost
// O(log n) and Scan is ordered.
type MemStorage struct {
	t *btree.BTreeG[memKV]
}

type memKV struct {
	k string
	v []byte
}

func lessKV(a, b memKV) bool { return a.k < b.k }

// Reserver is implemented by a Storage that can make room ahead for one
// large batch of about n bytes (the live store, whose batch buffer a Raft
// snapshot's megabytes would otherwise grow many times). A hint: what a
// reader sees does not change. Layers (SubEnv) pass it on.
type Reserver interface {
	Reserve(n int)
}

// NewMemStorage returns an empty MemStorage.
func NewMemStorage() *MemStorage { return &MemStorage{t: btree.NewG(32, lessKV)} }

// Get implements Storage. The value is shared: the caller must not modify
// it.
func (s *MemStorage) Get(key string) ([]byte, bool) {
	kv, ok := s.t.Get(memKV{k: key})
	return kv.v, ok
}

// Put implements Storage.
func (s *MemStorage) Put(key string, value []byte) {
	CheckKV(key, value)
	s.t.ReplaceOrInsert(memKV{k: key, v: append([]byte(nil), value...)})
}

// Delete implements Storage.
func (s *MemStorage) Delete(key string) {
	CheckKV(key, nil)
	s.t.Delete(memKV{k: key})
}

// DeleteRange implements Storage.
func (s *MemStorage) DeleteRange(start, end string) {
	CheckKV(start, nil)
	CheckKV(end, nil)
	var del []string
	s.Scan(start, end, func(k string, _ []byte) bool { del = append(del, k); return true })
	for _, k := range del {
		s.t.Delete(memKV{k: k})
	}
}

// Scan implements Storage.
func (s *MemStorage) Scan(start, end string, fn func(key string, value []byte) bool) {
	visit := func(kv memKV) bool { return fn(kv.k, kv.v) }
	if end == "" {
		s.t.AscendGreaterOrEqual(memKV{k: start}, visit)
		return
	}
	s.t.AscendRange(memKV{k: start}, memKV{k: end}, visit)
}

// Apply implements Storage. It checks the whole batch against the bounds
// first, so a batch that panics has changed nothing.
func (s *MemStorage) Apply(b *Batch) {
	CheckBatch(b)
	b.Replay(s)
}

// Len is the number of keys.
func (s *MemStorage) Len() int { return s.t.Len() }

// Clone returns a copy of s in O(1): the two share the tree's nodes and
// copy them lazily as either changes (the simulator keeps a node's synced
// state beside its working state this way).
func (s *MemStorage) Clone() *MemStorage { return &MemStorage{t: s.t.Clone()} }
