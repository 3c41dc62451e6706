package dynamo

import (
	"errors"
	"testing"
)

var secret = []byte("s")

func TestContextRoundTrip(t *testing.T) {
	c := Ctx{1: 3, 2: 1, 40: 1 << 40}
	b := EncodeContext(secret, "X", schemeDVV, c)
	got, err := DecodeContext(secret, "X", schemeDVV, b)
	if err != nil || !maps(got, c) {
		t.Fatalf("decoded %v, %v; want %v", got, err, c)
	}
	if got, err := DecodeContext(secret, "X", schemeDVV, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty context: %v, %v", got, err)
	}
}

// A context is good only for the key and the store that issued it: one
// forged, edited or replayed for another key is refused, never merged.
func TestContextForgedOrMalformed(t *testing.T) {
	good := EncodeContext(secret, "X", schemeDVV, Ctx{1: 2})
	cases := map[string]struct {
		key  string
		b    []byte
		want error
	}{
		"other key":      {"Y", good, ErrContextForged},
		"other secret":   {"X", EncodeContext([]byte("t"), "X", schemeDVV, Ctx{1: 2}), ErrContextForged},
		"counter bumped": {"X", func() []byte { b := append([]byte(nil), good...); b[4] = 9; return b }(), ErrContextForged},
		"truncated":      {"X", good[:len(good)-1], ErrContextMalformed},
		"trailing":       {"X", append(append([]byte(nil), good[:len(good)-8]...), append([]byte{0}, good[len(good)-8:]...)...), ErrContextMalformed},
		"version":        {"X", append([]byte{9}, good[1:]...), ErrContextMalformed},
		"scheme":         {"X", EncodeContext(secret, "X", schemeVV, Ctx{1: 2}), ErrContextMalformed},
		"too long":       {"X", make([]byte, MaxContextBytes+1), ErrContextMalformed},
		"zero replica":   {"X", signed("X", []byte{1, 1, 1, 0, 1}), ErrContextMalformed},
		"unsorted":       {"X", signed("X", []byte{1, 1, 2, 2, 1, 1, 1}), ErrContextMalformed},
		"zero counter":   {"X", signed("X", []byte{1, 1, 1, 1, 0}), ErrContextMalformed},
		"overlong":       {"X", signed("X", []byte{1, 1, 0x81, 0x00, 1, 1}), ErrContextMalformed},
		"many entries":   {"X", signed("X", []byte{1, 1, 100}), ErrContextMalformed},
	}
	for name, c := range cases {
		got, err := DecodeContext(secret, c.key, schemeDVV, c.b)
		if !errors.Is(err, c.want) || got != nil {
			t.Errorf("%s: %v, %v; want %v", name, got, err, c.want)
		}
	}
}

func signed(key string, body []byte) []byte { return append(body, tag(secret, key, body)...) }

// FuzzContext feeds arbitrary bytes to the context decoder: it never
// panics, refuses with one of its two errors, and what it accepts
// re-encodes to the same bytes (one encoding per context).
func FuzzContext(f *testing.F) {
	f.Add(EncodeContext(secret, "X", schemeDVV, Ctx{1: 2, 2: 1}))
	f.Add(EncodeContext(secret, "X", schemeDVV, Ctx{}))
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeContext(secret, "X", schemeDVV, b)
		if err != nil {
			if c != nil || !errors.Is(err, ErrContextMalformed) && !errors.Is(err, ErrContextForged) || err.Error() == "" {
				t.Fatalf("refused with %v and %v", c, err)
			}
			return
		}
		if len(b) == 0 {
			return
		}
		if got := EncodeContext(secret, "X", schemeDVV, c); string(got) != string(b) {
			t.Fatalf("accepted %x, which re-encodes as %x", b, got)
		}
	})
}
