package ordo_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"ordo"
	_ "ordo/broadcast"
	_ "ordo/detect"
	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
)

// every is a message with every kind of field the format carries.
type every struct {
	B     bool
	I     int
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	U     uint
	U8    uint8
	U16   uint16
	U32   uint32
	U64   uint64
	F32   float32
	F64   float64
	S     string
	Bytes []byte
	IDs   []ordo.NodeID
	D     time.Duration
	Arr   [3]uint16
	M     map[string]int
	MI    map[ordo.NodeID]bool
	P     *inner
	Nest  inner
	List  []inner
	PP    []*inner
}

type inner struct {
	Name string
	N    int64
	Next *inner
}

func (every) Kind() string { return "every" }

type ping struct{ Term uint64 }

func (ping) Kind() string { return "ping" }

type pong struct{ Term uint64 }

func (*pong) Kind() string { return "pong" }

type empty struct{}

func (empty) Kind() string { return "empty" }

// word is pointer-shaped: Go stores it in an interface's data word.
type word struct{ M map[string]int }

func (word) Kind() string { return "word" }

func sample() every {
	return every{
		B: true, I: -5, I8: -128, I16: 32767, I32: -1 << 31, I64: math.MinInt64,
		U: 1 << 40, U8: 255, U16: 65535, U32: 1<<32 - 1, U64: math.MaxUint64,
		F32: -1.25, F64: math.Pi, S: "héllo", Bytes: []byte{0, 1, 2},
		IDs: []ordo.NodeID{3, 4, 5, 1, 2}, D: 150 * time.Millisecond, Arr: [3]uint16{1, 300, 0},
		M: map[string]int{"b": 2, "a": -1, "c": 300}, MI: map[ordo.NodeID]bool{2: true, 1: false},
		P: &inner{Name: "p", N: 7, Next: &inner{Name: "q"}}, Nest: inner{Name: "nest", N: -1},
		List: []inner{{Name: "x"}, {N: 9}}, PP: []*inner{nil, {Name: "y"}},
	}
}

func TestCodecRoundTripEveryFieldType(t *testing.T) {
	c, err := ordo.NewCodec([]ordo.Message{every{}, ping{}, &pong{}, empty{}, word{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []ordo.Message{sample(), every{}, ping{Term: 1 << 62}, &pong{Term: 9}, empty{}, word{M: map[string]int{"k": 1}}} {
		b, err := c.Encode(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if n, _ := c.Size(m); n != len(b) {
			t.Fatalf("%T: Size %d, encoding %d bytes", m, n, len(b))
		}
		got, err := c.Decode(m.Kind(), b)
		if err != nil {
			t.Fatalf("%T: decode: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%T: round trip\n got %#v\nwant %#v", m, got, m)
		}
		again, _ := c.Encode(got)
		if !bytes.Equal(again, b) {
			t.Fatalf("%T: re-encoding differs: %x vs %x", m, again, b)
		}
	}
}

// TestCodecCanonicalMaps: equal maps encode to equal bytes whatever their
// iteration order, so a protocol can sign them.
func TestCodecCanonicalMaps(t *testing.T) {
	c, _ := ordo.NewCodec([]ordo.Message{every{}})
	want, _ := c.Encode(sample())
	for range 20 {
		m := sample()
		m.M = map[string]int{}
		for _, k := range []string{"c", "a", "b"} {
			m.M[k] = sample().M[k]
		}
		b, _ := c.Encode(m)
		if !bytes.Equal(b, want) {
			t.Fatalf("equal maps encode differently: %x vs %x", b, want)
		}
	}
}

func TestCodecWireFormat(t *testing.T) {
	c, _ := ordo.NewCodec([]ordo.Message{ping{}, every{}})
	b, _ := c.Encode(ping{Term: 300})
	if !bytes.Equal(b, []byte{0xac, 0x02}) {
		t.Fatalf("ping{300} = %x, want ac02 (a minimal LEB128 varint)", b)
	}
	b, _ = c.Encode(every{I: -1})
	if b[1] != 1 {
		t.Fatalf("int -1 encodes as %x, want zigzag 01", b[1])
	}
}

func TestCodecRefusesAtRegistration(t *testing.T) {
	type unexported struct {
		A int
		b int
	}
	type withIface struct{ X any }
	type withChan struct{ C chan int }
	type withFunc struct {
		In struct{ F func() }
	}
	type ptrInt struct{ P *int }
	type floatKey struct{ M map[float64]int }
	type emptyElems struct{ S []struct{} }
	for _, tc := range []struct {
		msgs []ordo.Message
		want string
	}{
		{[]ordo.Message{nil}, "nil"},
		{[]ordo.Message{(*pong)(nil)}, "nil"},
		{[]ordo.Message{kinded[unexported]{}}, "field ordo_test.kinded[ordo_test.unexported·1].V.b is unexported"},
		{[]ordo.Message{kinded[withIface]{}}, ".V.X: type interface {}"},
		{[]ordo.Message{kinded[withChan]{}}, ".V.C: type chan int"},
		{[]ordo.Message{kinded[withFunc]{}}, ".V.In.F: type func()"},
		{[]ordo.Message{kinded[ptrInt]{}}, "pointer to int unsupported"},
		{[]ordo.Message{kinded[floatKey]{}}, "map key type float64"},
		{[]ordo.Message{kinded[emptyElems]{}}, "encode to no bytes"},
		{[]ordo.Message{ping{}, named{"ping"}}, `kind "ping" registered for both`},
		{[]ordo.Message{named{""}}, "unusable kind"},
		{[]ordo.Message{named{strings.Repeat("k", ordo.MaxKindLen+1)}}, "unusable kind"},
		{[]ordo.Message{badSize{}}, "Size() is 16 for the zero value but it encodes to 2 bytes"},
		{[]ordo.Message{badFilledSize{}}, "Size() is 2 for a filled sample but it encodes to 9 bytes"},
	} {
		_, err := ordo.NewCodec(tc.msgs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewCodec(%T...): err %v, want it to say %q", tc.msgs[0], err, tc.want)
		}
	}
	// A Sizer that agrees with the encoding is accepted; one type listed
	// twice is no conflict.
	if _, err := ordo.NewCodec([]ordo.Message{goodSize{}, goodSize{}}); err != nil {
		t.Fatal(err)
	}
}

type kinded[T any] struct{ V T }

func (kinded[T]) Kind() string { return "kinded" }

type named struct{ K string }

func (n named) Kind() string { return n.K }

type badSize struct{ A, B uint64 }

func (badSize) Kind() string { return "bad-size" }
func (badSize) Size() int    { return 16 }

// badFilledSize is right for the zero value only.
type badFilledSize struct {
	A uint64
	S string
}

func (badFilledSize) Kind() string { return "bad-filled" }
func (badFilledSize) Size() int    { return 2 }

type goodSize struct{ A uint8 }

func (goodSize) Kind() string { return "good-size" }
func (m goodSize) Size() int {
	if m.A >= 0x80 {
		return 2
	}
	return 1
}

// TestEveryProtocolRegisters: each registered protocol passed NewCodec's
// rules at init (Register panics otherwise), its codec knows every kind it
// lists, and each zero message round-trips.
func TestEveryProtocolRegisters(t *testing.T) {
	for _, name := range ordo.ProtocolNames() {
		p, _ := ordo.Lookup(name)
		if p.Codec == nil {
			t.Fatalf("%s: no codec", name)
		}
		for _, m := range p.Messages {
			b, err := p.Codec.Encode(m)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := p.Codec.Decode(m.Kind(), b)
			if err != nil || got.Kind() != m.Kind() {
				t.Fatalf("%s: %s does not round-trip: %v", name, m.Kind(), err)
			}
		}
	}
}

func TestCodecEncodeRefusesUnknownAndMistyped(t *testing.T) {
	c, _ := ordo.NewCodec([]ordo.Message{ping{}})
	if _, err := c.Encode(named{"nope"}); err == nil || !strings.Contains(err.Error(), "Protocol.Messages") {
		t.Fatalf("unregistered kind: %v", err)
	}
	if _, err := c.Encode(named{"ping"}); err == nil || !strings.Contains(err.Error(), "registered for") {
		t.Fatalf("another type of a registered kind: %v", err)
	}
	c2, _ := ordo.NewCodec([]ordo.Message{&pong{}})
	if _, err := c2.Encode((*pong)(nil)); err == nil {
		t.Fatal("nil pointer message encoded")
	}
}

// TestCodecDecodeIsStrict: each malformed payload is refused with its
// reason, and no value comes back.
func TestCodecDecodeIsStrict(t *testing.T) {
	c, _ := ordo.NewCodec([]ordo.Message{ping{}, every{}, kinded[struct {
		B  bool
		I8 int8
		U8 uint8
	}]{}, kinded2[struct{ S []string }]{}, kinded3[struct{ M map[string]uint8 }]{}, kinded4[struct{ P *inner }]{}})
	good, _ := c.Encode(ping{Term: 300})
	for _, tc := range []struct {
		name, kind string
		b          []byte
		reason     string
	}{
		{"unknown kind", "nope", good, ordo.ReasonUnknownKind},
		{"empty", "ping", nil, ordo.ReasonTruncated},
		{"truncated varint", "ping", good[:1], ordo.ReasonTruncated},
		{"trailing byte", "ping", append(append([]byte{}, good...), 0), ordo.ReasonTrailing},
		{"non-minimal varint", "ping", []byte{0x80, 0x00}, ordo.ReasonInvalid},
		{"varint over 64 bits", "ping", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, ordo.ReasonInvalid},
		{"bool 2", "kinded", []byte{2, 0, 0}, ordo.ReasonInvalid},
		{"int8 overflow", "kinded", []byte{1, 0x80, 0x02, 0}, ordo.ReasonInvalid},
		{"uint8 overflow", "kinded", []byte{1, 0, 0x80, 0x02}, ordo.ReasonInvalid},
		{"count beyond the payload", "kinded2", []byte{0xff, 0xff, 0x03, 0}, ordo.ReasonTruncated},
		{"count beyond any message", "kinded2", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0}, ordo.ReasonTooLarge},
		{"string length beyond the payload", "kinded2", []byte{1, 5, 'a'}, ordo.ReasonTruncated},
		{"map keys out of order", "kinded3", []byte{2, 1, 'b', 1, 1, 'a', 1}, ordo.ReasonInvalid},
		{"map key repeated", "kinded3", []byte{2, 1, 'a', 1, 1, 'a', 1}, ordo.ReasonInvalid},
		{"pointer flag 2", "kinded4", []byte{2}, ordo.ReasonInvalid},
		{"too deep", "kinded4", deep(ordo.MaxDepth + 1), ordo.ReasonTooDeep},
		{"over MaxMessageSize", "ping", make([]byte, ordo.MaxMessageSize+1), ordo.ReasonTooLarge},
	} {
		m, err := c.Decode(tc.kind, tc.b)
		var de *ordo.DecodeError
		if m != nil || !errors.As(err, &de) || de.Reason != tc.reason {
			t.Errorf("%s: got %v, %v; want reason %q", tc.name, m, err, tc.reason)
		}
	}
	// A type whose kind is a field: the payload cannot change the kind.
	c2, _ := ordo.NewCodec([]ordo.Message{named{"a"}, named{"b"}})
	b, _ := c2.Encode(named{"b"})
	if m, err := c2.Decode("a", b); m != nil || err == nil {
		t.Fatalf("kind a decoded to %v (%v)", m, err)
	}
	// A nest just within the bound decodes.
	if _, err := c.Decode("kinded4", deep(ordo.MaxDepth-1)); err != nil {
		t.Fatalf("nesting within MaxDepth: %v", err)
	}
}

type kinded2[T any] struct{ V T }

func (kinded2[T]) Kind() string { return "kinded2" }

type kinded3[T any] struct{ V T }

func (kinded3[T]) Kind() string { return "kinded3" }

type kinded4[T any] struct{ V T }

func (kinded4[T]) Kind() string { return "kinded4" }

// deep is a chain of n inner values linked by Next (as kinded4's payload).
func deep(n int) []byte {
	var b []byte
	for range n {
		b = append(b, 1, 0, 0) // present, Name "", N 0, then Next
	}
	b = append(b, 0)
	return b
}

// TestCodecDecodeAllocatesOnlyTheValue: a message of fixed-size fields
// costs one allocation to decode (the value) and none to append.
func TestCodecDecodeAllocatesOnlyTheValue(t *testing.T) {
	c, _ := ordo.NewCodec([]ordo.Message{hb{}})
	var m ordo.Message = hb{Term: 7, Leader: 3, Round: 99, PrevLogIndex: 1000, PrevLogTerm: 6, CommitIndex: 999}
	b, _ := c.Encode(m)
	buf := make([]byte, 0, 64)
	if a := testing.AllocsPerRun(100, func() { buf, _ = c.Append(buf[:0], m) }); a != 0 {
		t.Errorf("Append allocates %v times, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { c.Decode("hb", b) }); a > 1 {
		t.Errorf("Decode allocates %v times, want 1", a)
	}
}

// hb has the shape of Raft's heartbeat (an empty AppendEntries).
type hb struct {
	Term         uint64
	Leader       ordo.NodeID
	Round        uint64
	PrevLogIndex uint64
	PrevLogTerm  uint64
	CommitIndex  uint64
}

func (hb) Kind() string { return "hb" }
