package partial

import (
	"fmt"
	"time"

	"ordo"
)

// Timeouts tuned from data (section 5, strategy 2, "타임아웃 조정: 너무
// 짧지도, 길지도 않게"): a monitor probes a peer at a fixed interval and
// records every round trip. One run measures the link's round-trip
// distribution; a second run, with another seed, judges timeouts set at its
// p50, p99 and p99.9, and the φ accrual detector of package detect: how
// often each suspects the live peer (a false timeout) against how long each
// takes to suspect it after it crashes.

// Ping is a probe; Pong answers it with the same Seq.
type Ping struct{ Seq int64 }

// Kind implements ordo.Message.
func (Ping) Kind() string { return "ping" }

// Pong answers a Ping.
type Pong struct{ Seq int64 }

// Kind implements ordo.Message.
func (Pong) Kind() string { return "pong" }

// Probe is node 1's side (the monitor, probing its first peer) and every
// other node's (answer pings). The monitor records when each probe left and when its answer
// came back, on its monotonic clock.
type Probe struct {
	interval time.Duration
	count    int
	Sent     []time.Duration // by Seq-1
	Back     []time.Duration // by Seq-1; -1: no answer (yet)
}

const timerProbe = "probe"

// MaxProbes bounds one monitor's probes (two slices of this many entries).
const MaxProbes = 1 << 20

// Start implements ordo.Node.
func (p *Probe) Start(env ordo.Env) {
	if env.ID() == 1 && len(env.Peers()) > 0 {
		env.After(p.interval, ordo.Timer{Name: timerProbe})
	}
}

// Fire implements ordo.Node: the monitor sends its next probe.
func (p *Probe) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name != timerProbe || len(p.Sent) >= p.count {
		return
	}
	p.Sent = append(p.Sent, env.Monotonic())
	p.Back = append(p.Back, -1)
	env.Send(env.Peers()[0], Ping{Seq: int64(len(p.Sent))})
	env.After(p.interval, ordo.Timer{Name: timerProbe})
}

// Receive implements ordo.Node.
func (p *Probe) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Ping:
		env.Send(from, Pong(m))
	case Pong:
		if i := m.Seq - 1; i >= 0 && i < int64(len(p.Back)) && p.Back[i] < 0 {
			p.Back[i] = env.Monotonic()
		}
	}
}

// ProbeProtocol is "rtt-probe": n1 probes its first peer at an interval.
var ProbeProtocol = &ordo.Protocol{
	Name: "rtt-probe",
	Doc:  "n1 pings n2 at an interval and records round trips (section 5: timeouts tuned from data)",
	Options: []ordo.Option{
		{Name: "interval", Default: "10ms", Help: "time between probes"},
		{Name: "count", Default: "10000", Help: "probes to send in all"},
	},
	New: func(cfg ordo.Config) (ordo.Node, error) {
		p := &Probe{interval: cfg.Opts.Duration("interval"), count: cfg.Opts.Int("count")}
		if p.interval <= 0 || p.count < 1 || p.count > MaxProbes {
			return nil, fmt.Errorf("probe: need interval > 0 and count in 1..%d, got %v and %d", MaxProbes, p.interval, p.count)
		}
		return p, nil
	},
	Messages: []ordo.Message{Ping{}, Pong{}},
}

func init() { ordo.Register(ProbeProtocol) }
