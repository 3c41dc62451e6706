package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
	seed       uint64
	duration   time.Duration
	opts       []string
	diagram    bool
	json       bool
	maxEvents  uint64
}

func newElectCmd() *cobra.Command {
	var f electFlags
	cmd := &cobra.Command{
		Use:   "elect",
		Short: "run a leader election (bully, ring, raft) under crashes and partitions",
		Long: `elect runs one leader election protocol in the simulator (chapter section 4)
under the faults you name (section 5) and prints the leader timeline, the
messages by kind and the verdicts of single-leader, one-leader-per-term,
eventual-leader and fencing.

  ordo elect --protocol bully --crash 5@1s
  ordo elect --protocol bully --partition 1,2/3,4,5@1s --heal @4s
  ordo elect --protocol raft  --partition 1,2/3,4,5@1s --heal @4s --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sp, err := f.spec()
			if err != nil {
				return err
			}
			o, err := lab.Run(sp)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.json {
				return writeElectJSON(w, o)
			}
			return writeElectText(w, o, f.diagram)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.protocol, "protocol", "raft", "bully, ring or raft")
	fl.IntVarP(&f.n, "nodes", "n", 5, "cluster size")
	fl.StringArrayVar(&f.crashes, "crash", nil, "crash a node: ID@TIME (repeatable)")
	fl.StringArrayVar(&f.restarts, "restart", nil, "restart a crashed node: ID@TIME (repeatable)")
	fl.StringArrayVar(&f.partitions, "partition", nil, "partition the cluster: 1,2/3,4,5@TIME (repeatable)")
	fl.StringArrayVar(&f.heals, "heal", nil, "heal every partition: @TIME (repeatable)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed (same seed, same run)")
	fl.DurationVar(&f.duration, "duration", 0, "simulated time to run (default: 3s after the last fault, at least 5s)")
	fl.StringArrayVarP(&f.opts, "option", "o", nil, "protocol option key=value (repeatable), e.g. -o quorum=true")
	fl.BoolVar(&f.diagram, "diagram", false, "draw the first events as an ASCII space-time diagram")
	fl.BoolVar(&f.json, "json", false, "print JSON")
	fl.Uint64Var(&f.maxEvents, "max-events", 0, "stop the run after this many simulator events (0: the traced default, about 2 GiB of trace)")
	return cmd
}

func (f *electFlags) spec() (lab.Spec, error) {
	if f.n < 1 || f.n > lab.MaxNodes {
		return lab.Spec{}, fmt.Errorf("-n %d: need 1..%d nodes", f.n, lab.MaxNodes)
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
	n := f.n
	if err := add(f.crashes, func(s string) (lab.Fault, error) { return lab.ParseCrash(s, n) }); err != nil {
		return sp, err
	}
	if err := add(f.restarts, func(s string) (lab.Fault, error) { return lab.ParseRestart(s, n) }); err != nil {
		return sp, err
	}
	if err := add(f.partitions, func(s string) (lab.Fault, error) { return lab.ParsePartition(s, n) }); err != nil {
		return sp, err
	}
	if err := add(f.heals, lab.ParseHeal); err != nil {
		return sp, err
	}
	lab.SortFaults(sp.Faults)
	if err := lab.CheckSchedule(sp.Faults); err != nil {
		return sp, err
	}
	sp.Duration = f.duration
	if sp.Duration == 0 {
		sp.Duration = 5 * time.Second
		if k := len(sp.Faults); k > 0 {
			sp.Duration = max(sp.Duration, sp.Faults[k-1].At+3*time.Second)
		}
	}
	if sp.Duration > time.Hour {
		return sp, fmt.Errorf("--duration %v: at most 1h of simulated time", sp.Duration)
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
	fmt.Fprintf(w, "%s, %d nodes, seed %d, %v simulated\n", withOptions(sp.Protocol, sp.Options), sp.Nodes, sp.Seed, sp.Duration)
	for _, f := range sp.Faults {
		fmt.Fprintf(w, "  fault  %v\n", f)
	}
	fmt.Fprintln(w, "\nleader timeline (true time):")
	if len(o.Spans) == 0 {
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
		if !r.OK {
			v = "FAIL"
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
	fmt.Fprintf(w, "\nfinal leaders: [%s]", strings.Join(leaders, " "))
	if ttl := o.Agreement.TimeToLeader(); ttl >= 0 {
		fmt.Fprintf(w, "; time to leader after the last fault: %s", fmtDur(ttl))
	}
	fmt.Fprintln(w)
	if diagram {
		fmt.Fprintln(w)
		if err := viz.ASCII(w, o.Trace, viz.Options{}); err != nil {
			return err
		}
	}
	return nil
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

func init() {
	addTourScene(tourScene{Order: 401, Section: "4. Leader election: Bully", Run: tourBully})
	addTourScene(tourScene{Order: 402, Section: "4. Leader election: Ring", Run: tourRing})
	addTourScene(tourScene{Order: 502, Section: "5. Network partition: split brain vs quorum", Run: tourPartition})
	addTourScene(tourScene{Order: 503, Section: "5. Leader crash and automatic recovery (exercise 3)", Run: tourFailover})
}

// tourMessages prints the election's messages after `after`, skipping kinds.
func tourMessages(w io.Writer, o *lab.Outcome, after time.Duration, skip ...string) {
	for _, e := range o.Trace.Events {
		if e.Kind != "send" || e.T < int64(after) || slices.Contains(skip, e.MsgKind) {
			continue
		}
		fmt.Fprintf(w, "  %9s  %v → %v  %s\n", fmtDur(time.Duration(e.T)), e.Node, e.Peer, e.MsgKind)
	}
}

func tourBully(w io.Writer) error {
	crash, _ := lab.ParseCrash("5@1s", 5)
	o, err := lab.Run(lab.Spec{Protocol: "bully", Options: map[string]string{"first_detector": "2"}, Nodes: 5, Seed: 1, Duration: 3 * time.Second, Faults: []lab.Fault{crash}})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "node 5 leads and crashes at 1s; node 2 detects it first (ordo elect --protocol bully --crash 5@1s -o first_detector=2):")
	tourMessages(w, o, time.Second, "HEARTBEAT")
	if len(o.FinalLeaders) != 1 || o.FinalLeaders[0] != 4 {
		return fmt.Errorf("bully scene: final leaders %v, want [n4]", o.FinalLeaders)
	}
	fmt.Fprintln(w, "node 4 is the new leader (steps 1–4 of the figure).")
	return nil
}

func tourRing(w io.Writer) error {
	o, err := lab.Run(lab.Spec{Protocol: "ring", Options: map[string]string{"first_detector": "3"}, Nodes: 5, Seed: 1, Duration: 2 * time.Second})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "a ring of 5 without a leader; node 3 notices first (ordo elect --protocol ring -o first_detector=3):")
	tourMessages(w, o, 0, "HEARTBEAT", "ACK")
	if len(o.FinalLeaders) != 1 || o.FinalLeaders[0] != 5 {
		return fmt.Errorf("ring scene: final leaders %v, want [n5]", o.FinalLeaders)
	}
	fmt.Fprintln(w, "the list comes back to node 3 as [3,4,5,1,2]; 5 wins: 2n = 10 messages.")
	return nil
}

func tourPartition(w io.Writer) error {
	p, _ := lab.ParsePartition("1,2/3,4,5@1s", 5)
	h, _ := lab.ParseHeal("@4s")
	fmt.Fprintln(w, "the split {1,2} | {3,4,5} from 1s to 4s (ordo elect --protocol P --partition 1,2/3,4,5@1s --heal @4s):")
	for _, c := range []struct {
		proto string
		opts  map[string]string
		label string
	}{{"bully", nil, "bully"}, {"bully", map[string]string{"quorum": "true"}, "bully, quorum=true"}, {"raft", nil, "raft"}} {
		o, err := lab.Run(lab.Spec{Protocol: c.proto, Options: c.opts, Nodes: 5, Seed: 3, Duration: 7 * time.Second, Faults: []lab.Fault{p, h}})
		if err != nil {
			return err
		}
		r := o.Checks[0]
		verdict := "one leader at a time"
		if !r.OK {
			verdict = "SPLIT BRAIN: " + r.Violations[0].Message
		}
		fmt.Fprintf(w, "  %-20s %s\n", c.label, verdict)
		if (c.proto == "bully" && c.opts == nil) == r.OK {
			return fmt.Errorf("partition scene: %s single-leader=%v", c.label, r.OK)
		}
	}
	fmt.Fprintln(w, "a majority (N/2+1 = 3) is what prevents the second leader, not the algorithm.")
	return nil
}

func tourFailover(w io.Writer) error {
	fmt.Fprintln(w, "raft, 5 nodes, election timeout 150–300ms, the leader crashes (100 seeds each):")
	for _, c := range []struct {
		opts  map[string]string
		label string
	}{
		{map[string]string{"peer_down": "false"}, "timeouts only (-o peer_down=false)"},
		{nil, "with peer-down hints (a crashed process's host refuses the reconnect)"},
	} {
		ds, _, noLeader, err := failovers("raft", c.opts, 100)
		if err != nil {
			return err
		}
		if noLeader > 0 {
			return fmt.Errorf("failover scene: %d seeds elected no new leader", noLeader)
		}
		fmt.Fprintf(w, "  %-72s p50 %v, p99 %v\n", c.label, fmtDur(lab.Percentile(ds, 50)), fmtDur(lab.Percentile(ds, 99)))
	}
	fmt.Fprintln(w, "a partitioned or frozen leader gives no hint: timeouts still find it.")
	fmt.Fprintln(w, "(ordo bench elect --failover 1000; the old leader rejoins as a follower: scenarios/leader-crash-raft.yaml;")
	fmt.Fprintln(w, " the same with real processes: ordo cluster chaos -n 5)")
	return nil
}
