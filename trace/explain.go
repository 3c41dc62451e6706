package trace

import (
	"fmt"
	"io"
	"strings"

	"ordo"
	"ordo/clock"
)

// The orders an Explanation reports, clock.Order's names.
const (
	OrderBefore     = "before"     // a → b
	OrderAfter      = "after"      // b → a
	OrderConcurrent = "concurrent" // a ∥ b
	OrderEqual      = "equal"      // a and b are the same event
)

// Explanation says why two process events of a trace are ordered the way
// they are, as data (for a page, JSON) and as text (WriteText, what `ordo
// trace why` prints).
//
// Happens-before is Lamport's relation (Lamport 1978, "Time, Clocks, and the
// Ordering of Events in a Distributed System"; the chapter's section 2): the
// smallest relation → with
//
//	rule 1: if a and b are events of one process and a comes before b, a → b;
//	rule 2: if a is the sending of a message and b its receipt, a → b;
//
// closed under transitivity (a → b and b → c give a → c). a ∥ b, concurrent,
// when neither a → b nor b → a.
//
// So a → b is proved by a chain of rule-1 and rule-2 steps from a to b
// (Chain), and, when the trace carries vector stamps, by V(a) ≤ V(b) entry by
// entry. a ∥ b is proved by the absence of any chain and, with vector stamps,
// by one entry where V(a) is ahead of V(b) and one where V(b) is ahead of
// V(a).
//
// Its JSON shape, for a → b:
//
//	{"a":40,"b":3,"order":"after","from":3,"to":40,
//	 "summary":"e3 → e40: e3 happened before e40",
//	 "textA":"e40 n4 recv ...","textB":"e3 n4 start ...",
//	 "chain":[{"event":3,"node":4,"rule":0,"text":"e3 n4 start L=1 V=[0,0,0,1,0]"},
//	          {"event":16,"node":4,"rule":1,"text":"...","step":"rule 1: the next event on n4"},
//	          {"event":13,"node":5,"rule":2,"msg":4,"from":1,"text":"...","step":"rule 2: ..."}],
//	 "vectors":true,"vectorA":[...],"vectorB":[...],
//	 "proof":["V(e3) = [0,0,0,1,0] ≤ V(e40) = [16,0,0,5,4], entry by entry."]}
//
// and for a ∥ b, no chain but "ahead": the two entries that prove it.
type Explanation struct {
	A     int    `json:"a"`
	B     int    `json:"b"`
	Order string `json:"order"` // OrderBefore, OrderAfter, OrderConcurrent or OrderEqual
	// From and To are the earlier and the later event when one happened
	// before the other (before: A, B; after: B, A); A and B otherwise.
	From int `json:"from"`
	To   int `json:"to"`
	// Summary is the answer in one line: "e3 → e40: e3 happened before e40".
	Summary string `json:"summary"`
	// TextA and TextB are A and B in words (Event.Describe).
	TextA string `json:"textA"`
	TextB string `json:"textB"`
	// Chain is the path From, ..., To of happens-before steps (before and
	// after only): its first step has rule 0, each next one rule 1 or 2.
	Chain []ChainStep `json:"chain,omitempty"`
	// Vectors reports whether both events carry vector stamps. Without them
	// the relation was read off the happens-before graph and the proof is
	// the chain (or its absence) alone.
	Vectors bool         `json:"vectors"`
	VectorA clock.Vector `json:"vectorA,omitempty"`
	VectorB clock.Vector `json:"vectorB,omitempty"`
	// Ahead are, for a ∥ b with vector stamps, an entry where V(A) exceeds
	// V(B) and one where V(B) exceeds V(A), in that order.
	Ahead []Ahead `json:"ahead,omitempty"`
	// Proof is the argument in sentences: for a → b the vector comparison
	// (none without vector stamps); for a ∥ b the two entries that are
	// ahead, then the absence of a chain.
	Proof []string `json:"proof,omitempty"`
}

// ChainStep is one event of a happens-before chain and the rule that leads
// to it from the step before.
type ChainStep struct {
	Event int         `json:"event"`
	Node  ordo.NodeID `json:"node"`
	// Rule is 0 for the first event of the chain, 1 for the next event on
	// the same node, 2 for the receipt of a message the step before sent.
	Rule int `json:"rule"`
	// Msg and From are, for a rule-2 step, the message and its sender.
	Msg  uint64      `json:"msg,omitempty"`
	From ordo.NodeID `json:"from,omitempty"`
	// Text is the event in words (Event.Describe); Step the rule in words
	// ("rule 1: the next event on n4"), empty for the first event.
	Text string `json:"text"`
	Step string `json:"step,omitempty"`
}

// Ahead is one vector entry where event Event knows more than event Other:
// V(Event)[Node] = Value > V(Other)[Node] = OtherValue, so Event knows an
// event of Node that Other does not.
type Ahead struct {
	Event      int         `json:"event"`
	Other      int         `json:"other"`
	Node       ordo.NodeID `json:"node"`
	Value      uint64      `json:"value"`
	OtherValue uint64      `json:"otherValue"`
}

// Explain answers whether a → b, b → a or a ∥ b (or a = b) and proves it.
// Both must be process events (Kind.Stamped); a missing event, a drop or a
// fault is an error, and so is a trace whose stamps contradict its links.
func (t *Trace) Explain(a, b int) (*Explanation, error) {
	o, err := t.Relation(a, b)
	if err != nil {
		return nil, err
	}
	ea, eb := &t.Events[a], &t.Events[b]
	x := &Explanation{
		A: a, B: b, From: a, To: b,
		TextA: ea.Describe(), TextB: eb.Describe(),
		// A trace may carry no vector stamps (Relation then walks the
		// happens-before graph): the proof is then the chain alone.
		Vectors: len(ea.Vector) > 0 && len(eb.Vector) > 0,
	}
	if x.Vectors {
		x.VectorA, x.VectorB = ea.Vector, eb.Vector
	}
	switch o {
	case clock.Equal:
		x.Order = OrderEqual
		x.Summary = fmt.Sprintf("e%d and e%d are the same event", a, b)
	case clock.Before, clock.After:
		x.Order = OrderBefore
		if o == clock.After {
			x.Order = OrderAfter
			x.From, x.To = b, a
		}
		from, to := x.From, x.To
		x.Summary = fmt.Sprintf("e%d → e%d: e%d happened before e%d", from, to, from, to)
		chain, err := t.Chain(from, to)
		if err != nil {
			return nil, err
		}
		for i, id := range chain {
			e := &t.Events[id]
			s := ChainStep{Event: id, Node: e.Node, Text: e.Describe()}
			if i > 0 {
				prev := &t.Events[chain[i-1]]
				s.Rule, s.Step = 1, "rule 1: the next event on "+e.Node.String()
				if prev.Node != e.Node {
					s.Rule, s.Msg, s.From = 2, e.Msg, prev.Node
					s.Step = fmt.Sprintf("rule 2: the receipt of message #%d, sent by %v", e.Msg, prev.Node)
				}
			}
			x.Chain = append(x.Chain, s)
		}
		if x.Vectors {
			x.Proof = []string{fmt.Sprintf("V(e%d) = %v ≤ V(e%d) = %v, entry by entry.", from, t.Events[from].Vector, to, t.Events[to].Vector)}
		}
	case clock.Concurrent:
		x.Order = OrderConcurrent
		x.Summary = fmt.Sprintf("e%d ∥ e%d: concurrent — neither happened before the other", a, b)
		if x.Vectors {
			for _, p := range [][2]int{{a, b}, {b, a}} {
				v, w := t.Events[p[0]].Vector, t.Events[p[1]].Vector
				i := ahead(v, w)
				if i < 0 {
					return nil, fmt.Errorf("vector stamps say e%d ∥ e%d but V(e%d) = %v is ahead nowhere: the trace is corrupt", a, b, p[0], v)
				}
				h := Ahead{Event: p[0], Other: p[1], Node: ordo.NodeID(i + 1), Value: v.Get(i), OtherValue: w.Get(i)}
				x.Ahead = append(x.Ahead, h)
				x.Proof = append(x.Proof, fmt.Sprintf("V(e%d) ≰ V(e%d): entry %v is %d > %d (e%d knows an event of %v that e%d does not)",
					h.Event, h.Other, h.Node, h.Value, h.OtherValue, h.Event, h.Node, h.Other))
			}
		}
		x.Proof = append(x.Proof, "No chain of same-node steps and messages leads from either event to the other.")
	default:
		return nil, fmt.Errorf("events e%d and e%d: unknown order %v", a, b, o)
	}
	return x, nil
}

// ahead returns the first index where x exceeds y, or -1.
func ahead(x, y clock.Vector) int {
	for i := range x {
		if x[i] > y.Get(i) {
			return i
		}
	}
	return -1
}

// WriteText writes the explanation as `ordo trace why` prints it:
//
//	e3 → e40: e3 happened before e40
//
//	     e3 n4 start L=1 V=[0,0,0,1,0]
//	  →  e16 n4 recv value from n1 L=8 V=[7,0,0,2,0]
//	       (rule 1: the next event on n4)
//
//	and V(e3) = [0,0,0,1,0] ≤ V(e40) = [16,0,0,5,4], entry by entry.
func (x *Explanation) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, x.Text())
	return err
}

// MaxRule1Run is the longest run of rule-1 steps Text prints whole; a
// longer run prints its first and last step and how many lie between
// (Chain keeps them all).
const MaxRule1Run = 4

// Text returns what WriteText writes.
func (x *Explanation) Text() string {
	var b strings.Builder
	switch x.Order {
	case OrderEqual:
		fmt.Fprintf(&b, "%s\n  %s\n", x.Summary, x.TextA)
	case OrderBefore, OrderAfter:
		fmt.Fprintf(&b, "%s\n\n", x.Summary)
		for i := 0; i < len(x.Chain); i++ {
			s := x.Chain[i]
			if s.Rule == 0 {
				fmt.Fprintf(&b, "     %s\n", s.Text)
				continue
			}
			// A long run of rule-1 steps (one node's events one after the
			// other) is its first and last step and a count: a chain
			// across a long run would otherwise be thousands of lines.
			if s.Rule == 1 {
				j := i
				for j+1 < len(x.Chain) && x.Chain[j+1].Rule == 1 {
					j++
				}
				if j-i+1 > MaxRule1Run {
					fmt.Fprintf(&b, "  →  %s\n       (%s)\n", s.Text, s.Step)
					fmt.Fprintf(&b, "  ⋮  %d more events on %v, each the next on it (rule 1)\n", j-i-1, s.Node)
					e := x.Chain[j]
					fmt.Fprintf(&b, "  →  %s\n       (%s)\n", e.Text, e.Step)
					i = j
					continue
				}
			}
			fmt.Fprintf(&b, "  →  %s\n       (%s)\n", s.Text, s.Step)
		}
		for i, p := range x.Proof {
			if i == 0 {
				fmt.Fprintf(&b, "\nand %s\n", p)
				continue
			}
			fmt.Fprintf(&b, "%s\n", p)
		}
	case OrderConcurrent:
		fmt.Fprintf(&b, "%s\n\n  %s\n  %s\n\n", x.Summary, x.TextA, x.TextB)
		for _, p := range x.Proof {
			fmt.Fprintf(&b, "%s\n", p)
		}
	}
	return b.String()
}
