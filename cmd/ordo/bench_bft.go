package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/check"
	"ordo/internal/plural"
	"ordo/internal/style"
	"ordo/lab"
	"ordo/sim"
	"ordo/viz"
)

func init() { benchCommands = append(benchCommands, newBenchBFTCmd) }

func newBenchBFTCmd() *cobra.Command {
	var (
		c            lab.BFTCampaign
		ns, fs, behs string
		replay       uint64
		traceFile    string
		diagram      bool
		asJSON       bool
		quiet        bool
	)
	cmd := &cobra.Command{
		Use:   "bft",
		Short: "the 3f+1 line: PBFT's agreement with f Byzantine replicas, n = 3..10 by f = 1..3, over many seeds",
		Long: `bench bft runs PBFT in the simulator with f Byzantine replicas, for every n
and f given, over many seeds, and prints one table: rows n, columns f, each
cell whether byzantine-agreement and validity held in every seed ("held
1000/1000") or how many seeds broke one of them ("BROKEN 37/1000"), so the
line n = 3f+1 of the bound is visible at a glance.

Each run: n pbft replicas, 2 pbft-client nodes of 10 requests each, 3s of
simulated time, wire mode, authenticated links (as the pbft scenarios run).
--auth picks how the links authenticate: mac, per-pair HMAC-SHA256 keys (the
default), or ed25519, every message signed by its sender and verified by its
receiver. The verdicts are the same (a run does not depend on it); signatures
cost the simulator far more CPU, so run them on fewer seeds.
Which replicas lie is drawn from the seed: on odd seeds the primary of view
0 (replica 1) and f-1 backups, on even seeds f backups. With n >= 3f+1 the
replicas run with their own quorums (⌈(n+f+1)/2⌉); below, they refuse to
start, so those cells (marked *) run with unsafe_quorum = n - f, the largest
quorum the correct replicas still form without the liars. A cell with
f >= n is left out (-).

--behaviour picks what the liars do (all: one table each):
  ` + lab.BehaviourNames() + `
The default, equivocate, is the strongest: a primary that orders the
clients' requests differently for odd-numbered replicas, backed by the
other liars (they collude: each tells every replica the order the primary
told it). A cell below the bound may still hold: the bound says a split is
possible there, not that this adversary finds it in every seed.

Runs are deterministic and spread over the cores; the report does not
depend on --workers. Below the table, each broken cell's first failing
seed with the command that replays it (--replay SEED with one n, one f
and one behaviour runs that seed alone, traced, and prints its verdicts;
--trace FILE keeps its trace, --diagram draws it).

Exit status: 0 when every cell with n >= 3f+1 held and no run failed to
finish, 1 otherwise, 2 for bad input.`,
		Example: `  ordo bench bft
  ordo bench bft --seeds 100 --behaviour all
  ordo bench bft -n 3,4 -f 1 --seeds 10000 --behaviour all      # the campaign of issue 14, f = 1
  ordo bench bft -n 6,7 -f 2 --seeds 10000 --behaviour all      # and f = 2
  ordo bench bft -n 3,4 -f 1 --seeds 20 --behaviour all --auth ed25519   # signatures: same verdicts, more CPU
  ordo bench bft -n 3 -f 1 --behaviour equivocate --replay 1 --trace run.jsonl
  ordo bench bft --json > bft.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Zeros first: the campaign's defaults stand for them.
			if err := bftZeros(cmd, c, replay); err != nil {
				return err
			}
			var err error
			if c.Ns, err = parseIntSet("-n", ns, lab.MinBFTNodes, lab.MaxBFTNodes); err != nil {
				return err
			}
			if c.Fs, err = parseIntSet("-f", fs, 1, lab.MaxBFTF); err != nil {
				return err
			}
			if c.Behaviours, err = lab.ParseBehaviours(behs); err != nil {
				return err
			}
			if c.Workers < 1 || c.Workers > lab.MaxWorkers {
				return fmt.Errorf("--workers %d: need 1..%d", c.Workers, lab.MaxWorkers)
			}
			w := cmd.OutOrStdout()
			if cmd.Flags().Changed("replay") {
				if len(c.Ns) != 1 || len(c.Fs) != 1 || len(c.Behaviours) != 1 {
					return fmt.Errorf("--replay needs one -n, one -f and one --behaviour (got -n %s -f %s --behaviour %s)", ns, fs, behs)
				}
				if asJSON {
					return fmt.Errorf("--replay prints the run: no --json")
				}
				x := lab.BFTConfig{N: c.Ns[0], F: c.Fs[0], Behaviour: c.Behaviours[0], Clients: c.Clients, Ops: c.Ops, Duration: c.Duration, Auth: c.Auth}
				return bftReplay(w, x, replay, traceFile, diagram)
			}
			if traceFile != "" || diagram {
				return fmt.Errorf("--trace and --diagram are for one run: give --replay SEED")
			}
			if err := c.Check(); err != nil {
				return err
			}
			var progress func(int, int)
			if f, ok := cmd.ErrOrStderr().(*os.File); ok && !quiet && !asJSON && style.IsTerminal(f) {
				progress = terminalProgress(f, "runs")
			}
			rep, err := lab.RunBFT(c, progress)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := writeBFTReport(w, rep); err != nil {
				return err
			}
			if len(rep.Unexpected()) > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&ns, "nodes", "n", "3-10", "replicas: a list or ranges (3-10, 4,7), "+strconv.Itoa(lab.MinBFTNodes)+".."+strconv.Itoa(lab.MaxBFTNodes))
	fl.StringVarP(&fs, "faulty", "f", "1-3", "Byzantine replicas: a list or ranges, 1.."+strconv.Itoa(lab.MaxBFTF))
	fl.StringVar(&behs, "behaviour", string(sim.Equivocate), "what the liars do: "+lab.BehaviourNames()+", a comma-separated list, or all")
	fl.IntVar(&c.Seeds, "seeds", 1000, "seeds per cell and behaviour (seeds first .. first+seeds-1), at most "+strconv.Itoa(lab.MaxBFTSeeds))
	fl.Uint64Var(&c.First, "first-seed", 1, "first seed")
	fl.IntVar(&c.Clients, "clients", lab.DefaultBFTClients, "pbft-client nodes per run, 1.."+strconv.Itoa(lab.MaxBFTClients))
	fl.IntVar(&c.Ops, "ops", lab.DefaultBFTOps, "requests per client, 1.."+strconv.Itoa(lab.MaxBFTOps))
	fl.DurationVar(&c.Duration, "duration", lab.DefaultBFTDuration, "simulated time per run, "+lab.MinBFTDuration.String()+".."+lab.MaxBFTDuration.String())
	fl.StringVar(&c.Auth, "auth", sim.AuthMAC, "how links authenticate: "+sim.AuthMAC+" (per-pair HMACs) or "+sim.AuthEd25519+" (signatures; same verdicts, more CPU)")
	fl.IntVar(&c.Workers, "workers", runtime.GOMAXPROCS(0), "parallel runs (the report does not depend on it)")
	fl.Uint64Var(&replay, "replay", 0, "run this one seed alone, traced, and print its verdicts (one -n, -f and --behaviour)")
	fl.StringVar(&traceFile, "trace", "", "with --replay: write the run's trace (JSON Lines) to `FILE`")
	fl.BoolVar(&diagram, "diagram", false, "with --replay: print the run's space-time diagram first")
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress bar (there is none unless standard error is a terminal)")
	return cmd
}

// bftZeros refuses the zero counts the campaign reads as "the default"
// (lab.BFTConfig: --clients 0 ran 2 clients, --duration 0s 3 s; --workers
// 0 ran GOMAXPROCS) and seed 0 (seeds are 1, 2, ...), by flag. The ranges
// are the campaign's own checks (BFTConfig.Check, BFTCampaign.Check).
func bftZeros(cmd *cobra.Command, c lab.BFTCampaign, replay uint64) error {
	switch {
	case c.Clients == 0:
		return fmt.Errorf("--clients 0: need 1..%d pbft-client nodes", lab.MaxBFTClients)
	case c.Ops == 0:
		return fmt.Errorf("--ops 0: need 1..%d requests per client", lab.MaxBFTOps)
	case c.Duration == 0:
		return fmt.Errorf("--duration 0s: need %v..%v of simulated time per run", lab.MinBFTDuration, lab.MaxBFTDuration)
	case c.Workers == 0:
		return fmt.Errorf("--workers 0: need 1..%d", lab.MaxWorkers)
	case c.First == 0:
		return fmt.Errorf("--first-seed 0: seeds are 1, 2, ... (the default campaign runs 1..--seeds)")
	case cmd.Flags().Changed("replay") && replay == 0:
		return fmt.Errorf("--replay 0: want the seed to run, 1, 2, ... (a campaign's failing seed, as its replay line gives it)")
	}
	return nil
}

// parseIntSet reads "3-10", "4,7" or "3-5,8": every value in lo..hi, in
// increasing order, none twice.
func parseIntSet(flag, s string, lo, hi int) ([]int, error) {
	bad := fmt.Errorf("%s %q: want integers or ranges in %d..%d, comma-separated (3-10, 4,7)", flag, s, lo, hi)
	var out []int
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
		x, err := strconv.Atoi(a)
		if err != nil {
			return nil, bad
		}
		y := x
		if isRange {
			if y, err = strconv.Atoi(b); err != nil || y < x {
				return nil, bad
			}
		}
		if x < lo || y > hi {
			return nil, bad
		}
		for v := x; v <= y; v++ {
			if slices.Contains(out, v) {
				return nil, fmt.Errorf("%s %q: %d given twice", flag, s, v)
			}
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// bftCellText is one cell of the table: "held 1000/1000", "BROKEN
// 37/1000", "ERRORS 2/1000" (runs that could not finish, never held), a
// star when the cell ran below the bound with unsafe_quorum.
func bftCellText(c *lab.BFTCell) string {
	var s string
	switch {
	case c.Broken > 0:
		s = fmt.Sprintf("BROKEN %d/%d", c.Broken, c.Runs)
	case c.Errors > 0:
		s = fmt.Sprintf("ERRORS %d/%d", c.Errors, c.Runs)
	default:
		s = fmt.Sprintf("held %d/%d", c.Runs, c.Runs)
	}
	if c.Unsafe {
		s += " *"
	}
	return s
}

func writeBFTReport(w io.Writer, rep *lab.BFTReport) error {
	c := rep.Campaign
	x := rep.Cells[0].Config // with the defaults filled in
	fmt.Fprintf(w, "PBFT with f Byzantine replicas: %s per cell (%d..%d), %s × %s, %v per run, links authenticated by %s; checks %s\n",
		plural.Count(c.Seeds, "seed"), c.First, c.First+uint64(c.Seeds-1), plural.Count(x.Clients, "client"), plural.Count(x.Ops, "request"), x.Duration, authWords(c.Auth), strings.Join(lab.BFTChecks, ", "))
	starred, dashed := false, false // a footnote only for a mark some cell carries
	for _, b := range c.Behaviours {
		fmt.Fprintf(w, "\nbehaviour %s:\n", b)
		tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
		fmt.Fprint(tw, "\t")
		for _, f := range c.Fs {
			fmt.Fprintf(tw, "f=%d\t", f)
		}
		fmt.Fprintln(tw)
		for _, n := range c.Ns {
			fmt.Fprintf(tw, "n=%d\t", n)
			for _, f := range c.Fs {
				if cell := rep.Cell(n, f, b); cell != nil {
					fmt.Fprintf(tw, "%s\t", bftCellText(cell))
					starred = starred || cell.Unsafe
				} else {
					fmt.Fprint(tw, "-\t")
					dashed = true
				}
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var legend []string
	if starred {
		legend = append(legend, "* n < 3f+1: the replicas refuse to start; run with unsafe_quorum = n - f.")
	}
	if dashed {
		legend = append(legend, "-: f >= n.")
	}
	if len(legend) > 0 {
		fmt.Fprintln(w, "\n"+strings.Join(legend, "  "))
	}
	var first bool
	for i := range rep.Cells {
		cell := &rep.Cells[i]
		if len(cell.Bad) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(w, "\nfirst failing seed of each cell:")
			first = true
		}
		b := cell.Bad[0]
		what := b.Violation
		if b.Err != "" {
			what = "error: " + b.Err
		}
		var by []string
		for _, k := range lab.BFTChecks {
			by = append(by, fmt.Sprintf("%s %d", k, cell.Failures[k]))
		}
		fmt.Fprintf(w, "  n=%d f=%d %s (quorum %d): %d broken (%s), %d of them with the primary lying, %s\n",
			cell.Config.N, cell.Config.F, cell.Config.Behaviour, cell.Quorum, cell.Broken, strings.Join(by, ", "), cell.PrimaryBroken, plural.Count(cell.Errors, "error"))
		fmt.Fprintf(w, "    seed %d, liars %s: %s\n", b.Seed, nodeList(b.Liars), what)
		fmt.Fprintf(w, "    replay: %s\n", bftReplayCommand(cell.Config, b.Seed))
	}
	fmt.Fprintf(w, "\n%s in %.1fs on %s (%.1f ms of wall time a run)\n", plural.Count(rep.Runs, "run"), rep.Wall.Seconds(), plural.Count(workersOf(c), "worker"), float64(rep.Wall.Microseconds())/1000/float64(max(rep.Runs, 1)))
	if u := rep.Unexpected(); len(u) > 0 {
		fmt.Fprintln(w, "\nnot as expected:")
		for _, s := range u {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	return nil
}

// authWords names how a campaign's links authenticate.
func authWords(mode string) string {
	if mode == sim.AuthEd25519 {
		return "ed25519 signatures"
	}
	return "per-pair MACs"
}

func workersOf(c lab.BFTCampaign) int {
	if c.Workers < 1 {
		return runtime.GOMAXPROCS(0)
	}
	return c.Workers
}

func nodeList(ids []ordo.NodeID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "n" + strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// bftReplayCommand is the command line that runs one seed of a cell again.
func bftReplayCommand(x lab.BFTConfig, seed uint64) string {
	args := []string{"ordo", "bench", "bft", "-n", strconv.Itoa(x.N), "-f", strconv.Itoa(x.F), "--behaviour", string(x.Behaviour)}
	if x.Clients != 0 && x.Clients != lab.DefaultBFTClients {
		args = append(args, "--clients", strconv.Itoa(x.Clients))
	}
	if x.Ops != 0 && x.Ops != lab.DefaultBFTOps {
		args = append(args, "--ops", strconv.Itoa(x.Ops))
	}
	if x.Duration != 0 && x.Duration != lab.DefaultBFTDuration {
		args = append(args, "--duration", x.Duration.String())
	}
	if x.Auth != "" && x.Auth != sim.AuthMAC {
		args = append(args, "--auth", x.Auth)
	}
	args = append(args, "--replay", strconv.FormatUint(seed, 10))
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// bftReplay runs one seed traced and prints its verdicts; exit status 1
// when a check failed at n >= 3f+1 (unexpected), as for a campaign.
func bftReplay(w io.Writer, x lab.BFTConfig, seed uint64, traceFile string, diagram bool) error {
	if err := x.Check(); err != nil {
		return err
	}
	start := time.Now()
	tr, results, st, err := lab.BFTTrace(x, seed)
	if err != nil {
		return err
	}
	if diagram {
		if err := viz.ASCII(w, tr, viz.Options{}); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	q := fmt.Sprintf("quorum %d", x.Quorum())
	if !x.Safe() {
		q += fmt.Sprintf(", unsafe_quorum = n - f: n < 3f+1 = %d", 3*x.F+1)
	}
	role := "backups"
	if lab.PrimaryLies(seed) {
		role = "the primary of view 0 and backups"
		if x.F == 1 {
			role = "the primary of view 0"
		}
	}
	fmt.Fprintf(w, "PBFT n=%d f=%d (%s), seed %d: liars %s (%s), behaviour %s, links authenticated by %s\n", x.N, x.F, q, seed, nodeList(x.Liars(seed)), role, x.Behaviour, authWords(x.Auth))
	fmt.Fprintf(w, "byzantine: %s told; refused: %d malformed, %d unauthenticated; %s in %v simulated (%.0f ms wall)\n",
		plural.Count(st.Byzantine, "lie"), st.Malformed, st.AuthFailed, plural.Count(len(tr.Events), "event"), simDuration(x), float64(time.Since(start).Microseconds())/1000)
	failed := false
	for _, r := range results {
		fmt.Fprintf(w, "  %s %s: %s\n", strings.ToUpper(verdictWord(r.Verdict)), r.Check, r.Summary)
		for i, v := range r.Violations {
			if i == 5 {
				fmt.Fprintf(w, "    ... and %d more\n", len(r.Violations)-5)
				break
			}
			fmt.Fprintf(w, "    - %s\n", v.Message)
		}
		failed = failed || r.Failed()
	}
	if traceFile != "" {
		if err := tr.WriteFile(traceFile); err != nil {
			return err
		}
		fmt.Fprintf(w, "\ntrace: %s (%s); try: ordo trace html %s --output run.html\n", traceFile, plural.Count(len(tr.Events), "event"), traceFile)
	}
	if failed && x.Safe() {
		fmt.Fprintln(w, "\nnot as expected: a violation at n >= 3f+1")
		return exitCode(1)
	}
	return nil
}

func verdictWord(v check.Verdict) string {
	if v == check.NotApplicable {
		return "n/a"
	}
	return string(v)
}

func simDuration(x lab.BFTConfig) time.Duration {
	if x.Duration == 0 {
		return lab.DefaultBFTDuration
	}
	return x.Duration
}
