package raft

import (
	"encoding/binary"
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

// An offline restore never leaves a node's term below its log's: a
// store that never voted (term 0) gets the snapshot's term, so the node
// boots (it refused the log start "out of bounds" for good: a fresh
// user's trial, a kv cluster stopped before its first election); a node
// whose term is already higher keeps its term and vote.
func TestWriteSnapshotKeepsTheTermAtLeastTheLogs(t *testing.T) {
	s := ordo.NewMemStorage()
	WriteSnapshot(s, 4, 1, []ordo.NodeID{1, 2, 3}, []byte("state"))
	if hs, ok := s.Get(storeKey); !ok || binary.BigEndian.Uint64(hs) != 1 || binary.BigEndian.Uint64(hs[8:]) != 0 {
		t.Fatalf("hard state after restoring into an empty store: %x %v, want term 1, no vote", hs, ok)
	}
	s.Put(storeKey, encodeWords(5, 2))
	WriteSnapshot(s, 4, 1, []ordo.NodeID{1, 2, 3}, []byte("state"))
	if hs, _ := s.Get(storeKey); binary.BigEndian.Uint64(hs) != 5 || binary.BigEndian.Uint64(hs[8:]) != 2 {
		t.Fatalf("a higher term and vote were not kept: %x", hs)
	}
}
