package ordotest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ordo"
)

// StorageBackend tells the storage contract suite how to drive one
// ordo.Storage implementation.
type StorageBackend struct {
	// Open opens the store kept in dir: an empty directory the first time,
	// the same directory after Close or Crash. Required. A failure to open
	// fails the test (t.Fatal).
	Open func(t testing.TB, dir string) ordo.Storage
	// Commit makes every write so far durable, as a runtime does after a
	// turn of its event loop. nil: writes are durable when made.
	Commit func(s ordo.Storage) error
	// Close closes s cleanly (committing). nil: nothing to close.
	Close func(s ordo.Storage) error
	// Crash abandons s as a crash of the process would: what was not
	// committed may be lost, what was must survive. nil: the backend has
	// no durability of its own (a memory store) and the crash tests are
	// skipped.
	Crash func(s ordo.Storage)
}

func (b StorageBackend) commit(t testing.TB, s ordo.Storage) {
	t.Helper()
	if b.Commit != nil {
		if err := b.Commit(s); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
}

func (b StorageBackend) close(t testing.TB, s ordo.Storage) {
	t.Helper()
	if b.Close != nil {
		if err := b.Close(s); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// Storage runs the storage contract of ordo.Storage (its doc comment)
// against a backend: ordered scans and range deletes against a model,
// the bounds (panics that change nothing), batch atomicity, durability
// across a clean reopen and across a crash after Commit, and a seeded
// random walk of operations, commits and crashes checked against a model
// (the failure names the seed; ORDOTEST_SEED=n replays it).
func Storage(t *testing.T, b StorageBackend) {
	if b.Open == nil {
		t.Fatal("ordotest.Storage: StorageBackend.Open is nil")
	}
	t.Run("ScanOrdered", func(t *testing.T) { storageScan(t, b) })
	t.Run("DeleteRange", func(t *testing.T) { storageDeleteRange(t, b) })
	t.Run("Bounds", func(t *testing.T) { storageBounds(t, b) })
	t.Run("BatchAtomic", func(t *testing.T) { storageBatch(t, b) })
	t.Run("Reopen", func(t *testing.T) { storageReopen(t, b) })
	t.Run("RandomWalk", func(t *testing.T) { storageWalk(t, b) })
}

// model is the reference: a map and sorted keys.
type model map[string]string

func (m model) keys(start, end string) []string {
	var ks []string
	for k := range m {
		if ordo.InRange(k, start, end) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func (m model) apply(op ordo.Op) {
	switch op.Kind {
	case ordo.OpPut:
		m[op.Key] = string(op.Value)
	case ordo.OpDelete:
		delete(m, op.Key)
	case ordo.OpDeleteRange:
		for _, k := range m.keys(op.Key, op.End) {
			delete(m, k)
		}
	}
}

// same fails unless s holds exactly m, read both by Get and by Scan.
func same(t testing.TB, what string, s ordo.Storage, m model) {
	t.Helper()
	var got []string
	s.Scan("", "", func(k string, v []byte) bool {
		got = append(got, k+"="+string(v))
		return true
	})
	var want []string
	for _, k := range m.keys("", "") {
		want = append(want, k+"="+m[k])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: Scan gives %d keys %.400q, want %d keys %.400q", what, len(got), got, len(want), want)
	}
	for k, v := range m {
		if g, ok := s.Get(k); !ok || string(g) != v {
			t.Fatalf("%s: Get(%q) = %q, %v; want %q", what, k, g, ok, v)
		}
	}
}

func storageScan(t *testing.T, b StorageBackend) {
	s := b.Open(t, t.TempDir())
	defer b.close(t, s)
	m := model{}
	rng := rand.New(rand.NewPCG(1, 2))
	// Keys that sort differently as bytes than as numbers, a prefix of
	// another key, the empty key and bytes above 0x7f.
	keys := []string{"", "a", "a\x00", "ab", "b", "k10", "k2", "k9", "\xff", "\xff\xff", "z"}
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("r/%d", rng.IntN(1000)), fmt.Sprintf("x%03d", i))
	}
	for _, i := range rng.Perm(len(keys)) {
		k := keys[i]
		s.Put(k, []byte("v"+k))
		m[k] = "v" + k
	}
	same(t, "after puts", s, m)
	bounds := []string{"", "a", "a\x00", "k", "k2", "r/", "r/5", "x", "x100", "\xff", "\xff\xff\xff"}
	for _, start := range bounds {
		for _, end := range bounds {
			var got []string
			s.Scan(start, end, func(k string, v []byte) bool {
				if string(v) != "v"+k {
					t.Fatalf("Scan(%q, %q): %q = %q", start, end, k, v)
				}
				got = append(got, k)
				return true
			})
			if want := m.keys(start, end); !slices.Equal(got, want) {
				t.Fatalf("Scan(%q, %q) = %q, want %q", start, end, got, want)
			}
		}
	}
	// fn returning false stops the scan.
	n := 0
	s.Scan("", "", func(string, []byte) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("Scan went on after fn returned false: %d calls, want 3", n)
	}
}

func storageDeleteRange(t *testing.T, b StorageBackend) {
	s := b.Open(t, t.TempDir())
	defer b.close(t, s)
	m := model{}
	for i := range 100 {
		k := fmt.Sprintf("k%02d", i)
		s.Put(k, []byte(k))
		m[k] = k
	}
	s.Put("", []byte("empty"))
	m[""] = "empty"
	for _, r := range [][2]string{{"k10", "k20"}, {"k50", "k50"}, {"k60", "k5"}, {"k95", ""}, {"", "k00"}, {"k205", "k21"}} {
		s.DeleteRange(r[0], r[1])
		m.apply(ordo.Op{Kind: ordo.OpDeleteRange, Key: r[0], End: r[1]})
		same(t, fmt.Sprintf("after DeleteRange(%q, %q)", r[0], r[1]), s, m)
	}
	s.DeleteRange("", "")
	same(t, `after DeleteRange("", "")`, s, model{})
}

// mustPanic fails unless f panics.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s did not panic", what)
		}
	}()
	f()
}

func storageBounds(t *testing.T, b StorageBackend) {
	s := b.Open(t, t.TempDir())
	defer b.close(t, s)
	longKey := strings.Repeat("k", ordo.MaxKeyLen+1)
	big := make([]byte, ordo.MaxValueLen+1)
	s.Put("keep", []byte("1"))
	mustPanic(t, "Put of a key over MaxKeyLen", func() { s.Put(longKey, nil) })
	mustPanic(t, "Put of a value over MaxValueLen", func() { s.Put("k", big) })
	mustPanic(t, "Delete of a key over MaxKeyLen", func() { s.Delete(longKey) })
	mustPanic(t, "DeleteRange with an end over MaxKeyLen", func() { s.DeleteRange("", longKey) })
	mustPanic(t, "Batch.Put of a value over MaxValueLen", func() { new(ordo.Batch).Put("k", big) })
	// A batch over MaxBatchBytes: 17 values at MaxValueLen. It panics
	// before changing anything.
	var bt ordo.Batch
	bt.Delete("keep")
	v := big[:ordo.MaxValueLen]
	for i := 0; bt.Bytes() <= ordo.MaxBatchBytes; i++ {
		bt.Put(fmt.Sprint("big", i), v)
	}
	mustPanic(t, "Apply of a batch over MaxBatchBytes", func() { s.Apply(&bt) })
	same(t, "after the refused writes", s, model{"keep": "1"})
	// At the bounds exactly, it works.
	atKey := strings.Repeat("k", ordo.MaxKeyLen)
	s.Put(atKey, v)
	b.commit(t, s)
	if g, ok := s.Get(atKey); !ok || len(g) != ordo.MaxValueLen {
		t.Fatalf("a key and value at the bounds: %d bytes, %v", len(g), ok)
	}
}

func storageBatch(t *testing.T, b StorageBackend) {
	dir := t.TempDir()
	s := b.Open(t, dir)
	m := model{"a": "1", "b": "2", "c/1": "x", "c/2": "y", "d": "4"}
	for _, k := range m.keys("", "") {
		s.Put(k, []byte(m[k]))
	}
	b.commit(t, s)
	var bt ordo.Batch
	bt.Put("a", []byte("10"))
	bt.Delete("b")
	bt.DeleteRange("c/", "c0")
	bt.Put("c/3", []byte("z")) // after the range delete: survives it
	bt.Put("e", []byte("5"))
	bt.Delete("e") // a later op of the same batch wins
	for _, op := range bt.Ops {
		m.apply(op)
	}
	s.Apply(&bt)
	same(t, "after Apply", s, m)
	// Apply copied the values: changing the batch afterwards changes
	// nothing stored.
	bt.Ops[0].Value[0] = 'X'
	same(t, "after changing the applied batch", s, m)
	b.commit(t, s)
	if b.Crash == nil {
		b.close(t, s)
		return
	}
	// A batch applied and not committed, then a crash: all or nothing.
	before := maps(m)
	var bt2 ordo.Batch
	for i := range 50 {
		bt2.Put(fmt.Sprintf("n/%02d", i), []byte("v"))
	}
	bt2.DeleteRange("", "b")
	s.Apply(&bt2)
	after := maps(m)
	for _, op := range bt2.Ops {
		after.apply(op)
	}
	b.Crash(s)
	s = b.Open(t, dir)
	var got []string
	s.Scan("", "", func(k string, v []byte) bool { got = append(got, k); return true })
	if !slices.Equal(got, before.keys("", "")) && !slices.Equal(got, after.keys("", "")) {
		t.Fatalf("a batch cut by a crash is neither all nor nothing: keys %q", got)
	}
	b.close(t, s)
}

func maps(m model) model {
	c := model{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

func storageReopen(t *testing.T, b StorageBackend) {
	dir := t.TempDir()
	s := b.Open(t, dir)
	m := model{}
	for i := range 300 {
		k := fmt.Sprintf("k%03d", i)
		v := strings.Repeat(k, i%7)
		s.Put(k, []byte(v))
		m[k] = v
	}
	s.Delete("k007")
	s.DeleteRange("k100", "k200")
	delete(m, "k007")
	for _, k := range m.keys("k100", "k200") {
		delete(m, k)
	}
	b.close(t, s)
	s = b.Open(t, dir)
	same(t, "after Close and Open", s, m)
	if b.Crash == nil {
		b.close(t, s)
		return
	}
	s.Put("k999", []byte("committed"))
	m["k999"] = "committed"
	b.commit(t, s)
	b.Crash(s)
	s = b.Open(t, dir)
	same(t, "after Commit and a crash", s, m)
	b.close(t, s)
}

// storageWalk applies random operations, commits and crashes, and checks
// the store against a model: after a crash it holds the state of the last
// commit, or of a later batch boundary (a backend may commit on its own,
// never half a batch).
func storageWalk(t *testing.T, b StorageBackend) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ORDOTEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	defer func() {
		if t.Failed() {
			t.Logf("seed %d; replay: ORDOTEST_SEED=%d go test -run '%s'", seed, seed, t.Name())
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	s := b.Open(t, dir)
	m := model{}       // what reads see
	durable := maps(m) // what a crash must keep at least
	var since []model  // the states at batch boundaries since the last commit
	for step := range 2000 {
		var bt ordo.Batch
		for range 1 + rng.IntN(4) {
			k := fmt.Sprintf("k%02d", rng.IntN(60))
			switch r := rng.IntN(10); {
			case r < 6:
				bt.Put(k, []byte(fmt.Sprint(step)))
			case r < 9:
				bt.Delete(k)
			default:
				bt.DeleteRange(k, fmt.Sprintf("k%02d", rng.IntN(60)))
			}
		}
		if rng.IntN(2) == 0 {
			s.Apply(&bt)
		} else {
			bt.Replay(s)
		}
		for _, op := range bt.Ops {
			m.apply(op)
		}
		if step%50 == 0 {
			same(t, fmt.Sprintf("step %d", step), s, m)
		}
		switch r := rng.IntN(20); {
		case r < 4:
			b.commit(t, s)
			durable, since = maps(m), nil
		case r == 4 && b.Crash != nil:
			// Everything since the last commit was one open batch:
			// after the crash the store holds the last commit or the
			// state now, nothing between.
			since = append(since, maps(m))
			b.Crash(s)
			s = b.Open(t, dir)
			var got []string
			s.Scan("", "", func(k string, v []byte) bool { got = append(got, k+"="+string(v)); return true })
			ok := slices.Equal(got, dump(durable))
			if !ok {
				ok = slices.Equal(got, dump(since[len(since)-1]))
			}
			if !ok {
				t.Fatalf("step %d: after a crash the store holds %.300q; want the last commit %.300q or everything %.300q", step, got, dump(durable), dump(since[len(since)-1]))
			}
			m = model{}
			s.Scan("", "", func(k string, v []byte) bool { m[k] = string(v); return true })
			durable, since = maps(m), nil
		}
	}
	same(t, "at the end", s, m)
	b.close(t, s)
}

func dump(m model) []string {
	var out []string
	for _, k := range m.keys("", "") {
		out = append(out, k+"="+m[k])
	}
	return out
}

// The kill -9 test: a child process (this test binary, re-executed) writes
// batches in a loop and reports each one it committed; the parent kills it
// with SIGKILL at a random moment, reopens the store and checks that every
// batch is all or nothing and that every acknowledged one is there.

const killEnv = "ORDOTEST_STORAGE_KILL_DIR"

// StorageKill runs the kill -9 test for a backend whose store lives in a
// directory. Call it from a test of its own (the child re-runs that test):
//
//	func TestDiskStorageKill9(t *testing.T) { ordotest.StorageKill(t, backend) }
//
// In the child it never returns: it writes batches until killed. Batch i
// puts keys b/i/0 .. b/i/(k-1) (k random, 1 KB values, up to ~1 MB a
// batch), deletes batch i-2's keys with a range delete and sets "last" to
// i, then commits and prints "acked i". After the kill the store must hold
// "last" = L ≥ the last acknowledged batch, every key of batches L-1 and
// L, and no key of any other batch.
func StorageKill(t *testing.T, b StorageBackend) {
	if dir := os.Getenv(killEnv); dir != "" {
		killChild(t, b, dir)
		return
	}
	if b.Crash == nil || b.Commit == nil {
		t.Skip("the backend is not durable on its own")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range 3 {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), killEnv+"="+dir, fmt.Sprintf("ORDOTEST_KILL_SEED=%d", seed+uint64(round)))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of acknowledged batches, at a random
		// moment within the next one.
		killAfter := 5 + rng.IntN(40)
		sc := bufio.NewScanner(out)
		acked := -1
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				acked, _ = strconv.Atoi(n)
				if acked >= killAfter {
					time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
					break
				}
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		// Batches acknowledged before the kill landed.
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				acked, _ = strconv.Atoi(n)
			}
		}
		cmd.Wait()
		cancel()
		if acked < killAfter {
			t.Fatalf("round %d: the child stopped after batch %d before the kill (want %d acknowledged)", round, acked, killAfter)
		}
		s := b.Open(t, dir)
		checkKilled(t, s, acked, seed+uint64(round))
		b.close(t, s)
	}
}

func killBatchKeys(seed uint64, i int) int {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	return 1 + r.IntN(1000)
}

func killChild(t *testing.T, b StorageBackend, dir string) {
	seed, _ := strconv.ParseUint(os.Getenv("ORDOTEST_KILL_SEED"), 10, 64)
	s := b.Open(t, dir)
	val := bytes.Repeat([]byte("v"), 1024)
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		k := killBatchKeys(seed, i)
		var bt ordo.Batch
		for j := range k {
			bt.Put(fmt.Sprintf("b/%06d/%04d", i, j), val)
		}
		if i >= 2 {
			bt.DeleteRange(fmt.Sprintf("b/%06d/", i-2), fmt.Sprintf("b/%06d0", i-2))
		}
		bt.Put("last", []byte(strconv.Itoa(i)))
		if i%2 == 0 {
			s.Apply(&bt)
		} else {
			bt.Replay(s) // the same writes one by one: one batch all the same
		}
		if err := b.Commit(s); err != nil {
			fmt.Fprintln(os.Stderr, "child commit:", err)
			os.Exit(3)
		}
		fmt.Fprintf(w, "acked %d\n", i)
		w.Flush()
	}
}

func checkKilled(t *testing.T, s ordo.Storage, acked int, seed uint64) {
	t.Helper()
	v, ok := s.Get("last")
	if !ok {
		t.Fatalf("after kill -9: no \"last\" key (batch %d was acknowledged)", acked)
	}
	last, err := strconv.Atoi(string(v))
	if err != nil || last < acked || last > acked+1 {
		t.Fatalf("after kill -9: last = %q, want %d (acknowledged) or %d (written, not yet acknowledged)", v, acked, acked+1)
	}
	count := map[int]int{}
	s.Scan("b/", "b0", func(k string, _ []byte) bool {
		i, _ := strconv.Atoi(k[2:8])
		count[i]++
		return true
	})
	for i, n := range count {
		if i != last && i != last-1 {
			t.Fatalf("after kill -9 (last = %d): %d keys of batch %d, which a later batch deleted", last, n, i)
		}
	}
	for _, i := range []int{last - 1, last} {
		if i < 0 {
			continue
		}
		if want := killBatchKeys(seed, i); count[i] != want {
			t.Fatalf("after kill -9 (last = %d): batch %d has %d of its %d keys: a batch must be all or nothing", last, i, count[i], want)
		}
	}
	t.Logf("killed after batch %d was acknowledged; the store holds batch %d whole", acked, last)
}
