package live

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// StorageBench is what BenchStorage measured (JSON field names are the
// `ordo bench storage --json` output).
type StorageBench struct {
	Dir        string  `json:"dir"`
	Filesystem string  `json:"filesystem"` // "tmpfs" makes fsync free: the figures then mean nothing
	Writers    int     `json:"writers"`
	ValueBytes int     `json:"value_bytes"`
	Seconds    float64 `json:"seconds_each"`
	// BatchedWritesPerS: Writers closed-loop writers, each waiting until
	// its write is durable, through the event loop's group commit.
	BatchedWritesPerS float64 `json:"batched_writes_per_s"`
	WritesPerFsync    float64 `json:"batched_writes_per_fsync"`
	// FsyncPerWriteWritesPerS: one writer, one commit (one fsync) a write.
	FsyncPerWriteWritesPerS float64 `json:"fsync_per_write_writes_per_s"`
	Ratio                   float64 `json:"ratio"`
	Warning                 string  `json:"warning,omitempty"`
}

// BenchStorage measures the disk store in a fresh directory under dir
// (removed afterwards), for d each: first one writer committing (one
// fsync) every write, then writers closed-loop writers whose writes go
// through a loop shaped like the runtime's (an inbox of InboxLen, turns
// of at most MaxTurn events, each event's write closed into a record) and
// the runtime's own groupCommit, which holds each reply until the fsync
// covering its write has returned. Both on the same disk in the same run,
// so their ratio is the group commit's gain there.
func BenchStorage(dir string, writers, valueBytes int, d time.Duration) (StorageBench, error) {
	if writers < 1 || valueBytes < 0 || valueBytes > 1<<20 || d <= 0 {
		return StorageBench{}, fmt.Errorf("live: bench storage: writers %d (want ≥ 1), value %d bytes (want 0..1 MiB), duration %v (want > 0)", writers, valueBytes, d)
	}
	root, err := os.MkdirTemp(dir, "ordo-bench-storage-")
	if err != nil {
		return StorageBench{}, err
	}
	defer os.RemoveAll(root)
	res := StorageBench{Dir: root, Filesystem: Filesystem(root), Writers: writers, ValueBytes: valueBytes, Seconds: d.Seconds()}
	if res.Filesystem == "tmpfs" {
		res.Warning = root + " is on tmpfs, where fsync costs nothing: run from a directory on a real disk"
	}
	value := make([]byte, valueBytes)
	// The two runs alternate in rounds, so a change of the machine's load
	// (it is shared) weighs on both alike.
	var single, batched, syncs int64
	var singleT, batchedT time.Duration
	for round := range benchRounds {
		n, el, err := benchSingle(filepath.Join(root, fmt.Sprint("single", round)), value, d/benchRounds)
		if err != nil {
			return res, err
		}
		single, singleT = single+n, singleT+el
		n, sy, el, err := benchBatched(filepath.Join(root, fmt.Sprint("batched", round)), writers, value, d/benchRounds)
		if err != nil {
			return res, err
		}
		batched, syncs, batchedT = batched+n, syncs+sy, batchedT+el
	}
	res.FsyncPerWriteWritesPerS = float64(single) / singleT.Seconds()
	res.BatchedWritesPerS = float64(batched) / batchedT.Seconds()
	res.WritesPerFsync = float64(batched) / float64(max(syncs, 1))
	res.Ratio = res.BatchedWritesPerS / res.FsyncPerWriteWritesPerS
	return res, nil
}

const benchRounds = 3

// benchSingle writes for d with one commit (one fsync) a write.
func benchSingle(dir string, value []byte, d time.Duration) (int64, time.Duration, error) {
	s, err := OpenDiskStorage(dir)
	if err != nil {
		return 0, 0, err
	}
	var n int64
	start := time.Now()
	for time.Since(start) < d {
		s.Put(fmt.Sprintf("k%08d", n), value)
		if err := s.Commit(); err != nil {
			s.abandon()
			return 0, 0, err
		}
		n++
	}
	el := time.Since(start)
	return n, el, s.Close()
}

// benchBatched runs writers closed-loop writers for d through the loop
// and its group commit; it returns the writes acknowledged and the
// fsyncs in that time.
func benchBatched(dir string, writers int, value []byte, d time.Duration) (int64, int64, time.Duration, error) {
	s, err := OpenDiskStorage(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	type req struct {
		key  string
		done chan error
	}
	inbox := make(chan req, InboxLen)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan error, 1)
			for i := 0; !stop.Load(); i++ {
				inbox <- req{key: fmt.Sprintf("w%03d/%08d", w, i), done: done}
				if err := <-done; err != nil {
					return
				}
			}
		}()
	}
	// The loop: the runtime's turn (first event blocking, the rest of what
	// is ready up to MaxTurn), one event a write, and groupCommit holding
	// each reply until the fsync that covers the write has returned.
	var acked int64
	gc := groupCommit[chan error]{store: s, release: func(c chan error) { acked++; c <- nil }}
	event := func(r req) {
		s.Put(r.key, value)
		s.EndBatch()
		gc.hold(r.done)
	}
	var loopErr error
	start := time.Now()
	for loopErr == nil && time.Since(start) < d {
		select {
		case <-s.Syncing():
			loopErr = gc.synced()
			continue
		case r := <-inbox:
			event(r)
		}
	more:
		for n := 1; n < MaxTurn; n++ {
			select {
			case r := <-inbox:
				event(r)
			default:
				break more
			}
		}
		loopErr = gc.endTurn()
	}
	el := time.Since(start)
	n, syncs := acked, int64(s.Syncs())
	stop.Store(true)
	if loopErr == nil {
		loopErr = gc.flush()
	}
	for _, c := range gc.takeHeld() { // a failed commit: the writers learn it
		c <- loopErr
	}
	// Answer the writers still waiting so they can see stop and return.
	go func() {
		for r := range inbox {
			r.done <- nil
		}
	}()
	wg.Wait()
	close(inbox)
	if loopErr != nil {
		s.abandon()
		return 0, 0, 0, loopErr
	}
	return n, syncs, el, s.Close()
}
