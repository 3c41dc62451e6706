package tour

import (
	"fmt"
	"io"
	"strings"
	"time"

	"ordo"
	"ordo/clock"
	"ordo/diagram"
	"ordo/examples"
	"ordo/lww"
	"ordo/sim"
	"ordo/trace"
	"ordo/viz"
)

// Sections 2 and 3: happens-before, the danger of physical timestamps,
// Lamport and vector clocks on the chapter's own figures and exercises.

// Mismatches prints the mistakes d.Check finds in d's claimed stamps (the
// event, the claimed and correct stamp, the rule broken) or that all are
// right; it returns how many are wrong.
func Mismatches(w io.Writer, d *diagram.Diagram) int {
	mm := d.Check()
	claims := 0
	for _, e := range d.Events {
		if e.Claim != nil {
			claims++
		}
	}
	for _, m := range mm {
		fmt.Fprintf(w, "✗ %s (%v): claimed %s, correct %s\n  breaks %s:\n  %s\n", m.Event, m.Pos, m.Claimed, m.Correct, m.Rule, m.Explain)
		switch {
		case m.Inherited:
			fmt.Fprintf(w, "  (the claim does follow from the claimed stamps of its inputs: the mistake was made earlier)\n")
		case m.FromClaims != "":
			fmt.Fprintf(w, "  even from the claimed stamps of its inputs: %s\n", m.FromClaims)
		}
	}
	if len(mm) == 0 {
		fmt.Fprintf(w, "✓ all %d claimed stamps follow the rules\n", claims)
	} else {
		fmt.Fprintf(w, "%d of %d claimed stamps are wrong\n", len(mm), claims)
	}
	return len(mm)
}

// HappensBefore prints the chapter's answer for events x and y of d: x → y,
// y → x or x ∥ y, with the chain of process and message steps that
// proves it; the error names an unknown event.
func HappensBefore(w io.Writer, d *diagram.Diagram, x, y string) error {
	o, chain, err := d.HappensBefore(x, y)
	if err != nil {
		return err
	}
	ix, _ := d.Lookup(x)
	iy, _ := d.Lookup(y)
	vx, vy := d.Events[ix].Vector, d.Events[iy].Vector
	switch o {
	case clock.Equal:
		fmt.Fprintf(w, "%s and %s are the same event\n", x, y)
	case clock.Concurrent:
		fmt.Fprintf(w, "%s ∥ %s: concurrent; no chain of events links them (%s=%v, %s=%v)\n", x, y, x, vx, y, vy)
	default:
		a, b := x, y
		if o == clock.After {
			a, b = y, x
		}
		var s strings.Builder
		s.WriteString(chain[0])
		for k := 1; k < len(chain); k++ {
			fmt.Fprintf(&s, " → %s (%s)", chain[k], d.Step(chain[k-1], chain[k]))
		}
		fmt.Fprintf(w, "%s → %s: %s happens before %s\n  chain: %s\n", a, b, a, b, s.String())
	}
	return nil
}

// Stamps prints every event's stamp of kind "lamport" or "vector" by
// process, then d drawn with the stamps under its events, at most width
// columns wide.
func Stamps(w io.Writer, d *diagram.Diagram, kind string, width int) error {
	names := make([]string, len(d.Processes))
	for i, p := range d.Processes {
		names[i] = p.Name
	}
	if kind == "vector" {
		fmt.Fprintf(w, "vector entries: [%s]\n", strings.Join(names, ","))
	}
	for _, p := range d.Processes {
		var parts []string
		for _, i := range p.Events {
			e := &d.Events[i]
			s := fmt.Sprint(e.Lamport)
			if kind == "vector" {
				s = e.Vector.String()
			}
			parts = append(parts, e.Name+"="+s)
		}
		fmt.Fprintf(w, "%s: %s\n", p.Name, strings.Join(parts, " "))
	}
	fmt.Fprintln(w)
	pic, err := viz.FromDiagram(d, kind)
	if err != nil {
		return err
	}
	return pic.Render(w, width)
}

// seedDiagram parses one of the chapter's figures, the very file under
// examples/seed/ that the scene tells the reader to run.
func seedDiagram(name string) (*diagram.Diagram, error) {
	b, err := examples.Seed(name)
	if err != nil {
		return nil, err
	}
	return diagram.Parse(b)
}

func sceneHappensBefore(w io.Writer) error {
	d, err := seedDiagram("happens-before-figure.txt")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Happens-before on the chapter's figure (examples/seed/happens-before-figure.txt):")
	pic, _ := viz.FromDiagram(d, "vector")
	if err := pic.Render(w, 80); err != nil {
		return err
	}
	for _, p := range [][2]string{{"a", "d"}, {"d", "c"}} {
		if err := HappensBefore(w, d, p[0], p[1]); err != nil {
			return err
		}
	}
	c, err := diagram.Parse([]byte("P1: a\nP2: b\n"))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "the concurrency figure (P1: a, P2: b, no message):")
	fmt.Fprint(w, "  ")
	if err := HappensBefore(w, c, "a", "b"); err != nil {
		return err
	}
	if o, _, _ := d.HappensBefore("a", "d"); o != clock.Before {
		return fmt.Errorf("a → d does not hold")
	}
	fmt.Fprintln(w, "try: ordo clock hb examples/seed/happens-before-figure.txt a c")
	return nil
}

// sceneLWWSkew runs the chapter's "타임스탬프 기반 순서화의 위험": node 1's
// clock is right, node 2's is 20 ms slow; node 1 writes X=1 at true time
// 100 ms (its clock: 100), node 2 writes X=2 at 110 ms (its clock: 90). The
// store orders by timestamp, so X=2, the later write, is lost.
func sceneLWWSkew(w io.Writer) error {
	proto := lww.Protocol()
	s, err := sim.New(sim.Config{Protocol: proto, Nodes: 3, Seed: 1, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Dist{Kind: sim.Constant, A: time.Millisecond}}},
		ClockOf: map[ordo.NodeID]sim.ClockModel{2: {Offset: -20 * time.Millisecond}}})
	if err != nil {
		return err
	}
	if err := s.RunFor(time.Second); err != nil {
		return err
	}
	tr := s.Trace()
	fmt.Fprintln(w, "Last-write-wins under clock skew (section 2, 문제 3): n2's clock is 20 ms slow.")
	lost := 0
	var writes []clock.Vector
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.Send:
			writes = append(writes, e.Vector)
			fmt.Fprintf(w, "  n%d writes X=%d at true time %v, its clock says %v\n", e.Node, int(e.Node), time.Duration(e.T), time.Duration(e.Local))
		case e.Kind == trace.Note && e.Name == lww.NoteLost:
			lost++
			v, _ := e.Attrs.Int("value")
			k, _ := e.Attrs.Int("kept")
			fmt.Fprintf(w, "  the store keeps X=%d (larger timestamp) and discards X=%d, the later write\n", k, v)
		}
	}
	fmt.Fprintf(w, "lost writes: %d\n", lost)
	if lost != 1 || len(writes) != 2 {
		return fmt.Errorf("expected 2 writes and 1 lost write, got %d and %d", len(writes), lost)
	}
	fmt.Fprintf(w, "the writes' vector stamps %v and %v are %v: no order exists to pick a winner by,\n", writes[0], writes[1], clock.Compare(writes[0], writes[1]))
	fmt.Fprintln(w, "so a store with vector clocks keeps both as siblings instead of dropping one")
	fmt.Fprintln(w, "(the DynamoDB example in section 3).")
	return nil
}

func sceneLamportFigure(w io.Writer) error {
	d, err := seedDiagram("lamport-figure.txt")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "The Lamport figure, recomputed by the four rules:")
	pic, _ := viz.FromDiagram(d, "lamport")
	if err := pic.Render(w, 80); err != nil {
		return err
	}
	fmt.Fprintln(w, "The chapter prints a3 = 5 from \"msg(C=4)\"; checking its stamps:")
	if Mismatches(w, d) != 1 {
		return fmt.Errorf("expected one wrong stamp in the Lamport figure")
	}
	fmt.Fprintln(w, "try: ordo clock check examples/seed/lamport-figure.txt")
	return nil
}

func sceneVectorFigure(w io.Writer) error {
	d, err := seedDiagram("vector-figure.txt")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "The vector figure, recomputed (entries A,B,C). The chapter's figure breaks")
	fmt.Fprintln(w, "its own receive rule: C's receipt of [2,2,0] must give [2,2,2], not [2,2,1].")
	pic, _ := viz.FromDiagram(d, "vector")
	if err := pic.Render(w, 80); err != nil {
		return err
	}
	var b strings.Builder
	n := Mismatches(&b, d)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "✗") || strings.Contains(line, "are wrong") {
			fmt.Fprintln(w, line)
		}
	}
	if n == 0 {
		return fmt.Errorf("the vector figure checked clean")
	}
	fmt.Fprintln(w, "details: ordo clock check examples/seed/vector-figure.txt")
	return nil
}

func sceneExercises(w io.Writer) error {
	d, err := seedDiagram("exercise-1.txt")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Exercise 1 (Lamport stamps):")
	if err := Stamps(w, d, "lamport", 80); err != nil {
		return err
	}
	want := map[string]uint64{"a": 1, "b": 2, "c": 5, "d": 2, "e": 3, "f": 4}
	for _, e := range d.Events {
		if want[e.Name] != e.Lamport {
			return fmt.Errorf("exercise 1: %s = %d, want %d", e.Name, e.Lamport, want[e.Name])
		}
	}
	fmt.Fprintln(w, "\nExercise 2 (ordo clock compare '[2,1,0]' '[1,2,0]' '[2,2,1]' '[3,1,0]'):")
	vs := []clock.Vector{{2, 1, 0}, {1, 2, 0}, {2, 2, 1}, {3, 1, 0}}
	sym := map[clock.Order]string{clock.Before: "→", clock.Concurrent: "∥", clock.After: "←", clock.Equal: "="}
	for i := range vs {
		for j := i + 1; j < len(vs); j++ {
			fmt.Fprintf(w, "  V%d %s V%d", i+1, sym[clock.Compare(vs[i], vs[j])], j+1)
		}
	}
	fmt.Fprintln(w)
	if clock.Compare(vs[0], vs[1]) != clock.Concurrent || clock.Compare(vs[0], vs[2]) != clock.Before {
		return fmt.Errorf("exercise 2 answers wrong")
	}
	return nil
}

func sceneDynamo(w io.Writer) error {
	var r1 clock.DVVSet[string]
	r1.Update(nil, "R1", `["item1"]`)
	ctx := r1.Context()
	r2 := r1.Clone()
	r1.Update(ctx, "R1", `["item1","B"]`)
	r2.Update(ctx, "R2", `["item1","C"]`)
	vv := func(c clock.Context) string { return fmt.Sprintf("[%d,%d]", c["R1"], c["R2"]) }
	fmt.Fprintln(w, "DynamoDB example (section 3) on dotted version vectors:")
	fmt.Fprintf(w, "  X=\"A\" [1,0]; replica 1 writes → %s, replica 2 writes → %s\n", vv(r1.Context()), vv(r2.Context()))
	fmt.Fprintf(w, "  %s vs %s: %v\n", vv(r1.Context()), vv(r2.Context()), r1.Compare(r2))
	r1.Sync(r2)
	fmt.Fprintf(w, "  after sync, siblings: %v\n", r1.Values())
	r1.Update(r1.Context(), "R1", `["item1","B","C"]`)
	fmt.Fprintf(w, "  the client merges the carts and writes with the context it read: %v\n", r1.Values())
	if len(r1.Values()) != 1 {
		return fmt.Errorf("merge did not resolve the siblings")
	}
	return nil
}
