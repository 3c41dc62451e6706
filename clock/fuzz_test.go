package clock

import (
	"slices"
	"testing"
)

func FuzzParseVector(f *testing.F) {
	for _, s := range []string{"[2,1,0]", "[ 2, 1 ,0 ]", "[]", "[", "[1,,2]", "[-1]", "[18446744073709551616]", " [3] ", "2,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVector(s)
		if err != nil {
			if se, ok := err.(*SyntaxError); !ok || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("%q: bad error %#v", s, err)
			}
			return
		}
		w, err := ParseVector(v.String())
		if err != nil || !slices.Equal(v, w) {
			t.Fatalf("%q: roundtrip %v → %v (%v)", s, v, w, err)
		}
	})
}

func FuzzParseSparse(f *testing.F) {
	for _, s := range []string{"{1:2,7:1}", "{}", "{7:1,1:2}", "{1:0}", "{1:2,1:3}", "{a:1}", "{1}", "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSparse(s)
		if err != nil {
			if se, ok := err.(*SyntaxError); !ok || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("%q: bad error %#v", s, err)
			}
			return
		}
		for i := 1; i < len(v.e); i++ {
			if v.e[i-1].ID >= v.e[i].ID || v.e[i].N == 0 {
				t.Fatalf("%q: not canonical: %v", s, &v)
			}
		}
		w, err := ParseSparse(v.String())
		if err != nil || CompareSparse(&v, &w) != Equal || w.String() != v.String() {
			t.Fatalf("%q: roundtrip %v → %v (%v)", s, &v, &w, err)
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"1700000000123.2@3", "0.0@0", "1.65536@1", "281474976710656.0@1", "1.2", "x.y@z", "@", "1.1@65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%q: bad error %#v", s, err)
			}
			return
		}
		if u, err := ParseTimestamp(ts.String()); err != nil || u != ts {
			t.Fatalf("%q: roundtrip %v → %v (%v)", s, ts, u, err)
		}
		if Unpack(ts.Pack(), ts.Node) != ts {
			t.Fatalf("%q: pack roundtrip", s)
		}
	})
}

func FuzzUnpack(f *testing.F) {
	for _, p := range []uint64{0, 1, 1 << 16, 1<<64 - 1, 111541246853120002} {
		f.Add(p, uint16(1))
	}
	f.Fuzz(func(t *testing.T, p uint64, node uint16) {
		ts := Unpack(p, node)
		if ts.Pack() != p || ts.L > maxL || ts.Node != node {
			t.Fatalf("%d: %v packs to %d", p, ts, ts.Pack())
		}
		q := Unpack(p+1, node)
		if p+1 != 0 && !ts.Less(q) {
			t.Fatalf("packed order broken at %d", p)
		}
	})
}
