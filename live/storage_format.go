package live

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"ordo"
)

// The store file, format 2: preallocated, written in framed writes.
//
// Appending to a file and fsyncing it changes the file's size, so every
// fsync commits the filesystem's journal as well as the data (on ext4,
// one journal shared by every file: three nodes on one disk wait for each
// other's commits). The store therefore keeps zeros ahead of its end
// (preallocBytes at a time, written once and fsynced) and writes its
// records over them, made durable by fdatasync, which then has no
// metadata to commit. Measured on this repository's VM with 16 clients
// (ordo bench kv --rounds, interleaved runs): the leader's first
// acknowledgement came about 200 µs sooner a round, 10-12% more puts a
// second.
//
// Over a preallocated tail a crash can leave any mix of an unfinished
// write's bytes and zeros, including whole records of it after a lost
// one, where an appended file's size would have hidden them. To tell
// that from damage to acknowledged data, every write of the syncer
// begins with a mark: a record whose payload is
//
//	kind    byte 0xFF (no storage operation has it)
//	length  uint64 little-endian, bytes of the write, the mark included
//	offset  uint64 little-endian, where the write begins in the file
//
// and the writes tile the file after its header: the magic "ORDOLOG2", a
// salt of 8 random bytes drawn when the file is made, and the salt's
// CRC-32C. A mark's payload checksum covers the salt and the payload, so
// that bytes a client stored (a value holding a copy of a mark) never
// pass for a mark of this file. Replay checks
// a write whole before applying any of it. A write with a bad record is
// the torn last write if only zeros follow its end, and corruption
// otherwise; a bad mark (its length unknown) is the torn last write if
// no valid mark follows it anywhere in the file. Only the last write can
// be torn: the syncer waits for one fdatasync before the next write, and
// nothing a write promised leaves before its fdatasync returns, so a torn
// write was never acknowledged and is discarded whole. Format 1 files
// ("ORDOLOG1", appended records, no marks) are read as before and
// rewritten in format 2 at open.

const (
	logMagicV1 = "ORDOLOG1"
	// markKind is a mark's first payload byte: no ordo.OpKind is 0xFF.
	markKind     = 0xFF
	saltBytes    = 8
	headerBytes  = len(logMagic) + saltBytes + 4 // magic, salt, the salt's CRC-32C
	markPayload  = 1 + 8 + 8
	markBytes    = recordHeader + markPayload
	minWrite     = markBytes + recordHeader + 1 // a mark and one record
	maxWrite     = markBytes + recordHeader + MaxRecordBytes
	writeSplit   = 4 << 20 // a hand-off larger than this is written (and synced) in pieces of whole records
	preallocStep = 1 << 20 // zeros written ahead of the end at a time
)

// zeroBlock is what preallocation writes (read only).
var zeroBlock [64 << 10]byte

// salt is a store file's salt (its header).
type salt [saltBytes]byte

// appendHeader appends a format-2 file's header.
func appendHeader(b []byte, s salt) []byte {
	b = append(b, logMagic...)
	b = append(b, s[:]...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(s[:], castagnoli))
}

// markCRC is a mark payload's checksum: over the file's salt and the
// payload.
func markCRC(s salt, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(s[:], castagnoli), castagnoli, payload)
}

// appendMark appends the mark of a write of length bytes (the mark
// included) at offset off of a file salted s.
func appendMark(b []byte, s salt, length, off int64) []byte {
	n := len(b)
	b = append(b, make([]byte, markBytes)...)
	m := b[n:]
	p := m[recordHeader:]
	p[0] = markKind
	binary.LittleEndian.PutUint64(p[1:], uint64(length))
	binary.LittleEndian.PutUint64(p[9:], uint64(off))
	binary.LittleEndian.PutUint32(m[0:], markPayload)
	binary.LittleEndian.PutUint32(m[4:], crc32.Checksum(m[:4], castagnoli))
	binary.LittleEndian.PutUint32(m[8:], markCRC(s, p))
	return b
}

// parseMark reads a mark found at off of a file salted s: its write's
// length, or why it is not a valid mark.
func parseMark(b []byte, s salt, off int64) (int64, string) {
	switch {
	case len(b) < markBytes:
		return 0, "a write's mark cut short"
	case crc32.Checksum(b[:4], castagnoli) != binary.LittleEndian.Uint32(b[4:]):
		return 0, "a write's mark: header checksum mismatch"
	case binary.LittleEndian.Uint32(b[:4]) != markPayload:
		return 0, "a write's mark: wrong length"
	case markCRC(s, b[recordHeader:markBytes]) != binary.LittleEndian.Uint32(b[8:]):
		return 0, "a write's mark: checksum mismatch"
	case b[recordHeader] != markKind:
		return 0, "a record where a write's mark belongs"
	case int64(binary.LittleEndian.Uint64(b[recordHeader+9:])) != off:
		return 0, "a write's mark names another offset"
	}
	return int64(binary.LittleEndian.Uint64(b[recordHeader+1:])), ""
}

// writeSpan is how many bytes of recs (sealed records, whole) the next
// write takes: records up to writeSplit, at least one.
func writeSpan(recs []byte) int {
	n := 0
	for n < len(recs) {
		l := recordHeader + int(binary.LittleEndian.Uint32(recs[n:]))
		if n > 0 && n+l > writeSplit {
			break
		}
		n += l
	}
	return n
}

// writeDurably writes w at off and makes it durable: fdatasync when it
// lands in preallocated zeros, else zeros written ahead first (fsynced,
// the size changing) and then the write.
func (s *DiskStorage) writeDurably(f *os.File, w []byte, off int64) error {
	end := off + int64(len(w))
	if end > s.alloc {
		to := (end + preallocStep - 1) / preallocStep * preallocStep
		for at := s.alloc; at < to; {
			n, err := f.WriteAt(zeroBlock[:min(int64(len(zeroBlock)), to-at)], at)
			if err != nil {
				return err
			}
			at += int64(n)
		}
		if err := f.Sync(); err != nil {
			return err
		}
		s.alloc = to
	}
	if _, err := f.WriteAt(w, off); err != nil {
		return err
	}
	return datasync(f)
}

// replayed is what replay found: the length of the good prefix, and why
// the rest (if any) was a torn last write ("" for none, or for a clean
// preallocated tail of zeros).
type replayed struct {
	good    int64
	records int
	torn    string
	version int
	salt    salt // format 2
}

// replay reads a store file of size bytes from ra into m, either format.
// Every length is checked against the bounds and what the file holds
// before anything is allocated.
func replay(ra io.ReaderAt, size int64, m *ordo.MemStorage) (replayed, error) {
	var magic [len(logMagic)]byte
	if n, _ := ra.ReadAt(magic[:], 0); n == len(magic) && string(magic[:]) == logMagicV1 {
		rep, err := replayV1(bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 1<<16), size, m)
		rep.version = 1
		return rep, err
	}
	rep, err := replayV2(ra, size, m)
	rep.version = 2
	return rep, err
}

// replayV2 reads a format-2 file (see the top of this file).
func replayV2(ra io.ReaderAt, size int64, m *ordo.MemStorage) (replayed, error) {
	var rep replayed
	r := bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 1<<16)
	var h [headerBytes]byte
	if _, err := io.ReadFull(r, h[:len(logMagic)]); err != nil || string(h[:len(logMagic)]) != logMagic {
		return rep, fmt.Errorf("not an ordo store file (no %q header)", logMagic)
	}
	if _, err := io.ReadFull(r, h[len(logMagic):]); err != nil {
		return rep, fmt.Errorf("corrupt at byte %d: the file's header cut short", len(logMagic))
	}
	copy(rep.salt[:], h[len(logMagic):])
	if crc32.Checksum(rep.salt[:], castagnoli) != binary.LittleEndian.Uint32(h[len(logMagic)+saltBytes:]) {
		return rep, fmt.Errorf("corrupt at byte %d: the file header's checksum mismatch", len(logMagic))
	}
	off := int64(headerBytes)
	rep.good = off
	var mark [markBytes]byte
	var body []byte
	for off < size {
		corrupt := func(at int64, why string) (replayed, error) {
			return rep, fmt.Errorf("corrupt at byte %d (write at %d, after %d good records): %s", at, off, rep.records, why)
		}
		// bad judges a write that does not check: the torn last write if
		// nothing acknowledged can follow it, corruption otherwise.
		bad := func(at, end int64, why string) (replayed, error) {
			var later bool
			var err error
			if end < 0 {
				later, err = markAfter(ra, rep.salt, off+1, size)
			} else {
				later, err = nonZero(ra, end, size)
			}
			if err != nil {
				return rep, err
			}
			if later {
				return corrupt(at, why+", with acknowledged writes after it")
			}
			rep.torn = why
			return rep, nil
		}
		if size-off < markBytes {
			if later, err := nonZero(ra, off, size); err != nil || !later {
				return rep, err // a zero tail shorter than a mark
			}
			return bad(off, -1, "a write's mark cut short")
		}
		if _, err := io.ReadFull(r, mark[:]); err != nil {
			return rep, err
		}
		if zeros(mark[:]) {
			later, err := nonZero(ra, off, size)
			if err != nil || !later {
				return rep, err // the preallocated zeros: the end
			}
		}
		length, why := parseMark(mark[:], rep.salt, off)
		if why != "" {
			return bad(off, -1, why)
		}
		if length < minWrite || length > maxWrite {
			// Checksummed: written so by a bug or another program.
			return corrupt(off, fmt.Sprintf("a write of %d bytes, out of %d..%d", length, minWrite, maxWrite))
		}
		end := off + length
		if end > size {
			return bad(off, end, "a write cut short by the end of the file")
		}
		n := length - markBytes
		if int64(cap(body)) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return rep, err
		}
		// Check the whole write before applying any of it.
		records := 0
		for p, at := body, off+markBytes; len(p) > 0; records++ {
			why := ""
			var l int64
			switch {
			case len(p) < recordHeader:
				why = "a record header cut short"
			case crc32.Checksum(p[:4], castagnoli) != binary.LittleEndian.Uint32(p[4:]):
				why = "record header checksum mismatch"
			default:
				l = int64(binary.LittleEndian.Uint32(p[:4]))
				switch {
				case l == 0 || l > MaxRecordBytes:
					why = fmt.Sprintf("record length %d out of 1..%d", l, MaxRecordBytes)
				case l > int64(len(p)-recordHeader):
					why = "a record past its write's end"
				case crc32.Checksum(p[recordHeader:recordHeader+l], castagnoli) != binary.LittleEndian.Uint32(p[8:]):
					why = "checksum mismatch"
				}
			}
			if why != "" {
				return bad(at, end, why)
			}
			p, at = p[recordHeader+l:], at+recordHeader+l
		}
		for p := body; len(p) > 0; {
			l := int(binary.LittleEndian.Uint32(p[:4]))
			var b ordo.Batch
			if err := decodeOps(p[recordHeader:recordHeader+l], &b); err != nil {
				return corrupt(off, err.Error()) // checksummed: a bug's write, never torn
			}
			m.Apply(&b)
			p = p[recordHeader+l:]
		}
		if cap(body) > 1<<20 {
			body = nil
		}
		off = end
		rep.good = off
		rep.records += records
	}
	return rep, nil
}

// nonZero reports whether any byte of [from, size) is not zero.
func nonZero(ra io.ReaderAt, from, size int64) (bool, error) {
	var buf [64 << 10]byte
	for from < size {
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), size-from)], from)
		if !zeros(buf[:n]) {
			return true, nil
		}
		if n == 0 {
			if errors.Is(err, io.EOF) {
				return false, nil // the file is shorter than it was
			}
			return false, err
		}
		from += int64(n)
	}
	return false, nil
}

// markAfter reports whether a valid mark begins anywhere in [from, size):
// a write after a damaged one, so the damage is not a torn last write.
func markAfter(ra io.ReaderAt, s salt, from, size int64) (bool, error) {
	buf := make([]byte, 64<<10+markBytes)
	for from+markBytes <= size {
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), size-from)], from)
		if n < markBytes {
			if err != nil && !errors.Is(err, io.EOF) {
				return false, err
			}
			return false, nil
		}
		for i := 0; i+markBytes <= n; i++ {
			// A cheap filter first: a mark's length field is markPayload.
			if buf[i] != markPayload || buf[i+1] != 0 || buf[i+2] != 0 || buf[i+3] != 0 {
				continue
			}
			if _, why := parseMark(buf[i:i+markBytes], s, from+int64(i)); why == "" {
				return true, nil
			}
		}
		from += int64(n - markBytes + 1)
	}
	return false, nil
}
