package raft

import (
	"testing"

	"ordo"
)

// LastIndex reads how far a stopped node's store goes: nothing, a
// snapshot's index with an empty log after it, or the last entry's.
func TestLastIndex(t *testing.T) {
	s := ordo.NewMemStorage()
	if got := LastIndex(s); got != 0 {
		t.Fatalf("an empty store: %d, want 0", got)
	}
	WriteSnapshot(s, 10, 2, []ordo.NodeID{1, 2, 3}, []byte("state"))
	if got := LastIndex(s); got != 10 {
		t.Fatalf("after a snapshot at 10: %d", got)
	}
	for i := uint64(11); i <= 13; i++ {
		s.Put(logKey(i), appendEntryBytes(nil, &Entry{Term: 2}))
	}
	if got := LastIndex(s); got != 13 {
		t.Fatalf("with entries up to 13: %d", got)
	}
	s.Put(logStartKey, []byte("short"))
	defer func() {
		if _, ok := recover().(ordo.Corrupt); !ok {
			t.Fatal("a malformed log start did not panic with ordo.Corrupt")
		}
	}()
	LastIndex(s)
}
