package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/check"
	"ordo/election"
	"ordo/fault"
	"ordo/internal/plural"
	"ordo/lab"
	"ordo/viz"
)

func init() { commands = append(commands, newElectCmd) }

type electFlags struct {
	protocol   string
	n          int
	crashes    []string
	restarts   []string
	partitions []string
	heals      []string
	more       map[fault.Kind]*[]string // --cut, --bridge, --star, --pause, ...
	expect     []string
	seed       uint64
	duration   time.Duration
	opts       []string
	diagram    bool
	json       bool
	maxEvents  uint64
	traceFile  string
}

func newElectCmd() *cobra.Command {
	var f electFlags
	cmd := &cobra.Command{
		Use:   "elect",
		Short: "run a leader election (bully, ring, raft, lease) under crashes and partitions",
		Long: `elect runs one leader election protocol in the simulator (chapter section 4)
under the faults you name (section 5) and prints the leader timeline, the
messages by kind and the verdicts of the election checkers (` + strings.Join(election.Checks, ", ") + `).

  ordo elect --protocol bully --crash 5@1s
  ordo elect --protocol bully --partition 1,2/3,4,5@1s --heal @4s
  ordo elect --protocol raft  --partition 1,2/3,4,5@1s --heal @4s --json
  ordo elect --protocol raft -n 3 --bridge '1/3 via 2@1s' -o check_quorum=false --duration 60s
  ordo elect --protocol bully --partition 1,2/3,4,5@1s --expect single-leader=fail
  ordo elect --protocol lease -n 3 --pause 2@2s --resume 2@6s -o unsafe_no_fail_closed=true --expect stale-leader=fail
  ordo elect --protocol lease -n 3 --cut '2->4@2s' --cut '4->2@2s'

The lease election (section 4, "using an external service") campaigns
through a coordination service: the simulator adds a model of etcd (coord)
and a fenced store as service nodes after the servers (n4, n5 with -n 3);
live, ordo cluster up --protocol lease puts a real etcd behind them.
--cut, --partition, --pause and the clock flags may name a service (above:
n2 cut off from etcd's model both ways); a crash of a service is refused.

A partition names every server once; --cut 1,2->3@1s loses messages from 1
and 2 to 3 only; --bridge '1/3 via 2@1s' leaves 1 and 3 apart, both reaching 2;
--star 'hub 1@1s' leaves every node reaching only node 1.

Exit status: 0 when every check gives the expected verdict (pass, or fail
for the checks named by --expect CHECK=fail), 1 otherwise, 2 for bad input.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sp, err := f.spec()
			if err != nil {
				return err
			}
			fails, err := parseExpect(f.expect)
			if err != nil {
				return err
			}
			o, err := lab.Run(sp)
			if err != nil {
				if o != nil && o.Trace != nil && f.traceFile != "" {
					if werr := o.Trace.WriteFile(f.traceFile); werr == nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "trace up to the cut: %s (%s)\n", f.traceFile, plural.Count(len(o.Trace.Events), "event"))
					}
				}
				return err
			}
			// The trace is written before the report, like ordo sim's, so a
			// run whose verdict fails still leaves its evidence behind.
			if f.traceFile != "" {
				if err := o.Trace.WriteFile(f.traceFile); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if f.json {
				if err := writeElectJSON(w, o); err != nil {
					return err
				}
				if len(electUnexpected(o, fails)) > 0 {
					return exitCode(1)
				}
				return nil
			}
			if err := writeElectText(w, o, f.diagram); err != nil {
				return err
			}
			if f.traceFile != "" {
				n := len(o.Trace.Events)
				fmt.Fprintf(w, "\ntrace: %s (%s); try: ordo trace why %s e0 e%d\n", f.traceFile, plural.Count(n, "event"), f.traceFile, max(n-1, 0))
			}
			return verdictStatus(w, electUnexpected(o, fails))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.protocol, "protocol", "raft", "bully, ring, raft or lease")
	fl.IntVarP(&f.n, "nodes", "n", 5, "cluster size")
	fl.StringArrayVar(&f.crashes, "crash", nil, "crash a node: ID@TIME (repeatable)")
	fl.StringArrayVar(&f.restarts, "restart", nil, "restart a crashed node: ID@TIME (repeatable)")
	fl.StringArrayVar(&f.partitions, "partition", nil, "partition the cluster: 1,2/3,4,5@TIME (repeatable)")
	fl.StringArrayVar(&f.heals, "heal", nil, "heal every partition and cut: @TIME (repeatable)")
	f.more = map[fault.Kind]*[]string{}
	for _, k := range electFaultFlags {
		list := new([]string)
		f.more[k] = list
		fl.StringArrayVar(list, string(k), nil, fmt.Sprintf("%s: %s (repeatable)", k, fault.Syntax[k]))
	}
	fl.StringArrayVar(&f.expect, "expect", nil, "CHECK=fail: the check is expected to fail (repeatable); exit status 1 when a verdict is not the expected one")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed (same seed, same run)")
	fl.DurationVar(&f.duration, "duration", 0, "simulated time to run (default: 3s, or twice the longest election timeout, after the last fault; at least 5s)")
	fl.StringArrayVarP(&f.opts, "option", "o", nil, "protocol option key=value (repeatable), e.g. -o quorum=true")
	fl.BoolVar(&f.diagram, "diagram", false, "draw the first events as an ASCII space-time diagram")
	fl.BoolVar(&f.json, "json", false, "print JSON")
	fl.StringVar(&f.traceFile, "trace", "", "write the run's trace (JSON Lines) to `FILE` (read it with ordo trace ...)")
	fl.Uint64Var(&f.maxEvents, "max-events", 0, "stop the run after this many simulator steps (0: the traced default, about 2 GiB of trace); with --trace, the trace up to the cut is written")
	return cmd
}

func (f *electFlags) spec() (lab.Spec, error) {
	if err := checkNodes(f.n); err != nil {
		return lab.Spec{}, err
	}
	sp := lab.Spec{Protocol: f.protocol, Nodes: f.n, Seed: f.seed, MaxEvents: f.maxEvents}
	var err error
	if sp.Options, err = parseOptions(f.opts); err != nil {
		return sp, err
	}
	// Only leader elections: the checkers judge election notes.
	if _, _, err := lab.Validate(f.protocol, sp.Options, f.n); err != nil {
		return sp, err
	}
	add := func(list []string, parse func(string) (lab.Fault, error)) error {
		for _, s := range list {
			ft, err := parse(s)
			if err != nil {
				return err
			}
			sp.Faults = append(sp.Faults, ft)
		}
		return nil
	}
	// Faults may name the protocol's services (lease: a cut between a
	// candidate and etcd's model), never crash one.
	m, err := lab.Members(f.protocol, f.n)
	if err != nil {
		return sp, err
	}
	if err := add(f.crashes, func(s string) (lab.Fault, error) { return lab.ParseFaultIn(m, fault.Crash, s) }); err != nil {
		return sp, err
	}
	if err := add(f.restarts, func(s string) (lab.Fault, error) { return lab.ParseFaultIn(m, fault.Restart, s) }); err != nil {
		return sp, err
	}
	if err := add(f.partitions, func(s string) (lab.Fault, error) { return lab.ParseFaultIn(m, fault.Partition, s) }); err != nil {
		return sp, err
	}
	if err := add(f.heals, lab.ParseHeal); err != nil {
		return sp, err
	}
	for _, k := range electFaultFlags {
		if list := f.more[k]; list != nil {
			if err := add(*list, func(s string) (lab.Fault, error) { return lab.ParseFaultIn(m, k, s) }); err != nil {
				return sp, err
			}
		}
	}
	lab.SortFaults(sp.Faults)
	if err := lab.CheckSchedule(sp.Faults); err != nil {
		return sp, err
	}
	sp.Duration = f.duration
	if sp.Duration == 0 {
		// Long enough for an election after the last fault: 3s, or twice
		// the protocol's longest election timeout when that is longer (a
		// lease election with ttl=5s waits out the lease).
		after := 3 * time.Second
		if _, hi, err := election.Timeouts(f.protocol, sp.Options, f.n); err == nil {
			after = max(after, (2*hi + time.Second - 1).Truncate(time.Second)) // whole seconds
		}
		sp.Duration = max(5*time.Second, after)
		if k := len(sp.Faults); k > 0 {
			sp.Duration = max(sp.Duration, sp.Faults[k-1].At+after)
		}
	}
	if err := checkSimDuration(sp.Duration); err != nil {
		return sp, err
	}
	return sp, nil
}

type electJSON struct {
	Protocol      string          `json:"protocol"`
	Nodes         int             `json:"nodes"`
	Seed          uint64          `json:"seed"`
	FinalLeaders  []int           `json:"final_leaders"`
	MessagesTotal int             `json:"messages_total"`
	Messages      []lab.KindCount `json:"messages"`
	Violations    []string        `json:"violations"`
	TimeToLeader  *float64        `json:"time_to_leader_ms"`
	Leaderships   []electSpan     `json:"leaderships"`
	Checks        any             `json:"checks"`
}

type electSpan struct {
	Node   int     `json:"node"`
	Term   int64   `json:"term"`
	FromMS float64 `json:"from_ms"`
	ToMS   float64 `json:"to_ms"`
	Open   bool    `json:"open,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func writeElectJSON(w io.Writer, o *lab.Outcome) error {
	j := electJSON{Protocol: o.Spec.Protocol, Nodes: o.Spec.Nodes, Seed: o.Spec.Seed,
		FinalLeaders: []int{}, MessagesTotal: o.Stats.Sent, Messages: o.ByKind(), Violations: o.Violations(), Checks: o.Checks}
	if j.Violations == nil {
		j.Violations = []string{}
	}
	for _, l := range o.FinalLeaders {
		j.FinalLeaders = append(j.FinalLeaders, int(l))
	}
	if ttl := o.Agreement.TimeToLeader(); ttl >= 0 {
		v := ms(ttl)
		j.TimeToLeader = &v
	}
	for _, s := range o.Spans {
		j.Leaderships = append(j.Leaderships, electSpan{int(s.Node), s.Term, ms(time.Duration(s.From)), ms(time.Duration(s.To)), s.Open})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

func writeElectText(w io.Writer, o *lab.Outcome, diagram bool) error {
	sp := o.Spec
	fmt.Fprintf(w, "%s, %s, seed %d, %v simulated\n", withOptions(sp.Protocol, sp.Options), plural.Count(sp.Nodes, "node"), sp.Seed, sp.Duration)
	for _, f := range sp.Faults {
		fmt.Fprintf(w, "  fault  %v\n", f)
	}
	// A leaderless store (ordo explore dynamo) has no leader to show.
	leaderless := lab.Workloads[sp.Protocol].Leaderless
	if !leaderless {
		fmt.Fprintln(w, "\nleader timeline (true time):")
	}
	if len(o.Spans) == 0 && !leaderless {
		fmt.Fprintln(w, "  (no leader ever)")
	}
	for _, s := range o.Spans {
		to := fmtDur(time.Duration(s.To))
		if s.Open {
			to = "end"
		}
		fmt.Fprintf(w, "  %-4v term %-3d %9s → %-9s\n", s.Node, s.Term, fmtDur(time.Duration(s.From)), to)
	}
	fmt.Fprintf(w, "\nmessages (%d sent, %d dropped):\n", o.Stats.Sent, o.Stats.Dropped)
	for _, k := range o.ByKind() {
		fmt.Fprintf(w, "  %-16s %d\n", k.Kind, k.Sent)
	}
	fmt.Fprintln(w, "\nchecks:")
	for _, r := range o.Checks {
		v := "pass"
		if r.Failed() {
			v = "FAIL"
		} else if !r.OK {
			v = string(r.Verdict) // unknown, not-applicable
		}
		fmt.Fprintf(w, "  %-20s %s  %s\n", r.Check, v, r.Summary)
		for _, x := range r.Violations {
			fmt.Fprintf(w, "      %s\n", x.Message)
		}
	}
	var leaders []string
	for _, l := range o.FinalLeaders {
		leaders = append(leaders, l.String())
	}
	if !leaderless {
		fmt.Fprintf(w, "\nfinal leaders: [%s]", strings.Join(leaders, " "))
		if ttl := o.Agreement.TimeToLeader(); ttl >= 0 {
			fmt.Fprintf(w, "; time to leader after the last fault: %s", fmtDur(ttl))
		}
		fmt.Fprintln(w)
	}
	if diagram {
		fmt.Fprintln(w)
		if err := viz.ASCII(w, o.Trace, viz.Options{}); err != nil {
			return err
		}
	}
	return nil
}

// electFaultFlags are the fault flags of elect beyond --crash, --restart,
// --partition and --heal, each read by fault.Parse.
var electFaultFlags = []fault.Kind{fault.Cut, fault.Bridge, fault.Star, fault.Pause, fault.Resume, fault.ClockStep,
	fault.ClockDrift, fault.Loss, fault.TornWrite, fault.CorruptRead, fault.FsyncFail, fault.DiskFull}

// electUnexpected lists the checks of a run whose verdict is not the
// expected one: fail for those in fails; otherwise pass, or not applicable
// (a liveness check where no majority could elect anyone).
func electUnexpected(o *lab.Outcome, fails []string) []string {
	var out []string
	for _, r := range o.Checks {
		wantFail := slices.Contains(fails, r.Check)
		switch {
		case wantFail && !r.Failed():
			out = append(out, fmt.Sprintf("%s: %s, expected to fail", r.Check, r.Verdict))
		case !wantFail && r.Failed():
			out = append(out, fmt.Sprintf("%s: fail, expected to pass", r.Check))
		case !wantFail && r.Verdict == check.Unknown:
			out = append(out, fmt.Sprintf("%s: no verdict (unknown)", r.Check))
		}
	}
	for _, name := range fails {
		if !slices.ContainsFunc(o.Checks, func(r check.Result) bool { return r.Check == name }) {
			out = append(out, fmt.Sprintf("%s expected to fail but not run", name))
		}
	}
	return out
}

// parseOptions reads the repeated -o KEY=VALUE flags of a protocol's options.
func parseOptions(kvs []string) (map[string]string, error) {
	o := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-o %q: want KEY=VALUE", kv)
		}
		o[k] = v
	}
	return o, nil
}

// withOptions is "raft" or "raft (heartbeat=20ms prevote=false)".
func withOptions(protocol string, opts map[string]string) string {
	if s := lab.FormatOptions(opts); s != "" {
		return protocol + " (" + s + ")"
	}
	return protocol
}

func fmtDur(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
