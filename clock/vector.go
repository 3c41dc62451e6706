package clock

import (
	"strconv"
	"strings"
)

// Order is the relation between two timestamps.
type Order int8

const (
	Equal      Order = iota // the same event (or identical knowledge)
	Before                  // a happened before b (a → b)
	After                   // b happened before a (b → a)
	Concurrent              // neither: a ∥ b
)

func (o Order) String() string {
	switch o {
	case Equal:
		return "equal"
	case Before:
		return "before"
	case After:
		return "after"
	case Concurrent:
		return "concurrent"
	}
	return "Order(" + strconv.Itoa(int(o)) + ")"
}

// Vector is a dense vector clock for a fixed set of processes: entry i counts
// the events of process i+1 that this timestamp knows of. Entries beyond a
// vector's length count as zero, so vectors of different lengths compare.
type Vector []uint64

// Compare returns exactly one of Equal, Before, After, Concurrent: a is
// Before b when every entry of a is ≤ the same entry of b and one is
// smaller (the chapter's V1 < V2). It allocates nothing.
func Compare(a, b Vector) Order {
	if len(a) != len(b) {
		return compareRagged(a, b)
	}
	b = b[:len(a)]
	// Flags set by conditional moves, not branches (random vectors make a
	// branchy comparison mispredict), four entries a step so that the
	// common small clusters finish in one iteration with independent
	// comparisons the CPU can overlap.
	var lt, gt uint
	i := 0
	for ; i+4 <= len(a); i += 4 {
		a4, b4 := a[i:i+4:i+4], b[i:i+4:i+4]
		var l0, l1, l2, l3, g0, g1, g2, g3 uint
		if a4[0] < b4[0] {
			l0 = 1
		}
		if a4[1] < b4[1] {
			l1 = 1
		}
		if a4[2] < b4[2] {
			l2 = 1
		}
		if a4[3] < b4[3] {
			l3 = 1
		}
		if a4[0] > b4[0] {
			g0 = 1
		}
		if a4[1] > b4[1] {
			g1 = 1
		}
		if a4[2] > b4[2] {
			g2 = 1
		}
		if a4[3] > b4[3] {
			g3 = 1
		}
		lt |= l0 | l1 | l2 | l3
		gt |= g0 | g1 | g2 | g3
	}
	for ; i < len(a); i++ {
		if a[i] < b[i] {
			lt = 1
		}
		if a[i] > b[i] {
			gt = 1
		}
	}
	return orders[(lt|gt<<1)&3]
}

// compareRagged compares vectors of different lengths: entries beyond the
// shorter one count as zero.
func compareRagged(a, b Vector) Order {
	n := min(len(a), len(b))
	o := Compare(a[:n], b[:n])
	var lt, gt uint8
	if o == Before || o == Concurrent {
		lt = 1
	}
	if o == After || o == Concurrent {
		gt = 1
	}
	for _, x := range a[n:] {
		if x != 0 {
			gt = 1
			break
		}
	}
	for _, y := range b[n:] {
		if y != 0 {
			lt = 1
			break
		}
	}
	return orders[lt|gt<<1]
}

// orders maps (less, greater) flags to the relation.
var orders = [4]Order{Equal, Before, After, Concurrent}

func order(less, greater bool) Order {
	switch {
	case less && greater:
		return Concurrent
	case less:
		return Before
	case greater:
		return After
	}
	return Equal
}

// Get returns entry i (0-based), zero when v is shorter. It copies nothing.
func (v Vector) Get(i int) uint64 {
	if i < 0 || i >= len(v) {
		return 0
	}
	return v[i]
}

// Tick records an event of process i (0-based): V[i] = V[i] + 1.
func (v Vector) Tick(i int) { v[i]++ }

// Receive applies the chapter's receive rule for process i (0-based):
// V[j] = max(V[j], msg.V[j]) for all j, then V[i]++.
func (v Vector) Receive(msg Vector, i int) {
	v.Merge(msg)
	v[i]++
}

// Clone returns a copy of v.
func (v Vector) Clone() Vector {
	if v == nil {
		return nil
	}
	return append(Vector(make([]uint64, 0, len(v))), v...)
}

// Grow returns v with room for n entries (new entries zero), reusing v's
// storage when it suffices; for membership that grows.
func (v Vector) Grow(n int) Vector {
	for len(v) < n {
		v = append(v, 0)
	}
	return v
}

// Merge sets v to the entry-wise maximum of v and o. v must be at least as
// long as o.
func (v Vector) Merge(o Vector) {
	if len(o) > len(v) {
		panic("clock: Merge into a shorter vector")
	}
	for i, x := range o {
		if x > v[i] {
			v[i] = x
		}
	}
}

// String formats v as the chapter does: [2,1,0].
func (v Vector) String() string { return string(v.AppendText(make([]byte, 0, 2+3*len(v)))) }

// AppendText appends the chapter's form [2,1,0] of v to b.
func (v Vector) AppendText(b []byte) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, x, 10)
	}
	return append(b, ']')
}

// MaxEntries bounds the vectors ParseVector accepts.
const MaxEntries = 1 << 16

// ParseVector parses the chapter's notation: "[2,1,0]", with optional
// spaces ("[2, 1, 0]"). "[]" is the empty vector. Errors give the byte
// offset of the problem.
func ParseVector(s string) (Vector, error) {
	p := strings.TrimSpace(s)
	lead := len(s) - len(strings.TrimLeft(s, " \t"))
	if len(p) < 2 || p[0] != '[' || p[len(p)-1] != ']' {
		return nil, &SyntaxError{Input: s, Offset: lead, Msg: "a vector is written [n,n,...]"}
	}
	body := p[1 : len(p)-1]
	v := Vector{}
	if strings.TrimSpace(body) == "" {
		return v, nil
	}
	off := lead + 1
	for _, f := range strings.Split(body, ",") {
		t := strings.TrimSpace(f)
		at := off + strings.Index(f, t)
		if t == "" {
			return nil, &SyntaxError{Input: s, Offset: at, Msg: "empty entry"}
		}
		x, err := strconv.ParseUint(t, 10, 64)
		if err != nil {
			return nil, &SyntaxError{Input: s, Offset: at, Msg: "entry " + strconv.Quote(t) + " is not a non-negative integer"}
		}
		if len(v) == MaxEntries {
			return nil, &SyntaxError{Input: s, Offset: at, Msg: "more than " + strconv.Itoa(MaxEntries) + " entries"}
		}
		v = append(v, x)
		off += len(f) + 1
	}
	return v, nil
}

// SyntaxError is a malformed clock in text form; Offset is the 0-based byte
// offset in Input where the problem is.
type SyntaxError struct {
	Input  string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "clock: " + strconv.Quote(e.Input) + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}
