package main

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/lab"
)

func init() { commands = append(commands, newExploreCmd) }

func newExploreCmd() *cobra.Command {
	var (
		c      lab.ExploreConfig
		faults string
		replay uint64
		opts   []string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "explore",
		Short: "run an election protocol under thousands of random fault schedules",
		Long: `explore is a campaign: N runs of one election protocol, each under a random
schedule of faults drawn from its seed (crashes and restarts, partitions and
heals, pauses, message loss, clock jumps), each checked for single-leader,
one-leader-per-term, eventual-leader and fencing. Runs are deterministic and
spread over the cores; every violation is reported with the command that
replays it.

  ordo explore --protocol raft --seeds 10000
  ordo explore --protocol bully --seeds 1000 --faults partition
  ordo explore --protocol bully --replay 17`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds, err := lab.ParseFaultKinds(faults)
			if err != nil {
				return err
			}
			c.Kinds = kinds
			if c.Options, err = parseOptions(opts); err != nil {
				return err
			}
			if c.Workers < 1 {
				return fmt.Errorf("--workers %d: need at least 1", c.Workers)
			}
			if err := c.Check(); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if cmd.Flags().Changed("replay") {
				o, err := lab.Run(c.SpecFor(replay))
				if err != nil {
					return err
				}
				return writeElectText(w, o, false)
			}
			var progress func(int, int)
			if !quiet {
				progress = progressBar(cmd.ErrOrStderr())
			}
			rep, err := lab.Explore(c, progress)
			if err != nil {
				return err
			}
			writeExplore(w, rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.Protocol, "protocol", "raft", "bully, ring or raft")
	fl.IntVarP(&c.Nodes, "nodes", "n", 5, "cluster size")
	fl.IntVar(&c.Seeds, "seeds", 1000, "number of runs (seeds first .. first+seeds-1)")
	fl.Uint64Var(&c.First, "first-seed", 1, "first seed")
	fl.StringVar(&faults, "faults", strings.Join(lab.AllFaultKinds, ","), "fault kinds to draw from")
	fl.IntVar(&c.Workers, "workers", runtime.GOMAXPROCS(0), "parallel runs")
	fl.DurationVar(&c.Duration, "duration", 10*time.Second, "simulated time per run (faults stop 3s before the end)")
	fl.StringArrayVarP(&opts, "option", "o", nil, "protocol option key=value (repeatable)")
	fl.Uint64Var(&replay, "replay", 0, "replay one seed of the campaign and print its run")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// progressBar draws "[=====>    ] 512/1000" on w, redrawn in place.
func progressBar(w io.Writer) func(done, total int) {
	last := -1
	return func(done, total int) {
		const width = 40
		pct := done * 100 / total
		if pct == last && done != total {
			return
		}
		last = pct
		fill := done * width / total
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}

func writeExplore(w io.Writer, rep *lab.ExploreReport) {
	c := rep.Config
	faults := strings.Join(c.Kinds, ",")
	fmt.Fprintf(w, "%s, %d nodes, %d seeds (%d..%d), faults %s, %v each\n", withOptions(c.Protocol, c.Options), c.Nodes, rep.Runs, c.First, c.First+uint64(rep.Runs)-1, faults, c.Duration)
	per := rep.Wall * time.Duration(c.Workers) / time.Duration(rep.Runs)
	fmt.Fprintf(w, "wall %v on %d workers (%v of CPU per seed), %d simulator events, %d leaderships\n",
		rep.Wall.Round(time.Millisecond), c.Workers, per.Round(10*time.Microsecond), rep.Events, rep.Leaderships)
	checks := c.Checks
	if checks == nil {
		checks = lab.DefaultChecks
	}
	fmt.Fprintln(w, "\nviolations (seeds):")
	for _, k := range checks {
		fmt.Fprintf(w, "  %-20s %d\n", k, rep.Failures[k])
	}
	if len(rep.Bad) == 0 {
		fmt.Fprintln(w, "\nno violations")
		return
	}
	fmt.Fprintf(w, "\nfindings (first %d seeds with a violation):\n", min(len(rep.Bad), 20))
	bad := rep.Bad
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Seed < bad[j].Seed })
	for _, b := range bad[:min(len(bad), 20)] {
		if b.Err != nil {
			fmt.Fprintf(w, "  seed %d: error: %v\n", b.Seed, b.Err)
		} else {
			fmt.Fprintf(w, "  seed %d: %s\n", b.Seed, b.Violations[0])
		}
		fmt.Fprintf(w, "    replay: %s\n", replayCommand(c, b.Seed))
	}
}

// replayCommand is the command line that replays one seed of a campaign:
// the same protocol, options, cluster, fault kinds (in the order drawn
// from) and duration, shell-quoted where needed.
func replayCommand(c lab.ExploreConfig, seed uint64) string {
	args := []string{"ordo", "explore", "--protocol", c.Protocol, "-n", strconv.Itoa(c.Nodes),
		"--faults", strings.Join(c.Kinds, ","), "--duration", c.Duration.String()}
	var keys []string
	for k := range c.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-o", k+"="+c.Options[k])
	}
	args = append(args, "--replay", strconv.FormatUint(seed, 10))
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,:/+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
