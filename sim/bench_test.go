package sim_test

import (
	"testing"
	"time"

	"ordo/detect"
	"ordo/sim"
)

// The simulator's benchmark workload: the heartbeat protocol (every node
// heartbeats every peer every 100 ms) on a LAN. One op is one process event
// (send, recv, timer, ...: what a trace would hold), so ns/op is the cost of
// an event and allocs/op must be 0 in steady state.
func heartbeatSim(b *testing.B, nodes int, tracing bool) *sim.Sim {
	o, err := detect.Protocol.Resolve(map[string]string{"interval": "100ms"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sim.New(sim.Config{Protocol: detect.Protocol, Options: o, Nodes: nodes, Seed: 1, Trace: tracing,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}, MaxEvents: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchHeartbeat(b *testing.B, nodes int, tracing bool) {
	s := heartbeatSim(b, nodes, tracing)
	// Warm up: queue, slab, inboxes and stats reach their steady size.
	if err := s.RunFor(time.Second); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	simStart := s.Now()
	start := time.Now()
	target := s.Stats().Events + int64(b.N)
	step := time.Duration(max(1, 10*5/nodes)) * time.Millisecond
	for s.Stats().Events < target {
		if err := s.RunFor(step); err != nil {
			b.Fatal(err)
		}
	}
	real := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/real.Seconds(), "events/s")
	b.ReportMetric(float64(s.Now()-simStart)/float64(real), "sim/real")
}

func BenchmarkHeartbeat5(b *testing.B)   { benchHeartbeat(b, 5, false) }
func BenchmarkHeartbeat50(b *testing.B)  { benchHeartbeat(b, 50, false) }
func BenchmarkHeartbeat500(b *testing.B) { benchHeartbeat(b, 500, false) }

// The baseline for comparison: the same 5-node run with tracing on (every
// event recorded in memory with its vector stamp).
func BenchmarkHeartbeat5Traced(b *testing.B) { benchHeartbeat(b, 5, true) }
