package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"ordo"
	"ordo/clock"
)

// Version is the wire format this ordo speaks. A frame of another version
// is refused: the network is not homogeneous (section 1, fallacy 8), so the
// format says what it is rather than being guessed. Version 2: payloads in
// ordo.Codec's binary format (version 1 carried JSON).
const Version = 2

// MaxFrameSize bounds one frame (envelope and payload), the same bound the
// simulator puts on a message.
const MaxFrameSize = ordo.MaxMessageSize

// Bounds on the envelope's variable parts.
const (
	MaxKindLen = 64
	MaxNodes   = 4096
)

// HelloKind is the kind of the first frame on every connection: the dialer
// says who it is. Protocol kinds never start with "ordo/".
const HelloKind = "ordo/hello"

// Envelope is what travels in a frame: who sends what to whom, the message's
// cluster-wide id, its kind (which selects the codec), the sender's Lamport
// and vector stamps at the send event, and the encoded message.
type Envelope struct {
	Version uint8
	From    ordo.NodeID
	To      ordo.NodeID
	Msg     uint64
	Kind    string
	Lamport uint64
	Vector  clock.Vector
	Payload []byte
}

// AppendFrame appends e as a frame (4-byte big-endian length, then the
// envelope) to b.
func (e *Envelope) AppendFrame(b []byte) ([]byte, error) {
	if len(e.Kind) == 0 || len(e.Kind) > MaxKindLen {
		return b, fmt.Errorf("transport: kind %q: length must be 1..%d", e.Kind, MaxKindLen)
	}
	if len(e.Vector) > MaxNodes {
		return b, fmt.Errorf("transport: vector of %d entries exceeds %d", len(e.Vector), MaxNodes)
	}
	start := len(b)
	// One allocation at most (the send path frames every message): room
	// for the length, the version, six varints, the kind, the vector and
	// the payload.
	b = slices.Grow(b, 4+1+(6+len(e.Vector))*binary.MaxVarintLen64+len(e.Kind)+len(e.Payload))
	b = append(b, 0, 0, 0, 0)
	b = append(b, Version)
	b = binary.AppendUvarint(b, uint64(e.From))
	b = binary.AppendUvarint(b, uint64(e.To))
	b = binary.AppendUvarint(b, e.Msg)
	b = binary.AppendUvarint(b, uint64(len(e.Kind)))
	b = append(b, e.Kind...)
	b = binary.AppendUvarint(b, e.Lamport)
	b = binary.AppendUvarint(b, uint64(len(e.Vector)))
	for _, v := range e.Vector {
		b = binary.AppendUvarint(b, v)
	}
	b = append(b, e.Payload...)
	n := len(b) - start - 4
	if n > MaxFrameSize {
		return b[:start], fmt.Errorf("transport: %s frame of %d bytes exceeds %d", e.Kind, n, MaxFrameSize)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// ErrFrameTooLarge is returned for a length prefix above MaxFrameSize.
var ErrFrameTooLarge = errors.New("transport: frame exceeds the maximum frame size")

// ReadFrame reads one frame's body from r into buf (grown as needed, never
// beyond MaxFrameSize) and returns it. The body is valid until the next call.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return buf, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrameSize {
		return buf, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if n == 0 {
		return buf, errors.New("transport: empty frame")
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, nil
}

// DecodeFrame parses a frame body (without its length prefix). It never
// panics; any malformed input is an error. Payload aliases body.
func DecodeFrame(body []byte) (Envelope, error) {
	var e Envelope
	if len(body) > MaxFrameSize {
		return e, ErrFrameTooLarge
	}
	d := decoder{b: body}
	e.Version = d.byte()
	if d.err == nil && e.Version != Version {
		return e, fmt.Errorf("transport: wire version %d, this ordo speaks %d", e.Version, Version)
	}
	from := d.uvarint("from")
	to := d.uvarint("to")
	e.Msg = d.uvarint("msg id")
	kl := d.uvarint("kind length")
	if d.err == nil && (kl == 0 || kl > MaxKindLen) {
		d.fail("kind length %d out of 1..%d", kl, MaxKindLen)
	}
	e.Kind = string(d.bytes(int(kl)))
	e.Lamport = d.uvarint("lamport")
	// Stamps are bounded like terms: a forged 2^64−1 would wrap the
	// receiver's max(C, msg.C)+1 (ordo.MaxIndex, bounds.go).
	if d.err == nil && e.Lamport > ordo.MaxIndex {
		d.fail("lamport %d exceeds ordo.MaxIndex", e.Lamport)
	}
	vl := d.uvarint("vector length")
	if d.err == nil && vl > MaxNodes {
		d.fail("vector length %d exceeds %d", vl, MaxNodes)
	}
	if d.err == nil && vl > 0 {
		e.Vector = make(clock.Vector, vl)
		for i := range e.Vector {
			e.Vector[i] = d.uvarint("vector entry")
			if d.err == nil && e.Vector[i] > ordo.MaxIndex {
				d.fail("vector entry %d exceeds ordo.MaxIndex", e.Vector[i])
			}
		}
	}
	if d.err == nil && (from > MaxNodes || to > MaxNodes) {
		d.fail("node ids %d→%d exceed %d", from, to, MaxNodes)
	}
	if d.err != nil {
		return Envelope{}, d.err
	}
	e.From, e.To = ordo.NodeID(from), ordo.NodeID(to)
	e.Payload = d.b[d.off:]
	return e, nil
}

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("transport: bad frame at byte %d: %s", d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad %s", what)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("truncated")
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}
