package sim

import (
	"bytes"
	"testing"
	"time"

	"ordo"
	"ordo/clock"
	"ordo/trace"
)

type ping struct{ Seq int }

func (ping) Kind() string { return "ping" }

type pinger struct{ seq int }

func (p *pinger) Start(env ordo.Env)                                     { env.After(100*time.Millisecond, ordo.Timer{Name: "tick"}) }
func (p *pinger) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {}
func (p *pinger) Fire(env ordo.Env, t ordo.Timer) {
	p.seq++
	for _, q := range env.Peers() {
		env.Send(q, ping{p.seq})
	}
	env.After(100*time.Millisecond, ordo.Timer{Name: "tick"})
}

var pingProto = &ordo.Protocol{Name: "pinger", New: func(ordo.Config) (ordo.Node, error) { return &pinger{}, nil }}

func runPing(t *testing.T, seed uint64) []byte {
	s, err := New(Config{Protocol: pingProto, Nodes: 3, Seed: seed, Trace: true,
		Network: Network{Default: Link{Latency: Presets["lan"], Loss: 0.1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Trace().Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSmokeDeterminism(t *testing.T) {
	a, b, c := runPing(t, 1), runPing(t, 1), runPing(t, 2)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different traces")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same trace")
	}
	tr, err := trace.Read(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Events) < 100 {
		t.Fatalf("only %d events", len(tr.Events))
	}
	// a later event on the same node follows an earlier one
	var first, later = -1, -1
	for i, e := range tr.Events {
		if e.Node == 1 && e.Kind.Stamped() {
			if first < 0 {
				first = i
			} else {
				later = i
			}
		}
	}
	o, err := tr.Relation(first, later)
	if err != nil || o != clock.Before {
		t.Fatalf("relation %v %v", o, err)
	}
	ch, err := tr.Chain(first, later)
	if err != nil || len(ch) < 2 {
		t.Fatalf("chain %v %v", ch, err)
	}
}
