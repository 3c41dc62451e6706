package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"ordo/election/campaign"
)

func init() { benchCommands = append(benchCommands, newBenchElectCmd) }

func newBenchElectCmd() *cobra.Command {
	var sizes string
	cmd := &cobra.Command{
		Use:   "elect",
		Short: "messages per election and time to elect, beside the theory (section 4)",
		Long: `bench elect crashes the leader of clusters of n = 3 .. 65 nodes and counts the
messages of the election that follows, in its best and worst case, beside the
chapter's complexity: Bully Θ(n²) in the worst case (node 1 detects first),
Ring 2n (Chang–Roberts between 2n and 3n−1), Raft about 2(n−1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var ns []int
			for _, s := range strings.Split(sizes, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < 3 || n > 257 {
					return fmt.Errorf("--sizes: %q is not a cluster size in 3..257", s)
				}
				ns = append(ns, n)
			}
			return benchElect(cmd.OutOrStdout(), ns)
		},
	}
	var def []string
	for _, n := range campaign.BenchSizes {
		def = append(def, strconv.Itoa(n))
	}
	cmd.Flags().StringVar(&sizes, "sizes", strings.Join(def, ","), "cluster sizes")
	return cmd
}

func benchElect(w io.Writer, ns []int) error {
	fmt.Fprintf(w, "%-20s %4s %-5s %9s %10s %12s  %s\n", "protocol", "n", "case", "messages", "all msgs", "time", "theory (bounds)")
	for _, p := range []struct{ proto, variant string }{{"bully", ""}, {"ring", "collect"}, {"ring", "chang-roberts"}, {"raft", ""}} {
		for _, n := range ns {
			for _, worst := range []bool{false, true} {
				r, err := campaign.Bench(p.proto, p.variant, n, worst)
				if err != nil {
					return err
				}
				mark := ""
				if r.Messages < r.Lo || r.Messages > r.Hi {
					mark = "  OUTSIDE THEORY"
				}
				fmt.Fprintf(w, "%-20s %4d %-5s %9d %10d %12s  %s (%d..%d)%s\n", r.Protocol, n, r.Case, r.Messages, r.All, fmtDur(r.TimeToElect), r.Theory, r.Lo, r.Hi, mark)
			}
		}
	}
	fmt.Fprintln(w, "\nmessages: election messages from the crash on (Bully ELECTION+OK+COORDINATOR, Ring ELECTION+COORDINATOR, Raft RequestVote+responses; PreVote is extra);")
	fmt.Fprintln(w, "all msgs: every message from the crash to the new leader, heartbeats and acks included. Raft's cases are the best and worst of 8 seeds.")
	return nil
}
