package clock

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DVVSet is a dotted version vector set (Almeida, Baquero et al., "Scalable
// and Accurate Causality Tracking for Eventually Consistent Stores", 2014):
// the causal history of one key in a replicated store, with the values of
// the writes that are still concurrent (the siblings).
//
// For each replica r it keeps a counter n and the values of r's most recent
// writes that no later write has overwritten: the i-th value (from 0) is
// the write with dot (r, n-i). A client reads the values and a Context (a
// version vector: what it saw) and writes back with that context; the write
// discards exactly the values the client saw and adds one new dot. So
// concurrent writes stay siblings, and siblings never outnumber the writes
// that really were concurrent, however many clients write through one
// replica (the "sibling explosion" of per-replica vector clocks).
type DVVSet[V any] struct {
	e []DVVEntry[string, V] // sorted by Replica
}

// DVVEntry is one replica's part of a dotted version vector set: its
// counter N and the values of its writes that no later write has
// superseded, newest first (Values[i] has dot (Replica, N-i)). Exported so
// that a store can keep and send the entries itself (package dynamo does,
// with node ids as replicas) and still run this one algorithm on them
// (DVVUpdate, DVVSync).
type DVVEntry[R cmp.Ordered, V any] struct {
	Replica R
	N       uint64
	Values  []V
}

// Context is what a client read: for each replica, the highest dot seen.
type Context map[string]uint64

func dvvFind[R cmp.Ordered, V any](es []DVVEntry[R, V], r R) (int, bool) {
	return slices.BinarySearchFunc(es, r, func(e DVVEntry[R, V], r R) int { return cmp.Compare(e.Replica, r) })
}

// Values returns the current siblings (one value when there is no conflict).
func (s *DVVSet[V]) Values() []V {
	var out []V
	for _, e := range s.e {
		out = append(out, e.Values...)
	}
	return out
}

// Siblings is the number of concurrent values held.
func (s *DVVSet[V]) Siblings() int {
	n := 0
	for _, e := range s.e {
		n += len(e.Values)
	}
	return n
}

// Context returns the version vector of everything s has seen: what a
// client must send back with its next write.
func (s *DVVSet[V]) Context() Context {
	c := Context{}
	for _, e := range s.e {
		c[e.Replica] = e.N
	}
	return c
}

// Update records a client's write of v at replica r, where ctx is the
// context the client read (nil for a blind write). Values covered by ctx
// are discarded: the client has seen them and v replaces them.
func (s *DVVSet[V]) Update(ctx Context, r string, v V) {
	s.e, _ = DVVUpdate(s.e, ctx, r, v)
}

// DVVUpdate is DVVSet.Update on entries sorted by Replica (es is changed
// in place and may be reallocated: use the result). It returns the entries
// and the values the write discarded (those ctx covers), oldest context
// replica first. ctx maps a replica to the highest counter the client saw;
// replicas are visited in sorted order, so the result is deterministic.
func DVVUpdate[R cmp.Ordered, V any](es []DVVEntry[R, V], ctx map[R]uint64, r R, v V) (out []DVVEntry[R, V], discarded []V) {
	ids := make([]R, 0, len(ctx))
	for id := range ctx {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic insertion
	for _, id := range ids {
		m := ctx[id]
		i, ok := dvvFind(es, id)
		if !ok {
			if m > 0 {
				es = slices.Insert(es, i, DVVEntry[R, V]{Replica: id, N: m})
			}
			continue
		}
		e := &es[i]
		if m >= e.N {
			discarded = append(discarded, e.Values...)
			e.N, e.Values = m, nil
			continue
		}
		keep := int(min(uint64(len(e.Values)), e.N-m))
		discarded = append(discarded, e.Values[keep:]...)
		e.Values = e.Values[:keep:keep]
	}
	i, ok := dvvFind(es, r)
	if !ok {
		es = slices.Insert(es, i, DVVEntry[R, V]{Replica: r})
	}
	e := &es[i]
	e.N++
	e.Values = append([]V{v}, e.Values...)
	return es, discarded
}

// Sync merges o into s: the state two replicas reach after exchanging their
// versions of the key. For each replica entry the larger counter wins, and
// of its values only those the other side has not already discarded stay.
func (s *DVVSet[V]) Sync(o *DVVSet[V]) { s.e = DVVSync(s.e, o.e) }

// DVVSync is DVVSet.Sync on entries sorted by Replica: it merges o into es
// (changed in place, possibly reallocated: use the result); o is only read
// and shares no memory with the result.
func DVVSync[R cmp.Ordered, V any](es, o []DVVEntry[R, V]) []DVVEntry[R, V] {
	for _, oe := range o {
		i, ok := dvvFind(es, oe.Replica)
		if !ok {
			es = slices.Insert(es, i, DVVEntry[R, V]{Replica: oe.Replica, N: oe.N, Values: slices.Clone(oe.Values)})
			continue
		}
		e := &es[i]
		// The side with the smaller counter n' and l' values has discarded
		// every dot ≤ n' - len(l'); the larger side keeps its dots above that.
		if e.N >= oe.N {
			keep := e.N - oe.N + uint64(len(oe.Values))
			e.Values = e.Values[:min(uint64(len(e.Values)), keep)]
		} else {
			keep := oe.N - e.N + uint64(len(e.Values))
			e.N = oe.N
			e.Values = slices.Clone(oe.Values[:min(uint64(len(oe.Values)), keep)])
		}
	}
	return es
}

// Clone returns an independent copy (values are copied shallowly).
func (s *DVVSet[V]) Clone() *DVVSet[V] { return &DVVSet[V]{e: DVVClone(s.e)} }

// DVVClone copies entries so that changing the copy leaves es alone
// (values are copied shallowly).
func DVVClone[R cmp.Ordered, V any](es []DVVEntry[R, V]) []DVVEntry[R, V] {
	c := slices.Clone(es)
	for i := range c {
		c[i].Values = slices.Clone(c[i].Values)
	}
	return c
}

// Compare orders the causal histories of two sets: Before when everything
// s has seen o has seen too and more, and so on.
func (s *DVVSet[V]) Compare(o *DVVSet[V]) Order {
	return CompareContext(s.Context(), o.Context())
}

// CompareContext compares two version vectors keyed by replica id; a
// missing replica counts as zero.
func CompareContext(a, b Context) Order {
	less, greater := false, false
	for id, x := range a {
		if y := b[id]; x < y {
			less = true
		} else if x > y {
			greater = true
		}
	}
	for id, y := range b {
		if _, ok := a[id]; !ok && y > 0 {
			less = true
		}
	}
	return order(less, greater)
}

// String shows the entries as {r:n[v,...],...}, replicas sorted.
func (s *DVVSet[V]) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range s.e {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e.Replica + ":" + strconv.FormatUint(e.N, 10) + "[")
		for j, v := range e.Values {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtValue(v), "\n", " ")))
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

// fmtValue shows a sibling: strings quoted, anything else as fmt prints it.
func fmtValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}
