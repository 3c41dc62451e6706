package viz

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/diagram"
	"ordo/sim"
)

// checkLayout asserts the layout's causal invariants: a receive is never
// left of its send (the same column only when drawn as a vertical arrow,
// strictly right otherwise), and columns strictly increase along a lane.
func checkLayout(p *Picture) error {
	lo := p.layout()
	for i, m := range p.Msgs {
		cs, cr := lo.col[m.From], lo.col[m.To]
		if lo.vertical[i] {
			if cs != cr {
				return fmt.Errorf("message %d (mark %d -> %d) is a vertical arrow from column %d to %d", i, m.From, m.To, cs, cr)
			}
			continue
		}
		if cr <= cs {
			return fmt.Errorf("message %d: receive (mark %d, %q) in column %d, not after its send (mark %d, %q) in column %d",
				i, m.To, p.Marks[m.To].Label, cr, m.From, p.Marks[m.From].Label, cs)
		}
	}
	// A vertical receive shares its sender's column, so any other message
	// into the same mark must still come from a column strictly left.
	for i, m := range p.Msgs {
		for j, o := range p.Msgs {
			if i != j && m.To == o.To && lo.vertical[i] && m.From != o.From && lo.col[o.From] >= lo.col[m.To] {
				return fmt.Errorf("mark %d: vertical from column %d, but also receives from mark %d in column %d", m.To, lo.col[m.From], o.From, lo.col[o.From])
			}
		}
	}
	last := map[int]int{}
	for i, mk := range p.Marks {
		if mk.Lane < 0 || mk.Lane >= len(p.Lanes) {
			continue
		}
		if c, ok := last[mk.Lane]; ok && lo.col[i] <= c {
			return fmt.Errorf("lane %d: mark %d (%q) in column %d, not after the lane's previous mark in column %d", mk.Lane, i, mk.Label, lo.col[i], c)
		}
		last[mk.Lane] = lo.col[i]
	}
	return nil
}

func diagramPicture(t *testing.T, src string) *Picture {
	t.Helper()
	d, err := diagram.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromDiagram(d, "lamport")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The reviewer's two repros: a receive placed at the start of an empty lane
// although its send is further right, and an event receiving two messages
// placed under the first sender although the second is further right.
func TestLayoutReceiveNotLeftOfSend(t *testing.T) {
	for _, src := range []string{
		"P1: a b c\nP2: e f g\nP3: h\nc -> h\n",
		"P1: a b c\nP2: d\na -> d\nc -> d\n",
		"P1: a b c\nP2: d\nc -> d\na -> d\n",
	} {
		p := diagramPicture(t, src)
		if err := checkLayout(p); err != nil {
			var b bytes.Buffer
			_ = p.Render(&b, 0)
			t.Errorf("%q: %v\n%s", src, err, b.String())
		}
	}
	// h is drawn after c: in the column right of it (or below it as an
	// arrow), never before a.
	var b bytes.Buffer
	if err := diagramPicture(t, "P1: a b c\nP2: e f g\nP3: h\nc -> h\n").Render(&b, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	var p1, p3 string
	for _, l := range lines {
		if strings.HasPrefix(l, "P1:") {
			p1 = l
		}
		if strings.HasPrefix(l, "P3:") {
			p3 = l
		}
	}
	if c, h := strings.LastIndex(p1, "●"), strings.Index(p3, "●"); h < c {
		t.Errorf("h drawn at byte %d, left of c at %d:\n%s", h, c, b.String())
	}
}

// randomDiagram writes a valid diagram: every event gets a global rank,
// events on a process are in rank order, and messages go from a lower rank
// to a higher one on another process (so there is no cycle).
func randomDiagram(r *rand.Rand) string {
	procs := 2 + r.IntN(4)
	type ev struct{ proc, rank int }
	var evs []ev
	var b strings.Builder
	rank := 0
	for p := range procs {
		fmt.Fprintf(&b, "P%d:", p+1)
		for range 1 + r.IntN(6) {
			fmt.Fprintf(&b, " e%d", len(evs))
			evs = append(evs, ev{p, 0})
		}
		b.WriteString("\n")
	}
	// Ranks: a random interleaving of the processes' sequences.
	next := make([]int, procs)
	start := make([]int, procs)
	for i, e := range evs {
		if i == 0 || evs[i-1].proc != e.proc {
			start[e.proc] = i
		}
	}
	count := make([]int, procs)
	for _, e := range evs {
		count[e.proc]++
	}
	for left := len(evs); left > 0; left-- {
		for {
			p := r.IntN(procs)
			if next[p] < count[p] {
				evs[start[p]+next[p]].rank = rank
				rank++
				next[p]++
				break
			}
		}
	}
	for range r.IntN(2 * len(evs)) {
		a, c := r.IntN(len(evs)), r.IntN(len(evs))
		if evs[a].proc != evs[c].proc && evs[a].rank < evs[c].rank {
			fmt.Fprintf(&b, "e%d -> e%d\n", a, c)
		}
	}
	return b.String()
}

// Property: for random valid diagrams, every receive is drawn right of its
// send (or below it as a vertical arrow) and lanes read left to right.
// Seed 1; replay one case with the printed source and `ordo clock lamport`.
func TestLayoutPropertyDiagrams(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 0))
	ok := 0
	for n := range 2000 {
		src := randomDiagram(r)
		d, err := diagram.Parse([]byte(src))
		if err != nil {
			continue // e.g. an event receiving twice from the same sender
		}
		p, err := FromDiagram(d, "none")
		if err != nil {
			t.Fatal(err)
		}
		if err := checkLayout(p); err != nil {
			var b bytes.Buffer
			_ = p.Render(&b, 0)
			t.Fatalf("case %d (seed 1): %v\nsource:\n%s\ndrawing:\n%s", n, err, src, b.String())
		}
		ok++
	}
	if ok < 1000 {
		t.Fatalf("only %d of 2000 random diagrams parsed", ok)
	}
}

// Property: the same for simulator traces of pinging nodes with random
// loss, latency and faults, across windows. Seeds 1..40; replay one with
// `go test ./viz -run TestLayoutPropertySim -v` (the failing seed is printed).
func TestLayoutPropertySim(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		nodes := 2 + r.IntN(4)
		presets := []string{"zero", "loopback", "lan", "intercontinental"}
		s, err := sim.New(sim.Config{Protocol: pingProto, Nodes: nodes, Seed: seed, Trace: true,
			Network: sim.Network{Default: sim.Link{Latency: sim.Presets[presets[r.IntN(len(presets))]], Loss: r.Float64() * 0.3}}})
		if err != nil {
			t.Fatal(err)
		}
		victim := ordo.NodeID(1 + r.IntN(nodes))
		s.At(time.Duration(r.IntN(400))*time.Millisecond, func(s *sim.Sim) { s.Crash(victim) })
		s.At(time.Duration(400+r.IntN(200))*time.Millisecond, func(s *sim.Sim) { s.Restart(victim) })
		s.At(time.Duration(600+r.IntN(100))*time.Millisecond, func(s *sim.Sim) {
			s.Partition([]ordo.NodeID{1}, func() (g []ordo.NodeID) {
				for i := 2; i <= nodes; i++ {
					g = append(g, ordo.NodeID(i))
				}
				return
			}())
		})
		s.At(800*time.Millisecond, func(s *sim.Sim) { s.Heal() })
		if err := s.RunFor(time.Second); err != nil {
			t.Fatal(err)
		}
		tr := s.Trace()
		// The simulator's traces are causally consistent (trace.Validate),
		// peer-down hints, drops, crashes and partitions included.
		if err := tr.Validate(); err != nil {
			t.Fatalf("seed %d: simulator trace fails Validate: %v", seed, err)
		}
		for _, w := range []Options{{MaxEvents: 1 << 20}, {From: len(tr.Events) / 3, MaxEvents: 50}} {
			p, err := FromTrace(tr, w)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkLayout(p); err != nil {
				t.Fatalf("seed %d, window from %d max %d: %v", seed, w.From, w.MaxEvents, err)
			}
		}
	}
}
