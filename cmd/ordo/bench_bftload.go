package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/lab"
	"ordo/lab/liveload"
	"ordo/pbft"
)

func init() { benchCommands = append(benchCommands, newBenchBFTLoadCmd) }

func newBenchBFTLoadCmd() *cobra.Command {
	var (
		nodes, clients string
		raftNodes      int
		batches        string
		duration       time.Duration
		seed           uint64
		asJSON, onLive bool
		dir            string
	)
	cmd := &cobra.Command{
		Use:   "bft-load",
		Short: "PBFT's cost in the simulator beside the Raft database: requests/s, messages and bytes per request, latency",
		Long: `Run PBFT (f = ⌊(n−1)/3⌋, no faults) for every n given, and ordo's Raft
database (kv) under the same client load, in the simulator: closed-loop
clients with one write outstanding each and no pause, a LAN, real bytes on
authenticated links. For each run: requests completed per simulated
second, messages and bytes delivered per request (PBFT's prepare and commit
phases are all-to-all, so its messages grow with n²; Raft's with n), and
the latency from request to acceptance (PBFT: f+1 matching replies).

Simulated figures count messages and simulated time, not this machine's
speed: they say what each protocol costs, not how fast ordo runs. With
--live the same load runs on real processes on loopback (mutual TLS, real
fsync), for --duration of wall time after a second of warm-up, and the
figures are per second of this machine: what the messages cost here.

PBFT's primary orders up to 64 requests per sequence number (its option
batch; Castro and Liskov 1999, section 5.1): --batch 64,1 gives a row with
batching and one without (batch=1, one request per sequence number, the
protocol before batching) for each n.`,
		Example: `  ordo bench bft-load
  ordo bench bft-load --nodes 4,7,10 --clients 16 --duration 10s --json
  ordo bench bft-load --batch 64,1
  ordo bench bft-load --live --nodes 4 --clients 16 --duration 10s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := kvParseInts("--nodes", nodes, 4, 64)
			if err != nil {
				return err
			}
			cs, err := kvParseInts("--clients", clients, 1, lab.MaxLoadClients)
			if err != nil {
				return err
			}
			if raftNodes < 1 || raftNodes > 64 {
				return fmt.Errorf("--raft-nodes %d: want 1..64", raftNodes)
			}
			bs := []int{0}
			if batches != "" {
				if bs, err = kvParseInts("--batch", batches, 1, pbft.MaxBatch); err != nil {
					return err
				}
			}
			lr, err := newLoadRunner(cmd, onLive, duration, dir, "ordo-bft-load-")
			if err != nil {
				return err
			}
			defer lr.Close()
			measure := func(protocol string, n, c, batch int) (*lab.ReplicationLoadResult, error) {
				lc := lab.ReplicationLoadConfig{Protocol: protocol, Nodes: n, Clients: c, Duration: duration, Seed: seed}
				name := fmt.Sprintf("%s-n%d-c%d", protocol, n, c)
				if batch > 0 {
					lc.Options = map[string]string{"batch": strconv.Itoa(batch)}
					name += fmt.Sprintf("-b%d", batch)
				}
				return lr.Run(lc, name)
			}
			var rows []*lab.ReplicationLoadResult
			for _, c := range cs {
				for _, n := range ns {
					for _, b := range bs {
						r, err := measure("pbft", n, c, b)
						if err != nil {
							return err
						}
						rows = append(rows, r)
					}
				}
				r, err := measure("kv", raftNodes, c, 0)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			per := "req/sim-s"
			if onLive {
				per = "req/s"
			}
			fmt.Fprintf(tw, "protocol\tn\tclients\tbatch\trequests\t%s\tmsgs/req\tbytes/req\tp50 ms\tp99 ms\t\n", per)
			for _, r := range rows {
				batch := "-"
				if r.Config.Protocol == "pbft" {
					batch = strconv.Itoa(pbft.DefaultBatch)
					if b := r.Config.Options["batch"]; b != "" {
						batch = b
					}
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%.0f\t%.1f\t%.0f\t%.2f\t%.2f\t\n", r.Config.Protocol, r.Config.Nodes, r.Config.Clients, batch, r.Ops, r.SimOpsPerS, r.MessagesPerOp, r.BytesPerOp, r.P50Ms, r.P99Ms)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if onLive {
				fmt.Fprintf(w, "%v of wall time per row after a 1s warm-up, real processes on loopback; kv is ordo's Raft database (writes only), the same client load\n", duration)
			} else {
				fmt.Fprintf(w, "%v simulated per row, seed %d; kv is ordo's Raft database (writes only), the same client load\n", duration, seed)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&nodes, "nodes", "4,7,10", "PBFT replicas, comma-separated (each a row; 4..64)")
	fl.StringVar(&clients, "clients", "16", "client nodes, comma-separated")
	fl.IntVar(&raftNodes, "raft-nodes", 3, "servers of the Raft database row")
	fl.StringVar(&batches, "batch", "", "PBFT's option batch, comma-separated (a row each; 1: no batching; default: the replicas' default, "+strconv.Itoa(pbft.DefaultBatch)+")")
	fl.DurationVar(&duration, "duration", 5*time.Second, "simulated time per row")
	fl.Uint64Var(&seed, "seed", 1, "seed of every run")
	fl.BoolVar(&asJSON, "json", false, "print the rows as JSON")
	fl.BoolVar(&onLive, "live", false, "run on real processes on loopback instead of the simulator")
	fl.StringVar(&dir, "dir", "", "with --live: where the clusters keep data and traces, kept (default: a temporary directory, removed)")
	return cmd
}

// loadRunner runs a load measurement in the simulator or, with --live, on
// real processes in a directory of its own under dir (by default a
// temporary one, removed by Close).
type loadRunner struct {
	cmd    *cobra.Command
	onLive bool
	dir    string
	tmp    string
}

// newLoadRunner checks --duration by its flag's name before any run (the
// simulator's own check says "duration"), for the simulator or live, and
// --dir, and makes the temporary directory of a live run. bench bft-load
// and bench dynamo share it.
func newLoadRunner(cmd *cobra.Command, onLive bool, duration time.Duration, dir, tmpPrefix string) (*loadRunner, error) {
	switch {
	// The simulator writes no directory: --dir without --live was
	// ignored, and the user looked for traces that were never kept.
	case !onLive && cmd.Flags().Changed("dir"):
		return nil, fmt.Errorf("--dir is for --live runs (the simulator keeps no cluster directory): add --live, or drop --dir")
	case duration <= 0:
		return nil, fmt.Errorf("--duration %v: want a positive duration", duration)
	case !onLive && duration > lab.MaxLoadDuration:
		return nil, fmt.Errorf("--duration %v: at most %v of simulated time per row", duration, lab.MaxLoadDuration)
	case onLive && duration > liveload.MaxDuration:
		return nil, fmt.Errorf("--duration %v with --live: at most %v", duration, liveload.MaxDuration)
	}
	lr := &loadRunner{cmd: cmd, onLive: onLive, dir: dir}
	if !onLive {
		return lr, nil
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", tmpPrefix)
		if err != nil {
			return nil, err
		}
		lr.dir, lr.tmp = tmp, tmp
	}
	return lr, nil
}

// Run measures c; live, its cluster runs in dir/name.
func (lr *loadRunner) Run(c lab.ReplicationLoadConfig, name string) (*lab.ReplicationLoadResult, error) {
	if !lr.onLive {
		return lab.ReplicationLoad(c)
	}
	d := filepath.Join(lr.dir, name)
	fmt.Fprintf(lr.cmd.ErrOrStderr(), "live: %s, %s, %s, %v (cluster in %s)\n", c.Protocol, plural.Count(c.Nodes, "node"), plural.Count(c.Clients, "client"), c.Duration, d)
	return liveload.Run(lr.cmd.Context(), liveload.Options{ReplicationLoadConfig: c, Dir: d})
}

// Close removes the temporary directory, if Run made one.
func (lr *loadRunner) Close() {
	if lr.tmp != "" {
		os.RemoveAll(lr.tmp)
	}
}
