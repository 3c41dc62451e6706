package detect

import (
	"fmt"
	"time"

	"ordo"
)

// Beat is a heartbeat. It is an empty struct: converting it to
// ordo.Message does not allocate, so the heartbeat protocol runs
// allocation-free (it is the simulator's benchmark workload).
type Beat struct{}

func (Beat) Kind() string { return "heartbeat" }

// monitor is one node of the heartbeat protocol.
type monitor struct {
	interval, timeout time.Duration
	phi               int    // φ threshold, for detector "phi"
	kind              string // "timeout" or "phi"
	det               Detector
	suspected         []bool // by NodeID
}

const beatTimer = "beat"

func (m *monitor) Start(env ordo.Env) {
	// Monitoring starts now: a peer silent from the start is suspected
	// after the timeout, like one that fell silent later. Silences are
	// measured on the monotonic clock, never on Now, which NTP steps.
	if m.kind == "phi" {
		m.det = NewPhi(env.Peers(), PhiConfig{Threshold: float64(m.phi), Expected: m.interval}, env.Monotonic())
	} else {
		m.det = NewHeartbeat(env.Peers(), m.timeout, env.Monotonic())
	}
	// A random phase, so that nodes do not all beat at the same instant.
	env.After(time.Duration(env.Rand().Int64N(int64(m.interval))), ordo.Timer{Name: beatTimer})
}

func (m *monitor) Receive(env ordo.Env, from ordo.NodeID, msg ordo.Message) {
	now := env.Monotonic()
	m.det.Heard(from, now)
	if m.suspected[from] && !m.det.Suspect(from, now) {
		m.suspected[from] = false
		env.Note("trust", "peer", from)
	}
}

func (m *monitor) Fire(env ordo.Env, t ordo.Timer) {
	now := env.Monotonic()
	for _, p := range env.Peers() {
		env.Send(p, Beat{})
		if s := m.det.Suspect(p, now); s != m.suspected[p] {
			m.suspected[p] = s
			if s {
				env.Note("suspect", "peer", p)
			} else {
				env.Note("trust", "peer", p)
			}
		}
	}
	env.After(m.interval, ordo.Timer{Name: beatTimer})
}

// Suspects reports whether this node currently suspects p (for tests).
func (m *monitor) Suspects(p ordo.NodeID) bool { return m.suspected[p] }

func newMonitor(cfg ordo.Config) (ordo.Node, error) {
	m := &monitor{
		interval:  cfg.Opts.Duration("interval"),
		timeout:   cfg.Opts.Duration("timeout"),
		phi:       cfg.Opts.Int("phi"),
		kind:      cfg.Opts.String("detector"),
		suspected: make([]bool, cfg.N+1),
	}
	switch {
	case m.interval <= 0:
		return nil, fmt.Errorf("heartbeat: interval must be positive")
	case m.timeout <= 0:
		return nil, fmt.Errorf("heartbeat: timeout must be positive")
	case m.kind != "timeout" && m.kind != "phi":
		return nil, fmt.Errorf("heartbeat: detector %q unknown (valid: timeout, phi)", m.kind)
	case m.phi <= 0:
		return nil, fmt.Errorf("heartbeat: phi threshold must be positive")
	}
	return m, nil
}

// Protocol is the registered "heartbeat" protocol.
var Protocol = &ordo.Protocol{
	Name: "heartbeat",
	Doc:  "every node heartbeats every peer and notes suspect/trust (section 5, health checks)",
	Options: []ordo.Option{
		{Name: "interval", Default: "100ms", Help: "time between heartbeats to each peer"},
		{Name: "timeout", Default: "500ms", Help: "silence after which the timeout detector suspects a peer"},
		{Name: "detector", Default: "timeout", Help: "timeout (fixed) or phi (φ accrual)"},
		{Name: "phi", Default: "8", Help: "φ threshold for the phi detector"},
	},
	New:      newMonitor,
	Messages: []ordo.Message{Beat{}},
}

func init() { ordo.Register(Protocol) }
