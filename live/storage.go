package live

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"ordo"
)

// DiskStorage is a node's durable state: a log of checksummed records in
// one file (StoreFileName in its directory), replayed into memory (an
// ordo.MemStorage) at open.
//
// Writes change memory at once (reads see them) and are encoded into the
// open batch. The runtime closes the batch after every event (EndBatch), so
// each event's writes become one record, and after each turn of its loop
// hands the turn's records to the store's syncer goroutine, which writes
// everything handed to it with one write and one fdatasync, then the next
// lot (group commit; see groupCommit for how sends wait for it). Commit
// does the same for a caller outside a runtime and waits. The file keeps
// zeros written ahead of its end, so that an fdatasync has no size to
// commit, and every write is framed by a mark (storage_format.go). A
// record is all or nothing across a crash: replay checks each write whole
// (CRC-32C and length of every record), discards a torn last write (one
// the crash cut short, never acknowledged: the runtime releases an
// event's sends only after its fsync) and refuses a file damaged anywhere
// else with an error naming it and saying how to recover. When the writes
// have grown past CompactAt and twice the live data, the file is
// rewritten as a snapshot (a new file, fsynced and renamed over the old
// one), so it does not grow forever.
//
// Why a log and not an embedded engine, measured on this machine's ext4
// disk with 100-byte values (3 s each, same run, two rounds):
// go.etcd.io/bbolt v1.4.3 commits 2,085 / 2,394 writes/s with one
// transaction a write and 4,102 / 4,642 writes/s with 64 writers through
// its own DB.Batch; this log commits 5,293 / 3,759 writes/s with one
// fsync a write and 117,896 / 96,360 writes/s with 64 writers through the
// group commit (format 1, appended). bbolt pays two fsyncs and page
// rewrites per transaction; a node's store is small (terms, votes, a log
// of some MB), so memory holds it and one write is the cheapest durable
// write. The format (appendRecord, storage_format.go) is small enough to
// audit, and fuzzed (FuzzStorageFile).
//
// A record:
//
//	length  uint32 little-endian, bytes of payload, 1..MaxRecordBytes
//	hcrc    uint32 little-endian, CRC-32C (Castagnoli) of length
//	crc     uint32 little-endian, CRC-32C of payload
//	payload operations, each: kind byte (ordo.OpPut, OpDelete, OpDeleteRange),
//	        uvarint key length, key, then for a put uvarint value length
//	        and value, for a range delete uvarint end length and end.
//
// A storage failure (a failed write or fsync, a full disk, the file
// removed or replaced under the node) stops the node (fail-stop): the
// runtime panics with FailStop, and the store refuses every later commit.
// Apart from its syncer, it is used by one goroutine (the node's event
// loop), like the rest of ordo.Env.
//
// A directory holding the one-file-per-key store of before storage v2 is
// refused with an error saying so (ordo is pre-1.0: no migration).
type DiskStorage struct {
	dir, path string
	f         *os.File
	mem       *ordo.MemStorage
	liveBytes int64 // bytes a snapshot of mem would take
	compactAt int64

	open     []byte // the open batch's encoded ops
	openOps  int
	openKV   int    // bytes of keys and values in the open batch
	pend     []byte // closed records, not yet written
	pendRecs int
	failed   error  // sticky: after a failed commit nothing is trusted
	handed   uint64 // records handed to the syncer, in all
	info     string

	// Shared with the syncer goroutine, under mu.
	mu       sync.Mutex
	sh       []byte // records handed, not yet taken by the syncer
	shTarget uint64 // handed when sh was last appended to
	syncedN  uint64 // records durable
	syncErr  error
	busy     bool  // the syncer is writing
	size     int64 // bytes of the file's writes; zeros follow, up to alloc
	alloc    int64 // bytes of the file: zeros ahead of size (syncer's while busy)
	salt     salt  // the file's (storage_format.go); compaction makes a new one
	syncs    uint64
	kick     chan struct{} // cap 1: something was handed
	done     chan struct{} // cap 1: an fsync finished
	quit     chan struct{} // nil until the syncer starts
	exited   chan struct{}

	// failNextSync makes the syncer's next fsync fail (faults_node.go).
	failNextSync atomic.Bool
	// afterSync, if set before the first write, is called by the syncer
	// when n records are durable, before it signals Syncing
	// (groupCommit.syncerDone).
	afterSync func(n uint64)
}

// StoreFileName is the log file in a store's directory.
const StoreFileName = "store.log"

const logMagic = "ORDOLOG2"

// MaxRecordBytes bounds one record's payload: one batch at its bounds plus
// the encoding's overhead (at most 16 bytes an operation).
const MaxRecordBytes = ordo.MaxBatchBytes + 16*ordo.MaxBatchOps

// CompactAt is the smallest file that Commit compacts (bytes).
const CompactAt = 4 << 20

// FailStop is the panic value of a storage failure: the runtime turns it
// into a stop of the node rather than running on with lost state.
type FailStop struct{ Err error }

func (f FailStop) Error() string { return "fail-stop: " + f.Err.Error() }
func (f FailStop) Unwrap() error { return f.Err }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenDiskStorage opens (creating) the store in dir and replays its log.
// Errors name the file; a corrupt file's error says how to recover.
func OpenDiskStorage(dir string) (*DiskStorage, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("live: storage: %w", err)
	}
	if err := refuseOldFormat(dir); err != nil {
		return nil, err
	}
	s := &DiskStorage{dir: dir, path: filepath.Join(dir, StoreFileName), mem: ordo.NewMemStorage(), compactAt: CompactAt,
		kick: make(chan struct{}, 1), done: make(chan struct{}, 1)}
	os.Remove(s.path + ".tmp") // a compaction cut short by a crash
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := writeSnapshot(s.path, ordo.NewMemStorage()); err != nil {
			return nil, fmt.Errorf("live: storage %s: %w", s.path, err)
		}
		f, err = os.OpenFile(s.path, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("live: storage %s: %w", s.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("live: storage %s: %w", s.path, err)
	}
	rep, err := replay(f, st.Size(), s.mem)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("live: storage %s: %w; the node cannot trust its state: restore the file from a backup, or wipe the node's directory and let the node rejoin the cluster empty", s.path, err)
	}
	alloc := st.Size()
	if rep.torn != "" {
		// A torn last write: a crash cut it short. Its sends never left
		// (they wait for its fsync), so nobody was told. Cut it off, so
		// that no byte of it lies past the end of the good writes.
		if err := f.Truncate(rep.good); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("live: storage %s: cutting a torn last write: %w", s.path, err)
		}
		s.info = fmt.Sprintf("discarded a torn last write (%d bytes at offset %d: %s)", st.Size()-rep.good, rep.good, rep.torn)
		alloc = rep.good
	}
	s.f, s.size, s.alloc, s.salt = f, rep.good, alloc, rep.salt
	if rep.version == 1 {
		// Format 1 (appended records): rewritten at once in format 2.
		if err := s.compact(); err != nil {
			f.Close()
			return nil, fmt.Errorf("live: storage %s: rewriting a format-1 file: %w", s.path, err)
		}
	}
	s.liveBytes = snapshotBytes(s.mem)
	return s, nil
}

// refuseOldFormat stops a node whose directory holds the one-file-per-key
// store of before storage v2 (files "k-<hex key>"): ordo is pre-1.0 and
// does not migrate it, and starting empty would silently forget votes.
func refuseOldFormat(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("live: storage: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "k-") {
			return fmt.Errorf("live: storage %s holds a store in the old one-file-per-key format (%s, before storage v2), which this version does not read: wipe the directory and let the node rejoin the cluster empty", dir, e.Name())
		}
	}
	return nil
}

// Info says what opening the store repaired ("" if nothing).
func (s *DiskStorage) Info() string { return s.info }

// Path is the store's log file.
func (s *DiskStorage) Path() string { return s.path }

// Syncs counts the fsyncs of commits.
func (s *DiskStorage) Syncs() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}

// Get implements ordo.Storage. The value must not be modified.
func (s *DiskStorage) Get(key string) ([]byte, bool) { return s.mem.Get(key) }

// Scan implements ordo.Storage.
func (s *DiskStorage) Scan(start, end string, fn func(key string, value []byte) bool) {
	s.mem.Scan(start, end, fn)
}

// Put implements ordo.Storage: durable at the next Commit.
func (s *DiskStorage) Put(key string, value []byte) {
	ordo.CheckKV(key, value)
	s.grow(1, len(key)+len(value))
	s.putOp(ordo.OpPut, key, value)
	if old, ok := s.mem.Get(key); ok {
		s.liveBytes -= kvBytes(key, old)
	}
	s.liveBytes += kvBytes(key, value)
	s.mem.Put(key, value)
}

// Delete implements ordo.Storage: durable at the next Commit.
func (s *DiskStorage) Delete(key string) {
	ordo.CheckKV(key, nil)
	s.grow(1, len(key))
	s.putOp(ordo.OpDelete, key, nil)
	if old, ok := s.mem.Get(key); ok {
		s.liveBytes -= kvBytes(key, old)
	}
	s.mem.Delete(key)
}

// DeleteRange implements ordo.Storage: durable at the next Commit.
func (s *DiskStorage) DeleteRange(start, end string) {
	ordo.CheckKV(start, nil)
	ordo.CheckKV(end, nil)
	s.grow(1, len(start)+len(end))
	s.putOp(ordo.OpDeleteRange, start, []byte(end))
	s.mem.Scan(start, end, func(k string, v []byte) bool { s.liveBytes -= kvBytes(k, v); return true })
	s.mem.DeleteRange(start, end)
}

// Apply implements ordo.Storage: b joins the open batch, so it is atomic
// (and atomic with the rest of its event's writes).
func (s *DiskStorage) Apply(b *ordo.Batch) {
	ordo.CheckBatch(b)
	s.grow(b.Len(), b.Bytes()) // before any change: a batch that panics changes nothing
	b.Replay(s)
}

// grow panics if the open batch (one event's writes) would pass the
// bounds with ops more operations of kv more bytes.
func (s *DiskStorage) grow(ops, kv int) {
	if s.openOps+ops > ordo.MaxBatchOps || s.openKV+kv > ordo.MaxBatchBytes {
		panic(fmt.Sprintf("live: one event writes more than MaxBatchOps (%d) operations or MaxBatchBytes (%d) bytes to storage", ordo.MaxBatchOps, ordo.MaxBatchBytes))
	}
}

func (s *DiskStorage) putOp(kind ordo.OpKind, key string, value []byte) {
	if len(s.open) == 0 {
		s.open = append(s.open, make([]byte, recordHeader)...) // the header, sealed by EndBatch
	}
	s.open = appendOp(s.open, kind, key, value)
	s.openOps++
	s.openKV += len(key) + len(value)
}

// Reserve implements ordo.Reserver: it makes room in the open batch for n
// more bytes of operations, so that one large write (a Raft snapshot's
// megabytes) grows the buffer once: in fresh memory every growth is paid
// again in page faults.
func (s *DiskStorage) Reserve(n int) {
	n = min(max(n, 0), MaxRecordBytes)
	if len(s.open) == 0 {
		s.open = append(s.open, make([]byte, recordHeader)...)
	}
	s.open = slices.Grow(s.open, n)
}

// EndBatch closes the open batch into a record that the next Commit
// writes: the writes made since the last EndBatch become all or nothing.
// The runtime calls it after every event.
func (s *DiskStorage) EndBatch() {
	if s.openOps == 0 {
		return
	}
	if s.pendRecs == 0 {
		// The turn's first record is sealed where it was built and taken
		// whole: a large one is not copied again.
		sealRecord(s.open)
		s.pend, s.open = s.open, s.pend[:0]
	} else {
		s.pend = appendRecord(s.pend, s.open[recordHeader:])
	}
	s.pendRecs++
	s.open, s.openOps, s.openKV = s.open[:0], 0, 0
	if cap(s.open) > 1<<20 {
		s.open = nil // do not keep a large event's buffer (a snapshot's, after Reserve)
	}
}

// Pending reports whether writes wait for a Commit.
func (s *DiskStorage) Pending() bool { return s.openOps > 0 || s.pendRecs > 0 }

// Commit closes the open batch and makes every write so far durable (one
// write and one fsync, shared with whatever else is waiting), and returns
// when it is. An error is a storage failure: the node must stop
// (fail-stop), and every later Commit returns it again.
func (s *DiskStorage) Commit() error {
	target, err := s.handOff()
	for err == nil {
		var n uint64
		if n, err = s.poll(); err != nil || n >= target {
			break
		}
		<-s.done
	}
	if err == nil {
		err = s.maybeCompact()
	}
	return err
}

// The commit pipeline. The event loop closes each event's writes into a
// record (EndBatch) and, after each turn, hands the turn's records to the
// syncer (handOff), a goroutine that writes everything handed to it with
// one write and one fsync, then at once the next lot if more was handed
// meanwhile. So the disk never waits for the loop, and every writer that
// arrives during an fsync shares the next one (group commit). The syncer
// counts the records it has made durable; the loop releases what an event
// promised once that count reaches the event's record (groupCommit).

// handOff closes the open batch and hands every closed record to the
// syncer. It returns how many records have been handed in all: they are
// durable when poll reports that many.
func (s *DiskStorage) handOff() (uint64, error) {
	if s.failed != nil {
		return 0, s.failed
	}
	s.EndBatch()
	if s.pendRecs > 0 {
		s.mu.Lock()
		if len(s.sh) == 0 {
			s.sh, s.pend = s.pend, s.sh // nothing waits: hand the buffer over, not a copy
		} else {
			s.sh = append(s.sh, s.pend...)
		}
		s.handed += uint64(s.pendRecs)
		s.shTarget = s.handed
		s.mu.Unlock()
		s.pend, s.pendRecs = s.pend[:0], 0
		if cap(s.pend) > 1<<20 {
			s.pend = nil // do not keep a large turn's buffer
		}
		s.startSyncer()
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return s.handed, nil
}

// poll reports how many records are durable, or the syncer's failure.
func (s *DiskStorage) poll() (uint64, error) {
	s.mu.Lock()
	n, err := s.syncedN, s.syncErr
	s.mu.Unlock()
	if err != nil && s.failed == nil {
		s.failed = fmt.Errorf("live: storage %s: %w", s.path, err)
	}
	return n, s.failed
}

// Syncing is the channel on which the syncer says it has finished an
// fsync (then poll): the event loop's select waits on it.
func (s *DiskStorage) Syncing() <-chan struct{} { return s.done }

func (s *DiskStorage) startSyncer() {
	if s.quit != nil {
		return
	}
	s.quit, s.exited = make(chan struct{}), make(chan struct{})
	go s.syncer()
}

// syncer writes and fsyncs what is handed to it until quit. It owns the
// file's end; the loop touches the file only while the syncer is idle
// (maybeCompact, under mu).
func (s *DiskStorage) syncer() {
	defer close(s.exited)
	var buf, w []byte
	for {
		s.mu.Lock()
		for len(s.sh) == 0 {
			s.mu.Unlock()
			select {
			case <-s.kick:
			case <-s.quit:
				return
			}
			s.mu.Lock()
		}
		buf, s.sh = s.sh, buf[:0]
		target := s.shTarget
		f := s.f // compaction may have replaced it while the syncer was idle
		at := s.size
		s.busy = true
		s.mu.Unlock()

		// The file must still be ours: a directory wiped or a file
		// replaced under a running node would take every write with it.
		err := s.stillOurs(f)
		for rest := buf; err == nil && len(rest) > 0; {
			n := writeSpan(rest)
			w = appendMark(w[:0], s.salt, int64(markBytes+n), at)
			w = append(w, rest[:n]...)
			err = s.writeDurably(f, w, at)
			at += int64(len(w))
			rest = rest[n:]
		}
		if cap(w) > 1<<20 {
			w = nil
		}
		if err == nil && s.failNextSync.Swap(false) {
			err = errInjectedSync // the fail-sync fault (faults_node.go)
		}
		s.mu.Lock()
		s.busy = false
		if err != nil {
			s.syncErr = err
		} else {
			s.syncedN = target
			s.size = at
			s.syncs++
		}
		s.mu.Unlock()
		if err == nil && s.afterSync != nil {
			s.afterSync(target)
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
		select {
		case s.done <- struct{}{}:
		default:
		}
		if err != nil {
			<-s.quit // fail-stop: nothing more is written
			return
		}
	}
}

// maybeCompact rewrites the file as a snapshot when it has grown past
// CompactAt and twice the live data, if the syncer is idle with nothing
// handed (else a later call does it). The snapshot holds memory, which may
// include pending writes of later events (whole events: this runs between
// events); their records are appended after it all the same, and replaying
// puts and deletes over a state that has them changes nothing.
func (s *DiskStorage) maybeCompact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil || s.busy || len(s.sh) > 0 || s.size <= s.compactAt || s.size <= 2*s.liveBytes {
		return s.failed
	}
	if err := s.compact(); err != nil {
		s.failed = fmt.Errorf("live: storage %s: %w", s.path, err)
		s.syncErr = s.failed
	}
	return s.failed
}

func (s *DiskStorage) stillOurs(f *os.File) error {
	st, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("the store file is gone: %w", err)
	}
	fst, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(st, fst) {
		return errors.New("the store file was replaced under the running node")
	}
	return nil
}

// compact rewrites the file as a snapshot of memory: a new file, fsynced,
// renamed over the old one, the directory fsynced. A crash at any point
// leaves the old file or the new one. Called with mu held and the syncer
// idle.
func (s *DiskStorage) compact() error {
	salt, err := writeSnapshot(s.path, s.mem)
	if err != nil {
		return fmt.Errorf("compacting: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	s.f.Close()
	s.f, s.size, s.alloc, s.salt = f, st.Size(), st.Size(), salt
	return nil
}

// Close commits what is pending, stops the syncer and closes the file.
func (s *DiskStorage) Close() error {
	err := s.Commit()
	s.stopSyncer()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *DiskStorage) stopSyncer() {
	if s.quit != nil {
		close(s.quit)
		<-s.exited
		s.quit = nil
	}
}

// abandon stops without committing: what the syncer has not yet taken is
// lost, as in a crash (tests).
func (s *DiskStorage) abandon() {
	s.mu.Lock()
	s.sh = s.sh[:0]
	s.mu.Unlock()
	s.stopSyncer()
	s.f.Close()
}

// writeSnapshot writes path as a log holding m's keys as puts (records of
// at most ~1 MB, in writes of at most writeSplit), through a temporary
// file renamed over path, under a new salt (returned).
func writeSnapshot(path string, m *ordo.MemStorage) (salt, error) {
	var sl salt
	if _, err := rand.Read(sl[:]); err != nil {
		return sl, err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return sl, err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	w.Write(appendHeader(nil, sl))
	off := int64(headerBytes)
	var rec, chunk []byte
	var werr error
	endWrite := func() {
		if len(chunk) > 0 && werr == nil {
			if _, werr = w.Write(appendMark(nil, sl, int64(markBytes+len(chunk)), off)); werr == nil {
				_, werr = w.Write(chunk)
			}
			off += int64(markBytes + len(chunk))
		}
		chunk = chunk[:0]
	}
	endRecord := func() {
		if len(rec) > 0 {
			if len(chunk) > 0 && len(chunk)+recordHeader+len(rec) > writeSplit {
				endWrite()
			}
			chunk = appendRecord(chunk, rec)
		}
		rec = rec[:0]
	}
	m.Scan("", "", func(k string, v []byte) bool {
		rec = appendOp(rec, ordo.OpPut, k, v)
		if len(rec) >= 1<<20 {
			endRecord()
		}
		return werr == nil
	})
	endRecord()
	endWrite()
	if werr == nil {
		werr = w.Flush()
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr == nil {
		werr = syncDir(filepath.Dir(path))
	}
	if werr != nil {
		os.Remove(tmp)
	}
	return sl, werr
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// kvBytes is what a key takes in a snapshot.
func kvBytes(k string, v []byte) int64 { return int64(len(k)+len(v)) + 8 }

func snapshotBytes(m *ordo.MemStorage) int64 {
	var n int64
	m.Scan("", "", func(k string, v []byte) bool { n += kvBytes(k, v); return true })
	return n
}

// ---- the record format ----

func appendOp(b []byte, kind ordo.OpKind, key string, value []byte) []byte {
	b = append(b, byte(kind))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	if kind != ordo.OpDelete {
		b = binary.AppendUvarint(b, uint64(len(value)))
		b = append(b, value...)
	}
	return b
}

func appendRecord(b, payload []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, recordHeader)...)
	b = append(b, payload...)
	sealRecord(b[n:])
	return b
}

// sealRecord writes the header of rec, a record whose payload follows
// recordHeader bytes of room.
func sealRecord(rec []byte) {
	payload := rec[recordHeader:]
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[:4], castagnoli))
	binary.LittleEndian.PutUint32(rec[8:], crc32.Checksum(payload, castagnoli))
}

const recordHeader = 12

// replayV1 reads a format-1 log of size bytes from r into m. A bad record that ends
// at or past the end of the file (or a zero-filled tail: the file grew,
// its data never reached the disk) is a torn last record: replay stops
// before it. A bad record with anything after it, a bad magic or a record
// that decodes to impossible operations is corruption: an error with the
// offset. Every length is checked against the bounds and what the file
// holds before anything is allocated.
func replayV1(r *bufio.Reader, size int64, m *ordo.MemStorage) (replayed, error) {
	var rep replayed
	magic := make([]byte, len(logMagicV1))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != logMagicV1 {
		return rep, fmt.Errorf("not an ordo store file (no %q header)", logMagicV1)
	}
	off := int64(len(logMagicV1))
	rep.good = off
	var h [recordHeader]byte
	var payload []byte
	for off < size {
		tornAt := func(why string) (replayed, error) {
			rep.torn = why
			return rep, nil
		}
		corrupt := func(why string) (replayed, error) {
			return rep, fmt.Errorf("corrupt at byte %d (record %d): %s", off, rep.records+1, why)
		}
		if size-off < recordHeader {
			return tornAt("record header cut short")
		}
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return rep, err
		}
		if zeros(h[:]) && restZero(r) {
			return tornAt("zero-filled tail")
		}
		// The header has a checksum of its own, so a flipped length in
		// the middle of the file is corruption, never mistaken for a
		// torn last record (which would drop acknowledged records).
		if crc32.Checksum(h[:4], castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
			return corrupt("record header checksum mismatch")
		}
		n := int64(binary.LittleEndian.Uint32(h[:4]))
		if n == 0 || n > MaxRecordBytes {
			return corrupt(fmt.Sprintf("record length %d out of 1..%d", n, MaxRecordBytes))
		}
		end := off + recordHeader + n
		if end > size {
			return tornAt("record cut short")
		}
		if int64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return rep, err
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
			if end == size {
				return tornAt("checksum mismatch in the last record")
			}
			return corrupt("checksum mismatch")
		}
		var b ordo.Batch
		if err := decodeOps(payload, &b); err != nil {
			return corrupt(err.Error())
		}
		m.Apply(&b)
		off = end
		rep.good = off
		rep.records++
	}
	return rep, nil
}

func zeros(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func restZero(r *bufio.Reader) bool {
	var buf [4096]byte
	for {
		n, err := r.Read(buf[:])
		if !zeros(buf[:n]) {
			return false
		}
		if err != nil {
			return err == io.EOF
		}
	}
}

// decodeOps decodes a record's payload into b, checking every bound. A
// checksummed record that fails here was written by a bug or another
// program, never torn.
func decodeOps(p []byte, b *ordo.Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r) // a bound of ordo.Batch
		}
	}()
	str := func(max int, what string) (string, error) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(max) || n > uint64(len(p)-k) {
			return "", fmt.Errorf("bad %s length", what)
		}
		s := string(p[k : k+int(n)])
		p = p[k+int(n):]
		return s, nil
	}
	for len(p) > 0 {
		kind := ordo.OpKind(p[0])
		p = p[1:]
		key, err := str(ordo.MaxKeyLen, "key")
		if err != nil {
			return err
		}
		switch kind {
		case ordo.OpPut:
			v, err := str(ordo.MaxValueLen, "value")
			if err != nil {
				return err
			}
			b.Put(key, []byte(v))
		case ordo.OpDelete:
			b.Delete(key)
		case ordo.OpDeleteRange:
			end, err := str(ordo.MaxKeyLen, "range end")
			if err != nil {
				return err
			}
			b.DeleteRange(key, end)
		default:
			return fmt.Errorf("unknown operation %d", kind)
		}
		if b.Len() > ordo.MaxBatchOps || b.Bytes() > ordo.MaxBatchBytes {
			return errors.New("record exceeds the batch bounds")
		}
	}
	return nil
}

// WriteFileAtomic writes path as temp file + fsync + rename + fsync of the
// directory: after a crash, path holds the old contents or the new ones.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}
