package sim_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"ordo/election/raft"
	"ordo/sim"
	"ordo/trace"
)

// KeepMessages puts every sent message, in wire mode too, in its send
// event as JSON that decodes to the protocol's fields, changes nothing
// else of the run, and the trace reads back.
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
	// The same run, bodies aside; and the trace with bodies reads back.
	stripped := *kept.Trace()
	stripped.Events = append([]trace.Event(nil), stripped.Events...)
	for i := range stripped.Events {
		stripped.Events[i].Body = nil
	}
	if traceJSON(t, &stripped) != traceJSON(t, plain.Trace()) {
		t.Fatal("keeping messages changed the run")
	}
	for _, e := range plain.Trace().Events {
		if e.Body != nil {
			t.Fatal("a run without KeepMessages kept a message")
		}
	}
	var buf bytes.Buffer
	if err := kept.Trace().Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := trace.Read(&buf)
	if err != nil {
		t.Fatalf("a trace with message bodies does not read back: %v", err)
	}
	a, _ := json.Marshal(back.Events)
	b, _ := json.Marshal(kept.Trace().Events)
	if string(a) != string(b) {
		t.Fatal("message bodies changed through the file")
	}
	sends := 0
	for _, e := range kept.Trace().Events {
		if e.Kind != trace.Send {
			continue
		}
		sends++
		var fields map[string]any
		if e.Body == nil {
			t.Fatalf("e%d: no body kept", e.ID)
		}
		if err := json.Unmarshal(*e.Body, &fields); err != nil || len(fields) == 0 {
			t.Fatalf("e%d: %s kept as %s (%v)", e.ID, e.MsgKind, e.Body, err)
		}
	}
	if sends == 0 {
		t.Fatal("no sends")
	}
}
