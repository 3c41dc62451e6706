package clock

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// oracle compares by the chapter's definitions, literally: V1 ≤ V2 iff every
// entry is ≤; V1 < V2 iff V1 ≤ V2 and V1 ≠ V2; otherwise concurrent.
func oracle(a, b map[uint64]uint64, ids []uint64) Order {
	le := func(x, y map[uint64]uint64) bool {
		for _, id := range ids {
			if x[id] > y[id] {
				return false
			}
		}
		return true
	}
	ab, ba := le(a, b), le(b, a)
	switch {
	case ab && ba:
		return Equal
	case ab:
		return Before
	case ba:
		return After
	}
	return Concurrent
}

// Property test: dense and sparse Compare and Merge agree with the oracle on
// random vectors of random (unequal) lengths with small entries, so all four
// relations occur. Seed 1; rerun with another seed by editing it.
func TestCompareMergeOracle(t *testing.T) {
	const seed = 1
	r := rand.New(rand.NewPCG(seed, 0))
	seen := map[Order]int{}
	for iter := 0; iter < 20000; iter++ {
		na, nb := r.IntN(6), r.IntN(6)
		a, b := make(Vector, na), make(Vector, nb)
		ma, mb := map[uint64]uint64{}, map[uint64]uint64{}
		for i := range a {
			a[i] = uint64(r.IntN(3))
			ma[uint64(i+1)] = a[i]
		}
		for i := range b {
			b[i] = uint64(r.IntN(3))
			mb[uint64(i+1)] = b[i]
		}
		ids := []uint64{1, 2, 3, 4, 5, 6}
		want := oracle(ma, mb, ids)
		seen[want]++
		if got := Compare(a, b); got != want {
			t.Fatalf("seed %d: Compare(%v, %v) = %v, oracle %v", seed, a, b, got, want)
		}
		sa, sb := SparseOf(a), SparseOf(b)
		if got := CompareSparse(&sa, &sb); got != want {
			t.Fatalf("seed %d: CompareSparse(%v, %v) = %v, oracle %v", seed, &sa, &sb, got, want)
		}
		// Merge: the entry-wise max, which is ≥ both.
		m := a.Clone().Grow(max(na, nb))
		m.Merge(b)
		sm := sa.Clone()
		sm.Merge(&sb)
		for _, id := range ids {
			w := max(ma[id], mb[id])
			if m.Get(int(id-1)) != w || sm.Get(id) != w {
				t.Fatalf("seed %d: merge of %v and %v: entry %d = %d / %d, want %d", seed, a, b, id, m.Get(int(id-1)), sm.Get(id), w)
			}
		}
		if o := Compare(a, m); o != Before && o != Equal {
			t.Fatalf("seed %d: %v not ≤ its merge %v", seed, a, m)
		}
		for i := 1; i < len(sm.e); i++ {
			if sm.e[i-1].ID >= sm.e[i].ID {
				t.Fatalf("seed %d: sparse merge unsorted: %v", seed, &sm)
			}
		}
	}
	for _, o := range []Order{Equal, Before, After, Concurrent} {
		if seen[o] == 0 {
			t.Errorf("relation %v never generated", o)
		}
	}
}

// Sparse vectors with arbitrary, non-dense ids (changing membership).
func TestSparseMembership(t *testing.T) {
	var a, b Sparse
	a.Tick(100)
	a.Tick(100)
	b.Tick(7)
	if o := CompareSparse(&a, &b); o != Concurrent {
		t.Fatalf("{100:2} vs {7:1}: %v", o)
	}
	b.Receive(&a, 7) // 7 learns of 100
	if got := b.String(); got != "{7:2,100:2}" {
		t.Fatalf("after receive: %s", got)
	}
	if o := CompareSparse(&a, &b); o != Before {
		t.Fatalf("%v vs %v: %v", &a, &b, o)
	}
	b.Set(7, 0) // a member leaves; its entry goes
	if b.Len() != 1 || b.Get(7) != 0 {
		t.Fatalf("after removal: %v", &b)
	}
}

// Reference: section 3, Vector Clock, 비교 규칙 examples.
func TestChapterComparisons(t *testing.T) {
	for _, c := range []struct {
		a, b Vector
		want Order
	}{
		{Vector{2, 0, 0}, Vector{2, 2, 0}, Before},
		{Vector{2, 1, 0}, Vector{0, 0, 1}, Concurrent},
		{Vector{2, 0}, Vector{1, 1}, Concurrent}, // section 3, DynamoDB
		{Vector{1, 2}, Vector{1, 2, 0}, Equal},
	} {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("%v vs %v: %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// Reference: section 3, Lamport Clock: the four rules on the figure's
// A/B exchange as the rules compute it (A: 1, 2 send; B: recv, local, send;
// A: recv).
func TestLamportRules(t *testing.T) {
	var a, b Lamport
	a.Tick()
	m := a.Send()
	if m != 2 {
		t.Fatalf("A's send = %d", m)
	}
	if got := b.Receive(m); got != 3 {
		t.Fatalf("B receive = %d, want max(0,2)+1 = 3", got)
	}
	b.Tick()
	m2 := b.Send()
	if got := a.Receive(m2); got != 6 {
		t.Fatalf("A receive = %d, want max(2,5)+1 = 6", got)
	}
}

// AtomicLamport under concurrent use: run with -race. Every Tick is
// distinct, and a Receive returns more than both the remote value and every
// value the receiving goroutine saw before.
func TestAtomicLamportRace(t *testing.T) {
	var l AtomicLamport
	const g, n = 8, 2000
	var wg sync.WaitGroup
	got := make([][]uint64, g)
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			prev := uint64(0)
			for i := 0; i < n; i++ {
				var v uint64
				if i%3 == 0 {
					remote := uint64(w*n + i)
					v = l.Receive(remote)
					if v <= remote {
						t.Errorf("receive %d returned %d", remote, v)
					}
				} else {
					v = l.Tick()
				}
				if v <= prev {
					t.Errorf("goroutine %d: %d after %d", w, v, prev)
				}
				prev = v
				got[w] = append(got[w], v)
			}
		}(w)
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, vs := range got {
		for _, v := range vs {
			if seen[v] {
				t.Fatalf("timestamp %d issued twice", v)
			}
			seen[v] = true
		}
	}
}

// HLC: the paper's rules under a fixed physical clock.
func TestHLCRules(t *testing.T) {
	pt := uint64(1000)
	h := &HLC{Node: 1, Physical: func() uint64 { return pt }, MaxOffset: time.Second}
	a := h.Now()
	if a != (Timestamp{1000, 0, 1}) {
		t.Fatalf("first = %v", a)
	}
	b := h.Now() // physical time has not moved: the counter does
	if b != (Timestamp{1000, 1, 1}) {
		t.Fatalf("second = %v", b)
	}
	// A message from a node 500 ms ahead: adopt its L, continue its C.
	c, err := h.Update(Timestamp{1500, 7, 2})
	if err != nil || c != (Timestamp{1500, 8, 1}) {
		t.Fatalf("update = %v %v", c, err)
	}
	// Same L on both sides: max of the counters + 1.
	d, _ := h.Update(Timestamp{1500, 20, 3})
	if d != (Timestamp{1500, 21, 1}) {
		t.Fatalf("update same l = %v", d)
	}
	// Physical time overtakes: C resets.
	pt = 2000
	e, _ := h.Update(Timestamp{1600, 3, 2})
	if e != (Timestamp{2000, 0, 1}) {
		t.Fatalf("update behind = %v", e)
	}
	// Too far ahead: refused with the typed error, clock unchanged.
	_, err = h.Update(Timestamp{2000 + 1001, 0, 2})
	oe, ok := err.(*ErrClockOffset)
	if !ok || oe.Physical != 2000 {
		t.Fatalf("want *ErrClockOffset, got %v", err)
	}
	if h.Last() != e {
		t.Fatalf("clock moved on a refused message: %v", h.Last())
	}
	// Packed form orders as (L, C).
	if !(b.Pack() < c.Pack() && c.Pack() < d.Pack()) || Unpack(d.Pack(), 1) != d {
		t.Fatalf("pack order/roundtrip broken")
	}
	// Node id breaks ties for a total order.
	x, y := Timestamp{5, 5, 1}, Timestamp{5, 5, 2}
	if !x.Less(y) || y.Less(x) || CompareHLC(x, y) != -1 || CompareHLC(x, x) != 0 {
		t.Fatal("tie-break")
	}
}

// HLC property: across random exchanges between nodes with skewed physical
// clocks, (1) each node's timestamps strictly increase, (2) a receive is
// above the message's timestamp, (3) L never exceeds the largest physical
// time seen, (4) C stays small. Seed 1.
func TestHLCProperties(t *testing.T) {
	const seed = 1
	r := rand.New(rand.NewPCG(seed, 0))
	const n = 4
	now := uint64(1_000_000)
	skew := []uint64{0, 30, 5, 100}
	nodes := make([]*HLC, n)
	for i := range nodes {
		nodes[i] = &HLC{Node: uint16(i), Physical: func() uint64 { return now + skew[i] }}
	}
	last := make([]Timestamp, n)
	var inflight []Timestamp
	var to []int
	for step := 0; step < 20000; step++ {
		if r.IntN(4) == 0 {
			now++
		}
		i := r.IntN(n)
		var ts Timestamp
		if len(inflight) > 0 && r.IntN(2) == 0 {
			k := r.IntN(len(inflight))
			m, dst := inflight[k], to[k]
			inflight = append(inflight[:k], inflight[k+1:]...)
			to = append(to[:k], to[k+1:]...)
			i = dst
			var err error
			ts, err = nodes[i].Update(m)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Less(ts) {
				t.Fatalf("seed %d step %d: receive %v not after message %v", seed, step, ts, m)
			}
		} else {
			ts = nodes[i].Now()
			inflight = append(inflight, ts)
			to = append(to, (i+1+r.IntN(n-1))%n)
		}
		if !last[i].Less(ts) && step > 0 && last[i] != (Timestamp{}) {
			t.Fatalf("seed %d step %d: node %d went %v → %v", seed, step, i, last[i], ts)
		}
		last[i] = ts
		if ts.L > now+100 {
			t.Fatalf("seed %d: L %d beyond max physical %d", seed, ts.L, now+100)
		}
		if ts.C > 1000 {
			t.Fatalf("seed %d: C grew to %d", seed, ts.C)
		}
	}
}

// Reference: section 3, 실제 사용 예 (DynamoDB): X = "A" with [1,0]; replica 1
// writes "B" → [2,0]; replica 2 writes "C" → [1,1]; [2,0] ∥ [1,1], so after
// sync both are kept as siblings; the client reads both, merges and writes
// back one value that supersedes both.
func TestDVVDynamoDBExample(t *testing.T) {
	var r1 DVVSet[string]
	r1.Update(nil, "R1", "A")
	ctxA := r1.Context() // [1,0]
	r2 := r1.Clone()     // replica 2 has synced "A"
	r1.Update(ctxA, "R1", "B")
	r2.Update(ctxA, "R2", "C")
	if got := CompareContext(r1.Context(), Context{"R1": 2, "R2": 0}); got != Equal {
		t.Fatalf("replica 1 context %v, want [2,0]", r1.Context())
	}
	if got := CompareContext(r2.Context(), Context{"R1": 1, "R2": 1}); got != Equal {
		t.Fatalf("replica 2 context %v, want [1,1]", r2.Context())
	}
	if o := r1.Compare(r2); o != Concurrent {
		t.Fatalf("[2,0] vs [1,1]: %v, want concurrent", o)
	}
	r1.Sync(r2)
	vals := r1.Values()
	if len(vals) != 2 || vals[0] != "B" || vals[1] != "C" {
		t.Fatalf("siblings after sync: %v (%v)", vals, r1.String())
	}
	// 장바구니 병합: the client reads both versions and writes the merge.
	ctx := r1.Context()
	r1.Update(ctx, "R1", "B+C")
	if v := r1.Values(); len(v) != 1 || v[0] != "B+C" {
		t.Fatalf("after merge write: %v", r1.String())
	}
	// Syncing the stale replica 2 does not resurrect "C".
	r1.Sync(r2)
	if v := r1.Values(); len(v) != 1 {
		t.Fatalf("stale sync resurrected: %v", r1.String())
	}
	r2.Sync(&r1)
	if v := r2.Values(); len(v) != 1 || v[0] != "B+C" {
		t.Fatalf("replica 2 after sync: %v", r2.String())
	}
}

// No sibling explosion: k clients write through ONE replica, each always
// with the context of its own previous write (a read-modify-write loop that
// never sees the others). Per-replica vector clocks would either lose
// writes or keep every old value; a DVVSet keeps exactly one value per
// client, the latest, however many rounds run.
func TestDVVNoSiblingExplosion(t *testing.T) {
	const k, rounds = 5, 50
	var s DVVSet[int]
	ctx := make([]Context, k)
	for round := 0; round < rounds; round++ {
		for c := 0; c < k; c++ {
			s.Update(ctx[c], "R", round*k+c)
			ctx[c] = s.Context()
		}
		if s.Siblings() > k {
			t.Fatalf("round %d: %d siblings for %d clients: %v", round, s.Siblings(), k, s.String())
		}
	}
	vals := s.Values()
	if len(vals) != k {
		t.Fatalf("%d siblings, want %d", len(vals), k)
	}
	for i, v := range vals { // newest first: client k-1's last write first
		if want := (rounds-1)*k + (k - 1 - i); v != want {
			t.Fatalf("sibling %d = %d, want %d", i, v, want)
		}
	}
}

// DVVSet sync is commutative and idempotent on random histories. Seed 1.
func TestDVVSyncProperties(t *testing.T) {
	const seed = 1
	r := rand.New(rand.NewPCG(seed, 0))
	ids := []string{"a", "b", "c"}
	for iter := 0; iter < 2000; iter++ {
		reps := []*DVVSet[int]{{}, {}, {}}
		var ctxs []Context
		for step := 0; step < 12; step++ {
			i := r.IntN(3)
			switch r.IntN(3) {
			case 0:
				var ctx Context
				if len(ctxs) > 0 {
					ctx = ctxs[r.IntN(len(ctxs))]
				}
				reps[i].Update(ctx, ids[i], step)
			case 1:
				reps[i].Sync(reps[r.IntN(3)].Clone())
			default:
				ctxs = append(ctxs, reps[i].Context())
			}
		}
		x, y := reps[0].Clone(), reps[1].Clone()
		x.Sync(reps[1])
		y.Sync(reps[0])
		if x.String() != y.String() {
			t.Fatalf("seed %d iter %d: sync not commutative: %s vs %s", seed, iter, x, y)
		}
		z := x.Clone()
		z.Sync(x)
		if z.String() != x.String() {
			t.Fatalf("seed %d iter %d: sync not idempotent", seed, iter)
		}
	}
}
