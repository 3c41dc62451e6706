package lab

import (
	"fmt"
	"strconv"
	"time"

	"ordo"
	"ordo/history"
	"ordo/sim"
	"ordo/trace"
)

// KVSimConfig is one measurement of the kv database in the simulator: a
// cluster under a closed-loop client load, no faults, the history judged
// online by Checks (none: nothing judged, the raw cost of the database).
type KVSimConfig struct {
	Protocol    string // "kv" ("" too)
	Nodes       int
	Clients     int
	Concurrency int // per client
	Keys        int
	ValueSize   int // bytes of each written value (padded)
	Reads       int // percent
	Duration    time.Duration
	Seed        uint64
	Checks      []string
	Options     map[string]string // server options
	Disk        time.Duration     // fsync latency (0: no disk model)
}

// KVSimResult is what a KVSim run measured.
type KVSimResult struct {
	Config     KVSimConfig `json:"config"`
	Ops        int         `json:"ops"` // completed ok
	Failed     int         `json:"failed"`
	Info       int         `json:"info"`
	Delivered  int         `json:"messages_delivered"`
	Steps      uint64      `json:"steps"`
	CPUSeconds float64     `json:"cpu_s"`
	OpsPerCPU  float64     `json:"ops_per_cpu_s"`
	SimOpsPerS float64     `json:"sim_ops_per_s"` // per simulated second
	Verdicts   []string    `json:"verdicts,omitempty"`
}

// KVSim runs one measurement. CPU time is the whole process's (the
// caller runs nothing else meanwhile). Errors: unknown protocol or bad
// options, the simulator's.
func KVSim(c KVSimConfig) (*KVSimResult, error) {
	if c.Protocol == "" {
		c.Protocol = "kv"
	}
	p, err := ordo.Lookup(c.Protocol)
	if err != nil {
		return nil, err
	}
	opts, err := p.Resolve(c.Options)
	if err != nil {
		return nil, err
	}
	cp, err := ordo.Lookup(p.Client)
	if err != nil {
		return nil, fmt.Errorf("protocol %s has no client protocol: %w", c.Protocol, err)
	}
	copts, err := cp.Resolve(map[string]string{
		"concurrency": strconv.Itoa(c.Concurrency), "keys": strconv.Itoa(max(c.Keys, 1)), "ops": "0", "think": "0s",
		"value_size": strconv.Itoa(c.ValueSize), "reads": strconv.Itoa(c.Reads), "timeout": "500ms",
	})
	if err != nil {
		return nil, err
	}
	counter := &opCounter{}
	cfg := sim.Config{Protocol: p, Options: opts, Nodes: c.Nodes, Seed: c.Seed, Name: "kv-sim",
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}},
		Clients: []sim.ClientGroup{{Protocol: cp, Options: copts, Count: c.Clients}}}
	if c.Disk > 0 {
		cfg.Disk = sim.Disk{SyncLatency: c.Disk}
	}
	var on *online
	if len(c.Checks) > 0 {
		if on, err = newOnline(c.Checks); err != nil {
			return nil, err
		}
	}
	cfg.Observer = &kvObserver{on: on, count: counter}
	before, err := cpuTime()
	if err != nil {
		return nil, err
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.RunUntil(c.Duration); err != nil {
		return nil, err
	}
	res := &KVSimResult{Config: c, Ops: counter.ok, Failed: counter.fail, Info: counter.info,
		Delivered: s.Stats().Delivered, Steps: s.Events()}
	if on != nil {
		on.sess.End(s.LastEventTime())
		for _, r := range on.sess.Results() {
			res.Verdicts = append(res.Verdicts, r.Check+": "+string(r.Verdict))
		}
	}
	after, err := cpuTime()
	if err != nil {
		return nil, err
	}
	res.CPUSeconds = (after - before).Seconds()
	if res.CPUSeconds > 0 {
		res.OpsPerCPU = float64(res.Ops) / res.CPUSeconds
	}
	res.SimOpsPerS = float64(res.Ops) / c.Duration.Seconds()
	return res, nil
}

type opCounter struct{ ok, fail, info int }

// kvObserver counts completed operations and feeds the checks, if any.
type kvObserver struct {
	on    *online
	count *opCounter
}

func (o *kvObserver) Begin(m trace.Meta) {
	if o.on != nil {
		o.on.Begin(m)
	}
}

func (o *kvObserver) Wants(k trace.Kind) bool {
	return k == trace.Note || o.on != nil && o.on.Wants(k)
}

func (o *kvObserver) NeedsVectors() bool { return o.on != nil && o.on.NeedsVectors() }

func (o *kvObserver) Observe(e *trace.Event) {
	if e.Kind == trace.Note {
		switch e.Name {
		case history.NoteOK:
			o.count.ok++
		case history.NoteFail:
			o.count.fail++
		case history.NoteInfo:
			o.count.info++
		}
	}
	if o.on != nil {
		o.on.Observe(e)
	}
}
