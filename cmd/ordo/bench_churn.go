package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/lab"
)

func init() { benchCommands = append(benchCommands, newBenchChurnCmd) }

func newBenchChurnCmd() *cobra.Command {
	var (
		protocol, losses string
		n, seeds         int
		duration         time.Duration
		opts             []string
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "churn",
		Short: "leader changes per minute against message loss (how defaults hold on a lossy network)",
		Long: `bench churn runs an election protocol on n nodes with loss on every link from
the start, over several seeds, and counts the leaderships that begin after
the first: on a healthy cluster that is 0. A heartbeat too close to the
election timeout makes followers time out on a few lost heartbeats and
depose a healthy leader (etcd keeps its heartbeat 10× below the election
timeout for this reason).`,
		Example: `  ordo bench churn
  ordo bench churn --loss 0.1,0.2,0.3 -o heartbeat=50ms --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := parseOptions(opts)
			if err != nil {
				return err
			}
			var ls []float64
			for _, f := range strings.Split(losses, ",") {
				v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
				if err != nil || !(v >= 0 && v < 1) { // NaN fails both comparisons
					return fmt.Errorf("--loss: %q is not a loss rate in [0, 1)", f)
				}
				ls = append(ls, v)
			}
			if err := checkNodes(n); err != nil {
				return err
			}
			if seeds < 1 || seeds > 10000 {
				return fmt.Errorf("--seeds: %d, want 1..10000", seeds)
			}
			if err := checkSimDuration(duration); err != nil {
				return err
			}
			rows, err := lab.Churn(protocol, o, n, ls, seeds, duration)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				for _, r := range rows {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			}
			opts := lab.FormatOptions(o)
			if opts == "" {
				opts = "the defaults"
			}
			fmt.Fprintf(w, "%s, %s, %s × %v, options: %s\n", protocol, plural.Count(n, "node"), plural.Count(seeds, "seed"), duration, opts)
			fmt.Fprintf(w, "%6s  %15s  %14s\n", "loss", "leader changes", "per minute")
			for _, r := range rows {
				fmt.Fprintf(w, "%5.0f%%  %15d  %14.3f\n", r.Loss*100, r.LeaderChanges, r.PerMinute)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&protocol, "protocol", "raft", "election protocol")
	fl.StringVar(&losses, "loss", "0,0.05,0.1,0.2,0.3", "loss rates on every link, comma-separated")
	fl.IntVarP(&n, "nodes", "n", 3, "cluster size")
	fl.IntVar(&seeds, "seeds", 10, "runs per loss rate (seeds 1..N)")
	fl.DurationVar(&duration, "duration", time.Minute, "simulated time per run")
	fl.StringArrayVarP(&opts, "option", "o", nil, "protocol option key=value (repeatable)")
	fl.BoolVar(&asJSON, "json", false, "one JSON object per loss rate")
	return cmd
}
