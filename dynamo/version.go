package dynamo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ordo"
	"ordo/clock"
)

// Versions names how a key's causal history is tracked (option versions).
type Versions uint8

// The version schemes.
const (
	// DVV is a dotted version vector set (clock.DVVSet's algorithm, Almeida
	// et al. 2014): each sibling carries its own dot, so a write discards
	// exactly the siblings its context saw.
	DVV Versions = iota + 1
	// VV is one per-replica version vector for the whole object (Riak's
	// vnode vclocks before DVV): a write whose context does not cover the
	// object's clock keeps every sibling, even those the client saw — the
	// sibling explosion.
	VV
)

func (v Versions) String() string {
	switch v {
	case DVV:
		return "dvv"
	case VV:
		return "vv"
	}
	return "versions(" + strconv.Itoa(int(v)) + ")"
}

// Sibling is one stored value with what the chapter draws next to it.
type Sibling struct {
	Value string
	// Stamp is the coordinator's wall clock (Env.Now, ns) at the write:
	// what last-write-wins orders by, skew and drift included.
	Stamp  int64
	Writer ordo.NodeID // the coordinator that minted the write
	// Vec is the write's version vector over servers 1..len(Vec), for
	// display (the chapter's [2,0] and [1,1]); nothing orders by it.
	// Under DVV it is the context the writer saw, and Dot the write's own
	// counter at Writer (VecText joins them).
	Vec []uint64
	Dot uint64
	// Deleted marks a tombstone: a delete's version, with no value.
	Deleted bool
}

// same reports whether a and b are the same write.
func (a Sibling) same(b Sibling) bool {
	return a.Value == b.Value && a.Stamp == b.Stamp && a.Writer == b.Writer && a.Deleted == b.Deleted
}

// text shows v in Object.String (and so in its digest): a tombstone
// cannot be mistaken for a value, which is always quoted.
func (v Sibling) text() string {
	if v.Deleted {
		return fmt.Sprintf("deleted@%d/%v", v.Stamp, v.Writer)
	}
	return fmt.Sprintf("%q@%d/%v", v.Value, v.Stamp, v.Writer)
}

// newer orders writes for last-write-wins: the larger stamp, ties broken
// by writer then value, so every replica picks the same winner.
func newer(a, b Sibling) bool {
	if a.Stamp != b.Stamp {
		return a.Stamp > b.Stamp
	}
	if a.Writer != b.Writer {
		return a.Writer > b.Writer
	}
	return a.Value > b.Value
}

// VecText shows the write's version as the chapter writes it, [2,0].
// Under DVV a write's history is its context and its own dot: when the dot
// follows the context at its writer (context [1,0], dot (1,2)) that is
// the vector [2,0]; when it does not (two writes through replica 2 from
// context [1,0,0]: dots (2,1) and (2,2)), flattening would show [1,2,0]
// as if it had seen [1,1,0], so it is shown as the context and the dot,
// [1,0,0]+(2,2): concurrent with [1,1,0], as it is.
func (v Sibling) VecText() string {
	w := int(v.Writer) - 1
	if v.Dot == 0 || w < 0 || w >= len(v.Vec) {
		return VecString(v.Vec)
	}
	if v.Vec[w]+1 == v.Dot {
		full := slices.Clone(v.Vec)
		full[w] = v.Dot
		return VecString(full)
	}
	return fmt.Sprintf("%s+(%d,%d)", VecString(v.Vec), v.Writer, v.Dot)
}

// VecString shows a sibling's vector as the chapter writes it: [2,0].
func VecString(v []uint64) string {
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

// Entry is one replica's part of a dotted version vector set
// (clock.DVVEntry): its counter N and the values of its writes not yet
// superseded, newest first (Values[i] has dot (Replica, N-i)).
type Entry = clock.DVVEntry[ordo.NodeID, Sibling]

// Dot is one entry of a version vector.
type Dot struct {
	Replica ordo.NodeID
	N       uint64
}

// Object is everything one replica holds of one key. Under DVV only
// Entries is used; under VV, Clock and Vals; under last-write-wins, Vals
// holds at most one value (and Clock counts the writes seen).
type Object struct {
	Entries []Entry // DVV, sorted by Replica
	Clock   []Dot   // VV, sorted by Replica
	Vals    []Sibling
}

// Ctx is a decoded causal context: for each replica, the highest counter
// the client saw.
type Ctx map[ordo.NodeID]uint64

// Siblings returns the values held, DVV entries in replica order.
func (o *Object) Siblings() []Sibling {
	if len(o.Entries) == 0 {
		return o.Vals
	}
	var out []Sibling
	for _, e := range o.Entries {
		out = append(out, e.Values...)
	}
	return out
}

// Count is the number of siblings.
func (o *Object) Count() int {
	n := len(o.Vals)
	for _, e := range o.Entries {
		n += len(e.Values)
	}
	return n
}

// Context is what a reader must send back: the version vector of what o
// has seen.
func (o *Object) Context() Ctx {
	c := Ctx{}
	for _, e := range o.Entries {
		c[e.Replica] = e.N
	}
	for _, d := range o.Clock {
		c[d.Replica] = max(c[d.Replica], d.N)
	}
	return c
}

// Counter is replica r's counter in o.
func (o *Object) Counter(r ordo.NodeID) uint64 { return o.Context()[r] }

// Clone copies o deeply enough that changing the copy leaves o alone.
func (o *Object) Clone() Object {
	return Object{Entries: clock.DVVClone(o.Entries), Clock: slices.Clone(o.Clock), Vals: slices.Clone(o.Vals)}
}

func sortedIDs(c Ctx) []ordo.NodeID {
	ids := make([]ordo.NodeID, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// vector returns c as a dense vector over servers 1..n (display).
func vector(c Ctx, n int) []uint64 {
	v := make([]uint64, n)
	for id, x := range c {
		if id >= 1 && int(id) <= n {
			v[id-1] = x
		}
	}
	return v
}

// UpdateDVV records a client's write of v at coordinator r with context
// ctx (nil: a blind write), with clock.DVVUpdate: the values ctx covers
// are discarded, v gets the next dot of r. It returns the values
// discarded.
func (o *Object) UpdateDVV(ctx Ctx, r ordo.NodeID, v Sibling) []Sibling {
	var gone []Sibling
	o.Entries, gone = clock.DVVUpdate(o.Entries, ctx, r, v)
	return gone
}

// SyncDVV merges p into o with clock.DVVSync: per replica the larger
// counter wins, and of its values only those the other side has not
// discarded stay.
func (o *Object) SyncDVV(p *Object) { o.Entries = clock.DVVSync(o.Entries, p.Entries) }

func (o *Object) clock() Ctx {
	c := Ctx{}
	for _, d := range o.Clock {
		c[d.Replica] = d.N
	}
	return c
}

func (o *Object) setClock(c Ctx) {
	o.Clock = o.Clock[:0:0]
	for _, id := range sortedIDs(c) {
		if c[id] > 0 {
			o.Clock = append(o.Clock, Dot{id, c[id]})
		}
	}
}

// covers reports whether a has seen everything b has (b ≤ a).
func covers(a, b Ctx) bool {
	for id, n := range b {
		if a[id] < n {
			return false
		}
	}
	return true
}

func mergeCtx(a, b Ctx) Ctx {
	c := Ctx{}
	for id, n := range a {
		c[id] = n
	}
	for id, n := range b {
		c[id] = max(c[id], n)
	}
	return c
}

// UpdateVV records a write under one version vector per object: when ctx
// covers the object's clock v replaces every sibling; otherwise the
// object cannot tell which siblings the client saw and keeps them all
// (the sibling explosion DVV avoids). The clock becomes the merge of both,
// with r's entry incremented. It returns the values discarded.
func (o *Object) UpdateVV(ctx Ctx, r ordo.NodeID, v Sibling) []Sibling {
	cl := o.clock()
	var gone []Sibling
	if covers(ctx, cl) {
		gone, o.Vals = o.Vals, nil
	}
	cl = mergeCtx(cl, ctx)
	cl[r]++
	o.setClock(cl)
	o.Vals = append(o.Vals, v)
	sortVals(o.Vals)
	return gone
}

// sortVals puts vector-clock siblings in one canonical order, so that two
// replicas holding the same set hold (and digest) the same list.
func sortVals(vs []Sibling) {
	slices.SortFunc(vs, func(a, b Sibling) int {
		switch {
		case a.Writer != b.Writer:
			return int(a.Writer) - int(b.Writer)
		case a.Stamp != b.Stamp:
			if a.Stamp < b.Stamp {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Value, b.Value)
	})
}

// SyncVV merges p into o: the descendant wins; concurrent objects keep
// the union of their siblings under the merged clock.
func (o *Object) SyncVV(p *Object) {
	a, b := o.clock(), p.clock()
	switch {
	case covers(a, b):
		return
	case covers(b, a):
		o.Clock, o.Vals = slices.Clone(p.Clock), slices.Clone(p.Vals)
		return
	}
	o.setClock(mergeCtx(a, b))
	for _, v := range p.Vals {
		if !slices.ContainsFunc(o.Vals, v.same) {
			o.Vals = append(o.Vals, v)
		}
	}
	sortVals(o.Vals)
}

// UpdateLWW keeps, of the held value and v, the one with the larger
// timestamp, whatever the context says: it returns the write discarded
// (lost when it was not the older by causality) and whether v was kept.
func (o *Object) UpdateLWW(r ordo.NodeID, v Sibling) (lost []Sibling, kept bool) {
	cl := o.clock()
	cl[r]++
	o.setClock(cl)
	if len(o.Vals) == 0 || newer(v, o.Vals[0]) {
		lost, o.Vals = o.Vals, []Sibling{v}
		return lost, true
	}
	return []Sibling{v}, false
}

// SyncLWW merges p into o by timestamps; it returns a value discarded.
func (o *Object) SyncLWW(p *Object) []Sibling {
	o.setClock(mergeCtx(o.clock(), p.clock()))
	if len(p.Vals) == 0 {
		return nil
	}
	if len(o.Vals) == 0 {
		o.Vals = slices.Clone(p.Vals[:1])
		return nil
	}
	if o.Vals[0].same(p.Vals[0]) {
		return nil
	}
	if newer(p.Vals[0], o.Vals[0]) {
		lost := o.Vals[0]
		o.Vals = slices.Clone(p.Vals[:1])
		return []Sibling{lost}
	}
	return []Sibling{p.Vals[0]}
}

// Equal reports whether two objects hold the same versions.
func (o *Object) Equal(p *Object) bool { return o.Digest() == p.Digest() }

// Digest hashes what o holds (FNV-1a over a canonical text): replicas
// compare digests in anti-entropy and the convergence checker compares
// the digests replicas note.
func (o *Object) Digest() uint64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(o.String()) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// String shows o: {n1:2["B"],n2:1["C"]} for DVV, {n1:2,n2:1}["B","C"]
// for a vector clock.
func (o *Object) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range o.Entries {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%v:%d[", e.Replica, e.N)
		for j, v := range e.Values {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v.text())
		}
		b.WriteByte(']')
	}
	for i, d := range o.Clock {
		if i > 0 || len(o.Entries) > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%v:%d", d.Replica, d.N)
	}
	b.WriteByte('}')
	if len(o.Vals) > 0 {
		b.WriteByte('[')
		for j, v := range o.Vals {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v.text())
		}
		b.WriteByte(']')
	}
	return b.String()
}
