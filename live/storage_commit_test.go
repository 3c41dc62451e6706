package live

import (
	"slices"
	"sync"
	"testing"
)

// The syncer releases what direct accepts itself, once the fsync that
// covers it has returned and never before; a failed fsync releases
// nothing; what direct refuses (a wake-up) waits for the loop (synced);
// with direct release off (a paused node) the syncer releases nothing.
func TestGroupCommitDirectRelease(t *testing.T) {
	type rig struct {
		s   *DiskStorage
		g   *groupCommit[int]
		mu  sync.Mutex
		got []int
	}
	open := func() *rig {
		s, err := OpenDiskStorage(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r := &rig{s: s}
		r.g = &groupCommit[int]{store: s, direct: func(x int) bool { return x > 0 }, release: func(x int) {
			s.mu.Lock()
			durable := s.syncedN >= 1 && s.syncErr == nil
			s.mu.Unlock()
			if !durable {
				t.Errorf("%d released before the fsync covering it returned", x)
			}
			r.mu.Lock()
			r.got = append(r.got, x)
			r.mu.Unlock()
		}}
		s.afterSync = r.g.syncerDone
		return r
	}
	released := func(r *rig) []int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return slices.Clone(r.got)
	}
	// turn ends a turn holding two sends and a wake-up and waits for its
	// fsync. A failed fsync may surface at once, in endTurn's own poll
	// of the store (the syncer can fail before it), or at the loop's
	// synced: its error is returned.
	turn := func(r *rig) error {
		r.s.Put("k", []byte("v"))
		r.s.EndBatch()
		r.g.hold(1)
		r.g.hold(-1) // a wake-up: the loop's
		r.g.hold(2)
		if err := r.g.endTurn(); err != nil {
			return err
		}
		<-r.s.Syncing() // the syncer has released and reports
		return nil
	}

	// byLoop reports a turn whose fsync returned before endTurn's own
	// poll: the loop released everything itself, in order, and the
	// syncer had nothing to release. Rare (the fsync must beat a few
	// instructions); the cases that need the syncer's path try again.
	byLoop := func(r *rig) bool { return slices.Equal(released(r), []int{1, -1, 2}) }
	const tries = 20

	var r *rig
	for i := 0; ; i++ {
		r = open()
		if err := turn(r); err != nil {
			t.Fatal(err)
		}
		if !byLoop(r) || i == tries {
			break
		}
		r.s.Close()
	}
	if got := released(r); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("the syncer released %v, want [1 2] (the wake-up waits for the loop)", got)
	}
	if err := r.g.synced(); err != nil {
		t.Fatal(err)
	}
	if got := released(r); !slices.Equal(got, []int{1, 2, -1}) {
		t.Fatalf("after the loop's turn: %v, want [1 2 -1]", got)
	}
	r.s.Close()

	r = open() // a failed fsync releases nothing, ever
	r.s.failNextSync.Store(true)
	err := turn(r)
	if err == nil {
		err = r.g.synced()
	}
	if err == nil {
		t.Fatal("a failed fsync reported no error")
	}
	if got := released(r); len(got) != 0 {
		t.Fatalf("released %v after a failed fsync", got)
	}
	if held := r.g.takeHeld(); len(held) != 3 {
		t.Fatalf("held after a failed fsync: %v, want all 3", held)
	}
	r.s.abandon()

	for i := 0; ; i++ { // paused: the loop releases, after the pause
		r = open()
		r.g.setDirect(false)
		if err := turn(r); err != nil {
			t.Fatal(err)
		}
		if !byLoop(r) || i == tries {
			break
		}
		r.s.Close()
	}
	if got := released(r); len(got) != 0 {
		t.Fatalf("direct release off: the syncer released %v", got)
	}
	r.g.setDirect(true)
	if err := r.g.synced(); err != nil {
		t.Fatal(err)
	}
	if got := released(r); !slices.Equal(got, []int{1, -1, 2}) {
		t.Fatalf("released by the loop: %v, want [1 -1 2] in order", got)
	}
	r.s.Close()
}
