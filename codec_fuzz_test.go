package ordo_test

import (
	"bytes"
	"testing"

	"ordo"
)

// FuzzCodecDecode feeds arbitrary payloads to every kind of a codec that
// covers each field type: Decode must refuse or succeed without panicking,
// and whatever decodes must encode again to the very same bytes (the
// encoding is canonical: one value, one byte string).
func FuzzCodecDecode(f *testing.F) {
	c, err := ordo.NewCodec([]ordo.Message{every{}, ping{}, &pong{}, empty{}, word{}, hb{}})
	if err != nil {
		f.Fatal(err)
	}
	kinds := c.Kinds()
	for i, m := range []ordo.Message{sample(), every{}, ping{Term: 300}, &pong{Term: 1}, word{M: map[string]int{"a": 1, "b": -2}}, hb{Term: 9, Leader: 2}} {
		b, err := c.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(0), []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, k uint8, payload []byte) {
		kind := kinds[int(k)%len(kinds)]
		m, err := c.Decode(kind, payload)
		if err != nil {
			if m != nil {
				t.Fatalf("%s: an error (%v) and a value", kind, err)
			}
			return
		}
		again, err := c.Encode(m)
		if err != nil {
			t.Fatalf("%s: decoded %#v does not encode: %v", kind, m, err)
		}
		if !bytes.Equal(again, payload) {
			t.Fatalf("%s: not canonical: %x decodes to %#v, which encodes to %x", kind, payload, m, again)
		}
	})
}
