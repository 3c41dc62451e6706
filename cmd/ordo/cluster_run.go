package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/check"
	"ordo/fault"
	"ordo/internal/plural"
	"ordo/live"
	"ordo/scenario"
)

// newClusterRunCmd is `ordo cluster run SCENARIO`: a scenario file run on
// real processes, judged as `ordo sim` judges it.
func newClusterRunCmd() *cobra.Command {
	var (
		dir      string
		keep     bool
		insecure bool
		asJSON   bool
		seed     uint64
		logLevel string
		// etcdEndpoints: --etcd, for the lease election's services.
		etcdEndpoints string
	)
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "run a scenario file on a real local cluster and judge it as ordo sim does",
		Long: `Run a scenario file (or a built-in scenario, see ordo sim --list) on real
node processes: start the servers and clients it describes, set its
network's loss (and its latency, approximated by a fixed delay per
message) and its clocks, apply its fault schedule at its wall times
(crash = SIGKILL, pause = SIGSTOP, partitions and cuts in each node's fault
layer, clock steps and drift on each node's clock, fsync failures in its
store), stop the cluster, merge the node traces and apply the file's
checks and expect, as ordo sim does. Times vary from run to run; the
verdicts are what should agree with the simulator's.

What the live cluster cannot do is refused before anything starts, with
the file's line: the simulator's link faults, joins and leaves, nemesis,
node speeds, bandwidth, duplication, tampering, torn writes, corrupt
reads and full disks.

Exit status: 0 when every expect of the file is met, 1 when one is not,
2 for bad input or a scenario the live cluster cannot run.`,
		Example: `  ordo cluster run partition-raft
  ordo cluster run scenarios/leader-crash-raft.yaml --keep --dir /tmp/run1
  ordo trace check /tmp/run1/merged.jsonl --check single-leader`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			for _, w := range sc.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
			}
			if _, err := live.CheckScenario(sc); err != nil {
				return err
			}
			o := live.ScenarioOptions{Dir: dir, Insecure: insecure, LogLevel: logLevel, Progress: cmd.ErrOrStderr()}
			if cmd.Flags().Changed("seed") {
				o.Seed = &seed
			}
			if dir == "" {
				if o.Dir, err = os.MkdirTemp("", "ordo-run-"); err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(o.Dir)
				}
			}
			// The lease election's services reach a real etcd: --etcd, or
			// one embedded for this run (etcd.go), stopped at the end.
			svcOpts, stopEtcd, err := runEtcd(cmd, sc.Protocol.Name, etcdEndpoints, o.Dir)
			if err != nil {
				return err
			}
			defer stopEtcd()
			o.ServiceOptions = svcOpts
			fmt.Fprintf(cmd.ErrOrStderr(), "running %s live for %v (%s) ...\n", sc.Name, sc.Duration, liveNodes(sc))
			res, err := live.RunScenario(sc, o)
			if err != nil {
				return err
			}
			if dir == "" && !keep {
				res.Dir, res.Trace = "", "" // removed on return
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				writeLiveRun(out, res)
			}
			if len(res.Unmet) > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "cluster directory to use and keep (default: a temporary one)")
	f.BoolVar(&keep, "keep", false, "keep the temporary directory (traces, logs)")
	f.BoolVar(&insecure, "insecure", false, "plain TCP between the nodes instead of mutual TLS")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.Uint64Var(&seed, "seed", 0, "override the scenario's seed (the nodes' random sources)")
	f.StringVar(&logLevel, "log-level", "warn", "node log level: debug, info, warn, error")
	f.StringVar(&etcdEndpoints, "etcd", "", "etcd client URLs for a scenario whose services need etcd (the lease election); default: an embedded etcd for the run")
	return cmd
}

func writeLiveRun(w io.Writer, r *live.ScenarioResult) {
	sc := r.Scenario
	fmt.Fprintf(w, "scenario %s, live: %s, %v, seed %d\n", sc.Name, liveNodes(sc), sc.Duration, r.Seed)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "approximated: %s\n", n)
	}
	if len(r.Applied) > 0 {
		fmt.Fprintln(w, "\nfaults (scheduled → applied):")
		for _, a := range r.Applied {
			what := string(a.Fault.Kind) + " " + a.Fault.Spec()
			switch {
			case a.Skipped:
				what = string(a.Fault.Kind) + " leader: skipped, no server led"
			case a.Leader && a.Fault.Kind == fault.Restart:
				what += " (the crashed leader)"
			case a.Leader:
				what += " (the leader)"
			}
			fmt.Fprintf(w, "  %-8v → %-10v %s\n", a.At, a.Done.Round(time.Millisecond), what)
		}
	}
	fmt.Fprintf(w, "\n%s in the merged trace\n", plural.Count(r.Events, "event"))
	if len(r.Traffic) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "message\tsent\treceived\tbytes sent\t")
		var sent, recv int
		var bytes int64
		for _, k := range r.Traffic {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", k.Kind, k.Sent, k.Received, k.Bytes)
			sent, recv, bytes = sent+k.Sent, recv+k.Received, bytes+k.Bytes
		}
		fmt.Fprintf(tw, "total\t%d\t%d\t%d\t\n", sent, recv, bytes)
		tw.Flush()
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w, "\nchecks:")
		for _, c := range r.Checks {
			fmt.Fprintln(w, "  "+checkLine(c))
			for i, v := range c.Violations {
				if i == 10 {
					fmt.Fprintf(w, "    ... and %d more %s\n", len(c.Violations)-10, plural.Noun(len(c.Violations)-10, "violation"))
					break
				}
				fmt.Fprintf(w, "    - %s\n", v.Message)
			}
		}
	}
	if len(sc.Expect) > 0 {
		fmt.Fprintln(w)
		if len(r.Unmet) == 0 {
			fmt.Fprintf(w, "expectations met (%d)\n", len(sc.Expect))
		} else {
			fmt.Fprintln(w, "EXPECTATIONS NOT MET:")
			for _, u := range r.Unmet {
				fmt.Fprintf(w, "  %s\n", u)
			}
		}
	}
	if r.Trace != "" {
		fmt.Fprintf(w, "\ntrace: %s\n", r.Trace)
	}
}

func checkLine(c check.Result) string {
	v := "PASS"
	if !c.OK {
		v = strings.ToUpper(string(c.Verdict))
	}
	line := v + " " + c.Check
	if c.Summary != "" {
		line += ": " + c.Summary
	}
	return line
}

func newClusterPauseCmd() *cobra.Command {
	return nodeOp(&cobra.Command{
		Use:   "pause N",
		Short: "freeze node N (SIGSTOP): the GC-pause case",
		Long: `Freeze node N as a long GC pause would: the node records a pause event in
its trace and stops handling events, then its process gets SIGSTOP, so not
even its transport runs. ordo cluster resume N lets it go on. A paused
leader that wakes up after the others elected a new one must learn the
higher term before anything it does counts (section 5).`,
	}, func(cmd *cobra.Command, c *live.Cluster, id ordo.NodeID) error {
		if err := c.Pause(id); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "paused n%d (SIGSTOP)\n", id)
		return nil
	})
}

func newClusterResumeCmd() *cobra.Command {
	return nodeOp(&cobra.Command{
		Use:   "resume N",
		Short: "let a paused node go on (SIGCONT)",
	}, func(cmd *cobra.Command, c *live.Cluster, id ordo.NodeID) error {
		if !slices.Contains(c.Running(), id) {
			return fmt.Errorf("node %d is not running (a node killed while paused starts again with ordo cluster restart %d)", id, id)
		}
		if !c.Paused(id) {
			return fmt.Errorf("node %d is not paused", id)
		}
		if err := c.Resume(id); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "resumed n%d (SIGCONT)\n", id)
		return nil
	})
}

// liveNodes says what processes a scenario starts: "5 servers of dynamo,
// 2 clients (dynamo-client)".
func liveNodes(sc *scenario.Scenario) string {
	s := fmt.Sprintf("%s of %s", plural.Count(sc.Nodes, "server"), sc.Protocol.Name)
	clients, protos := 0, []string{}
	for _, g := range sc.Clients {
		clients += g.Count
		if !slices.Contains(protos, g.Protocol.Name) {
			protos = append(protos, g.Protocol.Name)
		}
	}
	if clients > 0 {
		s += fmt.Sprintf(", %d %s (%s)", clients, map[bool]string{true: "client", false: "clients"}[clients == 1], strings.Join(protos, ", "))
	}
	return s
}
