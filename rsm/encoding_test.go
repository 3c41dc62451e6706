package rsm

import (
	"encoding/binary"
	"strings"
	"testing"
)

// A snapshot's fields read back as written; a longer encoding of a number,
// a number over its bound, a string longer than what is left and a
// negative varint are refused, and the first error sticks.
func TestReader(t *testing.T) {
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, 7)
	b = AppendString(b, "abc")
	d := NewReader(b)
	if u, v, s := d.Uvarint("u", 1000), d.Varint("v", 10), d.Str("s", 8); u != 300 || v != 7 || s != "abc" || d.Err() != nil || d.Left() != 0 {
		t.Fatalf("read %d %d %q, err %v, %d left", u, v, s, d.Err(), d.Left())
	}
	for _, c := range []struct {
		name string
		b    []byte
		read func(*Reader)
		want string
	}{
		{"longer encoding", []byte{0x80, 0x00}, func(d *Reader) { d.Uvarint("n", 10) }, "not a minimal"},
		{"over its bound", binary.AppendUvarint(nil, 11), func(d *Reader) { d.Uvarint("n", 10) }, "exceeds 10"},
		{"negative", binary.AppendVarint(nil, -1), func(d *Reader) { d.Varint("n", 10) }, "out of range"},
		{"string past the end", append(binary.AppendUvarint(nil, 5), 'a'), func(d *Reader) { d.Str("s", 8) }, "only 1 left"},
		{"string over its bound", AppendString(nil, "abcdefghij"), func(d *Reader) { d.Str("s", 8) }, "exceeds 8"},
	} {
		d := NewReader(c.b)
		c.read(d)
		if d.Err() == nil || !strings.Contains(d.Err().Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, d.Err(), c.want)
		}
		first := d.Err()
		d.Fail(nil)
		if d.Uvarint("after", 1<<62) != 0 || d.Err() != first {
			t.Errorf("%s: the first error did not stick", c.name)
		}
	}
}
