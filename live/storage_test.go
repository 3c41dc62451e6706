package live

import (
	"bytes"

	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
	"ordo/trace"
)

var diskBackend = ordotest.StorageBackend{
	Open: func(t testing.TB, dir string) ordo.Storage {
		s, err := OpenDiskStorage(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	},
	Commit: func(s ordo.Storage) error { return s.(*DiskStorage).Commit() },
	Close:  func(s ordo.Storage) error { return s.(*DiskStorage).Close() },
	Crash:  func(s ordo.Storage) { s.(*DiskStorage).abandon() },
}

// The storage contract (ordo.Storage's doc comment) on the disk backend.
func TestDiskStorageContract(t *testing.T) { ordotest.Storage(t, diskBackend) }

// A real kill -9 in the middle of writing batches: each is all or nothing,
// and every acknowledged one survives.
func TestDiskStorageKill9(t *testing.T) { ordotest.StorageKill(t, diskBackend) }

// writeStore makes a store in dir with n committed records (one key each)
// and returns the file's path.
func writeStore(t testing.TB, dir string, n int) string {
	t.Helper()
	s, err := OpenDiskStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s.Put(fmt.Sprint("k", i), bytes.Repeat([]byte{'v'}, 100))
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if s.Syncs() != uint64(n) {
		t.Fatalf("%d commits made %d fsyncs", n, s.Syncs())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, StoreFileName)
}

// dataEnd is where the writes of a store file end: the zeros written
// ahead of them (preallocation) follow. Test stores end in a value.
func dataEnd(t testing.TB, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(data)
	for n > 0 && data[n-1] == 0 {
		n--
	}
	return int64(n)
}

// A last write cut short (the file's end inside it) or torn over the
// preallocated zeros (any mix of its bytes and zeros, its mark included)
// was never acknowledged: it is discarded whole, and the store opens with
// every write before it.
func TestDiskStorageTornTail(t *testing.T) {
	recLen := int64(recordHeader + len(appendOp(nil, ordo.OpPut, "k2", bytes.Repeat([]byte{'v'}, 100))))
	lastWrite := markBytes + recLen
	tears := []struct {
		name string
		tear func(f *os.File, start, end int64)
	}{
		{"cut", func(f *os.File, start, end int64) { f.Truncate(end - 1) }},
		{"cut in the mark", func(f *os.File, start, end int64) { f.Truncate(start + 5) }},
		{"cut after the mark", func(f *os.File, start, end int64) { f.Truncate(start + markBytes + 3) }},
		{"record zeroed", func(f *os.File, start, end int64) { f.WriteAt(make([]byte, recLen), start+markBytes) }},
		{"record's end zeroed", func(f *os.File, start, end int64) { f.WriteAt(make([]byte, 20), end-20) }},
		{"mark zeroed, record kept", func(f *os.File, start, end int64) { f.WriteAt(make([]byte, markBytes), start) }},
		{"mark's first bytes zeroed", func(f *os.File, start, end int64) { f.WriteAt(make([]byte, 4), start) }},
		{"garbage over the record", func(f *os.File, start, end int64) { f.WriteAt(bytes.Repeat([]byte{0x5a}, 40), start+markBytes+8) }},
	}
	for _, tc := range tears {
		dir := t.TempDir()
		path := writeStore(t, dir, 3)
		end := dataEnd(t, path)
		f, _ := os.OpenFile(path, os.O_RDWR, 0)
		tc.tear(f, end-lastWrite, end)
		f.Close()
		s, err := OpenDiskStorage(dir)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.mem.Len() != 2 || !strings.Contains(s.Info(), "torn") {
			t.Fatalf("%s: %d keys, info %q; want 2 keys and a torn write discarded", tc.name, s.mem.Len(), s.Info())
		}
		s.Put("after", nil) // written where the torn write was
		s.Close()
		s, err = OpenDiskStorage(dir)
		if err != nil || s.mem.Len() != 3 || s.Info() != "" {
			t.Fatalf("%s, reopened: %v, %d keys, info %q", tc.name, err, s.mem.Len(), s.Info())
		}
		s.Close()
	}
	// A zero-filled tail of any length is the end, not damage.
	for _, zeros := range []int{1, markBytes - 1, 5000} {
		dir := t.TempDir()
		path := writeStore(t, dir, 2)
		f, _ := os.OpenFile(path, os.O_RDWR, 0)
		f.Truncate(dataEnd(t, path))
		f.WriteAt(make([]byte, zeros), dataEnd(t, path))
		f.Close()
		s, err := OpenDiskStorage(dir)
		if err != nil || s.mem.Len() != 2 || s.Info() != "" {
			t.Fatalf("zero tail of %d: %v", zeros, err)
		}
		s.Close()
	}
}

// The store writes over zeros written ahead (preallocation), so that
// its fsyncs have no size to commit: the file is longer than its writes,
// and a reopened store finds the end of its writes, discarding nothing.
func TestDiskStoragePreallocates(t *testing.T) {
	dir := t.TempDir()
	path := writeStore(t, dir, 50)
	st, _ := os.Stat(path)
	end := dataEnd(t, path)
	if st.Size() < preallocStep || st.Size()%preallocStep != 0 || end >= st.Size() {
		t.Fatalf("file of %d bytes, writes end at %d: want zeros written ahead to a multiple of %d", st.Size(), end, preallocStep)
	}
	s, err := OpenDiskStorage(dir)
	if err != nil || s.mem.Len() != 50 || s.Info() != "" || s.size != end {
		t.Fatalf("reopened: %v, %d keys, info %q, writes end at %d (file: %d)", err, s.mem.Len(), s.Info(), s.size, end)
	}
	// Writes past the zeros extend them.
	big := bytes.Repeat([]byte{'b'}, 700<<10)
	for i := range 3 {
		s.Put(fmt.Sprint("big", i), big)
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = OpenDiskStorage(dir)
	if err != nil || s.mem.Len() != 53 || s.Info() != "" {
		t.Fatalf("after growing: %v, %d keys, info %q", err, s.mem.Len(), s.Info())
	}
	s.Close()
}

// A format-1 file (appended records, no write marks) opens as before and
// is rewritten in format 2.
func TestDiskStorageReadsFormat1(t *testing.T) {
	dir := t.TempDir()
	data := []byte(logMagicV1)
	for i := range 3 {
		data = appendRecord(data, appendOp(nil, ordo.OpPut, fmt.Sprint("k", i), []byte("v")))
	}
	path := filepath.Join(dir, StoreFileName)
	os.WriteFile(path, append(data, 1, 2), 0o644) // and a torn last record
	s, err := OpenDiskStorage(dir)
	if err != nil || s.mem.Len() != 3 || !strings.Contains(s.Info(), "torn") {
		t.Fatalf("format 1: %v, %d keys, info %q", err, s.mem.Len(), s.Info())
	}
	s.Put("k3", []byte("v"))
	s.Close()
	if head, _ := os.ReadFile(path); string(head[:len(logMagic)]) != logMagic {
		t.Fatalf("not rewritten in format 2: %q", head[:len(logMagic)])
	}
	s, err = OpenDiskStorage(dir)
	if err != nil || s.mem.Len() != 4 || s.Info() != "" {
		t.Fatalf("format 1 rewritten, reopened: %v, %d keys, info %q", err, s.mem.Len(), s.Info())
	}
	s.Close()
}

// A flipped byte anywhere but in the last record is corruption: the store
// refuses to open, naming the file and how to recover, and changes
// nothing.
func TestDiskStorageCorruptNamesTheFile(t *testing.T) {
	for _, at := range []int64{0, 3, 8, 9, 13, 20, 60, 130} { // magic, header, payload of records 1 and 2
		dir := t.TempDir()
		path := writeStore(t, dir, 3)
		data, _ := os.ReadFile(path)
		data[at] ^= 0x40
		os.WriteFile(path, data, 0o644)
		_, err := OpenDiskStorage(dir)
		if err == nil {
			t.Fatalf("byte %d flipped: the store opened", at)
		}
		for _, want := range []string{path, "wipe"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("byte %d flipped: error %q does not name %q", at, err, want)
			}
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
			t.Fatalf("byte %d flipped: opening changed the file", at)
		}
	}
}

// A directory holding the one-file-per-key store of before storage v2 is
// refused with an error that says so, rather than opened empty.
func TestDiskStorageOldFormatRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k-7465726d"), []byte("7"), 0o644)
	_, err := OpenDiskStorage(dir)
	if err == nil || !strings.Contains(err.Error(), "old one-file-per-key format") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("old format: %v", err)
	}
}

// The file grows by appends and is compacted into a snapshot once it
// passes CompactAt and twice the live data; the state survives it.
func TestDiskStorageCompacts(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenDiskStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.compactAt = 64 << 10
	v := bytes.Repeat([]byte{'x'}, 1000)
	for i := range 1000 {
		s.Put(fmt.Sprint("k", i%10), v) // ten live keys, rewritten
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if end := dataEnd(t, s.Path()); end > 2*s.compactAt {
		t.Fatalf("writes of %d bytes after 1 MB of overwrites of 10 KB of data: not compacted", end)
	}
	s.Close()
	s, err = OpenDiskStorage(dir)
	if err != nil || s.mem.Len() != 10 {
		t.Fatalf("after compaction: %v, %d keys", err, s.mem.Len())
	}
	s.Close()
}

// A store whose file is removed under the running node fails its next
// commit, and every later one (fail-stop, never running on).
func TestDiskStorageFailStop(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenDiskStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("term", []byte("7"))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	s.Put("term", []byte("8"))
	if err := s.Commit(); err == nil || !strings.Contains(err.Error(), StoreFileName) {
		t.Fatalf("commit after the file was removed: %v", err)
	}
	if err := s.Commit(); err == nil {
		t.Fatal("a failed store committed again")
	}
	s.abandon()
}

// Arbitrary bytes as a store file never panic: the store opens to a state
// that a clean write of it gives back, or errors naming the file.
func FuzzStorageFile(f *testing.F) {
	dir := f.TempDir()
	path := writeStore(f, dir, 3)
	seed, _ := os.ReadFile(path)
	seed = seed[:dataEnd(f, path)+100] // its writes and some of the zeros ahead
	f.Add(seed)
	v1 := []byte(logMagicV1)
	for i := range 3 {
		v1 = appendRecord(v1, appendOp(nil, ordo.OpPut, fmt.Sprint("k", i), []byte("v")))
	}
	f.Add(v1)
	f.Add([]byte(logMagic))
	f.Add(append([]byte(logMagic), 1, 0, 0, 0))
	f.Add(seed[:len(seed)-7])
	f.Fuzz(func(t *testing.T, data []byte) {
		m := ordo.NewMemStorage()
		rep, err := replay(bytes.NewReader(data), int64(len(data)), m)
		if err != nil {
			if rep.good > int64(len(data)) {
				t.Fatalf("good prefix %d past the end %d", rep.good, len(data))
			}
			return
		}
		// The good prefix replays to the same state, with nothing torn.
		m2 := ordo.NewMemStorage()
		rep2, err := replay(bytes.NewReader(data[:rep.good]), rep.good, m2)
		if err != nil || rep2.good != rep.good || rep2.torn != "" || rep2.records != rep.records {
			t.Fatalf("the good prefix does not replay alike: %v %+v %+v", err, rep, rep2)
		}
		if m.Len() != m2.Len() {
			t.Fatalf("states differ: %d keys, %d keys", m.Len(), m2.Len())
		}
	})
}

// BenchStorage runs and reports both figures (their values are the
// benchmark's business, never a test's).
func TestBenchStorageRuns(t *testing.T) {
	d := 200 * time.Millisecond
	if s := os.Getenv("ORDO_BENCH_STORAGE"); s != "" {
		d, _ = time.ParseDuration(s)
	}
	res, err := BenchStorage(t.TempDir(), 64, 100, d)
	if err != nil {
		t.Fatal(err)
	}
	if res.BatchedWritesPerS <= 0 || res.FsyncPerWriteWritesPerS <= 0 || res.Ratio <= 0 || res.WritesPerFsync < 1 {
		t.Fatalf("bench storage measured nothing: %+v", res)
	}
	t.Logf("%+v", res)
}

// The durability contract live: a node whose fsync fails stops (fail-stop)
// and the messages its last turn sent, held for that fsync, never leave:
// its trace records them dropped ("fail-stop") and no peer receives them.
func TestHeldSendsNeverLeaveWithoutTheirFsync(t *testing.T) {
	c := startCluster(t, 3)
	lead, _ := c.leader(0, 10*time.Second)
	victim := lead%3 + 1
	os.RemoveAll(filepath.Join(c.cfg.Path(c.cfg.Nodes[victim-1].Dir), "store"))
	// The leader stops: the victim soon votes or stands, and writes.
	c.rt[lead-1].Stop()
	c.rt[lead-1] = nil
	rt := c.rt[victim-1]
	select {
	case <-rt.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the node whose store was removed kept running")
	}
	tr := c.stopAndMerge()
	held := map[uint64]bool{}
	for _, e := range tr.Events {
		if e.Kind == trace.Drop && e.Name == "fail-stop" && e.Node == victim {
			held[e.Msg] = true
		}
	}
	if len(held) == 0 {
		t.Fatal("the failed turn sent nothing: the test exercised nothing")
	}
	for _, e := range tr.Events {
		if e.Kind == trace.Recv && held[e.Msg] {
			t.Fatalf("%v received message %d, sent in a turn whose fsync failed", e.Node, e.Msg)
		}
	}
}

// Turns of many records, large and small, reach the file whole and in
// order: the first record of a turn is sealed in its own buffer and
// handed over without a copy when the syncer holds nothing, the others
// appended; Reserve grows the open batch for a large write. A model
// (MemStorage) replays the same writes, and the reopened store must equal
// it.
func TestDiskStorageTurnsOfManyRecords(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenDiskStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	model := ordo.NewMemStorage()
	put := func(k string, v []byte) { s.Put(k, v); model.Put(k, v) }
	big := bytes.Repeat([]byte{'b'}, 3<<20)
	for turn := range 12 {
		if turn%3 == 0 {
			s.Reserve(len(big) + 64)
			for c := 0; c*(1<<20) < len(big); c++ {
				put(fmt.Sprintf("big/%d", c), big[c<<20:min(len(big), (c+1)<<20)])
			}
			s.DeleteRange("k", fmt.Sprintf("k%02d", turn))
			model.DeleteRange("k", fmt.Sprintf("k%02d", turn))
			s.EndBatch()
		}
		for rec := range 1 + turn%4 {
			put(fmt.Sprintf("k%02d-%d", turn, rec), []byte(fmt.Sprint("v", turn, rec)))
			s.EndBatch()
		}
		if turn%2 == 0 {
			if _, err := s.handOff(); err != nil { // the syncer may still be busy with the last turn: the next hand-off appends
				t.Fatal(err)
			}
			continue
		}
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenDiskStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got, want []string
	s.Scan("", "", func(k string, v []byte) bool {
		got = append(got, fmt.Sprint(k, "=", len(v), string(v[:min(len(v), 8)])))
		return true
	})
	model.Scan("", "", func(k string, v []byte) bool {
		want = append(want, fmt.Sprint(k, "=", len(v), string(v[:min(len(v), 8)])))
		return true
	})
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("reopened store:\n%v\nwant\n%v", got, want)
	}
	if len(want) != 12 { // 3 chunks of big, and turns 9–11's keys (each third turn's range delete removes the earlier ones)
		t.Fatalf("%d keys, want 12: the test no longer writes what it meant to", len(want))
	}
}

// A record zeroed whole, or only its header, with acknowledged records
// after it is corruption, whatever the records' size: never a torn tail
// (a trial of a preallocated variant read the zeros, then the records
// after them, and called the damage torn when the records were small).
func TestDiskStorageZeroedMiddleRecordIsCorrupt(t *testing.T) {
	for _, size := range []int{40, 1000} {
		recLen := int64(recordHeader + len(appendOp(nil, ordo.OpPut, "k0", make([]byte, size))))
		for _, k := range []int{2, 10, 18} { // writes 3, 11 and 19 of 20
			for _, what := range []string{"record", "record header", "write mark", "write mark and record"} {
				dir := t.TempDir()
				s, err := OpenDiskStorage(dir)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 20 {
					s.Put(fmt.Sprint("k", i%10), bytes.Repeat([]byte{'v'}, size))
					if err := s.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				s.Close()
				mark := int64(headerBytes) + int64(k)*(markBytes+recLen) // one write a commit: a mark and a record
				from, to := mark+markBytes, mark+markBytes+recLen
				switch what {
				case "record header":
					to = from + recordHeader
				case "write mark":
					from, to = mark, mark+markBytes
				case "write mark and record":
					from = mark
				}
				f, _ := os.OpenFile(s.Path(), os.O_WRONLY, 0)
				f.WriteAt(make([]byte, to-from), from)
				f.Close()
				if _, err := OpenDiskStorage(dir); err == nil || !strings.Contains(err.Error(), "corrupt") {
					t.Fatalf("%d-byte values, write %d's %s zeroed: %v, want corrupt", size, k+1, what, err)
				}
			}
		}
	}
}

// A power loss can keep any pages of the unsynced last write and drop the
// others: a write of many records over several pages, its first or a
// middle page lost, is discarded whole (none of its records applied), and
// the writes before it are kept.
func TestDiskStorageTornMultiPageWrite(t *testing.T) {
	for _, lost := range []int64{0, 4096, 8192} { // the page of the mark, a middle page, the last page
		dir := t.TempDir()
		path := writeStore(t, dir, 3)
		s, err := OpenDiskStorage(dir)
		if err != nil {
			t.Fatal(err)
		}
		start := s.size
		for i := range 40 { // one write of 40 records, about 12 KB
			s.Put(fmt.Sprint("w", i), bytes.Repeat([]byte{'w'}, 300))
			s.EndBatch()
		}
		s.Close()
		end := dataEnd(t, path)
		if end-start < 3*4096 {
			t.Fatalf("the write is %d bytes: the test means several pages", end-start)
		}
		loseAndReopen(t, dir, start+lost, 4096, 3, fmt.Sprintf("page at +%d lost", lost))
	}
}

// loseAndReopen zeroes n bytes of dir's store file at off (a power loss
// that kept none of them) and reopens the store, which must hold keys
// keys and say that it discarded a torn write.
func loseAndReopen(t *testing.T, dir string, off, n int64, keys int, what string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, StoreFileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, n), off)
	f.Close()
	s, err := OpenDiskStorage(dir)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer s.Close()
	if s.mem.Len() != keys || !strings.Contains(s.Info(), "torn") {
		t.Fatalf("%s: %d keys, info %q; want %d keys and a torn write discarded", what, s.mem.Len(), s.Info(), keys)
	}
}

// A value holding a copy of a mark (a client's bytes) never passes for a
// mark of the file: a torn last write whose first page was lost and whose
// later page holds such a value is still the torn last write, and the
// store opens (helper-94's trial: without the file's salt in the mark's
// checksum, the store refused to open).
func TestDiskStorageForgedMarkInAValue(t *testing.T) {
	for _, guess := range []salt{{}, {1, 2, 3, 4, 5, 6, 7, 8}} {
		dir := t.TempDir()
		writeStore(t, dir, 3)
		s, err := OpenDiskStorage(dir)
		if err != nil {
			t.Fatal(err)
		}
		start := s.size
		val := bytes.Repeat([]byte{'a'}, 8192)
		valAt := start + markBytes + recordHeader + int64(len(appendOp(nil, ordo.OpPut, "x", val))-len(val))
		page := (start/4096 + 1) * 4096
		for p := page; p+markBytes < valAt+int64(len(val)); p += markBytes { // a forged mark at every offset it could be met
			copy(val[p-valAt:], appendMark(nil, guess, 100, p))
		}
		s.Put("x", val)
		s.Commit()
		s.Close()
		// A power loss: the mark's page lost, the next kept.
		loseAndReopen(t, dir, start, page-start, 3, fmt.Sprintf("salt guessed %v", guess))
	}
}
