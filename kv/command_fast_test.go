package kv

import (
	"bytes"
	"encoding/hex"
	"math"
	"reflect"
	"strings"
	"testing"

	"ordo"
)

// filled sets every field of the struct *p to a value of its own (n
// mixed in), so that a field the fast path forgets, or one added to the
// type later, changes the codec's bytes and fails the comparison.
func filled(t *testing.T, p any, n int) {
	t.Helper()
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(n*31+i+1) & (1<<(8*f.Type().Size()) - 1))
		case reflect.Int, reflect.Int64:
			f.SetInt(-int64(n*7 + i + 1))
		case reflect.String:
			f.SetString(strings.Repeat(string(rune('a'+i)), n%5+i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			// Response.Pairs: left empty (the codec's case, below)
		default:
			t.Fatalf("%v.%s: a field of kind %v: teach filled (and the fast path) about it", v.Type(), v.Type().Field(i).Name, f.Kind())
		}
	}
}

func codecBytes(t *testing.T, m ordo.Message) []byte {
	t.Helper()
	b, err := CommandCodec.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fast path writes the codec's bytes and reads them back to the same
// value, for every field at ordinary values and at their extremes.
func TestCommandFast(t *testing.T) {
	var reqs []Request
	for n := range 4 {
		var r Request
		filled(t, &r, n)
		reqs = append(reqs, r)
	}
	reqs = append(reqs,
		Request{},
		Request{Op: OpPut, Key: "k", Value: "v"},
		Request{ID: math.MaxUint64, Session: math.MaxUint64, Seq: math.MaxUint64, Op: 255, Read: 255, Limit: math.MaxUint32, After: math.MaxUint64, Node: math.MinInt, Exists: true},
		Request{Node: math.MaxInt, Key: strings.Repeat("k", MaxKey), Value: strings.Repeat("\x00\xff", MaxValue/2)},
	)
	for _, r := range reqs {
		want := codecBytes(t, r)
		if got := appendCommand(nil, &r); !bytes.Equal(got, want) {
			t.Fatalf("appendCommand(%+v) = %x, the codec's %x", r, got, want)
		}
		if len(want) > commandSize(&r) {
			t.Fatalf("commandSize %d < %d bytes", commandSize(&r), len(want))
		}
		got, ok := decodeCommandFast(want)
		if !ok || !reflect.DeepEqual(got, r) {
			t.Fatalf("decodeCommandFast(%x) = %+v, %v; want %+v", want, got, ok, r)
		}
		c := r
		c.ID, c.Read = 0, 0
		if enc := EncodeCommand(r); !bytes.Equal(enc, codecBytes(t, c)) {
			t.Fatalf("EncodeCommand(%+v) = %x, the codec's %x", r, enc, codecBytes(t, c))
		}
	}
	var resps []Response
	for n := range 4 {
		var r Response
		filled(t, &r, n)
		resps = append(resps, r)
	}
	resps = append(resps, Response{}, Response{Status: StatusOK, Rev: 3},
		Response{ID: math.MaxUint64, Status: 255, Leader: math.MinInt, Rev: math.MaxUint64, ModRev: math.MaxUint64, More: true, Err: "e"})
	for _, r := range resps {
		want := codecBytes(t, r)
		got, ok := appendResult(nil, &r)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("appendResult(%+v) = %x, %v; the codec's %x", r, got, ok, want)
		}
		back, ok := decodeResultFast(want)
		if !ok || !reflect.DeepEqual(back, r) {
			t.Fatalf("decodeResultFast(%x) = %+v, %v; want %+v", want, back, ok, r)
		}
	}
	// A range's pairs are the codec's, both ways.
	rng := Response{Status: StatusOK, Rev: 9, Pairs: []Pair{{Key: "a", Value: "1", Rev: 2}}, More: true}
	if _, ok := appendResult(nil, &rng); ok {
		t.Fatal("appendResult encoded range pairs itself")
	}
	b := encodeResult(rng)
	if _, ok := decodeResultFast(b); ok {
		t.Fatal("decodeResultFast decoded range pairs itself")
	}
	if back, err := DecodeResult(b); err != nil || !reflect.DeepEqual(back, rng) {
		t.Fatalf("DecodeResult of a range = %+v, %v", back, err)
	}
}

// What the codec refuses the fast path declines: DecodeCommand then
// returns the codec's error.
func TestCommandFastDeclinesWhatTheCodecRefuses(t *testing.T) {
	put := codecBytes(t, Request{Op: OpPut, Key: "k", Value: "v"})
	for name, b := range map[string][]byte{
		"empty":               {},
		"truncated":           put[:len(put)-1],
		"trailing":            append(bytes.Clone(put), 0),
		"non-minimal varint":  append([]byte{0x80, 0x00}, put[1:]...),
		"op over uint8":       append(append(bytes.Clone(put[:3]), 0x80, 0x02), put[4:]...),
		"bool 2":              append(bytes.Clone(put[:len(put)-4]), 2, 0, 0, 0),
		"length past the end": append(bytes.Clone(put[:5]), 0x7f),
		"varint over 64 bits": bytes.Repeat([]byte{0xff}, 11),
	} {
		if r, ok := decodeCommandFast(b); ok {
			t.Errorf("%s (%x): the fast path took it as %+v", name, b, r)
		}
		if _, err := DecodeCommand(b); err == nil {
			t.Errorf("%s (%x): DecodeCommand accepted it", name, b)
		}
	}
	// Sanity of the cases above: the unchanged command decodes.
	if _, ok := decodeCommandFast(put); !ok {
		t.Fatalf("put %x declined", put)
	}
}

// FuzzCommandFast: on any bytes, the fast decoders agree with the codec:
// a command decodes by both or by neither, to the same value; a result
// the fast path takes, the codec takes alike, and one without range pairs
// that the codec takes, the fast path takes too.
func FuzzCommandFast(f *testing.F) {
	for _, h := range []string{goldenPutCommand, goldenOKResult} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Add(encodeResult(Response{Status: StatusOK, Pairs: []Pair{{Key: "a", Value: "b", Rev: 1}}}))
	f.Add(appendCommand(nil, &Request{ID: 1, Session: 2, Seq: 3, Op: OpCAS, Key: "k", Expect: "e", Value: "v", Exists: true, Node: -3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, fok := decodeCommandFast(b)
		m, err := CommandCodec.Decode(Request{}.Kind(), b)
		if fok != (err == nil) {
			t.Fatalf("%x: fast ok %v, codec error %v", b, fok, err)
		}
		if fok && !reflect.DeepEqual(fr, m.(Request)) {
			t.Fatalf("%x: fast %+v, codec %+v", b, fr, m)
		}
		if fok && !bytes.Equal(appendCommand(nil, &fr), b) {
			t.Fatalf("%x: decoded %+v encodes back as %x", b, fr, appendCommand(nil, &fr))
		}
		rr, rok := decodeResultFast(b)
		m, err = CommandCodec.Decode(Response{}.Kind(), b)
		if rok && (err != nil || !reflect.DeepEqual(rr, m.(Response))) {
			t.Fatalf("%x: fast result %+v, codec %+v, %v", b, rr, m, err)
		}
		if err == nil && len(m.(Response).Pairs) == 0 && !rok {
			t.Fatalf("%x: the codec's result %+v declined by the fast path", b, m)
		}
		if rok {
			if enc, ok := appendResult(nil, &rr); !ok || !bytes.Equal(enc, b) {
				t.Fatalf("%x: result %+v encodes back as %x", b, rr, enc)
			}
		}
	})
}
