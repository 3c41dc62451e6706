package raft

import (
	"encoding/binary"
	"errors"
	"fmt"

	"ordo"
)

// Storage layout of a replicating node (every key under "raft/"):
//
//	raft/hardstate          term, votedFor (16 bytes; the election's)
//	raft/log/<index>        one entry: term (8), type (1), data; index 8 bytes big-endian
//	raft/logstart           index and term (16 bytes) of the entry before the first kept one
//	raft/snap/meta          the snapshot's index, term, hash, size and voters
//	raft/snap/chunk/<n>     its bytes, snapChunk per value; n 4 bytes big-endian
const (
	logPrefix     = "raft/log/"
	logEnd        = "raft/log0" // '0' follows '/': the end of every log key
	logStartKey   = "raft/logstart"
	snapMetaKey   = "raft/snap/meta"
	snapChunkPref = "raft/snap/chunk/"
	snapChunkEnd  = "raft/snap/chunk0"
)

// Bounds of the log and its snapshots.
const (
	// snapChunk is the bytes of one stored snapshot value (well under
	// ordo.MaxValueLen).
	snapChunk = 1 << 20
	// snapMsgChunk is the bytes of snapshot in one InstallSnapshot, a
	// divisor of snapChunk so a message never spans two stored values.
	snapMsgChunk = 256 << 10
	// MaxSnapshotBytes bounds a snapshot, taken or received: its chunks
	// are written in one event's batch (ordo.MaxBatchBytes, 64 MiB).
	MaxSnapshotBytes = 48 << 20
	// maxVoters bounds a configuration read from disk or the network.
	maxVoters = 255
	// entryHeader is the bytes before an entry's data on disk.
	entryHeader = 9
)

// raftLog is the in-memory log: the entries after start, whose term is
// startTerm (start is 0 for a log that was never compacted, or the index
// of the snapshot or compaction point before ents[0]).
type raftLog struct {
	start, startTerm uint64
	ents             []Entry
}

func (l *raftLog) last() uint64 { return l.start + uint64(len(l.ents)) }

func (l *raftLog) lastTerm() uint64 {
	if len(l.ents) == 0 {
		return l.startTerm
	}
	return l.ents[len(l.ents)-1].Term
}

// term returns the term at i; ok is false when i is compacted away or
// beyond the last entry.
func (l *raftLog) term(i uint64) (uint64, bool) {
	switch {
	case i == l.start:
		return l.startTerm, true
	case i < l.start || i > l.last():
		return 0, false
	}
	return l.ents[i-l.start-1].Term, true
}

// at returns the entry at i, which must be in (start, last].
func (l *raftLog) at(i uint64) *Entry {
	if i <= l.start || i > l.last() {
		panic(fmt.Sprintf("raft: entry %d outside the log (%d, %d]", i, l.start, l.last()))
	}
	return &l.ents[i-l.start-1]
}

// truncate drops every entry from index from on. The capacity is cut too,
// so the next append copies: a message already sent may still share the
// old backing array, and a message is immutable once sent.
func (l *raftLog) truncate(from uint64) {
	k := from - l.start - 1
	l.ents = l.ents[:k:k]
}

// compact drops the entries up to and including to (start <= to <= last),
// copying the rest so the dropped ones are freed.
func (l *raftLog) compact(to uint64) {
	t, ok := l.term(to)
	if !ok {
		panic(fmt.Sprintf("raft: compact to %d outside the log [%d, %d]", to, l.start, l.last()))
	}
	rest := l.ents[to-l.start:]
	l.ents = append(make([]Entry, 0, len(rest)+64), rest...)
	l.start, l.startTerm = to, t
}

// reset empties the log after a snapshot at index (of term).
func (l *raftLog) reset(index, term uint64) {
	l.ents = nil
	l.start, l.startTerm = index, term
}

// firstOfTerm returns the first index in (start, i] whose term is the
// term at i (the follower's hint, thesis 5.3).
func (l *raftLog) firstOfTerm(i uint64) uint64 {
	t, _ := l.term(i)
	for i-1 > l.start {
		if pt, _ := l.term(i - 1); pt != t {
			break
		}
		i--
	}
	return i
}

// lastOfTerm returns the last index <= from holding term t, 0 if none
// (the leader's side of the hint).
func (l *raftLog) lastOfTerm(t, from uint64) uint64 {
	for i := min(from, l.last()); i > l.start; i-- {
		switch et := l.at(i).Term; {
		case et == t:
			return i
		case et < t:
			return 0
		}
	}
	return 0
}

func logKey(i uint64) string {
	var b [len(logPrefix) + 8]byte
	copy(b[:], logPrefix)
	binary.BigEndian.PutUint64(b[len(logPrefix):], i)
	return string(b[:])
}

// appendEntryBytes appends e's stored form to buf.
func appendEntryBytes(buf []byte, e *Entry) []byte {
	buf = binary.BigEndian.AppendUint64(buf, e.Term)
	buf = append(buf, byte(e.Type))
	return append(buf, e.Data...)
}

// decodeEntry parses a stored entry, copying its data (a Scan's value is
// valid only during the call). It refuses a short value, an unknown type
// and a term above ordo.MaxTerm.
func decodeEntry(v []byte) (Entry, error) {
	if len(v) < entryHeader {
		return Entry{}, fmt.Errorf("entry of %d bytes, want at least %d", len(v), entryHeader)
	}
	e := Entry{Term: binary.BigEndian.Uint64(v), Type: EntryType(v[8])}
	if err := ordo.CheckTerm("entry term", e.Term); err != nil {
		return Entry{}, err
	}
	if err := e.Type.check(); err != nil {
		return Entry{}, err
	}
	if len(v) > entryHeader {
		e.Data = append([]byte(nil), v[entryHeader:]...)
	}
	if e.Type == EntryConf {
		if _, err := decodeVoters(e.Data); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

func (t EntryType) check() error {
	if t < EntryNormal || t > EntryConf {
		return fmt.Errorf("unknown entry type %d", t)
	}
	return nil
}

// encodeVoters is a configuration entry's data: 4 bytes per voter id,
// ascending.
func encodeVoters(v []ordo.NodeID) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, id := range v {
		b = binary.BigEndian.AppendUint32(b, uint32(id))
	}
	return b
}

// decodeVoters parses a configuration: 1..maxVoters distinct node ids in
// ascending order.
func decodeVoters(b []byte) ([]ordo.NodeID, error) {
	if len(b)%4 != 0 || len(b) == 0 || len(b)/4 > maxVoters {
		return nil, fmt.Errorf("configuration of %d bytes", len(b))
	}
	v := make([]ordo.NodeID, len(b)/4)
	for i := range v {
		id := binary.BigEndian.Uint32(b[4*i:])
		if id < 1 || id > ordo.MaxNodeID {
			return nil, fmt.Errorf("voter %d is not a node id", id)
		}
		v[i] = ordo.NodeID(id)
		if i > 0 && v[i] <= v[i-1] {
			return nil, errors.New("voters not in ascending order")
		}
	}
	return v, nil
}

// snapMeta describes the stored snapshot.
type snapMeta struct {
	index, term, hash uint64
	size              uint64 // bytes
	voters            []ordo.NodeID
}

func (m *snapMeta) encode() []byte {
	b := make([]byte, 0, 32+4*len(m.voters))
	b = binary.BigEndian.AppendUint64(b, m.index)
	b = binary.BigEndian.AppendUint64(b, m.term)
	b = binary.BigEndian.AppendUint64(b, m.hash)
	b = binary.BigEndian.AppendUint64(b, m.size)
	return append(b, encodeVoters(m.voters)...)
}

// decodeSnapMeta parses and bounds a stored snapshot's description.
func decodeSnapMeta(b []byte) (snapMeta, error) {
	if len(b) < 32 {
		return snapMeta{}, fmt.Errorf("snapshot meta of %d bytes", len(b))
	}
	m := snapMeta{index: binary.BigEndian.Uint64(b), term: binary.BigEndian.Uint64(b[8:]),
		hash: binary.BigEndian.Uint64(b[16:]), size: binary.BigEndian.Uint64(b[24:])}
	if m.index > ordo.MaxIndex {
		return snapMeta{}, errors.New("snapshot index exceeds ordo.MaxIndex")
	}
	if err := ordo.CheckTerm("snapshot term", m.term); err != nil {
		return snapMeta{}, err
	}
	if m.size > MaxSnapshotBytes {
		return snapMeta{}, fmt.Errorf("snapshot of %d bytes exceeds %d", m.size, MaxSnapshotBytes)
	}
	v, err := decodeVoters(b[32:])
	if err != nil {
		return snapMeta{}, err
	}
	m.voters = v
	return m, nil
}

func chunkKey(n int) string {
	var b [len(snapChunkPref) + 4]byte
	copy(b[:], snapChunkPref)
	binary.BigEndian.PutUint32(b[len(snapChunkPref):], uint32(n))
	return string(b[:])
}

// writeSnapshot stores a snapshot (meta and chunks, replacing any older
// one) through w: one event's batch, so it is there whole or not at all.
func writeSnapshot(w ordo.Writer, m *snapMeta, data []byte) {
	if r, ok := w.(ordo.Reserver); ok {
		r.Reserve(len(data) + 64*(len(data)/snapChunk+3)) // the live store: grow its batch once
	}
	w.DeleteRange(snapChunkPref, snapChunkEnd)
	for n := 0; n*snapChunk < len(data); n++ {
		w.Put(chunkKey(n), data[n*snapChunk:min(len(data), (n+1)*snapChunk)])
	}
	w.Put(snapMetaKey, m.encode())
}

// readSnapshot loads the stored snapshot; ok false if there is none. A
// malformed one stops the node (ordo.Corrupt).
func readSnapshot(s ordo.Storage) (m snapMeta, data []byte, ok bool) {
	v, ok := s.Get(snapMetaKey)
	if !ok {
		return snapMeta{}, nil, false
	}
	m, err := decodeSnapMeta(v)
	if err != nil {
		panic(ordo.Corrupt{Key: snapMetaKey, Err: err})
	}
	data = make([]byte, 0, m.size)
	for n := 0; uint64(n*snapChunk) < m.size; n++ {
		k := chunkKey(n)
		c, ok := s.Get(k)
		want := min(m.size-uint64(n*snapChunk), snapChunk)
		if !ok || uint64(len(c)) != want {
			panic(ordo.Corrupt{Key: k, Err: fmt.Errorf("snapshot chunk of %d bytes (present %v), want %d", len(c), ok, want)})
		}
		data = append(data, c...)
	}
	return m, data, true
}

// readSnapshotPart returns n bytes of the stored snapshot at off (within
// one stored chunk), copied.
func readSnapshotPart(s ordo.Storage, off, n uint64) []byte {
	k := chunkKey(int(off / snapChunk))
	c, ok := s.Get(k)
	in := off % snapChunk
	if !ok || uint64(len(c)) < in+n {
		panic(ordo.Corrupt{Key: k, Err: fmt.Errorf("snapshot chunk of %d bytes, want %d", len(c), in+n)})
	}
	return append([]byte(nil), c[in:in+n]...)
}

func encodeWords(a, b uint64) []byte {
	var w [16]byte
	binary.BigEndian.PutUint64(w[:], a)
	binary.BigEndian.PutUint64(w[8:], b)
	return w[:]
}

// WriteSnapshot replaces a stopped node's state by a snapshot (offline
// restore, as "ordo kv snapshot restore"): the machine's bytes data at
// index (of term) with the given voters, and an empty log after it. The
// node's term and vote are kept. It panics (ordo.Corrupt is not
// involved: a programming error) on an index above ordo.MaxIndex, a term
// above ordo.MaxTerm, data above MaxSnapshotBytes or no voters. The
// "applied" hash restarts from the FNV-64a of the data, the same on
// every node restored from the same bytes.
func WriteSnapshot(s ordo.Storage, index, term uint64, voters []ordo.NodeID, data []byte) {
	if index > ordo.MaxIndex || term > ordo.MaxTerm || len(data) > MaxSnapshotBytes || len(voters) == 0 || len(voters) > maxVoters {
		panic(fmt.Sprintf("raft: WriteSnapshot(index %d, term %d, %d voters, %d bytes) out of bounds", index, term, len(voters), len(data)))
	}
	v := append([]ordo.NodeID(nil), voters...)
	sortIDs(v)
	m := snapMeta{index: index, term: term, hash: chain(fnvOffset, 0, data), size: uint64(len(data)), voters: v}
	var b ordo.Batch
	b.DeleteRange(logPrefix, logEnd)
	writeSnapshot(&b, &m, data)
	b.Put(logStartKey, encodeWords(index, term))
	// A node's term is never below its log's: one that never voted
	// (term 0) would refuse the restored log at boot.
	if hs, ok := s.Get(storeKey); !ok || len(hs) != 16 || binary.BigEndian.Uint64(hs) < term {
		b.Put(storeKey, encodeWords(term, 0))
	}
	s.Apply(&b)
}

// LastIndex is the highest log index a stopped node's store holds: its
// last entry's, or its log's start (the snapshot's index) when the log
// after it is empty; 0 for an empty store. An offline restore reads it
// so that a restored database does not hand out revisions again. It
// panics with ordo.Corrupt on a malformed log start or entry key.
func LastIndex(s ordo.Storage) uint64 {
	last, _, _ := loadLogStart(s)
	s.Scan(logPrefix, logEnd, func(k string, _ []byte) bool {
		if len(k) != len(logPrefix)+8 {
			panic(ordo.Corrupt{Key: k, Err: fmt.Errorf("log key of %d bytes", len(k))})
		}
		last = max(last, binary.BigEndian.Uint64([]byte(k[len(logPrefix):])))
		return true
	})
	return last
}

// loadLogStart reads the stored log start: its index and term, ok false
// if there is none. A malformed one stops the node (ordo.Corrupt).
func loadLogStart(s ordo.Storage) (start, term uint64, ok bool) {
	v, ok := s.Get(logStartKey)
	if !ok {
		return 0, 0, false
	}
	if len(v) != 16 {
		panic(ordo.Corrupt{Key: logStartKey, Err: fmt.Errorf("%d bytes, want 16", len(v))})
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]), true
}

// FNV-64a, chained: the "applied" note's hash at index i is FNV-64a over
// (term, type, data) of entry i, started from the hash at i-1, so two
// replicas with equal hashes at i applied the same entries up to i.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func chain(h, term uint64, data []byte) uint64 {
	for s := 56; s >= 0; s -= 8 {
		h ^= uint64(byte(term >> s))
		h *= fnvPrime
	}
	for _, c := range data {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func sortIDs(v []ordo.NodeID) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}
