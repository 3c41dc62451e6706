package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/check"
	"ordo/consistency"
	"ordo/election"
	"ordo/fault"
	"ordo/internal/plural"
	"ordo/internal/style"
	"ordo/lab"
)

func init() { commands = append(commands, newExploreCmd) }

func newExploreCmd() *cobra.Command {
	var (
		c       lab.ExploreConfig
		faults  string
		replay  uint64
		opts    []string
		copts   []string
		quiet   bool
		asJSON  bool
		shard   string
		expect  []string
		memMiB  int64
		profile string
	)
	cmd := &cobra.Command{
		Use:   "explore [PROTOCOL]",
		Short: "run an election protocol, the kv database or the Dynamo-style store under thousands of random fault schedules",
		Long: `explore is a campaign: N runs of one election protocol, each under a random
schedule of faults drawn from its seed, each checked by the election
checkers (` + strings.Join(election.Checks, ", ") + `). Runs are deterministic and
spread over the cores; every violation is reported with the command that
replays it. A campaign writes no linearizability page (porcupine's HTML)
for its failing seeds, which a broken variant has by the hundred; the
replay of a seed writes its page (to $ORDO_VIZ_DIR, else the temporary
directory), and ORDO_VIZ_DIR set for the campaign writes them all there.

Profiles (--profile): friendly draws crashes that restart, partitions that
heal, pauses, loss and clock steps, all undone before a quiet tail; hostile
adds crashes and partitions for ever, one-way cuts, bridges, stars, loss on
one node's links, long pauses, large clock steps and drift; with a protocol
that needs services (lease), it also cuts servers off from them, drifts,
steps and pauses their clocks (never a crash) and pauses servers for ½–2×
the election timeout. --faults picks the kinds (` + strings.Join(fault.Families, ",") + `).

Exit status: 0 when every verdict is the expected one (every check passes in
every seed, except those named by --expect CHECK=fail, which must fail in
some seed), 1 otherwise or when a run errors, 2 for bad input.

  ordo explore --protocol raft --seeds 10000 --profile hostile
  ordo explore --protocol bully --seeds 1000 --faults partition --expect single-leader=fail
  ordo explore --protocol raft --profile hostile --seeds 10000 --shard 3/8 --json > 3.json
  ordo explore merge 1.json 2.json ... 8.json
  ordo explore --protocol bully --replay 17
  ordo explore --protocol kv --profile hostile --seeds 1000   # the database, with clients
  ordo explore dynamo --seeds 1000                             # the Dynamo-style store (DVV)
  ordo explore dynamo-lww --seeds 1000                         # the same with last-write-wins

With --protocol kv (or kv-stale) every run also has kv clients (one of them
transferring leadership and removing and re-adding servers), is judged by
linearizable, no-lost-write and agreement as well, and the report counts
snapshots, install-snapshots, transfers and membership changes;
--client-option sets the clients' options (admin_every=200ms, read=lease).

dynamo (or --protocol dynamo) is the leaderless Dynamo-style store: three
dynamo clients on five servers, N=3, R=W=2, dotted version vectors and
client resolution, judged by no-lost-write, no-lost-sibling and
convergence only. dynamo-lww is the same store with last-write-wins: its
lost writes are findings, expected (no-lost-write and no-lost-sibling fail
in some seed without making the exit status 1; --expect CHECK=pass
demands otherwise), and the report counts the notes dynamo-concurrent,
lost-write and dynamo-refused.`,
		Args: maximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				// ordo explore dynamo: the protocol (or workload) by name.
				if cmd.Flags().Changed("protocol") && args[0] != c.Protocol {
					return fmt.Errorf("explore %s --protocol %s: name one protocol", args[0], c.Protocol)
				}
				c.Protocol = args[0]
			}
			c.Profile = profile
			if _, err := fault.ProfileNamed(profile); err != nil {
				return fmt.Errorf("--profile: %w", err)
			}
			if cmd.Flags().Changed("faults") {
				kinds, err := lab.ParseFaultKinds(faults)
				if err != nil {
					return err
				}
				c.Kinds = kinds
			}
			var err error
			if c.Options, err = parseOptions(opts); err != nil {
				return err
			}
			if c.ClientOptions, err = parseOptions(copts); err != nil {
				return err
			}
			if c.Workers < 1 {
				return fmt.Errorf("--workers %d: need at least 1", c.Workers)
			}
			if memMiB < 1 || memMiB > lab.MaxRunMemory>>20 {
				return fmt.Errorf("--run-memory %d: need 1..%d MiB", memMiB, lab.MaxRunMemory>>20)
			}
			if memMiB != lab.DefaultRunMemory>>20 {
				c.RunMemory = memMiB << 20
			}
			if shard != "" {
				if c.Shard, c.Shards, err = parseShard(shard); err != nil {
					return err
				}
			}
			fails, err := parseExpect(expect)
			if err != nil {
				return err
			}
			fails = withFindings(c.Protocol, fails, expect)
			if err := c.Check(); err != nil {
				return err
			}
			// An expectation on a check the campaign does not run could
			// never be met or missed: refused, as an unknown name is.
			runs := (&lab.ExploreReport{Config: c}).CheckNames()
			for _, e := range expect {
				name, _, _ := strings.Cut(e, "=")
				if !slices.Contains(runs, name) {
					return fmt.Errorf("--expect %q: the %s campaign does not run %s (it runs %s)", e, c.Protocol, name, strings.Join(runs, ", "))
				}
			}
			w := cmd.OutOrStdout()
			if cmd.Flags().Changed("replay") {
				o, err := lab.Run(c.SpecFor(replay))
				if err != nil {
					return err
				}
				if err := writeElectText(w, o, false); err != nil {
					return err
				}
				return verdictStatus(w, electUnexpected(o, fails))
			}
			var progress func(int, int)
			// A progress bar only on a terminal: redrawn in place, it is
			// noise in a log or a pipe.
			if f, ok := cmd.ErrOrStderr().(*os.File); ok && !quiet && !asJSON && style.IsTerminal(f) {
				progress = terminalProgress(f, "seeds")
			}
			if _, set := os.LookupEnv("ORDO_VIZ_DIR"); !set {
				// A page per failing seed would litter the temporary
				// directory (a broken variant fails in most seeds); the
				// replay command of a seed writes its page.
				os.Setenv("ORDO_VIZ_DIR", consistency.NoPages)
				defer os.Unsetenv("ORDO_VIZ_DIR")
			}
			rep, err := lab.Explore(c, progress)
			if err != nil {
				return err
			}
			return finishExplore(w, rep, fails, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.Protocol, "protocol", "raft", "bully, ring, raft, lease (on a model of etcd), kv (the database: raft with clients, also checked for linearizable, no-lost-write and agreement), dynamo or dynamo-lww (the Dynamo-style store); also the first argument")
	fl.IntVarP(&c.Nodes, "nodes", "n", 5, "cluster size")
	fl.IntVar(&c.Seeds, "seeds", 1000, "number of runs (seeds first .. first+seeds-1)")
	fl.Uint64Var(&c.First, "first-seed", 1, "first seed")
	fl.StringVar(&profile, "profile", "friendly", "fault profile: friendly or hostile")
	fl.StringVar(&faults, "faults", "", "fault kinds to draw from (default: the profile's; valid: "+strings.Join(fault.Families, ",")+")")
	fl.IntVar(&c.Workers, "workers", runtime.GOMAXPROCS(0), "parallel runs")
	fl.DurationVar(&c.Duration, "duration", 10*time.Second, "simulated time per run (faults stop 3s before the end)")
	fl.StringArrayVarP(&opts, "option", "o", nil, "protocol option key=value (repeatable)")
	fl.StringArrayVar(&copts, "client-option", nil, "option key=value of the workload's clients (kv: kv-client options such as admin_every=100ms; repeatable)")
	fl.Uint64Var(&replay, "replay", 0, "replay one seed of the campaign and print its run")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress bar (there is none unless standard error is a terminal)")
	fl.BoolVar(&c.Wire, "wire", false, "run on real bytes: encode at send, decode at delivery (slower; scenario files do it by default)")
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON (what explore merge reads)")
	fl.StringVar(&shard, "shard", "", "run only shard K/N of the seeds (1 ≤ K ≤ N), for explore merge")
	fl.StringArrayVar(&expect, "expect", nil, "CHECK=fail: the check is expected to fail in some seed (repeatable); CHECK=pass is the default")
	fl.Int64Var(&memMiB, "run-memory", lab.DefaultRunMemory>>20, "MiB of trace each run may hold (a run past it is an error); peak memory is about --workers times this")
	cmd.AddCommand(newExploreMergeCmd())
	return cmd
}

func newExploreMergeCmd() *cobra.Command {
	var (
		asJSON bool
		expect []string
	)
	cmd := &cobra.Command{
		Use:   "merge FILE...",
		Short: "combine the JSON reports of the shards of one campaign",
		Long: `merge reads the reports of 'ordo explore --shard K/N --json' (one file per
shard, '-' for standard input) and prints the campaign's report. The shards
must come from one campaign (same protocol, options, seeds, profile); a
missing shard is reported and makes the exit status 1.

  for k in 1 2 3 4; do ordo explore --profile hostile --seeds 10000 --shard $k/4 --json > $k.json & done; wait
  ordo explore merge 1.json 2.json 3.json 4.json`,
		Args: minimumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fails, err := parseExpect(expect)
			if err != nil {
				return err
			}
			var reps []*lab.ExploreReport
			for _, name := range args {
				r, err := readExploreReport(cmd.InOrStdin(), name)
				if err != nil {
					return err
				}
				reps = append(reps, r)
			}
			rep, err := lab.MergeReports(reps)
			if err != nil {
				return err
			}
			return finishExplore(cmd.OutOrStdout(), rep, fails, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the merged report as JSON")
	cmd.Flags().StringArrayVar(&expect, "expect", nil, "CHECK=fail: the check is expected to fail in some seed (repeatable)")
	return cmd
}

// maxReportBytes bounds one shard's JSON report (its findings are bounded
// by lab.MaxBadReported).
const maxReportBytes = 16 << 20

func readExploreReport(stdin io.Reader, name string) (*lab.ExploreReport, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxReportBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a report of ordo explore --json", name, maxReportBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var rep lab.ExploreReport
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%s: not a report of ordo explore --json: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the report", name)
	}
	if err := rep.Config.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if rep.Runs < 0 || rep.Errors < 0 || rep.Errors > rep.Runs || rep.BadSeeds < 0 || rep.BadSeeds > rep.Runs {
		return nil, fmt.Errorf("%s: inconsistent counts (runs %d, errors %d, bad seeds %d)", name, rep.Runs, rep.Errors, rep.BadSeeds)
	}
	return &rep, nil
}

// finishExplore prints a report and turns its verdicts into the exit
// status.
func finishExplore(w io.Writer, rep *lab.ExploreReport, fails []string, asJSON bool) error {
	unexpected := rep.Unexpected(fails)
	if m := rep.Missing(); len(m) > 0 && rep.Merged > 0 {
		unexpected = append(unexpected, fmt.Sprintf("shards missing from the merge: %v of %d", m, rep.Config.Shards))
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		if len(unexpected) > 0 {
			return exitCode(1)
		}
		return nil
	}
	writeExplore(w, rep)
	if len(unexpected) == 0 && len(fails) > 0 {
		// Say why failures are not a failed campaign.
		var found []string
		for _, f := range fails {
			if n := rep.Failures[f]; n > 0 {
				found = append(found, fmt.Sprintf("%s (%d of %s)", f, n, plural.Count(rep.Runs, "seed")))
			}
		}
		if len(found) > 0 {
			why := "expected with --expect"
			if f := lab.Workloads[rep.Config.Protocol].Findings; len(f) > 0 {
				why = "the " + rep.Config.Protocol + " workload's findings, expected unless --expect CHECK=pass"
			}
			fmt.Fprintf(w, "\nfailed as expected: %s (%s)\n", strings.Join(found, ", "), why)
		}
	}
	return verdictStatus(w, unexpected)
}

// verdictStatus prints what was not as expected and returns exit status 1
// for it (nil when everything was).
func verdictStatus(w io.Writer, unexpected []string) error {
	if len(unexpected) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nnot as expected:")
	for _, u := range unexpected {
		fmt.Fprintf(w, "  %s\n", u)
	}
	return exitCode(1)
}

// parseExpect reads --expect CHECK=fail|pass flags and returns the checks
// expected to fail.
func parseExpect(list []string) ([]string, error) {
	var fails []string
	for _, e := range list {
		name, v, ok := strings.Cut(e, "=")
		if !ok || (v != "fail" && v != "pass") {
			return nil, fmt.Errorf("--expect %q: want CHECK=fail or CHECK=pass", e)
		}
		if _, err := check.Lookup(name); err != nil {
			return nil, fmt.Errorf("--expect %q: %w", e, err)
		}
		if v == "fail" && !slices.Contains(fails, name) {
			fails = append(fails, name)
		}
		if v == "pass" {
			fails = slices.DeleteFunc(fails, func(s string) bool { return s == name })
		}
	}
	return fails, nil
}

// withFindings adds the checks the workload of protocol expects to fail
// (lab.Workload.Findings: last-write-wins losing writes) to fails, unless
// an --expect CHECK=pass names them.
func withFindings(protocol string, fails, expect []string) []string {
	for _, f := range lab.Workloads[protocol].Findings {
		if !slices.Contains(expect, f+"=pass") && !slices.Contains(fails, f) {
			fails = append(fails, f)
		}
	}
	return fails
}

// parseShard reads "K/N".
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > lab.MaxShards || k < 1 || k > n {
		return 0, 0, fmt.Errorf("--shard %q: want K/N with 1 ≤ K ≤ N ≤ %d, like 3/8", s, lab.MaxShards)
	}
	return k, n, nil
}

func writeExplore(w io.Writer, rep *lab.ExploreReport) {
	c := rep.Config
	first, count := c.First, c.Seeds
	where := ""
	if rep.Merged == 0 && len(rep.ShardsRun) == 1 {
		first, count = c.Slice()
		where = fmt.Sprintf(", shard %d/%d", c.Shard, c.Shards)
	} else if rep.Merged > 0 && rep.Runs != c.Seeds {
		where = fmt.Sprintf(", %d of %s merged: %s", len(rep.ShardsRun), plural.Count(c.Shards, "shard"), plural.Count(rep.Runs, "run"))
	} else if rep.Merged > 0 {
		where = fmt.Sprintf(", %s merged", plural.Count(len(rep.ShardsRun), "shard"))
	}
	fmt.Fprintf(w, "%s, %s, %s (%d..%d%s), profile %s, faults %s, %v each\n", withOptions(c.Protocol, c.Options), plural.Count(c.Nodes, "node"), plural.Count(count, "seed"),
		first, first+uint64(max(count, 1))-1, where, c.FaultProfile().Name, strings.Join(c.Families(), ","), c.Duration)
	wall := fmt.Sprintf("wall %v", rep.Wall.Round(time.Millisecond))
	if c.Workers > 0 {
		wall += fmt.Sprintf(" on %s", plural.Count(c.Workers, "worker"))
	}
	if rep.Merged > 0 {
		wall = fmt.Sprintf("wall %v (slowest shard)", rep.Wall.Round(time.Millisecond))
	}
	if lab.Workloads[c.Protocol].Leaderless {
		fmt.Fprintf(w, "%s, %s\n", wall, plural.Count(rep.Events, "simulator step"))
	} else {
		fmt.Fprintf(w, "%s, %s, %s\n", wall, plural.Count(rep.Events, "simulator step"), plural.Count(rep.Leaderships, "leadership"))
	}
	if wl, ok := lab.Workloads[c.Protocol]; ok && len(wl.Counted) > 0 {
		// The workload's events over the campaign (each should be above 0).
		var parts []string
		for _, k := range wl.Counted {
			parts = append(parts, fmt.Sprintf("%s %d", k, rep.Notes[k]))
		}
		fmt.Fprintf(w, "notes: %s\n", strings.Join(parts, ", "))
	}
	if rep.Runs > 0 {
		var labels []string
		for l := range rep.Labels {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		fmt.Fprintln(w, "\nfault kinds (share of seeds whose schedule has one):")
		for _, l := range labels {
			fmt.Fprintf(w, "  %-20s %5.1f%%\n", l, 100*float64(rep.Labels[l])/float64(rep.Runs))
		}
	}
	fmt.Fprintln(w, "\nviolations (seeds):")
	for _, k := range rep.CheckNames() {
		fmt.Fprintf(w, "  %-20s %d\n", k, rep.Failures[k])
	}
	fmt.Fprintf(w, "  %-20s %d\n", "run errors", rep.Errors)
	if rep.BadSeeds == 0 {
		fmt.Fprintln(w, "\nno violations, no errors")
		return
	}
	bad := slices.Clone(rep.Bad)
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Seed < bad[j].Seed })
	fmt.Fprintf(w, "\nfindings (first %d of %s with a violation or an error):\n", min(len(bad), 20), plural.Count(rep.BadSeeds, "seed"))
	for _, b := range bad[:min(len(bad), 20)] {
		if b.Err != "" {
			fmt.Fprintf(w, "  seed %d: error: %v\n", b.Seed, b.Err)
		} else {
			fmt.Fprintf(w, "  seed %d: %s\n", b.Seed, b.Violations[0])
		}
		fmt.Fprintf(w, "    replay: %s\n", replayCommand(c, b.Seed))
	}
}

// replayCommand is the command line that replays one seed of a campaign:
// the same protocol, options, cluster, profile, fault kinds (in the order
// drawn from), duration and run memory, shell-quoted where needed.
func replayCommand(c lab.ExploreConfig, seed uint64) string {
	args := []string{"ordo", "explore", "--protocol", c.Protocol, "-n", strconv.Itoa(c.Nodes)}
	if c.Profile != "" && c.Profile != fault.Friendly.Name {
		args = append(args, "--profile", c.Profile)
	}
	if c.Kinds != nil {
		args = append(args, "--faults", strings.Join(c.Kinds, ","))
	}
	args = append(args, "--duration", c.Duration.String())
	if c.RunMemory != 0 && c.RunMemory != lab.DefaultRunMemory {
		args = append(args, "--run-memory", strconv.FormatInt(c.RunMemory>>20, 10))
	}
	var keys []string
	for k := range c.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-o", k+"="+c.Options[k])
	}
	keys = keys[:0]
	for k := range c.ClientOptions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--client-option", k+"="+c.ClientOptions[k])
	}
	if c.Wire {
		args = append(args, "--wire")
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
