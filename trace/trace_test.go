package trace

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ordo/clock"
)

// figure builds the chapter's happens-before figure (section 2,
// "Happens-Before 관계"): P1 does a, then c; P2 does b, then d; a sends to b,
// d sends to c.
func figure() *Trace {
	t := &Trace{Meta: Meta{Format: FormatVersion, Runtime: "sim", Nodes: 2}}
	p1, p2 := NewStamper(1, 2), NewStamper(2, 2)
	add := func(s *Stamper, e Event) int {
		e.Node = 1
		if s == &p2 {
			e.Node = 2
		}
		e.Lamport, e.Vector = s.Lamport, append(clock.Vector(nil), s.Vector...)
		return t.Append(e).ID
	}
	p1.Tick()
	add(&p1, Event{Kind: Send, Peer: 2, Msg: 1, MsgKind: "m"})
	t.Append(Event{Kind: Fault, Name: "unstamped"})
	p2.Recv(p1.Lamport, p1.Vector)
	add(&p2, Event{Kind: Recv, Peer: 1, Msg: 1, MsgKind: "m"})
	p2.Tick()
	add(&p2, Event{Kind: Send, Peer: 1, Msg: 2, MsgKind: "m"})
	p1.Recv(p2.Lamport, p2.Vector)
	add(&p1, Event{Kind: Recv, Peer: 2, Msg: 2, MsgKind: "m"})
	return t
}

// Reference: section 2, Happens-Before: a → b (message), b → d (same
// process), a → c (same process), d → c (message), a → d (transitivity).
func TestHappensBeforeFigure_Section2(t *testing.T) {
	tr := figure()
	const a, b, d, c = 0, 2, 3, 4
	for _, tc := range []struct {
		x, y  int
		want  clock.Order
		chain []int
	}{
		{a, b, clock.Before, []int{a, b}},
		{b, d, clock.Before, []int{b, d}},
		{a, c, clock.Before, []int{a, c}},
		{d, c, clock.Before, []int{d, c}},
		{a, d, clock.Before, []int{a, b, d}},
		{c, a, clock.After, nil},
		{a, a, clock.Equal, nil},
	} {
		got, err := tr.Relation(tc.x, tc.y)
		if err != nil || got != tc.want {
			t.Errorf("Relation(e%d, e%d) = %v, %v; want %v", tc.x, tc.y, got, err, tc.want)
		}
		ch, err := tr.Chain(tc.x, tc.y)
		if err != nil {
			t.Errorf("Chain(e%d, e%d): %v", tc.x, tc.y, err)
		}
		if tc.chain != nil && !slices.Equal(ch, tc.chain) {
			t.Errorf("Chain(e%d, e%d) = %v, want %v", tc.x, tc.y, ch, tc.chain)
		}
		if tc.chain == nil && ch != nil {
			t.Errorf("Chain(e%d, e%d) = %v, want none", tc.x, tc.y, ch)
		}
	}
	if _, err := tr.Relation(a, 1); err == nil {
		t.Error("Relation with an unstamped fault event must be an error")
	}
	if _, err := tr.Relation(a, 99); err == nil {
		t.Error("Relation with a missing event must be an error")
	}
}

// Reference: section 2, concurrency: two events with no causal path are
// concurrent (a ∥ b).
func TestConcurrentFigure_Section2(t *testing.T) {
	tr := &Trace{Meta: Meta{Nodes: 2}}
	tr.Append(Event{Kind: Note, Node: 1, Lamport: 1, Vector: clock.Vector{1, 0}})
	tr.Append(Event{Kind: Note, Node: 2, Lamport: 1, Vector: clock.Vector{0, 1}})
	if o, err := tr.Relation(0, 1); err != nil || o != clock.Concurrent {
		t.Fatalf("got %v, %v; want concurrent", o, err)
	}
	if ch, err := tr.Chain(0, 1); err != nil || ch != nil {
		t.Fatalf("chain of concurrent events: %v, %v", ch, err)
	}
}

func TestRoundTrip(t *testing.T) {
	tr := figure()
	tr.Events[2].Attrs = MakeAttrs([]any{"term", 3, "leader", 2})
	var b bytes.Buffer
	if err := tr.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != len(tr.Events) || got.Meta.Nodes != 2 {
		t.Fatalf("round trip lost events: %d of %d", len(got.Events), len(tr.Events))
	}
	if v, ok := got.Events[2].Attrs.Int("term"); !ok || v != 3 {
		t.Fatalf("attr term = %v, %v", v, ok)
	}
	var b2 bytes.Buffer
	if err := got.Write(&b2); err != nil {
		t.Fatal(err)
	}
	var b1 bytes.Buffer
	tr.Write(&b1)
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("write → read → write is not byte-identical")
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	head := `{"ordo_trace":"1","runtime":"sim","nodes":2}` + "\n"
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"not json\n", "line 1"},
		{`{"ordo_trace":"9","runtime":"sim","nodes":2}` + "\n", `format "9"`},
		{`{"ordo_trace":"1","runtime":"sim","nodes":0}` + "\n", "nodes=0"},
		{`{"ordo_trace":"1","nodes":2,"colour":1}` + "\n", "line 1"},
		{head + `{"id":0,"kind":"boom","node":1}` + "\n", `line 2: unknown event kind "boom"`},
		{head + `{"id":0,"kind":"send","node":3}` + "\n", "line 2: node 3 out of range"},
		{head + `{"id":5,"kind":"send","node":1}` + "\n", "line 2: event id 5, expected 0"},
		{head + `{"id":0,"kind":"send","node":1,"vc":[1,2,3]}` + "\n", "vector has 3 entries"},
		{head + `{"id":0,` + "\n", "line 2"},
	} {
		_, err := Read(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q) error = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestMakeAttrsKeepsBadInputVisible(t *testing.T) {
	a := MakeAttrs([]any{"term", 1, 7, "x", "odd"})
	if len(a) != 3 || a[1].Key != "!BADKEY(7)" || a[2].Value != "!MISSING" {
		t.Fatalf("got %+v", a)
	}
}

// FuzzRead: no input makes the trace decoder panic; whatever it accepts
// passes Validate, can be written and read back to the same trace, and
// answers Relation and Chain for any pair of process events without error
// (in particular never "the trace is corrupt").
func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	figure().Write(&b)
	f.Add(b.Bytes())
	nov := figure()
	for i := range nov.Events {
		nov.Events[i].Vector = nil
	}
	b.Reset()
	nov.Write(&b)
	f.Add(b.Bytes())
	bad := figure()
	bad.Events[0].Vector = clock.Vector{1, 1}
	b.Reset()
	bad.Write(&b)
	f.Add(b.Bytes())
	f.Add([]byte(`{"ordo_trace":"1","runtime":"live","nodes":1}` + "\n" + `{"id":0,"kind":"note","node":1,"attrs":[{"k":"x","v":1}]}`))
	f.Add([]byte("{}\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("Read accepted a trace Validate refuses: %v", err)
		}
		var out bytes.Buffer
		if err := tr.Write(&out); err != nil {
			t.Fatalf("accepted trace does not write: %v", err)
		}
		back, err := Read(&out)
		if err != nil {
			t.Fatalf("written trace does not read back: %v", err)
		}
		if len(back.Events) != len(tr.Events) {
			t.Fatalf("round trip changed the event count")
		}
		var stamped []int
		for i := range tr.Events {
			if tr.Events[i].Kind.Stamped() && len(stamped) < 12 {
				stamped = append(stamped, i)
			}
		}
		for _, i := range stamped {
			for _, j := range stamped {
				o, err := tr.Relation(i, j)
				if err != nil {
					t.Fatalf("Relation(e%d, e%d) on an accepted trace: %v", i, j, err)
				}
				r, _ := tr.Relation(j, i)
				if r != inverse(o) {
					t.Fatalf("Relation(e%d, e%d) = %v but Relation(e%d, e%d) = %v", i, j, o, j, i, r)
				}
				ch, err := tr.Chain(i, j)
				if err != nil {
					t.Fatalf("Chain(e%d, e%d) on an accepted trace: %v", i, j, err)
				}
				if (o == clock.Before) != (ch != nil) {
					t.Fatalf("Relation(e%d, e%d) = %v but Chain = %v", i, j, o, ch)
				}
			}
		}
	})
}

func inverse(o clock.Order) clock.Order {
	switch o {
	case clock.Before:
		return clock.After
	case clock.After:
		return clock.Before
	}
	return o
}

// IsTraceFile knows a trace by its header line, whatever the key order,
// and nothing else: a scenario, an empty file, JSON without the field.
func TestIsTraceFile(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		text string
		want bool
	}{
		"written":  {`{"ordo_trace":"1","nodes":3}` + "\n", true},
		"reorder":  {"\n  {\"nodes\":3,\"ordo_trace\":\"1\"}\n", true},
		"scenario": {"name: x\nprotocol: raft\n", false},
		"json":     {`{"nodes":3}` + "\n", false},
		"empty":    {"", false},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := IsTraceFile(p); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	if IsTraceFile(filepath.Join(dir, "missing")) {
		t.Error("a missing file is a trace")
	}
}
