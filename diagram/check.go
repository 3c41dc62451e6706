package diagram

import (
	"fmt"
	"strconv"
	"strings"

	"ordo/clock"
	"ordo/trace"
)

// Mismatch is a claimed stamp that the chapter's rules do not give.
type Mismatch struct {
	Event   string
	Pos     Pos
	Claimed string
	Correct string // computed from scratch by the rules
	Rule    string // the rule the claim breaks
	Explain string // the rule applied to the event's inputs
	// Inherited is true when the claim does follow from the CLAIMED stamps
	// of its inputs: the error was made earlier and carried forward.
	Inherited bool
	// FromClaims is the rule applied to the claimed stamps of the inputs,
	// when that differs from Explain: it shows the step the author got
	// wrong (e.g. a merge without the V[i]++).
	FromClaims string
}

// Rules, as the chapter states them (section 3).
const (
	RuleLamportTick    = "Lamport rule 2 (event: C = C + 1)"
	RuleLamportReceive = "Lamport rule 4 (receive: C = max(C, msg.C) + 1)"
	RuleVectorTick     = "vector rule (event: V[i] = V[i] + 1)"
	RuleVectorReceive  = "vector rule (receive: V[j] = max(V[j], msg.V[j]) for all j, V[i]++)"
)

// Check compares every claimed stamp with the rules' value. The result is
// in file order; empty when every claim is right.
func (d *Diagram) Check() []Mismatch {
	var out []Mismatch
	for i := range d.Events {
		e := &d.Events[i]
		c := e.Claim
		if c == nil {
			continue
		}
		if c.Lamport != nil && *c.Lamport != e.Lamport {
			m := Mismatch{Event: e.Name, Pos: c.Pos, Claimed: c.Text, Correct: strconv.FormatUint(e.Lamport, 10)}
			m.Rule, m.Explain, _ = d.explainLamport(i, false)
			_, fc, fromClaims := d.explainLamport(i, true)
			m.Inherited = fromClaims == *c.Lamport
			if fc != m.Explain {
				m.FromClaims = fc
			}
			out = append(out, m)
		}
		if c.Vector != nil && clock.Compare(c.Vector, e.Vector) != clock.Equal {
			m := Mismatch{Event: e.Name, Pos: c.Pos, Claimed: c.Text, Correct: e.Vector.String()}
			m.Rule, m.Explain, _ = d.explainVector(i, false)
			_, fc, fromClaims := d.explainVector(i, true)
			m.Inherited = clock.Compare(fromClaims, c.Vector) == clock.Equal
			if fc != m.Explain {
				m.FromClaims = fc
			}
			out = append(out, m)
		}
	}
	return out
}

// lamportOf returns the stamp of event j: claimed (when fromClaims and a
// Lamport claim exists) or computed.
func (d *Diagram) lamportOf(j int, fromClaims bool) uint64 {
	if c := d.Events[j].Claim; fromClaims && c != nil && c.Lamport != nil {
		return *c.Lamport
	}
	return d.Events[j].Lamport
}

func (d *Diagram) vectorOf(j int, fromClaims bool) clock.Vector {
	if c := d.Events[j].Claim; fromClaims && c != nil && c.Vector != nil {
		return c.Vector
	}
	return d.Events[j].Vector
}

func (d *Diagram) prev(i int) (int, bool) {
	e := &d.Events[i]
	if e.Index == 0 {
		return -1, false
	}
	return d.Processes[e.Proc].Events[e.Index-1], true
}

// explainLamport applies the Lamport rule to the stamps of i's inputs
// (claimed ones when fromClaims): the rule, the computation in words, and
// its result.
func (d *Diagram) explainLamport(i int, fromClaims bool) (rule, explain string, stamp uint64) {
	e := &d.Events[i]
	var cur uint64
	curText := "C starts at 0"
	if p, ok := d.prev(i); ok {
		cur = d.lamportOf(p, fromClaims)
		curText = fmt.Sprintf("C = %d after %s", cur, d.Events[p].Name)
	}
	if len(e.Recvs) == 0 {
		return RuleLamportTick, fmt.Sprintf("%s, so %s = %d + 1 = %d", curText, e.Name, cur, cur+1), cur + 1
	}
	args := []string{strconv.FormatUint(cur, 10)}
	var msgs []string
	c := cur
	for _, m := range e.Recvs {
		s := d.Messages[m].From
		x := d.lamportOf(s, fromClaims)
		args = append(args, strconv.FormatUint(x, 10))
		msgs = append(msgs, fmt.Sprintf("msg.C = %d from %s", x, d.Events[s].Name))
		c = max(c, x)
	}
	return RuleLamportReceive, fmt.Sprintf("%s, %s, so %s = max(%s) + 1 = %d", curText, strings.Join(msgs, ", "), e.Name, strings.Join(args, ", "), c+1), c + 1
}

// explainVector is explainLamport for the vector rule.
func (d *Diagram) explainVector(i int, fromClaims bool) (rule, explain string, stamp clock.Vector) {
	e := &d.Events[i]
	name := d.Processes[e.Proc].Name
	v := make(clock.Vector, len(d.Processes))
	curText := "V starts at " + v.String()
	if p, ok := d.prev(i); ok {
		pv := d.vectorOf(p, fromClaims)
		v.Merge(pv)
		curText = fmt.Sprintf("V = %v after %s", pv, d.Events[p].Name)
	}
	if len(e.Recvs) == 0 {
		v[e.Proc]++
		return RuleVectorTick, fmt.Sprintf("%s, so %s = %v (V[%s] + 1)", curText, e.Name, v, name), v
	}
	var msgs []string
	for _, m := range e.Recvs {
		s := d.Messages[m].From
		sv := d.vectorOf(s, fromClaims)
		msgs = append(msgs, fmt.Sprintf("msg.V = %v from %s", sv, d.Events[s].Name))
		v.Merge(sv)
	}
	merged := v.String()
	v[e.Proc]++
	return RuleVectorReceive, fmt.Sprintf("%s, %s, entry-wise max %s, then V[%s] + 1, so %s = %v", curText, strings.Join(msgs, ", "), merged, name, e.Name, v), v
}

// HappensBefore answers the chapter's question for events x and y: Before
// (x → y), After (y → x), Equal (the same event) or Concurrent (x ∥ y).
// For Before and After it returns the chain of events that proves it, from
// the earlier to the later, each step program order or a message.
func (d *Diagram) HappensBefore(x, y string) (clock.Order, []string, error) {
	a, ok := d.byName[x]
	if !ok {
		return 0, nil, fmt.Errorf("no event %q in the diagram", x)
	}
	b, ok := d.byName[y]
	if !ok {
		return 0, nil, fmt.Errorf("no event %q in the diagram", y)
	}
	o := clock.Compare(d.Events[a].Vector, d.Events[b].Vector)
	switch o {
	case clock.Before:
		return o, d.chain(a, b), nil
	case clock.After:
		return o, d.chain(b, a), nil
	}
	return o, nil, nil
}

// chain finds a shortest path a → ... → b along happens-before edges.
func (d *Diagram) chain(a, b int) []string {
	path := trace.ShortestPath(a, b, d.succs, nil)
	if path == nil {
		panic("diagram: vector stamps say happens-before but no chain exists")
	}
	names := make([]string, len(path))
	for i, x := range path {
		names[i] = d.Events[x].Name
	}
	return names
}

// Step describes one edge of a chain: "a → b (message)" or "(same process)".
func (d *Diagram) Step(x, y string) string {
	a, b := d.byName[x], d.byName[y]
	for _, m := range d.Events[a].Sends {
		if d.Messages[m].To == b {
			return "message"
		}
	}
	return "same process " + d.Processes[d.Events[a].Proc].Name
}
