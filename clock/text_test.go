package clock

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The text forms of the chapter's clocks ([2,1,0] for a vector, {id:n} for
// a sparse vector, L.C@node for an HLC timestamp) parse to exactly the
// clock written, and a malformed one is refused at the byte where it goes
// wrong. The fuzz targets check only round trips; these pin the meaning.

func TestParseVectorExact(t *testing.T) {
	for in, want := range map[string]Vector{
		"[2,1,0]":                {2, 1, 0},
		"[ 2, 1 ,0 ]":            {2, 1, 0},
		" \t[7]":                 {7},
		"[]":                     {},
		"[ ]":                    {},
		"[0]":                    {0},
		"[18446744073709551615]": {1<<64 - 1},
	} {
		got, err := ParseVector(in)
		if err != nil || !slices.Equal(got, want) || got == nil {
			t.Errorf("ParseVector(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, off := range map[string]int{
		"2,1":     0,
		"  [1":    2,
		"[":       0,
		"]":       0,
		"[1,,2]":  3,
		"[1, x]":  4,
		"[1,2, ]": 5,
		"[ -1]":   2,
		"  x[1]":  2,
		"[1,2,3}": 0,
		"{1,2,3]": 0,
	} {
		_, err := ParseVector(in)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != off || se.Input != in {
			t.Errorf("ParseVector(%q): error %v, want a SyntaxError at offset %d", in, err, off)
		}
	}
}

// MaxEntries bounds a parsed vector: exactly MaxEntries entries parse,
// one more is refused at the extra entry.
func TestParseVectorBound(t *testing.T) {
	b := []byte{'['}
	for i := 0; i < MaxEntries; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '1')
	}
	v, err := ParseVector(string(append(slices.Clone(b), ']')))
	if err != nil || len(v) != MaxEntries {
		t.Fatalf("%d entries: len %d, %v", MaxEntries, len(v), err)
	}
	b = append(b, ",1]"...)
	_, err = ParseVector(string(b))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != len(b)-2 {
		t.Fatalf("%d entries: %v, want a SyntaxError at offset %d", MaxEntries+1, err, len(b)-2)
	}

	s := []byte{'{'}
	for i := 0; i < MaxEntries; i++ {
		if i > 0 {
			s = append(s, ',')
		}
		s = append(s, []byte(strconv.Itoa(i+1)+":1")...)
	}
	sp, err := ParseSparse(string(append(slices.Clone(s), '}')))
	if err != nil || sp.Len() != MaxEntries {
		t.Fatalf("sparse with %d entries: len %d, %v", MaxEntries, sp.Len(), err)
	}
	s = append(s, ",0:1}"...)
	_, err = ParseSparse(string(s))
	if !errors.As(err, &se) || se.Offset != len(s)-4 || se.Msg != "too many entries" {
		t.Fatalf("sparse with %d entries: %v, want too many entries at %d", MaxEntries+1, err, len(s)-4)
	}
}

func itoa(i int) string {
	return string(Vector{uint64(i)}.AppendText(nil)[1 : len(Vector{uint64(i)}.String())-1])
}

func TestParseSparseExact(t *testing.T) {
	for in, want := range map[string]string{
		"{1:2,7:1}":        "{1:2,7:1}",
		"{7:1,1:2}":        "{1:2,7:1}",
		" { 7 : 1 , 1:2 }": "{1:2,7:1}",
		"{}":               "{}",
		"{ }":              "{}",
		"{1:0,3:4}":        "{3:4}",
		"{1:0}":            "{}",
	} {
		got, err := ParseSparse(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseSparse(%q) = %v, %v; want %s", in, &got, err, want)
		}
	}
	for in, off := range map[string]int{
		"1:2":           0,
		"{1:2":          0,
		"1:2}":          0,
		"{":             0,
		"  x":           2,
		"{1:2,7}":       5,
		"{1:2,a:1}":     5,
		"{1:2,7:-1}":    5,
		"{1:2,7:1,1:3}": 9,
		"{1:3,7:1,1:2}": 9,
	} {
		_, err := ParseSparse(in)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != off {
			t.Errorf("ParseSparse(%q): error %v, want a SyntaxError at offset %d", in, err, off)
		}
	}
}

func TestParseTimestampExact(t *testing.T) {
	for in, want := range map[string]Timestamp{
		"1700000000123.2@3":           {1700000000123, 2, 3},
		"0.0@0":                       {},
		"281474976710655.65535@65535": {maxL, 1<<16 - 1, 1<<16 - 1},
	} {
		got, err := ParseTimestamp(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, off := range map[string]int{
		"1.2":                 0,
		"1@2":                 0,
		"281474976710656.0@1": 0, // L = 2^48
		"x.0@1":               0,
		"12.65536@1":          3,
		"12.x@1":              3,
		"12.3@65536":          5,
		"123.45@":             7,
	} {
		_, err := ParseTimestamp(in)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != off {
			t.Errorf("ParseTimestamp(%q): error %v, want a SyntaxError at offset %d", in, err, off)
		}
	}
}

// Kulkarni et al. §5 bound the drift an HLC accepts by ε: a remote L
// exactly MaxOffset ahead of physical time is accepted (adopted, C
// continued); one millisecond more is refused with *ErrClockOffset and the
// clock unchanged; NoMaxOffset accepts anything.
func TestHLCMaxOffsetBoundary(t *testing.T) {
	h := &HLC{Node: 1, Physical: func() uint64 { return 1000 }, MaxOffset: 100 * time.Millisecond}
	ts, err := h.Update(Timestamp{L: 1100, C: 4, Node: 2})
	if err != nil || ts != (Timestamp{1100, 5, 1}) {
		t.Fatalf("remote exactly MaxOffset ahead: %v, %v; want 1100.5@1", ts, err)
	}
	h = &HLC{Node: 1, Physical: func() uint64 { return 1000 }, MaxOffset: 100 * time.Millisecond}
	ts, err = h.Update(Timestamp{L: 1101, C: 4, Node: 2})
	var oe *ErrClockOffset
	if !errors.As(err, &oe) || ts != (Timestamp{}) || h.Last() != (Timestamp{}) {
		t.Fatalf("remote 101ms ahead of a 100ms bound: %v, %v; want *ErrClockOffset and no change", ts, err)
	}
	if msg := err.Error(); msg != "clock: remote HLC 1101.4@2 is 101ms ahead of local physical time 1000 ms, more than the tolerated 100ms" {
		t.Errorf("error text %q", msg)
	}
	h = &HLC{Node: 1, Physical: func() uint64 { return 1000 }, MaxOffset: NoMaxOffset}
	if ts, err := h.Update(Timestamp{L: 1 << 40, Node: 2}); err != nil || ts.L != 1<<40 {
		t.Fatalf("no bound: %v, %v", ts, err)
	}
}

// Kulkarni et al., Figure 5: l = max(l', l_m, pt); c from whichever of the
// local and remote counters had l (both: their max), +1; 0 if pt is ahead
// of both.
func TestHLCUpdateCases(t *testing.T) {
	pt := uint64(100)
	h := &HLC{Node: 9, Physical: func() uint64 { return pt }}
	h.Now() // 100.0
	h.Now() // 100.1
	for _, tc := range []struct {
		pt   uint64
		m    Timestamp
		want Timestamp
	}{
		{100, Timestamp{90, 50, 1}, Timestamp{100, 2, 9}},  // local l wins: c+1
		{100, Timestamp{100, 7, 1}, Timestamp{100, 8, 9}},  // both: max(c, c_m)+1
		{100, Timestamp{100, 3, 1}, Timestamp{100, 9, 9}},  // both, local larger
		{100, Timestamp{120, 3, 1}, Timestamp{120, 4, 9}},  // remote l wins: c_m+1
		{200, Timestamp{150, 60, 1}, Timestamp{200, 0, 9}}, // physical time wins
		{200, Timestamp{200, 0, 1}, Timestamp{200, 1, 9}},  // all three equal
	} {
		pt = tc.pt
		got, err := h.Update(tc.m)
		if err != nil || got != tc.want {
			t.Fatalf("at pt %d, Update(%v) = %v, %v; want %v", tc.pt, tc.m, got, err, tc.want)
		}
	}
	// A remote L beyond 48 bits is clamped to the packed form's maximum.
	h = &HLC{Node: 1, Physical: func() uint64 { return 0 }, MaxOffset: NoMaxOffset}
	if got, _ := h.Update(Timestamp{L: 1 << 50}); got.L != maxL {
		t.Fatalf("remote L 2^50 gave L %d, want %d", got.L, uint64(maxL))
	}
}

// The paper's C is bounded; if 16 bits ever overflow, L borrows one
// millisecond so timestamps keep strictly increasing (hlc.go, tickC).
func TestHLCCounterOverflowBorrowsMillisecond(t *testing.T) {
	h := &HLC{Node: 1, Physical: func() uint64 { return 5 }}
	if _, err := h.Update(Timestamp{L: 5, C: 1<<16 - 2}); err != nil {
		t.Fatal(err)
	}
	if got := h.Last(); got != (Timestamp{5, 1<<16 - 1, 1}) {
		t.Fatalf("got %v", got)
	}
	prev := h.Last()
	next := h.Now()
	if next != (Timestamp{6, 0, 1}) || !prev.Less(next) {
		t.Fatalf("after C = 65535 Now gave %v, want 6.0@1", next)
	}
}

// Millis clamps: before 1970 is 0, beyond 48 bits is the maximum.
func TestMillisClamps(t *testing.T) {
	if got := Millis(time.UnixMilli(-5)); got != 0 {
		t.Errorf("Millis(-5ms) = %d", got)
	}
	if got := Millis(time.UnixMilli(1234)); got != 1234 {
		t.Errorf("Millis(1234ms) = %d", got)
	}
	if got := Millis(time.UnixMilli(1 << 50)); got != maxL {
		t.Errorf("Millis(2^50 ms) = %d", got)
	}
	if got := (&HLC{Node: 2, Physical: func() uint64 { return 1 << 50 }}).Now(); got.L != maxL {
		t.Errorf("Now with physical 2^50 gave L %d", got.L)
	}
}

// Order's names, and dense vectors' Get, Grow and Receive rules (section 3:
// V[i]++ on an event, entry-wise max then V[i]++ on a receive).
func TestVectorRules(t *testing.T) {
	for o, s := range map[Order]string{Equal: "equal", Before: "before", After: "after", Concurrent: "concurrent", Order(7): "Order(7)"} {
		if o.String() != s {
			t.Errorf("Order %d is %q, want %q", int(o), o.String(), s)
		}
	}
	v := Vector{1, 2}
	if v.Get(-1) != 0 || v.Get(2) != 0 || v.Get(1) != 2 {
		t.Errorf("Get: %d %d %d", v.Get(-1), v.Get(2), v.Get(1))
	}
	g := v.Grow(4)
	if !slices.Equal(g, Vector{1, 2, 0, 0}) {
		t.Errorf("Grow(4) = %v", g)
	}
	if h := g.Grow(2); len(h) != 4 {
		t.Errorf("Grow(2) of 4 entries = %v", h)
	}
	r := Vector{3, 0, 1}
	r.Receive(Vector{1, 5}, 2)
	if !slices.Equal(r, Vector{3, 5, 2}) {
		t.Errorf("Receive = %v, want [3,5,2]", r)
	}
	r.Tick(0)
	if !slices.Equal(r, Vector{4, 5, 2}) {
		t.Errorf("Tick = %v", r)
	}
	if c := Vector(nil).Clone(); c != nil {
		t.Errorf("Clone(nil) = %v", c)
	}
	defer func() {
		if recover() == nil {
			t.Error("Merge into a shorter vector did not panic")
		}
	}()
	Vector{1}.Merge(Vector{1, 2})
}

// Vectors of length 4 and 8 take the four-at-a-time path of Compare: it
// must agree with the definition entry by entry, whichever entry differs.
func TestCompareWideVectors(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 0))
	for _, n := range []int{4, 5, 8} {
		for k := 0; k < 2000; k++ {
			a, b := make(Vector, n), make(Vector, n)
			for i := range a {
				a[i], b[i] = uint64(r.IntN(3)), uint64(r.IntN(3))
			}
			less, greater := false, false
			for i := range a {
				less = less || a[i] < b[i]
				greater = greater || a[i] > b[i]
			}
			if got, want := Compare(a, b), order(less, greater); got != want {
				t.Fatalf("seed 3: Compare(%v, %v) = %v, want %v", a, b, got, want)
			}
		}
	}
}

// DVV (Almeida et al. 2014, §5): a write's context raises the set's
// counters to what the client saw, even for replicas it holds nothing of,
// and discards the values the context covers; the text form lists every
// replica and sibling.
func TestDVVContextRaisesCounters(t *testing.T) {
	var s DVVSet[string]
	s.Update(Context{"b": 2, "c": 0}, "a", "v1")
	if got := s.Context(); len(got) != 2 || got["a"] != 1 || got["b"] != 2 {
		t.Fatalf("context %v, want {a:1, b:2} (c:0 adds nothing)", got)
	}
	if got := s.String(); got != `{a:1["v1"],b:2[]}` {
		t.Fatalf("String = %s", got)
	}
	s.Update(nil, "a", "v2")
	var o DVVSet[int]
	o.Update(nil, "x", 1)
	o.Update(nil, "y", 2)
	if got := o.String(); got != `{x:1[1],y:1[2]}` {
		t.Errorf("String = %s", got)
	}
	if got := s.String(); got != `{a:2["v2","v1"],b:2[]}` {
		t.Errorf("String = %s", got)
	}
}

// A syntax error says where and what, in one line.
func TestSyntaxErrorText(t *testing.T) {
	_, err := ParseVector("[1,x]")
	if err == nil || err.Error() != `clock: "[1,x]" at offset 3: entry "x" is not a non-negative integer` {
		t.Fatalf("error %v", err)
	}
	b := []byte{'['}
	for i := 0; i <= MaxEntries; i++ {
		b = append(b, "0,"...)
	}
	b[len(b)-1] = ']'
	_, err = ParseVector(string(b))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Msg != "more than 65536 entries" {
		t.Fatalf("too many entries: %v", err)
	}
}

// Sparse vectors: Set keeps entries sorted and drops zeros; Merge takes
// the entry-wise maximum, inserting new ids in order; Compare agrees with
// the definition across different memberships.
func TestSparseSetMergeCompare(t *testing.T) {
	var s Sparse
	s.Set(5, 2)
	s.Set(1, 3)
	s.Set(3, 1)
	s.Set(3, 4)
	s.Set(9, 0) // absent and zero: nothing
	if s.String() != "{1:3,3:4,5:2}" {
		t.Fatalf("after Set: %v", &s)
	}
	s.Set(1, 0)
	if s.String() != "{3:4,5:2}" || s.Get(1) != 0 || s.Get(5) != 2 {
		t.Fatalf("after Set(1, 0): %v", &s)
	}
	o, _ := ParseSparse("{2:1,3:2,6:7,9:1}")
	s.Merge(&o)
	if s.String() != "{2:1,3:4,5:2,6:7,9:1}" {
		t.Fatalf("merge: %v", &s)
	}
	for _, tc := range []struct {
		a, b string
		want Order
	}{
		{"{1:1}", "{2:1}", Concurrent},
		{"{1:1}", "{1:1,2:1}", Before},
		{"{1:1,2:1}", "{1:1}", After},
		{"{1:1,3:1}", "{1:1,2:1,3:1}", Before},
		{"{1:2,3:1}", "{1:1,2:1,3:1}", Concurrent},
		{"{2:1}", "{1:1,2:1}", Before},
		{"{1:1,2:1}", "{2:1}", After},
		{"{}", "{}", Equal},
		{"{}", "{4:1}", Before},
	} {
		a, _ := ParseSparse(tc.a)
		b, _ := ParseSparse(tc.b)
		if got := CompareSparse(&a, &b); got != tc.want {
			t.Errorf("CompareSparse(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
