package diagram

import (
	"slices"
	"strings"
	"testing"

	"ordo/clock"
	"ordo/examples"
)

// seedSrc is the text of examples/seed/NAME, as the CLI and the tour read it.
func seedSrc(t *testing.T, name string) []byte {
	t.Helper()
	src, err := examples.Seed(name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func seed(t *testing.T, name string) *Diagram {
	t.Helper()
	d, err := Parse(seedSrc(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// wantStamps checks the stamps of the events named in want.
func wantStamps[S comparable](t *testing.T, got, want map[string]S) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func lamports(d *Diagram) map[string]uint64 {
	m := map[string]uint64{}
	for _, e := range d.Events {
		m[e.Name] = e.Lamport
	}
	return m
}

func vectors(d *Diagram) map[string]string {
	m := map[string]string{}
	for _, e := range d.Events {
		m[e.Name] = e.Vector.String()
	}
	return m
}

func mismatches(d *Diagram) map[string]Mismatch {
	m := map[string]Mismatch{}
	for _, x := range d.Check() {
		m[x.Event] = x
	}
	return m
}

// Reference: section 3, Lamport Clock figure. The chapter is right about
// a1=1, a2=2, b1=3, b2=4, b3=5. It is inconsistent with its own rules at
// a3: B's send b3 is an event stamped 5, so the message carries C=5 (not
// the figure's "msg(C=4)") and A's receive is max(2, 5) + 1 = 6, not 5.
// The text's "max(2, 2) + 1 = 3" for b1 uses 2 for B's counter, which is
// 0 before b1; the result 3 is still right.
func TestSeedFigureLamport_Section3(t *testing.T) {
	d := seed(t, "lamport-figure.txt")
	wantStamps(t, lamports(d), map[string]uint64{"a1": 1, "a2": 2, "a3": 6, "b1": 3, "b2": 4, "b3": 5})
	mm := mismatches(d)
	if len(mm) != 1 {
		t.Fatalf("mismatches %v, want only a3", mm)
	}
	a3 := mm["a3"]
	if a3.Claimed != "5" || a3.Correct != "6" || a3.Rule != RuleLamportReceive || a3.Inherited {
		t.Fatalf("a3: %+v", a3)
	}
	if want := "C = 2 after a2, msg.C = 5 from b3, so a3 = max(2, 5) + 1 = 6"; a3.Explain != want {
		t.Fatalf("a3 explanation %q, want %q", a3.Explain, want)
	}
	// B's counter before b1 is 0, not the 2 of the chapter's "max(2, 2)".
	if _, ok := d.prev(d.byName["b1"]); ok {
		t.Fatal("b1 has a predecessor on B")
	}
}

// Reference: section 3, Vector Clock figure. The chapter is right about
// a1=[1,0,0], a2=[2,0,0], c1=[0,0,1]. By the stated receive rule (merge,
// then V[i]++) the figure is inconsistent: b1 receives from c1 (the ▲)
// yet shows C's entry 0; C's receive of [2,2,0] gives [2,2,2], not
// [2,2,1] (the V[C]++ is skipped); b3 = [2,2,1] is C's vector, not B's
// next tick of [2,2,0], which would be [2,3,0]. a3 = [3,2,1] does follow
// from the claimed message [2,2,1].
func TestSeedFigureVector_Section3(t *testing.T) {
	d := seed(t, "vector-figure.txt")
	wantStamps(t, vectors(d), map[string]string{"a1": "[1,0,0]", "a2": "[2,0,0]", "c1": "[0,0,1]",
		"b1": "[2,1,1]", "b2": "[2,2,1]", "c2": "[2,2,2]", "b3": "[2,3,1]", "a3": "[3,3,1]"})
	mm := mismatches(d)
	wrong := map[string]bool{"b1": false, "b2": true, "c2": false, "b3": false, "a3": true} // event → inherited
	if len(mm) != len(wrong) {
		t.Fatalf("mismatches %v", mm)
	}
	for ev, inh := range wrong {
		m, ok := mm[ev]
		if !ok || m.Inherited != inh {
			t.Errorf("%s: %+v, want inherited=%v", ev, m, inh)
		}
	}
	if mm["c2"].Rule != RuleVectorReceive || mm["b3"].Rule != RuleVectorTick {
		t.Errorf("rules: c2 %q, b3 %q", mm["c2"].Rule, mm["b3"].Rule)
	}
	// Without the c1 → b1 arrow the figure is still inconsistent at c2 and
	// b3 (the task's question: does C's receive of [2,2,0] give [2,2,1]? No).
	lines := strings.Split(string(seedSrc(t, "vector-figure.txt")), "\n")
	arrow := slices.Index(lines, "c1 -> b1")
	if arrow < 0 {
		t.Fatal("vector-figure.txt has no line c1 -> b1")
	}
	d2, err := Parse([]byte(strings.Join(slices.Delete(lines, arrow, arrow+1), "\n")))
	if err != nil {
		t.Fatal(err)
	}
	mm2 := mismatches(d2)
	if len(mm2) != 3 || mm2["c2"].Correct != "[2,2,2]" || mm2["b3"].Correct != "[2,3,0]" || mm2["a3"].Correct != "[3,3,0]" {
		t.Fatalf("without c1 -> b1: %v", mm2)
	}
}

// Reference: section 2, Happens-Before figure: every relation the chapter
// lists holds, with the chains it gives.
func TestSeedFigureHappensBefore_Section2(t *testing.T) {
	d := seed(t, "happens-before-figure.txt")
	for _, c := range []struct {
		x, y  string
		chain []string
	}{
		{"a", "b", []string{"a", "b"}},
		{"b", "d", []string{"b", "d"}},
		{"a", "c", []string{"a", "c"}},
		{"d", "c", []string{"d", "c"}},
		{"a", "d", []string{"a", "b", "d"}},
	} {
		o, ch, err := d.HappensBefore(c.x, c.y)
		if err != nil || o != clock.Before || !slices.Equal(ch, c.chain) {
			t.Errorf("%s → %s: %v %v %v, want chain %v", c.x, c.y, o, ch, err, c.chain)
		}
		if o, _, _ := d.HappensBefore(c.y, c.x); o != clock.After {
			t.Errorf("%s vs %s: %v, want after", c.y, c.x, o)
		}
	}
	// b → c as well, by transitivity (b → d → c), which the chapter does
	// not list: every pair of this figure is ordered.
	if o, ch, _ := d.HappensBefore("b", "c"); o != clock.Before || !slices.Equal(ch, []string{"b", "d", "c"}) {
		t.Errorf("b → c: %v %v", o, ch)
	}
}

// Reference: section 2, the concurrency figure: a ∥ b.
func TestSeedFigureConcurrent_Section2(t *testing.T) {
	d := seed(t, "concurrent-figure.txt")
	o, ch, err := d.HappensBefore("a", "b")
	if err != nil || o != clock.Concurrent || ch != nil {
		t.Fatalf("a vs b: %v %v %v", o, ch, err)
	}
	// Lamport stamps are equal although the events are different: the
	// chapter's "같은 카운터 값 가능".
	if l := lamports(d); l["a"] != 1 || l["b"] != 1 {
		t.Fatalf("stamps %v", l)
	}
}

// Reference: section 6, exercise 1: a=1, b=2, c=5, d=2, e=3, f=4.
func TestSeedExercise1_Section6(t *testing.T) {
	d := seed(t, "exercise-1.txt")
	wantStamps(t, lamports(d), map[string]uint64{"a": 1, "b": 2, "c": 5, "d": 2, "e": 3, "f": 4})
	if v := vectors(d); v["c"] != "[3,3]" || v["f"] != "[1,3]" {
		t.Errorf("vectors %v", v)
	}
	if mm := seed(t, "exercise-1-answer.txt").Check(); len(mm) != 0 {
		t.Errorf("the answer file has mismatches: %+v", mm)
	}
}

// Reference: section 6, exercise 2: V1=[2,1,0], V2=[1,2,0], V3=[2,2,1],
// V4=[3,1,0]. V1 ∥ V2, V1 → V3, V1 → V4, V2 → V3, V2 ∥ V4, V3 ∥ V4.
func TestSeedExercise2_Section6(t *testing.T) {
	v := []clock.Vector{{2, 1, 0}, {1, 2, 0}, {2, 2, 1}, {3, 1, 0}}
	want := map[[2]int]clock.Order{
		{0, 1}: clock.Concurrent, {0, 2}: clock.Before, {0, 3}: clock.Before,
		{1, 2}: clock.Before, {1, 3}: clock.Concurrent, {2, 3}: clock.Concurrent,
	}
	for p, o := range want {
		if got := clock.Compare(v[p[0]], v[p[1]]); got != o {
			t.Errorf("V%d vs V%d: %v, want %v", p[0]+1, p[1]+1, got, o)
		}
	}
}
