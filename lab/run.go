package lab

import (
	"fmt"
	"sort"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/sim"
	"ordo/trace"
)

// Spec is one simulated election run.
type Spec struct {
	Protocol string
	Options  map[string]string
	Nodes    int
	Seed     uint64
	Duration time.Duration
	Latency  sim.Dist // zero: the LAN preset
	Faults   []Fault
	// ClockOf gives nodes their own clock model (bench uses a fast clock
	// to choose which node's detector fires first).
	ClockOf map[ordo.NodeID]sim.ClockModel
	// Checks to run (nil: DefaultChecks).
	Checks []string
	// MaxEvents bounds the run (0: the simulator's default for a traced
	// run, sim.TracedMaxEvents).
	MaxEvents uint64
}

// DefaultChecks are the election checkers.
var DefaultChecks = []string{"single-leader", "one-leader-per-term", "eventual-leader", "fencing"}

// MaxNodes bounds the cluster of a campaign run.
const MaxNodes = 1024

// Outcome is what one run produced.
type Outcome struct {
	Spec         Spec
	Trace        *trace.Trace
	Stats        *sim.Stats
	Checks       []check.Result
	FinalLeaders []ordo.NodeID // nodes that consider themselves leader at the end
	Agreement    check.Agreement
	Spans        []check.LeaderSpan
}

// Violations lists every failed check's messages, prefixed by the check.
func (o *Outcome) Violations() []string {
	var out []string
	for _, r := range o.Checks {
		for _, v := range r.Violations {
			out = append(out, r.Check+": "+v.Message)
		}
	}
	return out
}

// Failed returns the names of the checks that failed.
func (o *Outcome) Failed() []string {
	var out []string
	for _, r := range o.Checks {
		if !r.OK {
			out = append(out, r.Check)
		}
	}
	return out
}

// New builds the simulator of a spec with its faults scheduled.
func New(sp Spec) (*sim.Sim, error) {
	p, opts, err := Validate(sp.Protocol, sp.Options, sp.Nodes)
	if err != nil {
		return nil, err
	}
	lat := sp.Latency
	if lat.Kind == "" && lat.A == 0 && lat.B == 0 {
		lat = sim.Presets["lan"]
	}
	s, err := sim.New(sim.Config{Protocol: p, Options: opts, Nodes: sp.Nodes, Seed: sp.Seed, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: lat}}, ClockOf: sp.ClockOf,
		Name: "elect-" + sp.Protocol, MaxEvents: sp.MaxEvents})
	if err != nil {
		return nil, err
	}
	faults := append([]Fault(nil), sp.Faults...)
	SortFaults(faults)
	for _, f := range faults {
		if f.Node != ordo.None && (f.Node < 1 || int(f.Node) > sp.Nodes) {
			return nil, fmt.Errorf("fault %v: node %d does not exist (the cluster is 1..%d)", f, f.Node, sp.Nodes)
		}
		if f.Kind == Partition {
			if _, err := ParseGroups(sim.FormatGroups(f.Groups), sp.Nodes); err != nil {
				return nil, fmt.Errorf("fault %v: %v", f, err)
			}
		}
		s.At(f.At, func(s *sim.Sim) { apply(s, f, lat) })
	}
	return s, nil
}

func apply(s *sim.Sim, f Fault, lat sim.Dist) {
	switch f.Kind {
	case Crash:
		s.Crash(f.Node)
	case Restart:
		if !s.Up(f.Node) {
			s.Restart(f.Node) // a down, present node restarts; errors only for absent nodes
		}
	case Partition:
		s.Partition(f.Groups...) // groups validated when scheduled
	case Heal:
		s.Heal()
	case Pause:
		s.Pause(f.Node)
	case Resume:
		s.Resume(f.Node)
	case ClockJump:
		s.JumpClock(f.Node, f.By)
	case Loss:
		n := s.Config().Nodes
		for a := 1; a <= n; a++ {
			for b := 1; b <= n; b++ {
				if a != b {
					s.SetLink(ordo.NodeID(a), ordo.NodeID(b), sim.Link{Latency: lat, Loss: f.Rate})
				}
			}
		}
	}
}

// Run runs a spec to its duration and checks the trace.
func Run(sp Spec) (*Outcome, error) {
	if sp.Duration <= 0 {
		return nil, fmt.Errorf("duration must be positive")
	}
	s, err := New(sp)
	if err != nil {
		return nil, err
	}
	if err := s.RunUntil(sp.Duration); err != nil {
		return nil, err
	}
	return Finish(sp, s)
}

// Finish checks a finished simulation.
func Finish(sp Spec, s *sim.Sim) (*Outcome, error) {
	tr := s.Trace()
	names := sp.Checks
	if names == nil {
		names = DefaultChecks
	}
	res, err := check.Run(tr, names)
	if err != nil {
		return nil, err
	}
	o := &Outcome{Spec: sp, Trace: tr, Stats: s.Stats(), Checks: res, Agreement: check.FinalAgreement(tr), Spans: check.LeaderSpans(tr)}
	for i := 1; i <= sp.Nodes; i++ {
		if nd, ok := s.Node(ordo.NodeID(i)).(election.Elector); ok && nd.View().Role == election.Leader {
			o.FinalLeaders = append(o.FinalLeaders, ordo.NodeID(i))
		}
	}
	return o, nil
}

// KindCount is the number of messages of one kind sent.
type KindCount struct {
	Kind string `json:"kind"`
	Sent int    `json:"sent"`
}

// ByKind lists messages sent by kind, sorted by kind.
func (o *Outcome) ByKind() []KindCount {
	var out []KindCount
	for _, k := range o.Stats.KindNames() {
		out = append(out, KindCount{k, o.Stats.Kinds[k].Sent})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}
