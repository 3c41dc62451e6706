package rsm

import (
	"encoding/binary"
	"fmt"
)

// A snapshot's fields, written and read the same way by every machine and
// protocol that snapshots (kv.Machine, PBFT's state transfer): numbers as
// minimal varints, strings length-prefixed, every count and length
// bounded, so one set of bytes has one reading and a hostile snapshot
// costs no more than its length.

// AppendString appends s, its length first (a uvarint).
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Reader reads a snapshot's fields in order; the first error sticks, and
// every read after it returns the zero value.
type Reader struct {
	b   []byte
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error, nil if none.
func (d *Reader) Err() error { return d.err }

// Fail records err unless an error came first.
func (d *Reader) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Left is how many bytes are not read yet.
func (d *Reader) Left() int { return len(d.b) }

// Skip drops the next n bytes (at most what is left).
func (d *Reader) Skip(n int) { d.b = d.b[min(n, len(d.b)):] }

// Uvarint reads a minimal uvarint of at most limit; what names it in the
// error.
func (d *Reader) Uvarint(what string, limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
		d.err = fmt.Errorf("%s: not a minimal uvarint", what)
		return 0
	}
	if v > limit {
		d.err = fmt.Errorf("%s %d exceeds %d", what, v, limit)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a minimal varint in [0, limit] (snapshots hold no negative
// numbers).
func (d *Reader) Varint(what string, limit int64) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		d.err = fmt.Errorf("%s: not a minimal varint", what)
		return 0
	}
	if v < 0 || v > limit {
		d.err = fmt.Errorf("%s %d out of range [0, %d]", what, v, limit)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Str reads a length-prefixed string of at most limit bytes.
func (d *Reader) Str(what string, limit int) string {
	n := d.Uvarint(what+" length", uint64(limit))
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%s of %d bytes: only %d left", what, n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
