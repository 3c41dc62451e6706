package kv

import (
	"encoding/binary"

	"ordo"
	"ordo/rsm"
)

// Log commands and results in CommandCodec's format, by hand. Every node
// decodes every command it applies and encodes its result (the leader
// also encodes the command and decodes the result): through the codec's
// compiled plan that was a quarter of a follower's Apply (an indirect
// call a field, the Request boxed on the heap). These functions write
// and read the same bytes field by field. The codec stays the reference:
// an encoding the fast path does not cover (a range's pairs, a message
// over ordo.MaxMessageSize) goes through the codec, and a decoding
// declines (ok false) anything the codec might judge differently, which
// then goes to the codec for its value or its error. TestCommandFast and
// FuzzCommandFast hold the two to the same bytes and the same values.

// appendCommand appends r's encoding (all of Request's fields in
// declaration order, as ordo.Codec lays them out).
func appendCommand(b []byte, r *Request) []byte {
	b = binary.AppendUvarint(b, r.ID)
	b = binary.AppendUvarint(b, r.Session)
	b = binary.AppendUvarint(b, r.Seq)
	b = binary.AppendUvarint(b, uint64(r.Op))
	b = binary.AppendUvarint(b, uint64(r.Read))
	b = rsm.AppendString(b, r.Key)
	b = rsm.AppendString(b, r.End)
	b = rsm.AppendString(b, r.Value)
	b = rsm.AppendString(b, r.Expect)
	b = appendBool(b, r.Exists)
	b = binary.AppendUvarint(b, uint64(r.Limit))
	b = binary.AppendUvarint(b, r.After)
	return binary.AppendVarint(b, int64(r.Node)) // zigzag, as the codec's ints
}

// commandSize bounds appendCommand's output from above.
func commandSize(r *Request) int {
	return 13*binary.MaxVarintLen64 + 1 + len(r.Key) + len(r.End) + len(r.Value) + len(r.Expect)
}

// appendResult appends r's encoding; ok false when r has range pairs (the
// codec encodes those).
func appendResult(b []byte, r *Response) ([]byte, bool) {
	if len(r.Pairs) != 0 {
		return b, false
	}
	b = binary.AppendUvarint(b, r.ID)
	b = binary.AppendUvarint(b, uint64(r.Status))
	b = binary.AppendVarint(b, int64(r.Leader))
	b = rsm.AppendString(b, r.Value)
	b = binary.AppendUvarint(b, r.Rev)
	b = append(b, 0) // Pairs: none
	b = rsm.AppendString(b, r.Err)
	b = binary.AppendUvarint(b, r.ModRev)
	return appendBool(b, r.More), true
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// decodeCommandFast decodes a command; ok false: not decoded here (ask
// the codec).
func decodeCommandFast(b []byte) (r Request, ok bool) {
	if len(b) > ordo.MaxMessageSize {
		return Request{}, false
	}
	d := fastDecoder{b: b}
	r.ID = d.uvarint()
	r.Session = d.uvarint()
	r.Seq = d.uvarint()
	r.Op = Op(d.uint(8))
	r.Read = Read(d.uint(8))
	r.Key = d.string()
	r.End = d.string()
	r.Value = d.string()
	r.Expect = d.string()
	r.Exists = d.bool()
	r.Limit = uint32(d.uint(32))
	r.After = d.uvarint()
	r.Node = ordo.NodeID(d.int())
	if d.bad || d.off != len(b) {
		return Request{}, false
	}
	return r, true
}

// decodeResultFast decodes a result without range pairs; ok false: not
// decoded here.
func decodeResultFast(b []byte) (r Response, ok bool) {
	if len(b) > ordo.MaxMessageSize {
		return Response{}, false
	}
	d := fastDecoder{b: b}
	r.ID = d.uvarint()
	r.Status = Status(d.uint(8))
	r.Leader = ordo.NodeID(d.int())
	r.Value = d.string()
	r.Rev = d.uvarint()
	if d.uvarint() != 0 {
		return Response{}, false // pairs: the codec's
	}
	r.Err = d.string()
	r.ModRev = d.uvarint()
	r.More = d.bool()
	if d.bad || d.off != len(b) {
		return Response{}, false
	}
	return r, true
}

// fastDecoder reads the codec's primitives; bad is set at the first
// thing it does not take as the codec would (then every read returns
// zero).
type fastDecoder struct {
	b   []byte
	off int
	bad bool
}

// uvarint reads a minimal LEB128 varint of at most 64 bits.
func (d *fastDecoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	if d.off < len(d.b) && d.b[d.off] < 0x80 {
		c := d.b[d.off]
		d.off++
		return uint64(c)
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 || d.b[d.off+n-1] == 0 {
		d.bad = true // truncated, over 64 bits, or not minimal
		return 0
	}
	d.off += n
	return v
}

// uint reads an unsigned integer of bits bits.
func (d *fastDecoder) uint(bits uint) uint64 {
	v := d.uvarint()
	if v>>bits != 0 {
		d.bad = true
		return 0
	}
	return v
}

// int reads a zigzagged int (ordo.NodeID), refusing what overflows int.
func (d *fastDecoder) int() int {
	u := d.uvarint()
	v := int64(u>>1) ^ -int64(u&1)
	if int64(int(v)) != v {
		d.bad = true
		return 0
	}
	return int(v)
}

func (d *fastDecoder) string() string {
	n := d.uvarint()
	if d.bad {
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.bad = true
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

func (d *fastDecoder) bool() bool {
	if d.bad || d.off >= len(d.b) || d.b[d.off] > 1 {
		d.bad = true
		return false
	}
	v := d.b[d.off] == 1
	d.off++
	return v
}
