package lab

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/fault"
	"ordo/sim"
	"ordo/trace"
)

// Spec is one simulated election run.
type Spec struct {
	Protocol string
	Options  map[string]string
	// ClientOptions override the options of the workload's clients.
	ClientOptions map[string]string
	Nodes         int
	Seed          uint64
	Duration      time.Duration
	Latency       sim.Dist // zero: the LAN preset
	Faults        []Fault  // any order; clock-drift faults at 0s only
	// ClockOf gives nodes their own clock model (bench uses a fast clock
	// to choose which node's detector fires first).
	ClockOf map[ordo.NodeID]sim.ClockModel
	// Checks to run (nil: DefaultChecks).
	Checks []string
	// MaxEvents bounds the run (0: the simulator's default for a traced
	// run, sim.TracedMaxEvents).
	MaxEvents uint64
	// Online runs the checks as events happen and keeps no trace
	// (Outcome.Trace is nil): what campaigns do.
	Online bool
	// Wire runs the network on real bytes (sim.Config.Wire). Campaigns
	// leave it off for speed; scenario files turn it on.
	Wire bool
	// Disk is the disk model (sim.Config.Disk). Off unless set, or unless
	// Faults hold a storage fault: then DefaultFsync is its fsync latency.
	Disk sim.Disk
	// ServiceOptions override the options of the protocol's service
	// nodes, by service protocol name ("coord": {"sweep": "0s"}).
	ServiceOptions map[string]map[string]string
}

// DefaultFsync is the fsync latency of the disk model that storage faults
// turn on (a datacenter SSD's order of magnitude).
const DefaultFsync = 500 * time.Microsecond

// DefaultChecks are the election checkers.
var DefaultChecks = slices.Clone(election.Checks)

// MaxNodes bounds the cluster of a campaign run: the simulator's bound, one
// for every command (memory is bounded separately, by --run-memory).
const MaxNodes = sim.MaxNodes

// Outcome is what one run produced.
type Outcome struct {
	Spec         Spec
	Trace        *trace.Trace
	Stats        *sim.Stats
	Checks       []check.Result
	FinalLeaders []ordo.NodeID // nodes that consider themselves leader at the end
	Agreement    election.Agreement
	Spans        []election.LeaderSpan
	// Notes counts the note kinds the protocol's workload counts
	// (Workload.Counted: snapshots, transfers, ...); nil without one.
	Notes map[string]int
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

// Failed returns the names of the checks that failed (not those that do
// not apply, nor those without a verdict).
func (o *Outcome) Failed() []string {
	var out []string
	for _, r := range o.Checks {
		if r.Failed() {
			out = append(out, r.Check)
		}
	}
	return out
}

// Undecided returns the checks that gave no verdict (unknown) or could not
// be judged on this run (not applicable), as "name: verdict".
func (o *Outcome) Undecided() []string {
	var out []string
	for _, r := range o.Checks {
		if r.Verdict == check.Unknown || r.Verdict == check.NotApplicable {
			out = append(out, r.Check+": "+string(r.Verdict))
		}
	}
	return out
}

// serviceGroups is p's services with opts applied (nil when opts is
// empty: the simulator's defaults). A name that is no service of p is an
// error.
func serviceGroups(p *ordo.Protocol, opts map[string]map[string]string) ([]sim.ServiceGroup, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	groups, err := sim.DefaultServices(p)
	if err != nil {
		return nil, err
	}
	for name := range opts {
		if !slices.Contains(p.Services, name) {
			return nil, fmt.Errorf("service options for %q: protocol %s has services %v", name, p.Name, p.Services)
		}
	}
	for i := range groups {
		o, ok := opts[groups[i].Protocol.Name]
		if !ok {
			continue
		}
		if groups[i].Options, err = groups[i].Protocol.Resolve(o); err != nil {
			return nil, err
		}
	}
	return groups, nil
}

// New builds the simulator of a spec with its faults scheduled.
func New(sp Spec) (*sim.Sim, error) {
	p, opts, err := Validate(sp.Protocol, withWorkloadOptions(sp.Protocol, sp.Options), sp.Nodes)
	if err != nil {
		return nil, err
	}
	lat := sp.Latency
	if lat.Kind == "" && lat.A == 0 && lat.B == 0 {
		lat = sim.Presets["lan"]
	}
	faults := fault.Schedule(slices.Clone(sp.Faults))
	faults.Sort()
	members, err := Members(sp.Protocol, sp.Nodes)
	if err != nil {
		return nil, err
	}
	if err := faults.Check(members); err != nil {
		return nil, err
	}
	clocks, err := faults.Clocks(sp.ClockOf) // clock-drift faults
	if err != nil {
		return nil, err
	}
	disk := sp.Disk
	if !disk.On() && faults.NeedsDisk() {
		disk.SyncLatency = DefaultFsync
	}
	cfg := sim.Config{Disk: disk, Protocol: p, Options: opts, Nodes: sp.Nodes, Seed: sp.Seed, Trace: !sp.Online,
		Network: sim.Network{Default: sim.Link{Latency: lat}}, ClockOf: clocks,
		Name: "elect-" + sp.Protocol, MaxEvents: sp.MaxEvents, Wire: sp.Wire}
	// A protocol that serves clients runs its workload (workload.go);
	// the clients stop a second before the end, so their last operations
	// complete.
	if cfg.Services, err = serviceGroups(p, sp.ServiceOptions); err != nil {
		return nil, err
	}
	if cfg.Clients, err = clientGroups(sp.Protocol, sp.ClientOptions, int64(sp.Duration-time.Second), int64(sp.Duration-fault.Settle)); err != nil {
		return nil, err
	}
	if sp.Online {
		names := sp.Checks
		if names == nil {
			names = ChecksFor(sp.Protocol)
		}
		on, err := newOnline(names)
		if err != nil {
			return nil, err
		}
		on.notes = newNoteCounter(sp.Protocol)
		cfg.Observer = on
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := faults.Inject(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Run runs a spec to its duration and checks the trace. A run cut at its
// bound of events returns the error with an Outcome holding its trace up
// to there (and no checks) unless Online.
func Run(sp Spec) (*Outcome, error) {
	if sp.Duration <= 0 {
		return nil, fmt.Errorf("--duration %v: must be positive", sp.Duration)
	}
	s, err := New(sp)
	if err != nil {
		return nil, err
	}
	if err := s.RunUntil(sp.Duration); err != nil {
		var cut sim.ErrEventLimit
		if errors.As(err, &cut) && !sp.Online {
			// Cut at its bound: the trace up to there (ordo elect --trace).
			return &Outcome{Spec: sp, Trace: s.Trace(), Stats: s.Stats()}, err
		}
		return nil, err
	}
	return Finish(sp, s)
}

// online judges a run as it happens: the checks, and the leaderships and
// final agreement an Outcome reports.
type online struct {
	meta  trace.Meta
	sess  *check.Session
	spans *election.SpanLog
	agree *election.Agreeing
	notes *noteCounter // nil: nothing counted
}

func newOnline(names []string) (*online, error) {
	sess, err := check.NewSession(names)
	if err != nil {
		return nil, err
	}
	return &online{sess: sess}, nil
}

func (o *online) Begin(m trace.Meta) {
	o.meta = m
	o.sess.Begin(m)
	o.spans = election.NewSpanLog(&o.meta)
	o.agree = election.NewAgreeing(&o.meta)
}

// Wants implements sim.Filter: what the checks want, and what the
// leaderships and the final agreement need (role notes, boots, crashes,
// pauses, faults).
func (o *online) Wants(k trace.Kind) bool {
	switch k {
	case trace.Note, trace.Start, trace.Restart, trace.Crash, trace.Pause, trace.Resume, trace.Fault:
		return true
	}
	return o.sess.Wants(k)
}

// NeedsVectors implements sim.Filter.
func (o *online) NeedsVectors() bool { return o.sess.NeedsVectors() }

func (o *online) Observe(e *trace.Event) {
	o.sess.Observe(e)
	o.spans.Observe(e)
	o.agree.Observe(e)
	o.notes.observe(e)
}

// Finish checks a finished simulation.
func Finish(sp Spec, s *sim.Sim) (*Outcome, error) {
	var o *Outcome
	if on, ok := s.Config().Observer.(*online); ok {
		// The run's last event may be one nobody was shown.
		on.sess.End(s.LastEventTime())
		on.spans.Until(s.LastEventTime())
		o = &Outcome{Spec: sp, Stats: s.Stats(), Checks: on.sess.Results(), Agreement: on.agree.Agreement(), Spans: on.spans.Spans()}
		if on.notes != nil {
			o.Notes = on.notes.counts
		}
	} else {
		tr := s.Trace()
		names := sp.Checks
		if names == nil {
			names = ChecksFor(sp.Protocol)
		}
		res, err := check.Run(tr, names)
		if err != nil {
			return nil, err
		}
		o = &Outcome{Spec: sp, Trace: tr, Stats: s.Stats(), Checks: res, Agreement: election.FinalAgreement(tr), Spans: election.LeaderSpans(tr)}
		if c := newNoteCounter(sp.Protocol); c != nil {
			for i := range tr.Events {
				c.observe(&tr.Events[i])
			}
			o.Notes = c.counts
		}
	}
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
