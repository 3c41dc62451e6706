package sim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"ordo/clock"
	"ordo/trace"
)

// Reference: section 3, Lamport clock and vector clock rules, checked on
// EVERY event of randomized runs under every fault kind:
//   - a local or send event: C = C + 1; V[i] = V[i] + 1
//   - a receive of (C', V'): C = max(C, C') + 1; V = max(V, V'); V[i] = V[i] + 1
//   - send → receive ⇒ V(send) < V(recv) and C(send) < C(recv)
//
// and Trace.Relation agrees with happens-before computed by brute force as
// reachability over program order and message edges.
func TestStampRulesOnRandomRuns(t *testing.T) {
	seeds := []uint64{1, 2, 3, 42, 20260101}
	if *stampSeed != 0 {
		seeds = []uint64{*stampSeed}
	}
	for _, seed := range seeds {
		s := chaosSim(t, seed, true)
		if err := s.RunFor(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		tr := s.Trace()
		replay := func() string {
			return "replay: go test ./sim -run TestStampRulesOnRandomRuns -sim.seed=" + itoa(seed)
		}
		t.Logf("seed %d: %d events (%s)", seed, len(tr.Events), replay())
		checkStampRules(t, tr, replay)
		checkRelationOracle(t, tr, seed, replay)
	}
}

func itoa(x uint64) string { return strconv.FormatUint(x, 10) }

func checkStampRules(t *testing.T, tr *trace.Trace, replay func() string) {
	t.Helper()
	n := tr.Meta.Nodes
	lam := make([]uint64, n+1)
	vec := make([]clock.Vector, n+1)
	for i := range vec {
		vec[i] = make(clock.Vector, n)
	}
	sends := map[uint64]*trace.Event{}
	checked, hints := 0, 0
	for i := range tr.Events {
		e := &tr.Events[i]
		if !e.Kind.Stamped() {
			continue
		}
		id := int(e.Node)
		wantL := lam[id] + 1
		wantV := slices.Clone(vec[id])
		if e.Kind == trace.Recv && e.Msg == 0 {
			// A runtime hint (peer-down): no message, a local event.
			if e.MsgKind != "peer-down" {
				t.Fatalf("%s: a receive without a message id (%s)", e.Describe(), replay())
			}
			hints++
		} else if e.Kind == trace.Recv {
			snd := sends[e.Msg]
			if snd == nil {
				t.Fatalf("%s: no send of message %d before it (%s)", e.Describe(), e.Msg, replay())
			}
			wantL = max(lam[id], snd.Lamport) + 1
			wantV.Merge(snd.Vector)
			if o := clock.Compare(snd.Vector, e.Vector); o != clock.Before || snd.Lamport >= e.Lamport {
				t.Fatalf("send %s → recv %s but vector order %v, Lamport %d vs %d (%s)", snd.Describe(), e.Describe(), o, snd.Lamport, e.Lamport, replay())
			}
		}
		wantV[id-1]++
		if e.Lamport != wantL || !slices.Equal(e.Vector, wantV) {
			t.Fatalf("%s: want L=%d V=%v by the rules of section 3 (%s)", e.Describe(), wantL, wantV, replay())
		}
		if e.Lamport <= lam[id] || e.Vector[id-1] != vec[id][id-1]+1 {
			t.Fatalf("%s: Lamport must strictly increase and V[%d] step by 1 (%s)", e.Describe(), id, replay())
		}
		lam[id], vec[id] = e.Lamport, e.Vector
		if e.Kind == trace.Send {
			sends[e.Msg] = e
		}
		checked++
	}
	if checked < 500 {
		t.Fatalf("only %d process events checked", checked)
	}
	if hints == 0 {
		t.Fatalf("no peer-down hint in the run: the crash hints go untested (%s)", replay())
	}
}

// checkRelationOracle compares Trace.Relation with reachability over the
// two edges of happens-before, for random pairs of process events.
func checkRelationOracle(t *testing.T, tr *trace.Trace, seed uint64, replay func() string) {
	t.Helper()
	var proc []int
	next := map[int][]int{}
	last := map[int]int{}
	sendOf := map[uint64]int{}
	for i, e := range tr.Events {
		if !e.Kind.Stamped() {
			continue
		}
		proc = append(proc, i)
		if p, ok := last[int(e.Node)]; ok {
			next[p] = append(next[p], i)
		}
		last[int(e.Node)] = i
		if e.Kind == trace.Send {
			sendOf[e.Msg] = i
		}
		if e.Kind == trace.Recv && e.Msg != 0 { // a hint has no send
			next[sendOf[e.Msg]] = append(next[sendOf[e.Msg]], i)
		}
	}
	// Trace order is a topological order of happens-before (program order,
	// and a send is recorded before its receive), so reachability sets can
	// be built back to front as bitsets.
	words := (len(tr.Events) + 63) / 64
	reach := make([][]uint64, len(tr.Events))
	for j := len(proc) - 1; j >= 0; j-- {
		i := proc[j]
		r := make([]uint64, words)
		r[i/64] |= 1 << (i % 64)
		for _, y := range next[i] {
			if y <= i {
				t.Fatalf("edge e%d → e%d goes back in trace order", i, y)
			}
			for w := range r {
				r[w] |= reach[y][w]
			}
		}
		reach[i] = r
	}
	reachable := func(a, b int) bool { return reach[a][b/64]&(1<<(b%64)) != 0 }
	rng := rand.New(rand.NewPCG(seed, 99))
	counts := map[clock.Order]int{}
	for k := 0; k < 3000; k++ {
		a, b := proc[rng.IntN(len(proc))], proc[rng.IntN(len(proc))]
		if k%3 == 0 { // favour nearby pairs, where relations are interesting
			j := slices.Index(proc, a)
			b = proc[min(len(proc)-1, j+rng.IntN(40))]
		}
		want := clock.Concurrent
		switch {
		case a == b:
			want = clock.Equal
		case reachable(a, b):
			want = clock.Before
		case reachable(b, a):
			want = clock.After
		}
		got, err := tr.Relation(a, b)
		if err != nil || got != want {
			t.Fatalf("Relation(e%d, e%d) = %v, %v; reachability says %v (%s)", a, b, got, err, want, replay())
		}
		counts[want]++
	}
	if counts[clock.Before]+counts[clock.After] == 0 || counts[clock.Concurrent] == 0 {
		t.Fatalf("oracle saw only %v: pairs too uniform to test anything", counts)
	}
}
