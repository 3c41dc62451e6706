package sim_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"ordo"
	"ordo/sim"
)

// termPing carries a term; its Validate refuses one above ordo.MaxTerm.
type termPing struct{ Term uint64 }

func (termPing) Kind() string      { return "term-ping" }
func (m termPing) Validate() error { return ordo.CheckTerm("term", m.Term) }

// counter counts what node 2 receives.
type counter struct {
	sender
	got *int
}

func (n counter) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) { *n.got++ }

// Wire mode refuses an absurd message as the live transport does: dropped
// and counted as malformed, never delivered; a sane one is delivered.
func TestWireModeDropsAbsurdMessages(t *testing.T) {
	for _, tc := range []struct {
		term      uint64
		delivered int
	}{{ordo.MaxTerm, 1}, {math.MaxUint64, 0}} {
		got := 0
		p := &ordo.Protocol{Name: "absurd", Messages: []ordo.Message{termPing{}},
			New: func(ordo.Config) (ordo.Node, error) { return counter{sender{termPing{tc.term}}, &got}, nil }}
		s, err := sim.New(sim.Config{Protocol: p, Nodes: 2, Seed: 1, Wire: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RunFor(time.Second); err != nil {
			t.Fatal(err)
		}
		if got != tc.delivered || s.Stats().Malformed != 1-tc.delivered {
			t.Errorf("term %d: delivered %d, malformed %d; want %d delivered", tc.term, got, s.Stats().Malformed, tc.delivered)
		}
	}
}

// remembers stores a mark at its first start and refuses it at the next,
// as a protocol refuses an absurd stored term (ordo.Corrupt).
type remembers struct{ sender }

func (remembers) Start(env ordo.Env) {
	if _, ok := env.Store().Get("mark"); ok {
		panic(ordo.Corrupt{Key: "mark", Err: errAbsurd})
	}
	env.Store().Put("mark", []byte{1})
}

var errAbsurd = errors.New("term exceeds the bound")

// ordo.Corrupt at Start stops that node (a fail-stop event naming the
// key), not the run.
func TestCorruptStoreFailStopsOneNode(t *testing.T) {
	p := &ordo.Protocol{Name: "remembers", Messages: []ordo.Message{termPing{}},
		New: func(ordo.Config) (ordo.Node, error) { return remembers{}, nil }}
	s, err := sim.New(sim.Config{Protocol: p, Nodes: 2, Seed: 1, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	s.Crash(1)
	if err := s.Restart(1); err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s.Up(1) || !s.Up(2) {
		t.Fatalf("up: n1 %v, n2 %v; want n1 stopped, n2 running", s.Up(1), s.Up(2))
	}
	found := false
	for _, e := range s.Trace().Events {
		if e.Node == 1 && e.Name == "fail-stop" {
			found = true
			t.Logf("%s %v", e.Describe(), e.Attrs)
		}
	}
	if !found {
		t.Fatal("no fail-stop event of n1 in the trace")
	}
}
