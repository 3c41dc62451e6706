package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/lab"
)

func init() { benchCommands = append(benchCommands, newBenchDynamoCmd) }

func newBenchDynamoCmd() *cobra.Command {
	var (
		quorums                             string
		wide, asJSON, onLive                bool
		servers, clients, outstanding, keys int
		reads                               int
		duration                            time.Duration
		seed                                uint64
		dir                                 string
	)
	cmd := &cobra.Command{
		Use:   "dynamo",
		Short: "the Dynamo-style store at N=3, R=W=2 against R=W=1: ops/s, get and put latency, messages per request",
		Long: `Run the Dynamo-style store (protocol dynamo) for each quorum N:R:W given,
under closed-loop client load: client nodes running dynamo-client's seeded
workload (gets, and puts with the context of their last get), each with
--outstanding operations in flight and no pause, over --keys keys, in the
simulator (a LAN, real bytes on authenticated links, no faults). Each
quorum prints three rows, every operation, the gets and the puts:
operations completed, per second, latency p50, p99 and max (from the
request to the coordinator's answer after R or W replicas), operations
that failed, and messages and bytes delivered per operation (anti-entropy
and read repair included). Then, for each R=W=1 row, its ratio to the
larger quorum at the same N.

Simulated figures count messages and simulated time, not this machine's
speed. With --live the same load runs on real processes on loopback
(mutual TLS, real fsync), for --duration of wall time after a second of
warm-up, measured from the merged trace: per second of this machine.`,
		Example: `  ordo bench dynamo
  ordo bench dynamo --n5 --duration 10s --json
  ordo bench dynamo --live --clients 4 --outstanding 4 --duration 10s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wide {
				quorums += ",5:3:3,5:1:1"
			}
			qs, err := lab.ParseDynamoQuorums(quorums)
			if err != nil {
				return fmt.Errorf("--quorums: %w", err)
			}
			if clients < 1 || clients > lab.MaxLoadClients {
				return fmt.Errorf("--clients %d: want 1..%d", clients, lab.MaxLoadClients)
			}
			lr, err := newLoadRunner(cmd, onLive, duration, dir, "ordo-bench-dynamo-") // --duration by its name, first
			if err != nil {
				return err
			}
			defer lr.Close()
			var cfgs []lab.ReplicationLoadConfig
			for _, q := range qs {
				rc, err := lab.DynamoLoadConfig{Quorum: q, Servers: servers, Clients: clients, Outstanding: outstanding, Keys: keys,
					Reads: reads, Duration: duration, Seed: seed}.Replication()
				if err != nil {
					return err
				}
				cfgs = append(cfgs, rc)
			}
			var rows []*lab.ReplicationLoadResult
			for i, rc := range cfgs {
				r, err := lr.Run(rc, fmt.Sprintf("dynamo-n%d-r%d-w%d", qs[i].N, qs[i].R, qs[i].W))
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Rows   []*lab.ReplicationLoadResult `json:"rows"`
					Ratios []lab.DynamoRatio            `json:"ratios"`
				}{rows, lab.DynamoRatios(rows)})
			}
			if err := printDynamoLoad(w, rows, onLive); err != nil {
				return err
			}
			if onLive {
				fmt.Fprintf(w, "%v of wall time per quorum after a 1s warm-up, real processes on loopback; %s × %d outstanding, %s, %d%% gets\n", duration, plural.Count(clients, "client"), outstanding, plural.Count(keys, "key"), reads)
			} else {
				fmt.Fprintf(w, "%v simulated per quorum, seed %d; %s × %d outstanding, %s, %d%% gets\n", duration, seed, plural.Count(clients, "client"), outstanding, plural.Count(keys, "key"), reads)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&quorums, "quorums", "3:2:2,3:1:1", "quorums to run, N:R:W comma-separated (each three rows)")
	fl.BoolVar(&wide, "n5", false, "also run N=5 at R=W=3 and R=W=1 (on 5 servers)")
	fl.IntVar(&servers, "servers", 0, "servers of every run (0: each quorum's N)")
	fl.IntVar(&clients, "clients", 4, "client nodes")
	fl.IntVar(&outstanding, "outstanding", 4, "operations in flight per client node (1..64)")
	fl.IntVar(&keys, "keys", 100, "keys the workload spreads over")
	fl.IntVar(&reads, "reads", 50, "percent of operations that are gets")
	fl.DurationVar(&duration, "duration", 5*time.Second, "simulated time per quorum (with --live: wall time)")
	fl.Uint64Var(&seed, "seed", 1, "seed of every run")
	fl.BoolVar(&asJSON, "json", false, "print the rows and ratios as JSON")
	fl.BoolVar(&onLive, "live", false, "run on real processes on loopback instead of the simulator")
	fl.StringVar(&dir, "dir", "", "with --live: where the clusters keep data and traces, kept (default: a temporary directory, removed)")
	return cmd
}

// printDynamoLoad prints three rows per quorum (every operation, gets,
// puts) and a line per ratio of R=W=1 to a larger quorum.
func printDynamoLoad(w io.Writer, rows []*lab.ReplicationLoadResult, onLive bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	per := "ops/sim-s"
	if onLive {
		per = "ops/s"
	}
	fmt.Fprintf(tw, "N\tR\tW\top\tops\t%s\tp50 ms\tp99 ms\tmax ms\tfailed\tmsgs/op\tbytes/op\t\n", per)
	for _, r := range rows {
		q := lab.DynamoQuorumOf(r.Config)
		fmt.Fprintf(tw, "%d\t%d\t%d\tall\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%.1f\t%.0f\t\n", q.N, q.R, q.W, r.Ops, r.SimOpsPerS, r.P50Ms, r.P99Ms, r.MaxMs, r.Failed, r.MessagesPerOp, r.BytesPerOp)
		for _, k := range r.Kinds {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t-\t-\t\n", q.N, q.R, q.W, k.Kind, k.Ops, k.OpsPerS, k.P50Ms, k.P99Ms, k.MaxMs, k.Failed)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range lab.DynamoRatios(rows) {
		var b strings.Builder
		fmt.Fprintf(&b, "R=W=1 / R=W=%s at N=%d: ops/s ×%.2f, msgs/op ×%.2f", quorumRW(d.Larger), d.One.N, d.OpsPerS, d.MessagesPerOp)
		for _, k := range []string{"get", "put"} {
			if p50, ok := d.P50[k]; ok {
				fmt.Fprintf(&b, ", %s p50 ×%.2f p99 ×%.2f", k, p50, d.P99[k])
			}
		}
		fmt.Fprintln(w, b.String())
	}
	return nil
}

// quorumRW is "2" for R=W=2, "2, W=3" otherwise.
func quorumRW(q lab.DynamoQuorum) string {
	if q.R == q.W {
		return fmt.Sprint(q.R)
	}
	return fmt.Sprintf("%d, W=%d", q.R, q.W)
}
