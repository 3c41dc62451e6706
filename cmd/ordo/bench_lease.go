package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ordo/election/lease/failover"
	"ordo/internal/plural"
)

func init() { benchCommands = append(benchCommands, newBenchLeaseCmd) }

func newBenchLeaseCmd() *cobra.Command {
	var (
		ttls, systems, dir string
		rounds, cands      int
		members            int
		asJSON, quiet      bool
		keep               bool
		seed               uint64
	)
	cmd := &cobra.Command{
		Use:   "lease",
		Short: "failover after kill -9 of the leader: ordo's lease election vs etcd's own election vs Raft-style (live)",
		Long: `bench lease kills the leader of real elections with SIGKILL, round after
round, and times the failover: from the instant before the signal to the
instant the next leader knows it leads. In each round every system loses its
leader in turn (interleaved), so the ratios hold on a busy machine:

  etcd-election  etcd's own recipe (go.etcd.io/etcd/client/v3/concurrency:
                 NewSession with the TTL, NewElection, Campaign), one candidate
                 process per node; a candidate reports when Campaign returns
  ordo-lease     ordo's lease election (fail-closed, fencing tokens) on a live
                 cluster whose nodes reach the same etcd through their runtime;
                 the new leader's "leader" note in the merged trace
  ordo-raft      ordo's Raft-style election on a live cluster, for reference
                 (no TTL: its election timeout decides)
  ordo-lease-noprobe
                 ordo-lease with -o probe=0: waits for etcd's expiry check as
                 etcd's recipe does (only when named: what the probes save)

Each TTL gets its own embedded etcd (1 member by default: what
ordo cluster up --protocol lease starts), shared by etcd's candidates and
ordo's lease cluster under different prefixes. A crashed leader's key goes
when its lease is revoked: up to one TTL after its last keepalive, plus the
wait for etcd's expiry check (every 500 ms) in etcd's recipe; ordo's
successor probes the lease's time to live and revokes it itself once it has
certainly expired, without waiting for that check. The killed process is started again after each round, so
every round begins with all candidates.`,
		Example: `  ordo bench lease
  ordo bench lease --ttl 2s --rounds 5 --systems etcd-election,ordo-lease
  ordo bench lease --json > lease.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Zero means "the default" to failover.Run, never to a flag.
			if rounds < 1 || rounds > failover.MaxRounds {
				return fmt.Errorf("--rounds %d: want 1..%d", rounds, failover.MaxRounds)
			}
			if cands < 2 || members < 1 {
				return fmt.Errorf("--candidates %d --etcd-members %d: want at least 2 candidates and 1 member", cands, members)
			}
			o := failover.Options{Rounds: rounds, Candidates: cands, EtcdMembers: members, Seed: seed}
			for _, s := range strings.Split(ttls, ",") {
				d, err := time.ParseDuration(strings.TrimSpace(s))
				if err != nil {
					return fmt.Errorf("--ttl %q: want durations like 2s,5s", s)
				}
				o.TTLs = append(o.TTLs, d)
			}
			for _, s := range strings.Split(systems, ",") {
				o.Systems = append(o.Systems, strings.TrimSpace(s))
			}
			if err := o.Validate(); err != nil {
				return err
			}
			o.Dir = dir
			removeTmp := false
			if o.Dir == "" {
				tmp, err := os.MkdirTemp("", "ordo-bench-lease-")
				if err != nil {
					return err
				}
				o.Dir, removeTmp = tmp, !keep
			}
			if !quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := failover.Run(ctx, o)
			if err != nil {
				return fmt.Errorf("%w (logs in %s)", err, o.Dir) // kept for them
			}
			for _, r := range rep.Rows {
				removeTmp = removeTmp && r.Violations == 0 // the traces are the evidence
			}
			if removeTmp {
				// etcd preallocates 64 MB of WAL per member: a run is not
				// left behind unless asked (--keep, --dir).
				defer os.RemoveAll(o.Dir)
				rep.Dir = ""
				for i := range rep.Rows {
					rep.Rows[i].Trace = ""
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			writeLeaseReport(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&ttls, "ttl", "2s,5s", "session TTLs, whole seconds, comma-separated")
	fl.IntVar(&rounds, "rounds", 20, "kills per system (interleaved rounds)")
	fl.IntVar(&cands, "candidates", 3, "candidates per election (servers of ordo's clusters)")
	fl.IntVar(&members, "etcd-members", 1, "members of each embedded etcd")
	fl.StringVar(&systems, "systems", strings.Join([]string{failover.EtcdElection, failover.OrdoLease, failover.OrdoRaft}, ","), "systems to measure")
	fl.StringVar(&dir, "dir", "", "where the processes keep data, logs and merged traces, kept (default: a temporary directory, removed unless --keep or the run fails)")
	fl.BoolVar(&keep, "keep", false, "keep the temporary directory")
	fl.BoolVar(&asJSON, "json", false, "the report as JSON")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress line per kill on standard error")
	fl.Uint64Var(&seed, "seed", 1, "seeds ordo's clusters")
	return cmd
}

func writeLeaseReport(w io.Writer, rep *failover.Report) {
	fmt.Fprintf(w, "failover after kill -9 of the leader: %s, %d-member embedded etcd, %s (%.0fs wall)\n",
		plural.Count(rep.Candidates, "candidate"), rep.EtcdMembers, plural.Count(rep.Rounds, "interleaved round"), rep.WallSeconds)
	fmt.Fprintf(w, "%-18s %4s %10s %10s %10s %12s  %s\n", "system", "ttl", "p50", "p99", "max", "ack p50", "checks")
	for _, r := range rep.Rows {
		ttl, ack := r.TTL, "-"
		if ttl == "" {
			ttl = "-"
		}
		if r.AckMs != nil {
			ack = fmtMs(r.AckP50Ms)
		}
		fmt.Fprintf(w, "%-18s %4s %10s %10s %10s %12s  %s\n", r.System, ttl, fmtMs(r.P50Ms), fmtMs(r.P99Ms), fmtMs(r.MaxMs), ack, orNone(r.Checks))
	}
	for _, r := range rep.Ratios {
		fmt.Fprintf(w, "ordo-lease / etcd-election at ttl %s: p50 ×%.2f, p99 ×%.2f, max ×%.2f (below 1: ordo is faster)\n", r.TTL, r.P50, r.P99, r.Max)
	}
	for _, r := range rep.Rows {
		if r.Violations > 0 {
			fmt.Fprintf(w, "%s: %d violation(s) on %s\n", r.System, r.Violations, r.Trace)
		}
		unmeasured := 0
		for _, ms := range r.FailoverMs {
			if ms < 0 {
				unmeasured++
			}
		}
		if unmeasured > 0 || r.Lost > 0 {
			fmt.Fprintf(w, "%s %s: %d round(s) not measured, %d session(s) lost outside a kill (an overloaded machine starves keepalives)\n", r.System, r.TTL, unmeasured, r.Lost)
		}
	}
	fmt.Fprintln(w, "failover: SIGKILL → the next leader knows it leads (etcd: Campaign returns; ordo: its leader note in the merged trace);")
	fmt.Fprintln(w, "ack p50: SIGKILL → a majority of ordo's servers knows the new leader (the figure of ordo cluster chaos).")
	if rep.Dir != "" {
		fmt.Fprintf(w, "data, logs and merged traces in %s\n", rep.Dir)
	}
}

func fmtMs(ms float64) string { return fmt.Sprintf("%.0f ms", ms) }

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
