package diagram

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ordo/clock"
)

// Pos is a 1-based line and column (columns count characters, not bytes).
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Error is a malformed diagram, with where.
type Error struct {
	Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Claim is a timestamp written in the file next to an event.
type Claim struct {
	Text    string       // as written
	Lamport *uint64      // b=2
	Vector  clock.Vector // b=[2,0]
	Pos     Pos
}

// Event is one event of a diagram, with its computed stamps.
type Event struct {
	Name    string
	Proc    int // index into Diagram.Processes
	Index   int // position on its process, from 0
	Pos     Pos
	Claim   *Claim
	Sends   []int // indices into Diagram.Messages
	Recvs   []int
	Lamport uint64
	Vector  clock.Vector
}

// Kind is "local", "send", "receive" or "receive+send".
func (e *Event) Kind() string {
	switch {
	case len(e.Recvs) > 0 && len(e.Sends) > 0:
		return "receive+send"
	case len(e.Recvs) > 0:
		return "receive"
	case len(e.Sends) > 0:
		return "send"
	}
	return "local"
}

// Process is one line of events.
type Process struct {
	Name   string
	Events []int // indices into Diagram.Events, in order
	Pos    Pos
}

// Message is a send → receive pair.
type Message struct {
	From, To int // event indices
	Pos      Pos // of the arrow
}

// Diagram is a parsed, validated diagram with every event stamped.
type Diagram struct {
	Processes []Process
	Events    []Event
	Messages  []Message
	Order     []int // a topological order of the events (happens-before)
	byName    map[string]int
}

// Limits on input size, so a hostile file cannot exhaust memory.
const (
	MaxEvents    = 10000
	MaxProcesses = 1000
	MaxMessages  = 20000
	MaxSize      = 1 << 20
)

// Lookup returns the index of the event called name.
func (d *Diagram) Lookup(name string) (int, bool) {
	i, ok := d.byName[name]
	return i, ok
}

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' || r == '\''
}

// field is a whitespace-separated word and its column.
type field struct {
	s   string
	col int
}

func fields(s string, col0 int) []field {
	var out []field
	col := col0
	start := -1
	startCol := 0
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, field{s[start:i], startCol})
				start = -1
			}
		} else if start < 0 {
			start, startCol = i, col
		}
		col++
	}
	if start >= 0 {
		out = append(out, field{s[start:], startCol})
	}
	return out
}

func colOf(line string, byteOff int) int { return utf8.RuneCountInString(line[:byteOff]) + 1 }

func checkName(f field, line int, what string) error {
	if f.s == "" {
		return &Error{Pos{line, f.col}, "missing " + what + " name"}
	}
	for i, r := range f.s {
		if !isNameRune(r) {
			return &Error{Pos{line, f.col + utf8.RuneCountInString(f.s[:i])}, fmt.Sprintf("%s name %q: character %q not allowed (use letters, digits, _ . -)", what, f.s, r)}
		}
	}
	return nil
}

// Parse reads a diagram. Errors are *Error with the line and column.
func Parse(src []byte) (*Diagram, error) {
	// A UTF-8 byte-order mark (some editors write one) is not content.
	src = []byte(strings.TrimPrefix(string(src), "\ufeff"))
	if len(src) > MaxSize {
		return nil, &Error{Pos{1, 1}, fmt.Sprintf("diagram is %d bytes, limit %d", len(src), MaxSize)}
	}
	if !utf8.Valid(src) {
		return nil, &Error{Pos{1, 1}, "diagram is not valid UTF-8"}
	}
	d := &Diagram{byName: map[string]int{}}
	procNames := map[string]Pos{}
	type arrow struct {
		from, to field
		pos      Pos // of the arrow; pos.Line is the statement's line
	}
	var arrows []arrow
	for ln, raw := range strings.Split(string(src), "\n") {
		line := ln + 1
		text := raw
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimRight(text, " \t\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if i, w := arrowIndex(text); i >= 0 {
			lhs := fields(text[:i], 1)
			rhs := fields(text[i+w:], colOf(text, i+w))
			at := Pos{line, colOf(text, i)}
			if len(lhs) == 0 {
				return nil, &Error{at, "a receive without a send: write the send event before the arrow (a -> d)"}
			}
			if len(rhs) == 0 {
				return nil, &Error{at, "a send without a receive: write the receive event after the arrow (a -> d)"}
			}
			if len(lhs) > 1 {
				return nil, &Error{Pos{line, lhs[1].col}, "one event on each side of a message arrow"}
			}
			if len(rhs) > 1 {
				return nil, &Error{Pos{line, rhs[1].col}, "one event on each side of a message arrow"}
			}
			if _, w2 := arrowIndex(text[i+w:]); w2 > 0 {
				return nil, &Error{at, "one message per line"}
			}
			if len(arrows) == MaxMessages {
				return nil, &Error{at, fmt.Sprintf("more than %d messages", MaxMessages)}
			}
			arrows = append(arrows, arrow{lhs[0], rhs[0], at})
			continue
		}
		colon := strings.IndexByte(text, ':')
		if colon < 0 {
			f := fields(text, 1)
			return nil, &Error{Pos{line, f[0].col}, "expected a process (P1: a b c) or a message (a -> d)"}
		}
		nameF := fields(text[:colon], 1)
		if len(nameF) != 1 {
			c := 1
			if len(nameF) > 1 {
				c = nameF[1].col
			}
			return nil, &Error{Pos{line, c}, "a process name is one word before ':'"}
		}
		if err := checkName(nameF[0], line, "process"); err != nil {
			return nil, err
		}
		pname := nameF[0].s
		if prev, dup := procNames[pname]; dup {
			return nil, &Error{Pos{line, nameF[0].col}, fmt.Sprintf("process %s declared twice (first at %v); list all its events on one line", pname, prev)}
		}
		if len(d.Processes) == MaxProcesses {
			return nil, &Error{Pos{line, nameF[0].col}, fmt.Sprintf("more than %d processes", MaxProcesses)}
		}
		procNames[pname] = Pos{line, nameF[0].col}
		p := Process{Name: pname, Pos: Pos{line, nameF[0].col}}
		pi := len(d.Processes)
		evs := fields(text[colon+1:], colOf(text, colon+1))
		for _, f := range evs {
			name, stamp, hasStamp := strings.Cut(f.s, "=")
			nf := field{name, f.col}
			if err := checkName(nf, line, "event"); err != nil {
				return nil, err
			}
			if j, dup := d.byName[name]; dup {
				return nil, &Error{Pos{line, f.col}, fmt.Sprintf("event %s declared twice (first at %v)", name, d.Events[j].Pos)}
			}
			if len(d.Events) == MaxEvents {
				return nil, &Error{Pos{line, f.col}, fmt.Sprintf("more than %d events", MaxEvents)}
			}
			e := Event{Name: name, Proc: pi, Index: len(p.Events), Pos: Pos{line, f.col}}
			if hasStamp {
				c, err := parseClaim(stamp, Pos{line, f.col + utf8.RuneCountInString(name) + 1})
				if err != nil {
					return nil, err
				}
				e.Claim = c
			}
			d.byName[name] = len(d.Events)
			p.Events = append(p.Events, len(d.Events))
			d.Events = append(d.Events, e)
		}
		d.Processes = append(d.Processes, p)
	}
	if len(d.Processes) == 0 {
		return nil, &Error{Pos{1, 1}, "no processes: declare one as  P1: a b c"}
	}
	seen := map[[2]int]Pos{}
	for _, a := range arrows {
		from, ok := d.byName[a.from.s]
		if !ok {
			return nil, &Error{Pos{a.pos.Line, a.from.col}, fmt.Sprintf("unknown event %q in a message: declare it on a process line", a.from.s)}
		}
		to, ok := d.byName[a.to.s]
		if !ok {
			return nil, &Error{Pos{a.pos.Line, a.to.col}, fmt.Sprintf("unknown event %q in a message: declare it on a process line", a.to.s)}
		}
		if d.Events[from].Proc == d.Events[to].Proc {
			return nil, &Error{a.pos, fmt.Sprintf("message %s -> %s stays on process %s: a message goes between two processes", a.from.s, a.to.s, d.Processes[d.Events[from].Proc].Name)}
		}
		if prev, dup := seen[[2]int{from, to}]; dup {
			return nil, &Error{a.pos, fmt.Sprintf("message %s -> %s written twice (first at %v)", a.from.s, a.to.s, prev)}
		}
		seen[[2]int{from, to}] = a.pos
		mi := len(d.Messages)
		d.Messages = append(d.Messages, Message{From: from, To: to, Pos: a.pos})
		d.Events[from].Sends = append(d.Events[from].Sends, mi)
		d.Events[to].Recvs = append(d.Events[to].Recvs, mi)
	}
	n := len(d.Processes)
	for i := range d.Events {
		if c := d.Events[i].Claim; c != nil && c.Vector != nil && len(c.Vector) != n {
			return nil, &Error{c.Pos, fmt.Sprintf("claimed vector %s has %d entries, the diagram has %d processes", c.Text, len(c.Vector), n)}
		}
	}
	if err := d.sort(); err != nil {
		return nil, err
	}
	d.stamp()
	return d, nil
}

// arrowIndex finds "->" or "→" and returns its byte index and width.
func arrowIndex(s string) (int, int) {
	i, j := strings.Index(s, "->"), strings.Index(s, "→")
	switch {
	case i >= 0 && (j < 0 || i < j):
		return i, 2
	case j >= 0:
		return j, len("→")
	}
	return -1, 0
}

func parseClaim(s string, at Pos) (*Claim, error) {
	c := &Claim{Text: s, Pos: at}
	if s == "" {
		return nil, &Error{at, "empty stamp after '=': write b=2 or b=[2,0]"}
	}
	if strings.HasPrefix(s, "[") {
		v, err := clock.ParseVector(s)
		if err != nil {
			if se, ok := err.(*clock.SyntaxError); ok {
				off := utf8.RuneCountInString(s[:min(len(s), se.Offset)])
				return nil, &Error{Pos{at.Line, at.Col + off}, "malformed vector stamp " + strconv.Quote(s) + ": " + se.Msg}
			}
			return nil, &Error{at, err.Error()}
		}
		c.Vector = v
		return c, nil
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, &Error{at, "malformed stamp " + strconv.Quote(s) + ": a Lamport stamp is a non-negative integer (b=2), a vector is [2,0]"}
	}
	c.Lamport = &x
	return c, nil
}

// preds returns the direct happens-before predecessors of event i: the
// previous event on its process and the sends of the messages it receives.
func (d *Diagram) preds(i int) []int {
	e := &d.Events[i]
	var ps []int
	if e.Index > 0 {
		ps = append(ps, d.Processes[e.Proc].Events[e.Index-1])
	}
	for _, m := range e.Recvs {
		ps = append(ps, d.Messages[m].From)
	}
	return ps
}

func (d *Diagram) succs(i int) []int {
	e := &d.Events[i]
	var ss []int
	if p := d.Processes[e.Proc].Events; e.Index+1 < len(p) {
		ss = append(ss, p[e.Index+1])
	}
	for _, m := range e.Sends {
		ss = append(ss, d.Messages[m].To)
	}
	return ss
}

// sort computes a topological order, or reports a cycle with the position
// of a message on it.
func (d *Diagram) sort() error {
	indeg := make([]int, len(d.Events))
	for i := range d.Events {
		indeg[i] = len(d.preds(i))
	}
	var queue []int
	for i, n := range indeg {
		if n == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		d.Order = append(d.Order, i)
		for _, s := range d.succs(i) {
			indeg[s]--
			if indeg[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	if len(d.Order) == len(d.Events) {
		return nil
	}
	// Walk predecessors among the unsorted events until one repeats.
	start := -1
	for i, n := range indeg {
		if n > 0 {
			start = i
			break
		}
	}
	visited := map[int]int{}
	var path []int
	cur := start
	for {
		if k, ok := visited[cur]; ok {
			path = path[k:]
			break
		}
		visited[cur] = len(path)
		path = append(path, cur)
		for _, p := range d.preds(cur) {
			if indeg[p] > 0 {
				cur = p
				break
			}
		}
	}
	// path runs backwards along happens-before; print it forwards.
	names := make([]string, 0, len(path)+1)
	for k := len(path) - 1; k >= 0; k-- {
		names = append(names, d.Events[path[k]].Name)
	}
	names = append(names, names[0])
	pos := d.Events[path[0]].Pos
	for k := len(path) - 1; k >= 0; k-- {
		next := path[(k-1+len(path))%len(path)]
		for _, m := range d.Events[path[k]].Sends {
			if d.Messages[m].To == next {
				pos = d.Messages[m].Pos
			}
		}
	}
	return &Error{pos, "cycle in happens-before: " + strings.Join(names, " → ") + " (an event cannot happen before itself)"}
}

// stamp computes every event's Lamport and vector stamp by the chapter's
// rules, in topological order.
func (d *Diagram) stamp() {
	n := len(d.Processes)
	for _, i := range d.Order {
		e := &d.Events[i]
		var c uint64
		v := make(clock.Vector, n)
		if e.Index > 0 {
			p := &d.Events[d.Processes[e.Proc].Events[e.Index-1]]
			c = p.Lamport
			copy(v, p.Vector)
		}
		for _, m := range e.Recvs {
			s := &d.Events[d.Messages[m].From]
			c = max(c, s.Lamport)
			v.Merge(s.Vector)
		}
		e.Lamport = c + 1
		v[e.Proc]++
		e.Vector = v
	}
}
