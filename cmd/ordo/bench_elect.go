package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/lab"
)

func init() { benchCommands = append(benchCommands, newBenchElectCmd) }

func newBenchElectCmd() *cobra.Command {
	var sizes, protocol string
	var failover int
	var opts []string
	cmd := &cobra.Command{
		Use:   "elect",
		Short: "messages per election and time to elect, beside the theory (section 4)",
		Long: `bench elect crashes the leader of clusters of n = 3 .. 65 nodes and counts the
messages of the election that follows, in its best and worst case, beside the
chapter's complexity: Bully Θ(n²) in the worst case (node 1 detects first),
Ring 2n (Chang–Roberts between 2n and 3n−1), Raft about 2(n−1).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if failover < 0 || failover > lab.MaxFailoverSeeds {
				return fmt.Errorf("--failover %d: want 1..%d seeds (0, the default, measures messages per election instead)", failover, lab.MaxFailoverSeeds)
			}
			if failover > 0 {
				o, err := parseOptions(opts)
				if err != nil {
					return err
				}
				// The checks every run of the failover makes, once, up front.
				if _, _, err := lab.Validate(protocol, o, 5); err != nil {
					return err
				}
				return benchFailover(cmd.OutOrStdout(), protocol, o, failover)
			}
			if len(opts) > 0 {
				return fmt.Errorf("-o applies to --failover only")
			}
			ns, err := parseSizes("--sizes", sizes, 3, 257)
			if err != nil {
				return err
			}
			return benchElect(cmd.OutOrStdout(), ns)
		},
	}
	var def []string
	for _, n := range lab.BenchSizes {
		def = append(def, strconv.Itoa(n))
	}
	cmd.Flags().StringVar(&sizes, "sizes", strings.Join(def, ","), "cluster sizes")
	cmd.Flags().IntVar(&failover, "failover", 0, "instead: crash the leader of 5 nodes (LAN) over this many seeds and report time to a new leader, p50/p99")
	cmd.Flags().StringVar(&protocol, "protocol", "raft", "protocol for --failover")
	optionFlag(cmd.Flags(), &opts, "a protocol option KEY=VALUE for --failover (repeatable), e.g. -o peer_down=false")
	return cmd
}

func benchElect(w io.Writer, ns []int) error {
	fmt.Fprintf(w, "%-20s %4s %-5s %9s %10s %12s  %s\n", "protocol", "n", "case", "messages", "all msgs", "time", "theory (bounds)")
	err := lab.BenchTable(ns, func(r *lab.BenchRow) {
		mark := ""
		if r.Messages < r.Lo || r.Messages > r.Hi {
			mark = "  OUTSIDE THEORY"
		}
		fmt.Fprintf(w, "%-20s %4d %-5s %9d %10d %12s  %s (%d..%d)%s\n", r.Protocol, r.N, r.Case, r.Messages, r.All, fmtDur(r.TimeToElect), r.Theory, r.Lo, r.Hi, mark)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nmessages: election messages from the crash on (Bully ELECTION+OK+COORDINATOR, Ring ELECTION+COORDINATOR, Raft RequestVote+responses; PreVote is extra);")
	fmt.Fprintln(w, "all msgs: every message from the crash to the new leader, heartbeats and acks included. Raft's cases are the best and worst of 8 seeds.")
	return nil
}

func benchFailover(w io.Writer, protocol string, opts map[string]string, seeds int) error {
	if seeds > lab.MaxFailoverSeeds {
		return fmt.Errorf("--failover %d: at most %d seeds", seeds, lab.MaxFailoverSeeds)
	}
	start := time.Now()
	elected, agreed, noLeader, err := lab.Failovers(protocol, opts, seeds)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s, 5 nodes, LAN, leader crashed at a random instant after 2s, %s (%v wall)\n", withOptions(protocol, opts), plural.Count(seeds, "seed"), time.Since(start).Round(time.Millisecond))
	writeFailoverTimes(w, seeds, elected, agreed)
	if noLeader > 0 {
		fmt.Fprintf(w, "%s no new leader within 3s\n", plural.Count(noLeader, "seed elected", "seeds elected"))
	}
	return nil
}
