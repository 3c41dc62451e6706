package scenario

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"ordo"
	"ordo/check"
	"ordo/sim"
	"ordo/trace"
)

// RunOptions adjust one run of a scenario.
type RunOptions struct {
	// Seed overrides the file's seed when set.
	Seed *uint64
	// Trace keeps the trace in the Result (it is recorded anyway when the
	// scenario has checks, since checkers read it).
	Trace bool
	// MaxEvents bounds the run (0: the simulator's default).
	MaxEvents uint64
	// KeepMessages puts each message's contents in its send event
	// (sim.Config.KeepMessages), as a Stepper does.
	KeepMessages bool
}

// Result is what one run produced.
type Result struct {
	Scenario  *Scenario
	Seed      uint64
	Trace     *trace.Trace // nil unless traced
	Stats     *sim.Stats
	Fallacies sim.Fallacies
	// CostUSD is the transport cost of Stats.Bytes at the scenario's price.
	CostUSD float64
	Checks  []check.Result
	// Unmet lists the expectations the run did not meet, one line each.
	Unmet []string
	// Struck names, in time order, the node each fault aimed at `leader`
	// struck, or that it was skipped because no server led.
	Struck  []Struck
	Events  uint64
	SimTime time.Duration
	// Wall is how long the run took in real time.
	Wall time.Duration
}

// Config returns the simulator configuration of a run with seed.
func (sc *Scenario) Config(seed uint64, traced bool) sim.Config {
	net := sc.Network
	// The simulator changes links at run time: give it its own map.
	net.Links = maps.Clone(sc.Network.Links)
	return sim.Config{
		Protocol: sc.Protocol,
		Options:  sc.Options,
		Nodes:    sc.Nodes,
		Clients:  sc.clientGroups(),
		Services: sc.serviceGroups(),
		Seed:     seed,
		Network:  net,
		Clock:    sc.Clock,
		ClockOf:  sc.ClockOf,
		Absent:   sc.Absent,
		Speed:    sc.Speed,
		SpeedOf:  sc.SpeedOf,
		Trace:    traced,
		Name:     sc.Name,
		Wire:     sc.Wire,
		Disk:     sc.Disk,
		// The simulator keeps no reference: a clone, like the links.
		Byzantine: slices.Clone(sc.Byzantine),
	}
}

// Run runs the scenario in the simulator for its duration, then runs its
// checks and compares them with its expectations. An error means the run
// could not happen as written (a fault the cluster refused, the event
// bound; a run cut at its bound of events, traced, returns with the error
// a Result holding its trace up to there and no checks); a failed check
// is not an error but a Result.
func (sc *Scenario) Run(o RunOptions) (*Result, error) {
	start := time.Now()
	seed := sc.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	traced := o.Trace || len(sc.Checks) > 0
	x, err := sc.start(seed, traced, o.MaxEvents, o.KeepMessages)
	if err != nil {
		return nil, err
	}
	s := x.s
	if err := s.RunFor(sc.Duration); err != nil {
		var cut sim.ErrEventLimit
		if errors.As(err, &cut) && o.Trace {
			// Cut at its bound: the trace up to there, for a look at
			// what flooded it (ordo sim --trace wrote nothing before).
			return &Result{Scenario: sc, Seed: seed, Stats: s.Stats(), Trace: s.Trace(), Events: s.Events(), SimTime: s.Now(), Wall: time.Since(start)}, fmt.Errorf("%s: %w", sc.File, err)
		}
		return nil, fmt.Errorf("%s: %w", sc.File, err)
	}
	if x.err != nil {
		return nil, x.err
	}
	st := s.Stats()
	r := &Result{
		Scenario:  sc,
		Seed:      seed,
		Stats:     st,
		Fallacies: s.Fallacies(),
		CostUSD:   float64(st.Bytes) / 1e9 * sc.PricePerGB,
		Events:    s.Events(),
		SimTime:   s.Now(),
		Struck:    x.struck,
	}
	if traced {
		r.Trace = s.Trace()
		r.Checks, err = check.Run(r.Trace, sc.Checks)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.File, err)
		}
		r.Unmet = unmet(sc.Expect, r.Checks)
	}
	if !o.Trace {
		r.Trace = nil
	}
	r.Wall = time.Since(start)
	return r, nil
}

// run is one simulation of a scenario: the simulator, with the scenario's
// faults and nemesis scheduled, and what its faults record as they fire.
// Run and the Stepper (step.go) drive one each.
type run struct {
	s *sim.Sim
	// err is the first fault that failed; later faults do nothing.
	err error
	// struck lists, in time order, what each fault aimed at `leader`
	// struck; struckBy the node, by index in sc.Faults; lastCrash the
	// node the latest crash: leader struck (None: none, or it was
	// skipped), which an injected restart: leader restarts.
	struck    []Struck
	struckBy  map[int]ordo.NodeID
	lastCrash ordo.NodeID
}

// start builds the simulator of a run of sc with seed (traced: keep the
// trace; maxEvents: the event bound, 0 for the simulator's default) and
// schedules the scenario's fault schedule and nemesis. Errors name the
// scenario's file: a configuration the simulator refuses, a nemesis that
// cannot be drawn.
func (sc *Scenario) start(seed uint64, traced bool, maxEvents uint64, keepMessages bool) (*run, error) {
	cfg := sc.Config(seed, traced)
	cfg.MaxEvents = maxEvents
	cfg.KeepMessages = keepMessages || sc.NeedsMessageBodies()
	s, err := sim.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sc.File, err)
	}
	r := &run{s: s, struckBy: map[int]ordo.NodeID{}}
	for i := range sc.Faults {
		f := &sc.Faults[i]
		s.At(f.At, func(*sim.Sim) {
			if r.err != nil {
				return
			}
			if err := r.fire(f, i); err != nil {
				r.err = fmt.Errorf("%s:%d: fault %q at %v: %w", sc.File, f.Line, f.Desc, f.At, err)
			}
		})
	}
	if sc.Nemesis != nil {
		if err := startNemesis(s, sc.Nemesis); err != nil {
			return nil, fmt.Errorf("%s:%d: nemesis: %w", sc.File, sc.Nemesis.Line, err)
		}
	}
	return r, nil
}

// NeedsMessageBodies reports whether one of the scenario's checks reads
// message bodies (the equivocation checker of package agreement), which
// the run then keeps (sim.Config.KeepMessages; live, Config.KeepMessages).
func (sc *Scenario) NeedsMessageBodies() bool {
	for _, name := range sc.Checks {
		c, err := check.Lookup(name)
		if b, ok := c.(interface{ NeedsMessageBodies() bool }); err == nil && ok && b.NeedsMessageBodies() {
			return true
		}
	}
	return false
}

// fire performs fault f now: the scenario's i-th (index in sc.Faults), or
// an injected one (i < 0). A fault aimed at `leader` strikes the leader
// now, or, for a restart, the node the crash: leader it follows struck
// (an injected restart: leader, the latest crash: leader's).
func (r *run) fire(f *Fault, i int) error {
	if !f.Leader {
		return f.apply(r.s)
	}
	var id ordo.NodeID
	switch {
	case f.follows >= 0:
		id = r.struckBy[f.follows]
	case f.Kind == "restart":
		id = r.lastCrash
	default:
		id = Leader(r.s)
	}
	x, err := strikeLeader(r.s, f, id)
	r.struck = append(r.struck, x)
	if i >= 0 {
		r.struckBy[i] = id
	}
	if f.Kind == "crash" {
		r.lastCrash = id
	}
	return err
}

func unmet(exp []Expectation, got []check.Result) []string {
	var out []string
	for _, e := range exp {
		for _, g := range got {
			want := check.Fail
			if e.Pass {
				want = check.Pass
			}
			if g.Check != e.Check || g.Verdict == want {
				continue
			}
			got := string(g.Verdict)
			if g.Verdict == check.NotApplicable || g.Verdict == check.Unknown {
				got += " (" + g.Summary + ")"
			}
			out = append(out, fmt.Sprintf("%s: expected %s, got %s", e.Check, want, got))
		}
	}
	return out
}
