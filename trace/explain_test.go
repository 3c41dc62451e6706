package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"ordo"
	"ordo/clock"
)

// explainFigure is the chapter's happens-before figure (section 2) with a
// third process: P1 does a then c, P2 does b then d, a sends to b and d
// sends to c; P3 does e, which no message links to the others. Between a
// and b lies an unstamped fault event.
//
//	e0 a: n1 send m#1 to n2   [1,0,0]
//	e1    fault                (not a process event)
//	e2 b: n2 recv m#1 from n1 [1,1,0]
//	e3 d: n2 send m#2 to n1   [1,2,0]
//	e4 c: n1 recv m#2 from n2 [2,2,0]
//	e5 e: n3 note solo        [0,0,1]
func explainFigure() *Trace {
	t := &Trace{Meta: Meta{Format: FormatVersion, Runtime: "sim", Nodes: 3}}
	s := []Stamper{NewStamper(1, 3), NewStamper(2, 3), NewStamper(3, 3)}
	add := func(n int, e Event) {
		e.Node = ordo.NodeID(n)
		e.Lamport, e.Vector = s[n-1].Lamport, append(clock.Vector(nil), s[n-1].Vector...)
		t.Append(e)
	}
	s[0].Tick()
	add(1, Event{Kind: Send, Peer: 2, Msg: 1, MsgKind: "m"})
	t.Append(Event{Kind: Fault, Name: "partition"})
	s[1].Recv(s[0].Lamport, s[0].Vector)
	add(2, Event{Kind: Recv, Peer: 1, Msg: 1, MsgKind: "m"})
	s[1].Tick()
	add(2, Event{Kind: Send, Peer: 1, Msg: 2, MsgKind: "m"})
	s[0].Recv(s[1].Lamport, s[1].Vector)
	add(1, Event{Kind: Recv, Peer: 2, Msg: 2, MsgKind: "m"})
	s[2].Tick()
	add(3, Event{Kind: Note, Name: "solo"})
	return t
}

// Reference: section 2, Happens-Before (Lamport 1978): a → d by the chain
// a → b (rule 2: a message) → d (rule 1: the same process), and V(a) ≤ V(d)
// entry by entry; asked the other way round the answer is "after" with the
// same chain.
func TestExplainBeforeAfter_Section2(t *testing.T) {
	tr := explainFigure()
	const a, b, d, c = 0, 2, 3, 4
	want := `e0 → e3: e0 happened before e3

     e0 n1 send m to n2 L=1 V=[1,0,0]
  →  e2 n2 recv m from n1 L=2 V=[1,1,0]
       (rule 2: the receipt of message #1, sent by n1)
  →  e3 n2 send m to n1 L=3 V=[1,2,0]
       (rule 1: the next event on n2)

and V(e0) = [1,0,0] ≤ V(e3) = [1,2,0], entry by entry.
`
	for _, tc := range []struct {
		x, y  int
		order string
	}{{a, d, OrderBefore}, {d, a, OrderAfter}} {
		x, err := tr.Explain(tc.x, tc.y)
		if err != nil {
			t.Fatal(err)
		}
		if x.Order != tc.order || x.A != tc.x || x.B != tc.y || x.From != a || x.To != d || !x.Vectors {
			t.Errorf("Explain(e%d, e%d) = %+v", tc.x, tc.y, x)
		}
		if got := x.Text(); got != want {
			t.Errorf("Explain(e%d, e%d).Text():\n%s\nwant:\n%s", tc.x, tc.y, got, want)
		}
		var rules []int
		for _, s := range x.Chain {
			rules = append(rules, s.Rule)
		}
		if len(x.Chain) != 3 || x.Chain[0].Event != a || x.Chain[1].Event != b || x.Chain[2].Event != d ||
			rules[0] != 0 || rules[1] != 2 || rules[2] != 1 {
			t.Errorf("chain %+v", x.Chain)
		}
		if s := x.Chain[1]; s.Msg != 1 || s.From != 1 || s.Node != 2 {
			t.Errorf("rule-2 step %+v: want message #1 from n1 received on n2", s)
		}
		if s := x.Chain[2]; s.Msg != 0 || s.From != 0 {
			t.Errorf("rule-1 step %+v carries a message", s)
		}
	}
	// The shortest chain: a → c by rule 1 alone, though a → b → d → c
	// also leads there.
	x, err := tr.Explain(a, c)
	if err != nil || len(x.Chain) != 2 || x.Chain[1].Rule != 1 || x.Chain[1].Step != "rule 1: the next event on n1" {
		t.Fatalf("a → c: %+v, %v", x, err)
	}
	// b → d → c: rule 1, then rule 2.
	x, err = tr.Explain(b, c)
	if err != nil || len(x.Chain) != 3 || x.Chain[1].Rule != 1 || x.Chain[2].Rule != 2 || x.Chain[2].Msg != 2 || x.Chain[2].From != 2 {
		t.Fatalf("b → c: %+v, %v", x, err)
	}
	var buf bytes.Buffer
	if err := x.WriteText(&buf); err != nil || buf.String() != x.Text() {
		t.Fatalf("WriteText = %q, %v; Text = %q", buf.String(), err, x.Text())
	}
}

// Reference: section 2, concurrency: e on n3 and b on n2 are linked by no
// chain; V(e) is ahead in n3's entry, V(b) in n1's.
func TestExplainConcurrent_Section2(t *testing.T) {
	tr := explainFigure()
	x, err := tr.Explain(5, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := `e5 ∥ e2: concurrent — neither happened before the other

  e5 n3 note solo L=1 V=[0,0,1]
  e2 n2 recv m from n1 L=2 V=[1,1,0]

V(e5) ≰ V(e2): entry n3 is 1 > 0 (e5 knows an event of n3 that e2 does not)
V(e2) ≰ V(e5): entry n1 is 1 > 0 (e2 knows an event of n1 that e5 does not)
No chain of same-node steps and messages leads from either event to the other.
`
	if got := x.Text(); got != want {
		t.Errorf("Text():\n%s\nwant:\n%s", got, want)
	}
	if x.Order != OrderConcurrent || x.Chain != nil || len(x.Ahead) != 2 || len(x.Proof) != 3 {
		t.Fatalf("%+v", x)
	}
	if h := x.Ahead[0]; h != (Ahead{Event: 5, Other: 2, Node: 3, Value: 1, OtherValue: 0}) {
		t.Errorf("ahead[0] = %+v", h)
	}
	if h := x.Ahead[1]; h != (Ahead{Event: 2, Other: 5, Node: 1, Value: 1, OtherValue: 0}) {
		t.Errorf("ahead[1] = %+v", h)
	}
}

func TestExplainEqual(t *testing.T) {
	x, err := explainFigure().Explain(3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if x.Order != OrderEqual || x.Chain != nil || x.Proof != nil {
		t.Fatalf("%+v", x)
	}
	if got, want := x.Text(), "e3 and e3 are the same event\n  e3 n2 send m to n1 L=3 V=[1,2,0]\n"; got != want {
		t.Fatalf("Text() = %q, want %q", got, want)
	}
}

// A trace without vector stamps is answered from its happens-before graph:
// the chain alone proves a → b, and a ∥ b is said without a vector argument.
func TestExplainWithoutVectors(t *testing.T) {
	tr := explainFigure()
	for i := range tr.Events {
		tr.Events[i].Vector = nil
	}
	x, err := tr.Explain(3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if x.Order != OrderAfter || x.Vectors || x.Proof != nil || x.VectorA != nil || len(x.Chain) != 3 {
		t.Fatalf("%+v", x)
	}
	if got := x.Text(); !strings.HasPrefix(got, "e0 → e3: e0 happened before e3\n\n     e0 n1 send m to n2 L=1 V=[]\n") ||
		!strings.HasSuffix(got, "(rule 1: the next event on n2)\n") || strings.Contains(got, "≤") {
		t.Errorf("Text():\n%s", got)
	}
	x, err = tr.Explain(0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if x.Order != OrderConcurrent || x.Vectors || x.Ahead != nil || len(x.Proof) != 1 {
		t.Fatalf("%+v", x)
	}
	want := "e0 ∥ e5: concurrent — neither happened before the other\n\n" +
		"  e0 n1 send m to n2 L=1 V=[]\n  e5 n3 note solo L=1 V=[]\n\n" +
		"No chain of same-node steps and messages leads from either event to the other.\n"
	if got := x.Text(); got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}

func TestExplainErrors(t *testing.T) {
	tr := explainFigure()
	for _, tc := range []struct {
		a, b int
		want string
	}{
		{0, 99, "no event e99: the trace has e0..e5"},
		{-1, 0, "no event e-1"},
		{0, 1, "e1 is a fault, not a process event"},
		{1, 1, "e1 is a fault, not a process event"},
	} {
		x, err := tr.Explain(tc.a, tc.b)
		if err == nil || x != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Explain(%d, %d) = %v, %v; want an error mentioning %q", tc.a, tc.b, x, err, tc.want)
		}
	}
	// Stamps that contradict the links: a corrupt trace is an error, never
	// a panic or a made-up proof.
	bad := explainFigure()
	bad.Events[5].Vector = clock.Vector{1, 2, 0}
	if x, err := bad.Explain(3, 5); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("equal vectors: %+v, %v", x, err)
	}
	bad.Events[5].Vector = clock.Vector{1, 2, 1}
	if x, err := bad.Explain(3, 5); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("vectors with no chain: %+v, %v", x, err)
	}
}

// The JSON shape a page reads: lowerCamel keys, the order as a word,
// rule-2 steps with their message and sender.
func TestExplainJSON(t *testing.T) {
	x, err := explainFigure().Explain(3, 0)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "order", "from", "to", "summary", "textA", "textB", "chain", "vectors", "vectorA", "vectorB", "proof"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, data)
		}
	}
	if _, ok := m["ahead"]; ok {
		t.Errorf("a → b has no ahead entries: %s", data)
	}
	if m["order"] != "after" || m["from"] != 0.0 || m["to"] != 3.0 || m["a"] != 3.0 {
		t.Errorf("JSON %s", data)
	}
	chain := m["chain"].([]any)
	first, second, third := chain[0].(map[string]any), chain[1].(map[string]any), chain[2].(map[string]any)
	if first["rule"] != 0.0 || first["event"] != 0.0 || first["step"] != nil || first["msg"] != nil {
		t.Errorf("first step %v", first)
	}
	if second["rule"] != 2.0 || second["msg"] != 1.0 || second["from"] != 1.0 || second["node"] != 2.0 ||
		second["step"] != "rule 2: the receipt of message #1, sent by n1" {
		t.Errorf("rule-2 step %v", second)
	}
	if third["rule"] != 1.0 || third["msg"] != nil || third["from"] != nil {
		t.Errorf("rule-1 step %v", third)
	}
	// Round trip: the data says the same as the text.
	var back Explanation
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Text() != x.Text() {
		t.Errorf("text after a JSON round trip:\n%s\nwant:\n%s", back.Text(), x.Text())
	}
	c, err := explainFigure().Explain(2, 5)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(c)
	if !bytes.Contains(data, []byte(`"ahead":[{"event":2,"other":5,"node":1,"value":1,"otherValue":0},{"event":5,"other":2,"node":3,"value":1,"otherValue":0}]`)) ||
		bytes.Contains(data, []byte(`"chain"`)) {
		t.Errorf("concurrent JSON %s", data)
	}
}

// A long run of one node's events is printed as its first and last step
// and a count; the Chain keeps every step.
func TestExplainTextCollapsesLongRuns(t *testing.T) {
	x := &Explanation{Order: OrderBefore, Summary: "e0 → e9: e0 happened before e9"}
	x.Chain = append(x.Chain, ChainStep{Event: 0, Node: 1, Rule: 0, Text: "e0"})
	for i := 1; i <= 8; i++ {
		x.Chain = append(x.Chain, ChainStep{Event: i, Node: 1, Rule: 1, Text: fmt.Sprintf("e%d", i), Step: "rule 1: the next event on n1"})
	}
	x.Chain = append(x.Chain, ChainStep{Event: 9, Node: 2, Rule: 2, Text: "e9", Step: "rule 2: the receipt of message #1, sent by n1"})
	got := x.Text()
	for _, want := range []string{"  →  e1\n", "  ⋮  6 more events on n1, each the next on it (rule 1)\n", "  →  e8\n", "  →  e9\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("text lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "e4\n") {
		t.Errorf("a collapsed step is printed:\n%s", got)
	}
	// A run of MaxRule1Run steps is printed whole.
	x.Chain = append(x.Chain[:1+MaxRule1Run], x.Chain[9])
	if got := x.Text(); strings.Contains(got, "⋮") {
		t.Errorf("a short run was collapsed:\n%s", got)
	}
}
