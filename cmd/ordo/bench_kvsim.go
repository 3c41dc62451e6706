package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo/lab"
)

func init() { benchCommands = append(benchCommands, newBenchKVSimCmd) }

func newBenchKVSimCmd() *cobra.Command {
	var (
		nodes, conc, keys, reads int
		clients, sizes           string
		duration, fsync          time.Duration
		checks, asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "kv-sim",
		Short: "measure the kv database in the simulator: operations per CPU-second by clients and value size",
		Long: `Run the kv database (Raft replication, the key-value machine, kv-client
workloads in a closed loop with no pause) in the simulator without faults,
for every number of clients and every value size given, and report the
operations completed per CPU-second of this process and per simulated
second. With --checks the history is also judged online (linearizable,
no-lost-write, agreement): the cost of a campaign's run.

  ordo bench kv-sim --clients 1,4,16 --value-size 16,1024,65536
  ordo bench kv-sim --checks --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := kvParseInts("--clients", clients, 1, 1000)
			if err != nil {
				return err
			}
			vs, err := kvParseInts("--value-size", sizes, 0, 256<<10)
			if err != nil {
				return err
			}
			if duration <= 0 || duration > time.Hour {
				return fmt.Errorf("--duration %v: need (0, 1h]", duration)
			}
			var rows []*lab.KVSimResult
			for _, c := range cl {
				for _, v := range vs {
					cfg := lab.KVSimConfig{Nodes: nodes, Clients: c, Concurrency: conc, Keys: keys, ValueSize: v, Reads: reads, Duration: duration, Seed: 1, Disk: fsync}
					if checks {
						cfg.Checks = []string{"linearizable", "no-lost-write", "agreement"}
					}
					r, err := lab.KVSim(cfg)
					if err != nil {
						return err
					}
					rows = append(rows, r)
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "nodes\tclients\tvalue B\tops\tcpu s\tops/cpu-s\tops/sim-s\tmsgs\t")
			for _, r := range rows {
				fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.2f\t%.0f\t%.0f\t%d\t\n", r.Config.Nodes, r.Config.Clients*r.Config.Concurrency, r.Config.ValueSize, r.Ops, r.CPUSeconds, r.OpsPerCPU, r.SimOpsPerS, r.Delivered)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, r := range rows {
				if len(r.Verdicts) > 0 {
					fmt.Fprintf(w, "clients %d, %d B: %s\n", r.Config.Clients, r.Config.ValueSize, strings.Join(r.Verdicts, ", "))
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&nodes, "nodes", "n", 5, "servers")
	fl.StringVar(&clients, "clients", "1,4,16", "client nodes, comma-separated (each a row)")
	fl.IntVar(&conc, "concurrency", 1, "operations in flight per client")
	fl.StringVar(&sizes, "value-size", "16,1024", "value sizes in bytes, comma-separated (each a row)")
	fl.IntVar(&keys, "keys", 100, "keys the clients spread over")
	fl.IntVar(&reads, "reads", 50, "percent of gets")
	fl.DurationVar(&duration, "duration", 10*time.Second, "simulated time per row")
	fl.DurationVar(&fsync, "fsync", 0, "simulated fsync latency (0: no disk model)")
	fl.BoolVar(&checks, "checks", false, "judge the history online as a campaign does")
	fl.BoolVar(&asJSON, "json", false, "print the rows as JSON")
	return cmd
}

// kvParseInts reads "1,4,16" with every value in [lo, hi], none twice
// (a row each: the same row twice is a typo, refused as parseIntSet
// refuses it), in the order given.
func kvParseInts(flag, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s %q: want comma-separated integers in %d..%d", flag, s, lo, hi)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%s %q: %d given twice", flag, s, n)
		}
		out = append(out, n)
	}
	return out, nil
}
