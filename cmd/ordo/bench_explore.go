package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/lab"
)

func init() { benchCommands = append(benchCommands, newBenchExploreCmd) }

func newBenchExploreCmd() *cobra.Command {
	var (
		c      lab.ExploreConfig
		anchor string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "explore",
		Short: "how fast a campaign drives protocol code: messages delivered per CPU-second, checkers on",
		Long: `bench explore runs an election campaign (ordo explore: the network model,
the fault generator and every election checker running online, no wire mode
unless --wire) and reports messages handed to a node's Receive per
CPU-second of the whole process (user + system, all workers).

With --anchor DIR it also runs the anchor loop's script (DIR/run.sh:
etcd-io/raft's five RawNodes stepped in one goroutine with instantaneous
in-memory delivery, no network model, no checks) and prints the ratio of the
two, measured in the same command: quote the ratio, not the absolute figures,
on a shared machine.`,
		Example: `  ordo bench explore
  ordo bench explore --seeds 500 --json
  ordo bench explore --anchor DIR   # DIR: etcd-io/raft's loop and its run.sh`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.Check(); err != nil {
				return err
			}
			sp, err := lab.MeasureSpeed(c)
			if err != nil {
				return err
			}
			if anchor != "" {
				a, err := lab.RunAnchor(anchor)
				if err != nil {
					return err
				}
				sp.Anchor = a
				if a > 0 {
					sp.Ratio = sp.MsgsPerCPU / a
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(w).Encode(sp)
			}
			fmt.Fprintf(w, "%s, %s, %s × %s, profile %s, checks %v, wire %v\n",
				sp.Protocol, plural.Count(sp.Nodes, "node"), plural.Count(sp.Seeds, "seed"), sp.Duration, sp.Profile, sp.Checks, sp.Wire)
			fmt.Fprintf(w, "messages delivered   %d\n", sp.Delivered)
			fmt.Fprintf(w, "CPU                  %.2f s (wall %.2f s)\n", sp.CPUSeconds, sp.WallSeconds)
			fmt.Fprintf(w, "msgs/cpu-s           %.0f\n", sp.MsgsPerCPU)
			if sp.Anchor > 0 {
				fmt.Fprintf(w, "anchor msgs/cpu-s    %.0f (etcd-io/raft's bare loop)\n", sp.Anchor)
				fmt.Fprintf(w, "ratio                %.3f\n", sp.Ratio)
			}
			if sp.Violations > 0 {
				fmt.Fprintf(w, "(%s findings: ordo explore with the same flags lists them)\n", plural.Count(sp.Violations, "seed had", "seeds had"))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.Protocol, "protocol", "raft", "bully, ring or raft")
	fl.IntVarP(&c.Nodes, "nodes", "n", 5, "cluster size")
	fl.IntVar(&c.Seeds, "seeds", 200, "runs (seeds 1..N)")
	fl.DurationVar(&c.Duration, "duration", 10*time.Second, "simulated time per run")
	fl.StringVar(&c.Profile, "profile", "friendly", "fault profile: friendly or hostile")
	fl.IntVar(&c.Workers, "workers", 1, "parallel runs (CPU is summed over all of them)")
	fl.BoolVar(&c.Wire, "wire", false, "run on real bytes (encode at send, decode at delivery)")
	fl.StringVar(&anchor, "anchor", "", "directory of the anchor loop (its run.sh) to run and compare with")
	fl.BoolVar(&asJSON, "json", false, "one JSON object")
	return cmd
}
