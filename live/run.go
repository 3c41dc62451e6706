package live

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ordo"
	"ordo/check"
	"ordo/fault"
	"ordo/scenario"
	"ordo/sim"
	"ordo/trace"
)

// Scenario files run live (ordo cluster run): the cluster the file
// describes starts as real processes, its fault schedule is applied at its
// wall times by the live interpreter (faults.go), and the merged trace is
// judged by the same checks and expectations as `ordo sim` (scenario.Run).
// Timing differs from run to run; the verdicts are what must agree.

// ScenarioOptions adjust a live run of a scenario.
type ScenarioOptions struct {
	// Dir is the cluster directory (created; a temporary one when "").
	Dir string
	// Binary runs the nodes (default: this executable).
	Binary string
	// Insecure turns off mutual TLS between the nodes.
	Insecure bool
	// Seed overrides the file's seed when set.
	Seed *uint64
	// Progress receives a line per fault applied (nil: none).
	Progress io.Writer
	// LogLevel of the nodes (default warn).
	LogLevel string
	// ServiceOptions go to every service node whose protocol declares
	// them, over the file's (UpOptions.ServiceOptions): the etcd endpoints.
	ServiceOptions map[string]string
}

// Applied is one fault of a live run: when the schedule wanted it and when
// it was applied (both since the run's start).
type Applied struct {
	Fault fault.Fault   `json:"-"`
	Desc  string        `json:"fault"`
	At    time.Duration `json:"at_ns"`
	Done  time.Duration `json:"done_ns"`
	// Leader is set when the file aimed the fault at `leader`: Fault.Node
	// is the server that led when it fired (Cluster.Leader).
	Leader bool `json:"leader,omitempty"`
	// Skipped is set when no server led then: nothing was applied.
	Skipped bool `json:"skipped,omitempty"`
}

// ScenarioResult is what a live run produced.
type ScenarioResult struct {
	Scenario *scenario.Scenario `json:"-"`
	Seed     uint64             `json:"seed"`
	Dir      string             `json:"dir"`
	Trace    string             `json:"trace"` // the merged trace, cut at the run's end
	Events   int                `json:"events"`
	// Traffic is what the merged trace shows sent and received, by
	// message kind (sorted), with the encoded bytes sent: the live
	// counterpart of ordo sim's message table.
	Traffic []KindTraffic `json:"traffic"`
	Applied []Applied     `json:"applied"`
	// Notes name what the live run approximates (latency as a fixed
	// delay, the disk model by the real disk).
	Notes  []string       `json:"notes,omitempty"`
	Checks []check.Result `json:"checks"`
	// Unmet lists the expectations the run did not meet, as scenario.Run.
	Unmet []string      `json:"unmet,omitempty"`
	Wall  time.Duration `json:"wall_ns"`
}

// LiveError is a scenario the live cluster cannot run as written: the
// file, the line (0 when the entry has none) and why.
type LiveError struct {
	File string
	Line int
	Err  error
}

func (e *LiveError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: cannot run live: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: cannot run live: %v", e.File, e.Err)
}

func (e *LiveError) Unwrap() error { return e.Err }

// CheckScenario reports what of sc the live cluster cannot do, before
// anything starts: faults it has no interpreter for (with the fault's
// line), a nemesis, node speeds, absent nodes, per-link networks and
// network properties it does not model (duplication, bandwidth,
// tampering) and NTP resyncs. It returns the
// approximations it will make.
func CheckScenario(sc *scenario.Scenario) (notes []string, err error) {
	refuse := func(line int, format string, args ...any) error {
		return &LiveError{File: sc.File, Line: line, Err: fmt.Errorf(format, args...)}
	}
	for _, f := range sc.Faults {
		if len(f.Spec) == 0 {
			return nil, refuse(f.Line, "fault %q: the live cluster has no %s fault (the simulator's own)", f.Desc, f.Kind)
		}
		for _, s := range f.Spec {
			if err := CanApply(s); err != nil {
				return nil, refuse(f.Line, "fault %q: %v", f.Desc, err)
			}
		}
	}
	if sc.Protocol.SimOnly != "" {
		return nil, refuse(0, "protocol %s runs in the simulator only: %s; run it with ordo sim", sc.Protocol.Name, sc.Protocol.SimOnly)
	}
	for _, b := range sc.Byzantine {
		if int(b.Node) > sc.Nodes {
			return nil, refuse(0, "byzantine: node %d is not a server: live, only a server lies (ordo cluster byzantine)", b.Node)
		}
		notes = append(notes, fmt.Sprintf("byzantine: n%d lies (%s) from the moment every node answers, before the clients start, and again after each restart; what it sent while booting was honest", b.Node, b.Behaviour))
	}
	if sc.Nemesis != nil {
		return nil, refuse(sc.Nemesis.Line, "nemesis: the live cluster runs a written schedule only (draw one with ordo explore and write it as faults:)")
	}
	if sc.Speed != 0 || len(sc.SpeedOf) > 0 {
		return nil, refuse(0, "speed: node speeds are the simulator's (a live node runs as fast as its host lets it)")
	}
	if len(sc.Absent) > 0 {
		return nil, refuse(0, "absent: nodes that join later are the simulator's")
	}
	if len(sc.Network.Links) > 0 {
		return nil, refuse(0, "network.links: per-link settings are the simulator's (the live fault layer sets a node's sends)")
	}
	d := sc.Network.Default
	switch {
	case d.Duplicate > 0:
		return nil, refuse(0, "network: duplicate %v: the live transport (TCP) does not duplicate", d.Duplicate)
	case d.Bandwidth > 0:
		return nil, refuse(0, "network: bandwidth limits are the simulator's")
	case d.Tamper > 0:
		return nil, refuse(0, "network: tampering is the simulator's (live links are TLS)")
	}
	if m := d.Latency.Mean(); m > 0 {
		notes = append(notes, fmt.Sprintf("latency: a fixed delay of %v per message (the mean of the scenario's latency; loopback adds little)", m.Round(time.Microsecond)))
	}
	ntp := sc.Clock.NTPEvery > 0
	for _, m := range sc.ClockOf {
		ntp = ntp || m.NTPEvery > 0
	}
	if ntp {
		return nil, refuse(0, "clocks: NTP resyncs are the simulator's (a live node's clock takes offset, drift and steps)")
	}
	if sc.Disk.On() {
		notes = append(notes, "disk: the real disk, not the simulator's disk model")
	}
	if sc.Network.Auth == "ed25519" { // sim.AuthEd25519
		notes = append(notes, "network.auth ed25519: live links are mutual TLS under the cluster's CA; messages are not signed at the link (PBFT signs its votes with each node's certificate key)")
	}
	// A live service is a real system (etcd) behind each node's adapter:
	// the cluster can cut nodes off from it, nothing more.
	if first := sc.FirstService(); first > 0 {
		for _, f := range sc.Faults {
			for _, x := range f.Spec {
				switch x.Kind {
				case fault.Partition, fault.Cut, fault.Heal:
					continue
				}
				if int(x.Node) >= first || (x.Kind == fault.Bridge && int(x.Via) >= first) {
					return nil, refuse(f.Line, "fault %q: node %d is a service: live, a real system the nodes reach through their adapters; only a partition or cut can involve it", f.Desc, max(int(x.Node), int(x.Via)))
				}
			}
		}
		for id := range sc.ClockOf {
			if int(id) >= first {
				return nil, refuse(0, "clocks: node %d is a service: live, a real system whose clock the cluster does not set", int(id))
			}
		}
	}
	return notes, nil
}

// RunScenario runs sc on a live local cluster for its duration: it starts
// the servers and clients the file names, sets the network's loss and
// latency and the nodes' clocks, applies the fault schedule at its times
// (measured from the moment every node answers), stops the cluster,
// merges the node traces, cuts the merged trace at the run's end (the
// graceful stops after it are not part of the run) and applies the file's
// checks and expectations. An error means the run could not happen as
// written; a failed check is a result.
func RunScenario(sc *scenario.Scenario, o ScenarioOptions) (*ScenarioResult, error) {
	begin := time.Now()
	notes, err := CheckScenario(sc)
	if err != nil {
		return nil, err
	}
	sched, _ := sc.Steps() // Apply validates each fault against the cluster
	seed := sc.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ordo-run-"); err != nil {
			return nil, err
		}
	}
	up := UpOptions{N: sc.Nodes, Protocol: sc.Protocol.Name, Options: map[string]string(sc.Options), Insecure: o.Insecure,
		Dir: dir, Binary: o.Binary, Seed: seed, LogLevel: o.LogLevel, DieWithParent: true,
		KeepMessages: sc.NeedsMessageBodies()}
	if up.LogLevel == "" {
		up.LogLevel = "warn"
	}
	for _, g := range sc.Clients {
		up.ClientGroups = append(up.ClientGroups, UpClientGroup{Count: g.Count, Protocol: g.Protocol.Name, Options: map[string]string(g.Options)})
	}
	up.Services = []UpService{}
	for _, s := range sc.Services {
		up.Services = append(up.Services, UpService{Protocol: s.Protocol.Name, Options: s.Given})
	}
	up.ServiceOptions = o.ServiceOptions
	// Clients wait for the run's clock: a script counts from the client's
	// Start, the faults from the moment every node answers.
	up.HoldClients = true
	up.Name = sc.Name
	c, err := Up(up)
	if err != nil {
		return nil, err
	}
	defer func() {
		if c != nil {
			c.Down()
		}
	}()
	res := &ScenarioResult{Scenario: sc, Seed: seed, Dir: c.Dir, Notes: notes}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	// The network and the clocks as the file sets them from the start.
	if l := sc.Network.Default.Loss; l > 0 {
		if err := c.setLoss(l); err != nil {
			return nil, err
		}
	}
	if m := sc.Network.Default.Latency.Mean(); m > 0 {
		if err := c.SetDelay(m); err != nil {
			return nil, err
		}
	}
	for id := ordo.NodeID(1); int(id) <= sc.Nodes; id++ {
		m := sc.Clock
		if x, ok := sc.ClockOf[id]; ok {
			m = x
		}
		if m.Offset == 0 && m.DriftPPM == 0 {
			continue
		}
		off, ppm := Duration(m.Offset), m.DriftPPM
		if err := c.SetClock(id, ClockChange{Offset: &off, DriftPPM: &ppm}); err != nil {
			return nil, err
		}
	}
	// The liars lie before the clients start: every request meets them.
	for _, b := range sc.Byzantine {
		if err := c.Byzantine(b.Node, byzantineSetting(b)); err != nil {
			return nil, fmt.Errorf("%s: byzantine node %d: %w", sc.File, b.Node, err)
		}
	}
	start := time.Now()
	if err := c.Release(clientIDs(c)); err != nil {
		return nil, err
	}
	// A fault aimed at `leader` strikes the server that leads at its first
	// step; its later steps (a pause's resume) strike the same node, or are
	// skipped with it when none led.
	aimed := map[int]ordo.NodeID{}
	for _, st := range sched {
		f := st.Fault
		time.Sleep(time.Until(start.Add(f.At)))
		a := Applied{At: f.At, Leader: st.Leader}
		if st.Leader {
			id, ok := aimed[st.Entry]
			if !ok {
				id = c.Leader()
				aimed[st.Entry] = id
			}
			f.Node = id
			a.Skipped = id == ordo.None
		}
		a.Fault, a.Desc = f, f.String()
		if st.Leader {
			// The trace names the node struck, as the simulator's does.
			name, attrs := "leader-fault", []any{"fault", string(f.Kind) + " leader", "node", int(f.Node)}
			if a.Skipped {
				a.Desc = fmt.Sprintf("%v %s leader: skipped, no server led", f.At, f.Kind)
				name, attrs = "leader-fault-skipped", []any{"fault", string(f.Kind) + " leader", "why", "no server leads"}
			}
			if err := LogFault(c.Cfg, c.now(), name, attrs...); err != nil {
				return nil, err
			}
		}
		if !a.Skipped {
			if err := c.Apply(f); err != nil {
				return nil, fmt.Errorf("%s: fault %v: %w", sc.File, f, err)
			}
			// A liar restarted boots honest: it lies again, as a
			// simulated liar lies for the whole run.
			if f.Kind == fault.Restart {
				if b, ok := liar(sc, f.Node); ok {
					if err := c.Byzantine(b.Node, byzantineSetting(b)); err != nil {
						return nil, fmt.Errorf("%s: byzantine node %d after its restart: %w", sc.File, b.Node, err)
					}
				}
			}
		}
		a.Done = time.Since(start)
		res.Applied = append(res.Applied, a)
		what := string(f.Kind) + " " + f.Spec()
		switch {
		case a.Skipped:
			what = string(f.Kind) + " leader: skipped, no server led"
		case a.Leader && f.Kind == fault.Restart:
			what += " (the crashed leader)"
		case a.Leader:
			what += " (the leader)"
		}
		fmt.Fprintf(progress, "%8v  %v (applied at %v)\n", f.At, what, a.Done.Round(time.Millisecond))
	}
	time.Sleep(time.Until(start.Add(sc.Duration)))
	end := c.now()
	// Paused nodes go on before the stop, so that they stop gracefully.
	for _, id := range append(c.Servers(), clientIDs(c)...) {
		c.Resume(id) // does nothing to a node not paused
	}
	merged, err := c.DownAndMerge()
	c = nil
	if err != nil {
		return nil, err
	}
	tr := runTrace(sc, merged, end)
	res.Trace = filepath.Join(dir, "merged.jsonl")
	if err := tr.WriteFile(res.Trace); err != nil {
		return nil, err
	}
	res.Events = len(tr.Events)
	res.Traffic = TrafficOf(tr)
	if len(sc.Checks) > 0 {
		if res.Checks, err = check.Run(tr, sc.Checks); err != nil {
			return nil, fmt.Errorf("%s: %w", sc.File, err)
		}
		res.Unmet = scenario.Unmet(sc.Expect, res.Checks)
	}
	res.Wall = time.Since(begin)
	return res, nil
}

// liar is node id's entry in sc's byzantine: list, if it has one.
func liar(sc *scenario.Scenario, id ordo.NodeID) (sim.Byzantine, bool) {
	for _, b := range sc.Byzantine {
		if b.Node == id {
			return b, true
		}
	}
	return sim.Byzantine{}, false
}

// byzantineSetting is a scenario's liar as POST /byzantine's body.
func byzantineSetting(b sim.Byzantine) ByzantineSetting {
	return ByzantineSetting{Behaviour: string(b.Behaviour), Rate: b.Rate, After: Duration(b.After), As: int(b.As)}
}

// Leader is the server whose status says it leads now (the role of its
// protocol's latest note): of several (a split brain, a deposed leader
// that has not heard yet), the one with the highest term (the lease
// election's fencing token), then the lowest id; None when none answers
// as leader. A paused node answers nothing, so it is never chosen, as in
// the simulator (scenario.Leader).
func (c *Cluster) Leader() ordo.NodeID { return leaderOf(c.View()) }

// leaderOf is Leader's rule on a view (in id order).
func leaderOf(view []NodeView) ordo.NodeID {
	best, term := ordo.None, int64(0)
	for _, nv := range view {
		if !nv.Up || nv.Status == nil || nv.Kind != ordo.Server.String() || nv.Status.Role != "leader" {
			continue
		}
		if best == ordo.None || nv.Status.Term > term {
			best, term = nv.ID, nv.Status.Term
		}
	}
	return best
}

func clientIDs(c *Cluster) []ordo.NodeID { return c.Cfg.Roster().Clients }

// runTrace is a run's merged trace: cut at the run's end, and named for
// its scenario, as the simulator's trace is (Up names the cluster so too,
// and ordo trace merge of the run's directory says the same).
func runTrace(sc *scenario.Scenario, merged *trace.Trace, end int64) *trace.Trace {
	tr := CutAt(merged, end)
	tr.Meta.Scenario = sc.Name
	return tr
}

// CutAt is the longest prefix of t's events at or before time end (ns):
// a live run's trace as the simulator would have ended it, without the
// stops of the shutdown after it. A prefix of a valid trace is valid (a
// receive never precedes its send).
func CutAt(t *trace.Trace, end int64) *trace.Trace {
	out := &trace.Trace{Meta: t.Meta}
	for _, e := range t.Events {
		if e.T > end {
			break
		}
		out.Append(e)
	}
	return out
}

// ErrLive tells a scenario the live cluster refuses (a *LiveError) from a
// run that failed.
func ErrLive(err error) bool {
	var le *LiveError
	return errors.As(err, &le)
}

// KindTraffic is one message kind's sends and receives in a trace.
type KindTraffic struct {
	Kind     string `json:"kind"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
	Bytes    int64  `json:"bytes"` // of the sends
}

// TrafficOf counts t's sends and receives by message kind, sorted by kind.
func TrafficOf(t *trace.Trace) []KindTraffic {
	by := map[string]*KindTraffic{}
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind != trace.Send && e.Kind != trace.Recv {
			continue
		}
		k := by[e.MsgKind]
		if k == nil {
			k = &KindTraffic{Kind: e.MsgKind}
			by[e.MsgKind] = k
		}
		if e.Kind == trace.Send {
			k.Sent++
			k.Bytes += int64(e.Bytes)
		} else {
			k.Received++
		}
	}
	out := make([]KindTraffic, 0, len(by))
	for _, k := range by {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b KindTraffic) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}
