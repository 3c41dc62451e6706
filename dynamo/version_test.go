package dynamo

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"ordo"
	"ordo/clock"
)

func sib(v string) Sibling { return Sibling{Value: v} }

func values(o *Object) []string {
	var out []string
	for _, s := range o.Siblings() {
		out = append(out, s.Value)
	}
	slices.Sort(out)
	return out
}

// Section 3, "Vector Clock 활용 예: DynamoDB": A at [1,0]; B written at
// replica 1 over A is [2,0]; C written at replica 2 over A is [1,1];
// neither descends from the other, so both stay; a write with the
// context of both supersedes exactly them.
func TestSection3DVV(t *testing.T) {
	var r1 Object
	r1.UpdateDVV(nil, 1, sib("A"))
	ctxA := r1.Context()
	if want := (Ctx{1: 1}); !maps(ctxA, want) {
		t.Fatalf("context after A %v, want %v", ctxA, want)
	}
	r2 := r1.Clone()
	r1.UpdateDVV(ctxA, 1, sib("B"))
	r2.UpdateDVV(ctxA, 2, sib("C"))
	if o := clock.CompareContext(toClock(r1.Context()), toClock(r2.Context())); o != clock.Concurrent {
		t.Fatalf("[2,0] vs [1,1]: %v, want concurrent", o)
	}
	r1.SyncDVV(&r2)
	if got := values(&r1); !slices.Equal(got, []string{"B", "C"}) {
		t.Fatalf("siblings %v, want B and C", got)
	}
	r1.UpdateDVV(r1.Context(), 1, sib("B+C"))
	if got := values(&r1); !slices.Equal(got, []string{"B+C"}) {
		t.Fatalf("after the resolving write %v, want B+C only", got)
	}
	if c := r1.Context(); !maps(c, Ctx{1: 3, 2: 1}) {
		t.Fatalf("context %v, want [3,1]", c)
	}
}

func toClock(c Ctx) clock.Context {
	out := clock.Context{}
	for id, n := range c {
		out["n"+strconv.Itoa(int(id))] = n
	}
	return out
}

func maps(a, b Ctx) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The store's DVV set is clock.DVVSet's algorithm on exported fields (so
// replicas can ship it): random updates and syncs give the same siblings
// and contexts as the reference.
func TestDVVMatchesClockDVVSet(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		var mine [3]Object
		var ref [3]*clock.DVVSet[string]
		for i := range ref {
			ref[i] = &clock.DVVSet[string]{}
		}
		for step := range 30 {
			i := r.IntN(3)
			switch r.IntN(3) {
			case 0, 1:
				// a client read replica j's context (maybe stale) and writes at i
				j := r.IntN(3)
				ctx := mine[j].Context()
				v := strconv.Itoa(step)
				mine[i].UpdateDVV(ctx, ordo.NodeID(i+1), sib(v))
				ref[i].Update(toClock(ctx), "n"+strconv.Itoa(i+1), v)
			case 2:
				j := r.IntN(3)
				o := mine[j].Clone()
				mine[i].SyncDVV(&o)
				ref[i].Sync(ref[j].Clone())
			}
			for k := range 3 {
				got := values(&mine[k])
				want := slices.Sorted(slices.Values(ref[k].Values()))
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d replica %d: siblings %v, clock.DVVSet has %v", seed, step, k, got, want)
				}
				if clock.CompareContext(toClock(mine[k].Context()), ref[k].Context()) != clock.Equal {
					t.Fatalf("seed %d step %d replica %d: context %v, clock.DVVSet has %v", seed, step, k, mine[k].Context(), ref[k].Context())
				}
			}
		}
	}
}

// The DVV paper's sibling explosion: with one vector clock per object, a
// client that read two siblings and writes with their context while a
// third write came in keeps all of them (it cannot tell which it saw);
// dotted version vectors discard exactly the two it saw.
func TestSiblingExplosionVVNotDVV(t *testing.T) {
	var vv, dvv Object
	vv.UpdateVV(nil, 1, sib("v0"))
	dvv.UpdateDVV(nil, 1, sib("v0"))
	c0v, c0d := vv.Context(), dvv.Context()
	for _, v := range []string{"a", "b"} { // two clients write over v0 through replica 1
		vv.UpdateVV(c0v, 1, sib(v))
		dvv.UpdateDVV(c0d, 1, sib(v))
	}
	c1v, c1d := vv.Context(), dvv.Context() // a client reads {a, b}
	vv.UpdateVV(c0v, 1, sib("c"))           // another stale write comes in
	dvv.UpdateDVV(c0d, 1, sib("c"))
	vv.UpdateVV(c1v, 1, sib("ab")) // the reader resolves a and b
	dvv.UpdateDVV(c1d, 1, sib("ab"))
	if got := values(&dvv); !slices.Equal(got, []string{"ab", "c"}) {
		t.Errorf("dvv siblings %v, want ab and c", got)
	}
	if got := values(&vv); !slices.Equal(got, []string{"a", "ab", "b", "c"}) {
		t.Errorf("vv siblings %v, want a, ab, b and c (the explosion)", got)
	}
}

// Section 2: last-write-wins keeps the larger timestamp, whatever the
// order the writes happened in.
func TestLWWKeepsLargerStamp(t *testing.T) {
	var o Object
	o.UpdateLWW(1, Sibling{Value: "1", Stamp: 100, Writer: 1})
	lost, kept := o.UpdateLWW(2, Sibling{Value: "2", Stamp: 99, Writer: 2})
	if kept || len(lost) != 1 || lost[0].Value != "2" || o.Vals[0].Value != "1" {
		t.Fatalf("kept %v lost %v holding %v: want X=1 kept, X=2 lost", kept, lost, o.Vals)
	}
	p := Object{Vals: []Sibling{{Value: "3", Stamp: 101, Writer: 2}}}
	if lost := o.SyncLWW(&p); len(lost) != 1 || lost[0].Value != "1" || o.Vals[0].Value != "3" {
		t.Fatalf("sync: lost %v holding %v", lost, o.Vals)
	}
}

func TestVVSyncCanonical(t *testing.T) {
	var a, b Object
	a.UpdateVV(nil, 1, Sibling{Value: "x", Writer: 1})
	b.UpdateVV(nil, 2, Sibling{Value: "y", Writer: 2})
	a2, b2 := a.Clone(), b.Clone()
	a.SyncVV(&b2)
	b.SyncVV(&a2)
	if a.Digest() != b.Digest() || a.Count() != 2 {
		t.Fatalf("%v and %v differ after a two-way sync", &a, &b)
	}
}

func TestRingPreference(t *testing.T) {
	servers := []ordo.NodeID{1, 2, 3, 4, 5}
	r, err := NewRing(servers, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	firsts := map[ordo.NodeID]int{}
	for i := range 500 {
		p := r.Preference("k" + strconv.Itoa(i))
		if len(p) != 3 || p[0] == p[1] || p[1] == p[2] || p[0] == p[2] {
			t.Fatalf("preference %v", p)
		}
		firsts[p[0]]++
	}
	for _, s := range servers {
		if firsts[s] < 40 {
			t.Errorf("server %v coordinates %d of 500 keys: the ring is lopsided %v", s, firsts[s], firsts)
		}
	}
	if _, err := NewRing(servers, 8, 6); err == nil {
		t.Error("n_replicas 6 of 5 servers accepted")
	}
	if _, err := NewRing(servers, 0, 3); err == nil {
		t.Error("0 vnodes accepted")
	}
}

// The shopping cart: removing on one side while the other side adds
// something else; the observed-remove merge keeps the item removed, the
// union merge brings it back (Dynamo's "deleted items can resurface").
func TestCartResurrection(t *testing.T) {
	for _, or := range []bool{true, false} {
		base := NewCart(or)
		base.Add("apple", "t1")
		base.Add("pear", "t2")
		a, _ := ParseCart(or, base.String())
		b, _ := ParseCart(or, base.String())
		a.Remove("apple")
		b.Add("milk", "t3")
		a2, _ := ParseCart(or, a.String())
		a2.Merge(b)
		got := a2.Items()
		want := []string{"milk", "pear"}
		if !or {
			want = []string{"apple", "milk", "pear"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("orset=%v: merged cart %v, want %v", or, got, want)
		}
	}
	// a concurrent add of the removed item survives an OR-set remove
	a := NewCart(true)
	a.Add("apple", "t1")
	b, _ := ParseCart(true, a.String())
	a.Remove("apple")
	b.Add("apple", "t9")
	a.Merge(b)
	if !slices.Equal(a.Items(), []string{"apple"}) {
		t.Errorf("concurrent add lost: %v", a.Items())
	}
	for _, bad := range []string{"+Apple#t", "+a", "-", "x;y", "+a#t;;"} {
		if _, err := ParseCart(true, bad); err == nil {
			t.Errorf("cart %q accepted", bad)
		}
	}
}

// A DVV write's version as shown: its context and its dot, flattened to
// the chapter's vector when the dot follows the context at its writer,
// else kept apart, so two writes through one replica from one context
// never look ordered ([1,1,0] and [1,0,0]+(2,2), not [1,1,0] and [1,2,0]).
func TestVecTextShowsTheDot(t *testing.T) {
	for _, c := range []struct {
		s    Sibling
		want string
	}{
		{Sibling{Writer: 1, Vec: []uint64{1, 0}, Dot: 2}, "[2,0]"},
		{Sibling{Writer: 2, Vec: []uint64{1, 0}, Dot: 1}, "[1,1]"},
		{Sibling{Writer: 2, Vec: []uint64{1, 0, 0}, Dot: 1}, "[1,1,0]"},
		{Sibling{Writer: 2, Vec: []uint64{1, 0, 0}, Dot: 2}, "[1,0,0]+(2,2)"},
		{Sibling{Writer: 3, Vec: []uint64{3, 0, 0}}, "[3,0,0]"}, // LWW or VV: the vector itself
	} {
		if got := c.s.VecText(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.s, got, c.want)
		}
	}
}
