package coord_test

import (
	"bytes"
	"testing"

	"ordo"
	"ordo/coord"
	"ordo/coord/coordtest"
)

// FuzzDecode feeds arbitrary bytes to ordo's codec as each of the
// service's message kinds: decoding never panics, what decodes passes
// Validate and re-encodes to the same bytes (canonical), and the model
// answers it without panicking (a Reply or Deleted, or nothing).
func FuzzDecode(f *testing.F) {
	c := coord.Protocol.Codec
	for _, m := range coord.Messages {
		b, err := c.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Kind(), b)
	}
	for _, m := range []ordo.Message{
		coord.Grant{Req: 1, TTL: 2}, coord.Create{Req: 2, Key: "/leader-election/1", Value: "n1", Lease: 1<<63 - 1},
		coord.Find{Req: 3, Prefix: "/leader-election/", Below: 9, Last: true}, coord.Write{Req: 4, Token: 7, Writer: 2, Value: "x"},
		coord.Reply{Req: 5, Err: coord.ErrNoLease, Rev: 3, Lease: 9, TTL: -1, Found: true, Key: "/k", CreateRev: 2, ModRev: 2},
	} {
		b, err := c.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Kind(), b)
	}
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		m, err := c.Decode(kind, b)
		if err != nil {
			return
		}
		if v, ok := m.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				t.Fatalf("%s decoded but does not validate: %v", kind, err)
			}
		}
		again, err := c.Encode(m)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%s: %x decodes to %+v which encodes to %x, %v", kind, b, m, again, err)
		}
		d := coordtest.New(t, coord.Protocol, nil)
		d.Call(1, m)
		s := coordtest.New(t, coord.FencedProtocol, nil)
		s.Call(1, m)
	})
}
