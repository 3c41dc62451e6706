package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/spawn"
	"ordo/kv"
	"ordo/kv/bench"
	"ordo/live"
	"ordo/service/etcd"
)

func init() { benchCommands = append(benchCommands, newBenchKVCmd) }

func newBenchKVCmd() *cobra.Command {
	var (
		nodes, clients         string
		duration, warmup       time.Duration
		reps, failover, foCli  int
		asJSON, keep, tlsOn    bool
		rounds                 bool
		failoverOnly, unbatch  bool
		svg, dir               string
		seed                   uint64
		etcdTick, etcdElection time.Duration
		etcdProcs              int
		opts                   []string
	)
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "exercise 3's database beside etcd: throughput, latency and failover on real processes",
		Long: `Start exercise 3's database (ordo cluster up --protocol kv) and a real etcd
cluster of the same size (embedded go.etcd.io/etcd/server/v3, one process
per member) on this machine, and drive both with the same closed-loop load:
--clients concurrent clients, each putting a 100-byte value at a random key
(100 000 keys, seeded) and waiting for the acknowledgement before the next.
Each cell (nodes × clients) runs --warmup unmeasured, then --duration
measured; it prints acknowledged puts per second, latency p50/p99/max
(nearest rank over every put) and the ordo/etcd ratio. With --reps N each
cell runs N times, the systems alternating who goes first, and the median
of the per-rep ratios is reported.

Both sides acknowledge a put only once a majority has it on disk: etcd with
fsync on (its default), ordo by its durability contract (a turn's writes are
fsynced before its replies leave). Both keep their data on the filesystem of
--dir, listen on loopback, and run with TLS off (--tls: both on; etcd then
uses its own self-signed certificates). The etcd client sends every put to
the leader and follows it when it changes, as ordo's client does, so
neither pays a follower's forwarding hop. etcd's workers share one clientv3
(gRPC) client; ordo's share one kv/client (HTTP/JSON), which batches puts
made at the same time into one HTTP request (--ordo-unbatched: a kv/client
per worker, a request per put).

--failover N: with --failover-clients writing to a cluster of the first
--nodes size, SIGKILL the leader and time from the kill to the first
acknowledgement of a put invoked after it; N rounds per system, interleaved,
the killed node restarted between rounds; p50/p99/max.

--rounds breaks ordo's writes down into its leader's rounds, from the
nodes' traces over each cell's measured windows (kept until the cluster
stops, then removed unless --keep): a table under each cell's line, and
"rounds" in its --json object. A round is a batch of puts; its segments,
in µs (p50, p90, mean over the rounds):
  A               leader: first KVRequest in → first AppendEntries out
  B               AppendEntries out → in at the follower
  C               follower: AppendEntries in → its AppendResp (send call)
  D               AppendResp send call → in at the leader (follower fsync + transport)
  leader durable  first AppendEntries out → the leader's own fsync done
  first ack       first AppendEntries out → first AppendResp in
  E               first AppendResp in → the first KVResponse out after it
  G               a round's last KVResponse out → next round's first KVRequest in
  total           first KVRequest in → that KVResponse out
B, C and D count one sample per follower a round.

--svg draws latency over time (log scale), one panel per cell with both
systems overlaid and one per system's failover rounds with every period
from a kill to the next acknowledged put shaded. The machine is shared:
read ratios from one run, not figures from different runs.`,
		Example: `  ordo bench kv --nodes 3 --clients 1,16,64 --reps 3
  ordo bench kv --nodes 3 --failover 20 --failover-only
  ordo bench kv --nodes 3 --clients 2 --duration 1s --warmup 200ms
  ordo bench kv --nodes 3 --clients 16 --rounds --svg ""`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := parseSizes("--nodes", nodes, 1, bench.MaxNodes)
			if err != nil {
				return err
			}
			cs, err := parseCounts("--clients", clients, 1, bench.MaxClients)
			if err != nil {
				return err
			}
			if duration <= 0 {
				return fmt.Errorf("--duration %v: want a positive duration", duration)
			}
			o, err := parseOptions(opts)
			if err != nil {
				return err
			}
			if etcdProcs < 0 || etcdProcs > etcd.MaxProcs {
				return fmt.Errorf("--etcd-procs %d: want 0 (Go's default) or 1..%d", etcdProcs, etcd.MaxProcs)
			}
			if etcdTick < 0 || etcdElection < 0 || etcdTick%time.Millisecond != 0 || etcdElection%time.Millisecond != 0 {
				return fmt.Errorf("--etcd-heartbeat %v, --etcd-election %v: want whole milliseconds", etcdTick, etcdElection)
			}
			// Counts and durations are checked here, by flag, before any
			// cluster starts (zero meant "the default" to the library).
			switch {
			case reps < 1 || reps > bench.MaxReps:
				return fmt.Errorf("--reps %d: want 1..%d", reps, bench.MaxReps)
			case warmup < 0:
				return fmt.Errorf("--warmup %v: want 0 or a positive duration", warmup)
			case failover < 0 || failover > bench.MaxFailover:
				return fmt.Errorf("--failover %d: want 0..%d rounds", failover, bench.MaxFailover)
			case foCli < 1 || foCli > bench.MaxClients:
				return fmt.Errorf("--failover-clients %d: want 1..%d", foCli, bench.MaxClients)
			}
			for _, n := range ns {
				if _, err := live.CheckOptions(kv.Protocol, o, n); err != nil {
					return fmt.Errorf("-o (%d nodes): %w", n, err)
				}
			}
			bin, err := os.Executable()
			if err != nil {
				return err
			}
			root, err := os.MkdirTemp(dir, "ordo-bench-kv-")
			if err != nil {
				return fmt.Errorf("--dir: %w", err)
			}
			stderr := cmd.ErrOrStderr()
			if keep {
				fmt.Fprintf(stderr, "data and logs kept in %s\n", root)
			} else {
				defer os.RemoveAll(root)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg := bench.Config{Nodes: ns, Clients: cs, Duration: duration, Warmup: warmup, Reps: reps,
				Failover: failover, FailoverClients: foCli, FailoverOnly: failoverOnly, Seed: seed, Dir: root, Progress: stderr, Rounds: rounds,
				Ordo: bench.OrdoSystem(bench.OrdoOptions{Binary: bin, TLS: tlsOn, Seed: seed, Options: o, Unbatched: unbatch}),
				Etcd: etcdSystem(etcd.Options{Binary: bin, TLS: tlsOn,
					TickMs: uint(etcdTick / time.Millisecond), ElectionMs: uint(etcdElection / time.Millisecond), Procs: etcdProcs})}
			res, err := bench.Run(ctx, cfg)
			if res != nil && svg != "" && len(res.Series) > 0 {
				if werr := writeSVGFile(svg, res); werr != nil {
					fmt.Fprintln(stderr, "ordo: --svg:", werr)
				} else {
					fmt.Fprintf(stderr, "latency over time: %s\n", svg)
				}
			}
			if res != nil && (len(res.Cells) > 0 || res.Failover != nil) {
				out := cmd.OutOrStdout()
				if asJSON {
					if werr := bench.WriteJSON(out, res); werr != nil {
						return werr
					}
				} else if werr := bench.WriteTable(out, res); werr != nil {
					return werr
				}
			}
			if err != nil && keep {
				err = fmt.Errorf("%w (logs in %s)", err, root)
			} else if err != nil {
				err = fmt.Errorf("%w (rerun with --keep to keep the members' logs)", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&nodes, "nodes", "3,5", "cluster sizes, comma-separated")
	f.StringVar(&clients, "clients", "1,16,64", "concurrent closed-loop clients, comma-separated")
	f.DurationVar(&duration, "duration", 10*time.Second, "measured time of each run")
	f.DurationVar(&warmup, "warmup", 2*time.Second, "unmeasured load before each run")
	f.IntVar(&reps, "reps", 1, "repetitions of every cell, ordo and etcd interleaved (the median ratio is reported)")
	f.IntVar(&failover, "failover", 0, "failover rounds per system: SIGKILL the leader while clients write")
	f.IntVar(&foCli, "failover-clients", 16, "clients writing during the failover rounds")
	f.BoolVar(&failoverOnly, "failover-only", false, "measure only the failover rounds (on the first --nodes size), no cells")
	f.BoolVar(&asJSON, "json", false, "one JSON object a line per cell (then one for the failover figures)")
	f.StringVar(&svg, "svg", "bench-kv.svg", "latency-over-time picture to write (\"\": none)")
	f.StringVar(&dir, "dir", ".", "directory on the disk under test; a temporary directory is made inside")
	f.BoolVar(&keep, "keep", false, "keep both systems' data and logs")
	f.BoolVar(&rounds, "rounds", false, "break ordo's writes down into its leader's rounds from its nodes' traces (µs per segment, under each cell)")
	f.BoolVar(&tlsOn, "tls", false, "TLS on both sides (default: off on both)")
	f.BoolVar(&unbatch, "ordo-unbatched", false, "a kv/client per ordo worker and an HTTP request per put (default: one shared client batching concurrent puts)")
	f.Uint64Var(&seed, "seed", 1, "seed of keys and values")
	f.DurationVar(&etcdTick, "etcd-heartbeat", 0, "etcd's heartbeat interval (0: its default, 100ms)")
	f.DurationVar(&etcdElection, "etcd-election", 0, "etcd's election timeout (0: its default, 1s)")
	f.IntVar(&etcdProcs, "etcd-procs", 0, "each etcd member's GOMAXPROCS (0: as etcd runs unless told: a GOMAXPROCS in the environment, else Go's default, this machine's CPUs; ordo's nodes share the CPUs)")
	optionFlag(f, &opts, "an option of ordo's kv protocol KEY=VALUE (repeatable), e.g. -o election_timeout_min=500ms")
	return cmd
}

// etcdSystem is a real etcd cluster (package service/etcd) whose members
// are this binary's hidden `ordo service etcd-member`.
func etcdSystem(o etcd.Options) bench.System {
	tls := "off"
	if o.TLS {
		tls = "on (auto TLS: self-signed, clients and peers)"
	}
	timing := "heartbeat 100ms, election timeout 1s (its defaults)"
	if o.TickMs != 0 || o.ElectionMs != 0 {
		timing = fmt.Sprintf("heartbeat %dms, election timeout %dms (0: default)", o.TickMs, o.ElectionMs)
	}
	procs := fmt.Sprintf("GOMAXPROCS %d (Go's default: this machine's CPUs)", runtime.GOMAXPROCS(0))
	if n, ok := spawn.EnvProcs(); ok {
		procs = fmt.Sprintf("GOMAXPROCS %d (the environment's)", n)
	}
	if o.Procs > 0 {
		procs = fmt.Sprintf("GOMAXPROCS %d (--etcd-procs)", o.Procs)
	}
	return bench.System{
		Name:  "etcd",
		About: "etcd v3.7 embedded, one process per member, fsync on (its default), TLS " + tls + ", " + timing + ", " + procs + ", clientv3 pinned to the leader",
		Start: func(ctx context.Context, nodes int, dir string) (bench.Driver, error) {
			o.N, o.Dir = nodes, dir
			return etcd.NewDriver(ctx, o)
		},
	}
}

func writeSVGFile(path string, res *bench.Result) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WriteSVG(f, res); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseCounts reads a comma-separated list of counts in lo..hi.
func parseCounts(flag, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s: %q is not a count in %d..%d", flag, f, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}
