package sim_test

import (
	"encoding/json"
	"testing"
	"time"

	"ordo/election/raft"
	"ordo/sim"
	"ordo/trace"
)

// KeepMessages keeps every sent message, in wire mode too, as JSON that
// decodes to the protocol's fields, and changes nothing of the run.
func TestKeepMessages(t *testing.T) {
	run := func(keep bool) *sim.Sim {
		s, err := sim.New(sim.Config{Protocol: raft.Protocol, Nodes: 3, Seed: 3, Trace: true, Wire: true, KeepMessages: keep,
			Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.1}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RunFor(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		return s
	}
	kept, plain := run(true), run(false)
	if traceJSON(t, kept.Trace()) != traceJSON(t, plain.Trace()) {
		t.Fatal("keeping messages changed the run")
	}
	sends := 0
	for _, e := range kept.Trace().Events {
		if e.Kind != trace.Send {
			continue
		}
		sends++
		b, ok := kept.MessageJSON(e.Msg)
		if !ok {
			t.Fatalf("e%d: message %d not kept", e.ID, e.Msg)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil || len(fields) == 0 {
			t.Fatalf("e%d: %s kept as %s (%v)", e.ID, e.MsgKind, b, err)
		}
		if _, ok := plain.MessageJSON(e.Msg); ok {
			t.Fatal("a run without KeepMessages kept a message")
		}
	}
	if sends == 0 {
		t.Fatal("no sends")
	}
}
