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
	SimOpsPerS    float64               `json:"ops_per_s"` // per simulated second; live: per second
	Live          bool                  `json:"live,omitempty"`
	MessagesPerOp float64               `json:"messages_per_op"`
	BytesPerOp    float64               `json:"bytes_per_op"`
	P50Ms         float64               `json:"p50_ms"`
	P99Ms         float64               `json:"p99_ms"`
}

// LoadClientOptions are the options of protocol's client under the load
// ReplicationLoad applies (the live measurement gives its clients the
// same), and the client notes that open and close one operation.
// Errors: a protocol other than pbft or kv.
func LoadClientOptions(protocol string) (opts map[string]string, start, end string, err error) {
	switch protocol {
	case "pbft":
		return map[string]string{"ops": strconv.Itoa(1 << 20), "think": "0s", "timeout": "500ms"}, agreement.NotePropose, agreement.NoteAccept, nil
	case "kv":
		return map[string]string{"concurrency": "1", "ops": "0", "think": "0s", "reads": "0", "timeout": "500ms"}, history.NoteInvoke, history.NoteOK, nil
	}
	return nil, "", "", fmt.Errorf("protocol %q: want pbft or kv", protocol)
}

// LoadOfTrace measures the load of c from a trace of its run (a live
// cluster's merged trace): operations and their latencies from the
// clients' notes, messages and bytes from the receive events. The trace
// must cover c.Duration of load.
func LoadOfTrace(c ReplicationLoadConfig, t *trace.Trace) (*ReplicationLoadResult, error) {
	_, start, end, err := LoadClientOptions(c.Protocol)
	if err != nil {
		return nil, err
	}
	obs := &latencies{start: start, end: end, open: map[opKey]int64{}}
	var delivered int
	var bytes int64
	for i := range t.Events {
		e := &t.Events[i]
		switch e.Kind {
		case trace.Note:
			obs.Observe(e)
		case trace.Recv:
			delivered++
			bytes += int64(e.Bytes)
		}
	}
	return obs.result(c, delivered, bytes), nil
}

// ReplicationLoad runs one measurement. Errors: a protocol other than
// pbft or kv, sizes out of bounds, the simulator's.
func ReplicationLoad(c ReplicationLoadConfig) (*ReplicationLoadResult, error) {
	client, start, end, err := LoadClientOptions(c.Protocol)
	if err != nil {
		return nil, err
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
	opts, err := p.Resolve(nil)
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
	return obs.result(c, st.Delivered, st.Bytes), nil
}

// result is the measurement of the operations observed, with delivered
// messages and bytes, over c.Duration.
func (o *latencies) result(c ReplicationLoadConfig, delivered int, bytes int64) *ReplicationLoadResult {
	res := &ReplicationLoadResult{Config: c, Ops: len(o.done), SimOpsPerS: float64(len(o.done)) / c.Duration.Seconds()}
	if n := len(o.done); n > 0 {
		res.MessagesPerOp = float64(delivered) / float64(n)
		res.BytesPerOp = float64(bytes) / float64(n)
		slices.Sort(o.done)
		res.P50Ms = float64(o.done[(n-1)/2]) / 1e6
		res.P99Ms = float64(o.done[(n-1)*99/100]) / 1e6
	}
	return res
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
