package raft

import (
	"testing"

	"ordo"
)

// FuzzDecodeEntry: a stored log entry never panics the decoder, and one
// it accepts is bounded and re-encodes to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(appendEntryBytes(nil, &Entry{Term: 3, Type: EntryNormal, Data: []byte("x")}))
	f.Add(appendEntryBytes(nil, &Entry{Term: 1, Type: EntryConf, Data: encodeVoters([]ordo.NodeID{1, 2, 3})}))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		if e.Term > ordo.MaxTerm || e.Type.check() != nil {
			t.Fatalf("accepted %+v", e)
		}
		if got := appendEntryBytes(nil, &e); string(got) != string(b) {
			t.Fatalf("re-encoded %x, read %x", got, b)
		}
	})
}

// FuzzDecodeSnapMeta: a stored snapshot description never panics the
// decoder, and one it accepts is bounded and round-trips.
func FuzzDecodeSnapMeta(f *testing.F) {
	m := snapMeta{index: 5, term: 2, hash: 9, size: 100, voters: []ordo.NodeID{1, 2}}
	f.Add(m.encode())
	f.Add(make([]byte, 31))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeSnapMeta(b)
		if err != nil {
			return
		}
		if m.index > ordo.MaxIndex || m.term > ordo.MaxTerm || m.size > MaxSnapshotBytes || len(m.voters) == 0 {
			t.Fatalf("accepted %+v", m)
		}
		if got := m.encode(); string(got) != string(b) {
			t.Fatalf("re-encoded %x, read %x", got, b)
		}
	})
}
