package diagram

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		src       string
		line, col int
		msg       string
	}{
		{"P1: a b\nP2: c\na -> x\n", 3, 6, `unknown event "x"`},
		{"P1: a b\nP2: c\nzz -> c\n", 3, 1, `unknown event "zz"`},
		{"P1: a\nP2: b\n  -> b\n", 3, 3, "a receive without a send"},
		{"P1: a\nP2: b\na ->\n", 3, 3, "a send without a receive"},
		{"P1: a b\nP2: c d\nb -> c\nd -> a\n", 4, 3, "cycle in happens-before: b → c → d → a → b"},
		{"P1: a b\nP2: b\n", 2, 5, "event b declared twice (first at line 1, column 7)"},
		{"P1: a\nP1: b\n", 2, 1, "process P1 declared twice"},
		{"P1: a b=[2,x]\nP2: c\n", 1, 12, "malformed vector stamp"},
		{"P1: a b=2x\n", 1, 9, "malformed stamp"},
		{"P1: a b=[1,0,0]\nP2: c\n", 1, 9, "has 3 entries, the diagram has 2 processes"},
		{"P1: a b\na -> b\n", 2, 3, "a message goes between two processes"},
		{"P1: a\nP2: b\na -> b\na -> b\n", 4, 3, "written twice"},
		{"hello\n", 1, 1, "expected a process"},
		{"# only a comment\n", 1, 1, "no processes"},
		{"P1: a\nP2: b\na -> b -> a\n", 3, 8, "one event on each side"},
		{"P1: a+b\n", 1, 6, "character '+' not allowed"},
		{"프로세스: 가 나=\n", 1, 11, "empty stamp"},
	} {
		_, err := Parse([]byte(c.src))
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: error %v, want *Error", c.src, err)
			continue
		}
		if e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: %v, want line %d column %d containing %q", c.src, e, c.line, c.col, c.msg)
		}
	}
}

func TestParseFeatures(t *testing.T) {
	d, err := Parse([]byte("# multicast, relay, unicode arrow\nP: a b\nQ: c d\nR: e\na -> c\na → e\nc -> b   # relay: c receives and sends\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := &d.Events[d.byName["c"]]
	if c.Kind() != "receive+send" || c.Lamport != 2 || c.Vector.String() != "[1,1,0]" {
		t.Fatalf("c: %s %d %v", c.Kind(), c.Lamport, c.Vector)
	}
	if b := d.Events[d.byName["b"]]; b.Lamport != 3 || b.Vector.String() != "[2,1,0]" {
		t.Fatalf("b: %d %v", b.Lamport, b.Vector)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"P1: a b c\nP2: d e f\na -> d\nf -> c\n",
		"A: a1=1 a2=2 a3=5\nB: b1=3 b2=4 b3=5\na2 -> b1\nb3 -> a3\n",
		"A: a=[1,0] b\nB: c=[0,1]\nb -> c # comment\n",
		"P1: a b\nP2: c d\nb -> c\nd -> a\n",
		"P1: a\n-> a\n", "P: a=\n", "x", "P1: a b\nb → a\n", "P1: 가=[1]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse([]byte(s))
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Line < 1 || e.Col < 1 {
				t.Fatalf("%q: bad error %#v", s, err)
			}
			return
		}
		// Stamps respect happens-before on every edge.
		for i := range d.Events {
			for _, p := range d.preds(i) {
				if d.Events[p].Lamport >= d.Events[i].Lamport {
					t.Fatalf("%q: Lamport not increasing along %s → %s", s, d.Events[p].Name, d.Events[i].Name)
				}
			}
		}
		_ = d.Check()
		if len(d.Events) >= 2 {
			if _, _, err := d.HappensBefore(d.Events[0].Name, d.Events[len(d.Events)-1].Name); err != nil {
				t.Fatal(err)
			}
		}
	})
}
