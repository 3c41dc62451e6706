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

// Compare returns exactly one of Equal, Before, After, Concurrent. It
// allocates nothing.
func Compare(a, b Vector) Order {
	less, greater := false, false
	n := max(len(a), len(b))
	for i := 0; i < n; i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x < y {
			less = true
		} else if x > y {
			greater = true
		}
		if less && greater {
			return Concurrent
		}
	}
	switch {
	case less:
		return Before
	case greater:
		return After
	}
	return Equal
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
func (v Vector) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(x, 10))
	}
	b.WriteByte(']')
	return b.String()
}
