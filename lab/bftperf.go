package lab

import (
	"fmt"
	"maps"
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
// simulator (issue 14: PBFT's cost beside ordo's Raft database; issue 12:
// the Dynamo-style store at two quorum sizes): Clients closed-loop
// clients, each with one request outstanding (unless ClientOptions say
// otherwise) and no pause, on a LAN with no faults, in wire mode (real
// bytes, authenticated links). Protocol "pbft" runs PBFT with
// f = ⌊(n−1)/3⌋ and writes only; "kv" runs the Raft database under the
// same load; "dynamo" runs the store with its seeded get/put workload.
type ReplicationLoadConfig struct {
	Protocol string
	Nodes    int
	Clients  int
	Duration time.Duration
	Seed     uint64
	// Options are the servers' (dynamo: n_replicas, r, w); ClientOptions
	// go over LoadClientOf's (dynamo: concurrency, keys, reads).
	Options       map[string]string `json:",omitempty"`
	ClientOptions map[string]string `json:",omitempty"`
}

// Bounds of a ReplicationLoad run.
const (
	MaxLoadClients  = 256
	MaxLoadDuration = time.Hour
)

// ReplicationLoadResult is what one run measured. Latency runs from a
// client's request to its acceptance (PBFT: f+1 matching replies; kv:
// the leader's answer; dynamo: the coordinator's answer after R or W
// replicas); Messages and Bytes are every message the simulator
// delivered, requests and replies included.
type ReplicationLoadResult struct {
	Config        ReplicationLoadConfig `json:"config"`
	Ops           int                   `json:"ops"`
	SimOpsPerS    float64               `json:"ops_per_s"` // per simulated second; live: per second
	Live          bool                  `json:"live,omitempty"`
	MessagesPerOp float64               `json:"messages_per_op"`
	BytesPerOp    float64               `json:"bytes_per_op"`
	P50Ms         float64               `json:"p50_ms"`
	P99Ms         float64               `json:"p99_ms"`
	MaxMs         float64               `json:"max_ms"`
	// Failed counts operations that ended without success (refused, or
	// given up after their retries): not in Ops nor in the latencies.
	Failed int `json:"failed"`
	// Kinds splits Ops and the latencies by kind of operation (dynamo:
	// get, put), sorted by kind; empty for a client of one kind.
	Kinds []KindLoad `json:"kinds,omitempty"`
}

// KindLoad is the share of one kind of operation in a measurement.
type KindLoad struct {
	Kind    string  `json:"kind"`
	Ops     int     `json:"ops"`
	OpsPerS float64 `json:"ops_per_s"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
	Failed  int     `json:"failed"`
}

// LoadClient is how the load drives a protocol's clients and reads their
// operations back from their notes: the client's options under load
// (ReplicationLoad and the live measurement give its clients the same),
// the note that opens an operation, the notes that close one with
// success or with failure, matched by the attribute id (or ts), and the
// attribute of the opening note that names an operation's kind ("":
// one kind).
type LoadClient struct {
	Options map[string]string
	Start   string
	End     []string
	Fail    []string
	Kind    string
}

// LoadClientOf is protocol's LoadClient. Errors: a protocol other than
// pbft, kv or dynamo.
func LoadClientOf(protocol string) (LoadClient, error) {
	switch protocol {
	case "pbft":
		return LoadClient{Options: map[string]string{"ops": strconv.Itoa(1 << 20), "think": "0s", "timeout": "500ms"},
			Start: agreement.NotePropose, End: []string{agreement.NoteAccept}}, nil
	case "kv":
		return LoadClient{Options: map[string]string{"concurrency": "1", "ops": "0", "think": "0s", "reads": "0", "timeout": "500ms"},
			Start: history.NoteInvoke, End: []string{history.NoteOK}, Fail: []string{history.NoteFail, history.NoteInfo}}, nil
	case "dynamo":
		return dynamoLoadClient(), nil
	}
	return LoadClient{}, fmt.Errorf("protocol %q: want pbft, kv or dynamo", protocol)
}

// LoadClientOptions are the options of c's clients: its protocol's under
// load (LoadClientOf), with c.ClientOptions over them.
func LoadClientOptions(c ReplicationLoadConfig) (map[string]string, error) {
	lc, err := LoadClientOf(c.Protocol)
	if err != nil {
		return nil, err
	}
	opts := maps.Clone(lc.Options)
	maps.Copy(opts, c.ClientOptions)
	return opts, nil
}

// LoadOfTrace measures the load of c from a trace of its run (a live
// cluster's merged trace): operations and their latencies from the
// clients' notes, messages and bytes from the receive events. The trace
// must cover c.Duration of load.
func LoadOfTrace(c ReplicationLoadConfig, t *trace.Trace) (*ReplicationLoadResult, error) {
	lc, err := LoadClientOf(c.Protocol)
	if err != nil {
		return nil, err
	}
	obs := newLatencies(lc)
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
// pbft, kv or dynamo, options the protocols refuse, sizes out of bounds,
// the simulator's.
func ReplicationLoad(c ReplicationLoadConfig) (*ReplicationLoadResult, error) {
	lc, err := LoadClientOf(c.Protocol)
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
	opts, err := p.Resolve(c.Options)
	if err != nil {
		return nil, err
	}
	cp, err := ordo.Lookup(p.Client)
	if err != nil {
		return nil, fmt.Errorf("protocol %s has no client protocol: %w", c.Protocol, err)
	}
	client, err := LoadClientOptions(c)
	if err != nil {
		return nil, err
	}
	copts, err := cp.Resolve(client)
	if err != nil {
		return nil, err
	}
	obs := newLatencies(lc)
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
	all := o.all()
	res := &ReplicationLoadResult{Config: c, Ops: len(all), SimOpsPerS: float64(len(all)) / c.Duration.Seconds()}
	res.P50Ms, res.P99Ms, res.MaxMs = percentiles(all)
	if n := len(all); n > 0 {
		res.MessagesPerOp = float64(delivered) / float64(n)
		res.BytesPerOp = float64(bytes) / float64(n)
	}
	for _, k := range slices.Sorted(maps.Keys(o.kinds)) {
		kd := o.kinds[k]
		res.Failed += kd.failed
		if o.kind == "" {
			continue
		}
		kl := KindLoad{Kind: k, Ops: len(kd.done), OpsPerS: float64(len(kd.done)) / c.Duration.Seconds(), Failed: kd.failed}
		kl.P50Ms, kl.P99Ms, kl.MaxMs = percentiles(kd.done)
		res.Kinds = append(res.Kinds, kl)
	}
	return res
}

// percentiles are the p50, p99 and maximum of ns in ms (sorting ns);
// zero for none.
func percentiles(ns []int64) (p50, p99, max float64) {
	n := len(ns)
	if n == 0 {
		return 0, 0, 0
	}
	slices.Sort(ns)
	return float64(ns[(n-1)/2]) / 1e6, float64(ns[(n-1)*99/100]) / 1e6, float64(ns[n-1]) / 1e6
}

// opKey names one operation: its client and the number the client gave
// it (kv and dynamo: the history id; PBFT: the request's timestamp).
type opKey struct {
	node ordo.NodeID
	id   int64
}

// openOp is an operation begun and not yet ended.
type openOp struct {
	t    int64
	kind string
}

// kindOps are the operations of one kind that ended.
type kindOps struct {
	done   []int64 // latencies, ns
	failed int
}

// latencies pairs a client's start and end notes (sim.Observer). The
// open map holds one entry per outstanding operation: at most the
// clients' outstanding operations (closed loop); an operation whose end
// is never seen (lost with its client) stays until the run ends.
type latencies struct {
	start, kind string
	end, fail   map[string]bool
	open        map[opKey]openOp
	kinds       map[string]*kindOps
}

func newLatencies(lc LoadClient) *latencies {
	o := &latencies{start: lc.Start, kind: lc.Kind, end: map[string]bool{}, fail: map[string]bool{}, open: map[opKey]openOp{}, kinds: map[string]*kindOps{}}
	for _, n := range lc.End {
		o.end[n] = true
	}
	for _, n := range lc.Fail {
		o.fail[n] = true
	}
	return o
}

// all is every successful operation's latency, ns.
func (o *latencies) all() []int64 {
	var all []int64
	for _, kd := range o.kinds {
		all = append(all, kd.done...)
	}
	return all
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
	if e.Name != o.start && !o.end[e.Name] && !o.fail[e.Name] {
		return
	}
	id, ok := o.idOf(e)
	if !ok {
		return
	}
	k := opKey{e.Node, id}
	if e.Name == o.start {
		op := openOp{t: e.T}
		if o.kind != "" {
			op.kind, _ = e.Attrs.Get(o.kind).(string)
		}
		o.open[k] = op
		return
	}
	op, ok := o.open[k]
	if !ok {
		return
	}
	delete(o.open, k)
	kd := o.kinds[op.kind]
	if kd == nil {
		kd = &kindOps{}
		o.kinds[op.kind] = kd
	}
	if o.end[e.Name] {
		kd.done = append(kd.done, e.T-op.t)
	} else {
		kd.failed++
	}
}
