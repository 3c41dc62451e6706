package lab

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"ordo"
	"ordo/agreement"
	"ordo/history"
	"ordo/sim"
	"ordo/trace"
)

// ReplicationLoadConfig is one measurement of a replicated service in the
// simulator (issue 14: PBFT's cost beside ordo's Raft database): Clients
// closed-loop clients, each with one request outstanding and no pause,
// writing only, on a LAN with no faults, in wire mode (real bytes,
// authenticated links). Protocol "pbft" runs PBFT with f = ⌊(n−1)/3⌋;
// "kv" runs the Raft database under the same load.
type ReplicationLoadConfig struct {
	Protocol string
	Nodes    int
	Clients  int
	Duration time.Duration
	Seed     uint64
}

// Bounds of a ReplicationLoad run.
const (
	MaxLoadClients  = 256
	MaxLoadDuration = time.Hour
)

// ReplicationLoadResult is what one run measured. Latency runs from a
// client's request to its acceptance (PBFT: f+1 matching replies; kv:
// the leader's answer); Messages and Bytes are every message the
// simulator delivered, requests and replies included.
type ReplicationLoadResult struct {
	Config        ReplicationLoadConfig `json:"config"`
	Ops           int                   `json:"ops"`
	SimOpsPerS    float64               `json:"sim_ops_per_s"`
	MessagesPerOp float64               `json:"messages_per_op"`
	BytesPerOp    float64               `json:"bytes_per_op"`
	P50Ms         float64               `json:"p50_ms"`
	P99Ms         float64               `json:"p99_ms"`
}

// ReplicationLoad runs one measurement. Errors: a protocol other than
// pbft or kv, sizes out of bounds, the simulator's.
func ReplicationLoad(c ReplicationLoadConfig) (*ReplicationLoadResult, error) {
	var server map[string]string
	var client map[string]string
	var start, end string // the client's notes that open and close an operation
	switch c.Protocol {
	case "pbft":
		client = map[string]string{"ops": strconv.Itoa(1 << 20), "think": "0s", "timeout": "500ms"}
		start, end = agreement.NotePropose, agreement.NoteAccept
	case "kv":
		client = map[string]string{"concurrency": "1", "ops": "0", "think": "0s", "reads": "0", "timeout": "500ms"}
		start, end = history.NoteInvoke, history.NoteOK
	default:
		return nil, fmt.Errorf("protocol %q: want pbft or kv", c.Protocol)
	}
	switch {
	case c.Nodes < 1 || c.Nodes > sim.MaxNodes:
		return nil, fmt.Errorf("%d nodes: want 1..%d", c.Nodes, sim.MaxNodes)
	case c.Clients < 1 || c.Clients > MaxLoadClients:
		return nil, fmt.Errorf("%d clients: want 1..%d", c.Clients, MaxLoadClients)
	case c.Duration <= 0 || c.Duration > MaxLoadDuration:
		return nil, fmt.Errorf("duration %v: want (0, %v]", c.Duration, MaxLoadDuration)
	}
	p, err := ordo.Lookup(c.Protocol)
	if err != nil {
		return nil, fmt.Errorf("%w (import its package)", err)
	}
	opts, err := p.Resolve(server)
	if err != nil {
		return nil, err
	}
	cp, err := ordo.Lookup(p.Client)
	if err != nil {
		return nil, fmt.Errorf("protocol %s has no client protocol: %w", c.Protocol, err)
	}
	copts, err := cp.Resolve(client)
	if err != nil {
		return nil, err
	}
	obs := &latencies{start: start, end: end, open: map[opKey]int64{}}
	s, err := sim.New(sim.Config{Protocol: p, Options: opts, Nodes: c.Nodes, Seed: c.Seed, Name: "load-" + c.Protocol, Wire: true,
		Network:  sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}, Authenticated: true},
		Clients:  []sim.ClientGroup{{Protocol: cp, Options: copts, Count: c.Clients}},
		Observer: obs})
	if err != nil {
		return nil, err
	}
	if err := s.RunUntil(c.Duration); err != nil {
		return nil, err
	}
	st := s.Stats()
	res := &ReplicationLoadResult{Config: c, Ops: len(obs.done), SimOpsPerS: float64(len(obs.done)) / c.Duration.Seconds()}
	if n := len(obs.done); n > 0 {
		res.MessagesPerOp = float64(st.Delivered) / float64(n)
		res.BytesPerOp = float64(st.Bytes) / float64(n)
		slices.Sort(obs.done)
		res.P50Ms = float64(obs.done[(n-1)/2]) / 1e6
		res.P99Ms = float64(obs.done[(n-1)*99/100]) / 1e6
	}
	return res, nil
}

// opKey names one operation: its client and the number the client gave
// it (kv: the history id; PBFT: the request's timestamp).
type opKey struct {
	node ordo.NodeID
	id   int64
}

// latencies pairs a client's start and end notes (sim.Observer). The
// open map holds one entry per outstanding operation: at most one per
// client here (closed loop, one outstanding).
type latencies struct {
	start, end string
	open       map[opKey]int64
	done       []int64 // ns
}

func (o *latencies) Begin(trace.Meta)        {}
func (o *latencies) Wants(k trace.Kind) bool { return k == trace.Note }
func (o *latencies) NeedsVectors() bool      { return false }
func (o *latencies) idOf(e *trace.Event) (int64, bool) {
	if v, ok := e.Attrs.Int("id"); ok {
		return v, true
	}
	return e.Attrs.Int("ts")
}

func (o *latencies) Observe(e *trace.Event) {
	if e.Name != o.start && e.Name != o.end {
		return
	}
	id, ok := o.idOf(e)
	if !ok {
		return
	}
	k := opKey{e.Node, id}
	if e.Name == o.start {
		o.open[k] = e.T
		return
	}
	if t0, ok := o.open[k]; ok {
		o.done = append(o.done, e.T-t0)
		delete(o.open, k)
	}
}
