package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"ordo/check"
	"ordo/internal/plural"
	"ordo/scenario"
	"ordo/scenarios"
	"ordo/viz"
)

func init() { commands = append(commands, newSimCmd) }

// loadScenario reads a scenario from a file path, or failing that from the
// scenarios built into ordo by name ("broadcast-lossy").
func loadScenario(arg string) (*scenario.Scenario, error) {
	if arg == "-" {
		return scenario.Load(arg) // standard input, through the file bound
	}
	if _, err := os.Stat(arg); err == nil {
		return scenario.Load(arg)
	} else if strings.ContainsAny(arg, "/\\") || !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	data, err := scenarios.Read(arg)
	if err != nil {
		return nil, fmt.Errorf("%s is neither a file nor a built-in scenario: %v", arg, err)
	}
	return parseBuiltin(arg, data)
}

// parseBuiltin parses a scenario built into ordo, naming it by its path in
// the repository for errors.
func parseBuiltin(name string, data []byte) (*scenario.Scenario, error) {
	return scenario.Parse("scenarios/"+strings.TrimSuffix(name, ".yaml")+".yaml", data)
}

func newSimCmd() *cobra.Command {
	var (
		seed      uint64
		traceFile string
		asJSON    bool
		diagram   bool
		list      bool
		vopts     viz.Options
		maxEvents uint64
		clients   int
		messages  bool
		auth      string
	)
	cmd := &cobra.Command{
		Use:   "sim SCENARIO",
		Short: "run a scenario file in the deterministic simulator and report",
		Long: `Run a scenario in the deterministic simulator, then print a report: messages
and bytes by kind, drops, duplicates and tampering, the estimated transport
cost, which of the chapter's eight fallacies the run exercised, and the
checkers' verdicts.

SCENARIO is a YAML file (see docs/scenarios.md) or the name of a scenario
built into ordo (ordo sim --list shows them). The same scenario and seed
always give the same run, byte for byte.

Three built-in names are tables of many runs (section 5, partial failure),
taking only --seed: partial-failure (a transfer under each cause of a
timeout and each retry strategy), backoff-contention (total calls and
completion time per backoff) and timeout-tuning (false suspicions against
detection time for timeouts tuned from measured latency). lww-vs-vector
(sections 2-3) is the acknowledged writes lost and the siblings kept by
last-write-wins, dotted version vectors and per-replica vector clocks on
the Dynamo-style store, by clock skew and number of writers (36 runs).

Exit status: 0 when every expect of the file is met, 1 when one is not,
2 for bad input (a mistake in the file, an unknown scenario).`,
		Example: `  ordo sim --list
  ordo sim broadcast-lossy
  ordo sim partial-failure
  ordo sim lww-vs-vector
  ordo sim scenarios/broadcast-partition.yaml --seed 7 --diagram
  ordo sim broadcast-lossy --trace run.jsonl && ordo trace why run.jsonl e3 e40
  ordo sim broadcast-tampered --json
  ordo sim pbft-4 --auth ed25519`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return noArgs(cmd, args)
			}
			return exactArgs(1, "a scenario file or a built-in name (ordo sim --list)")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if list {
				return listScenarios(out)
			}
			if asJSON && diagram {
				return fmt.Errorf("--json and --diagram do not mix: the JSON report is for programs")
			}
			if ok, err := runSimScene(cmd, args[0], seed); ok {
				return err // a built-in table of runs (partial_failure.go)
			}
			sc, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			for _, w := range sc.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
			}
			if cmd.Flags().Changed("clients") {
				if err := sc.SetClients(clients); err != nil {
					return fmt.Errorf("--clients: %w", err)
				}
			}
			if cmd.Flags().Changed("auth") {
				if err := sc.SetAuth(auth); err != nil {
					return fmt.Errorf("--auth: %w", err)
				}
			}
			if messages && traceFile == "" {
				return fmt.Errorf("--messages puts message contents in the trace: give --trace FILE too")
			}
			opts := scenario.RunOptions{Trace: traceFile != "" || diagram, MaxEvents: maxEvents, KeepMessages: messages}
			if cmd.Flags().Changed("seed") {
				opts.Seed = &seed
			}
			res, err := sc.Run(opts)
			if err != nil {
				if res != nil && res.Trace != nil && traceFile != "" {
					// Cut at its bound: the trace up to there.
					if werr := res.Trace.WriteFile(traceFile); werr == nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "trace up to the cut: %s (%s, %v simulated)\n", traceFile, plural.Count(len(res.Trace.Events), "event"), res.SimTime)
					}
				}
				return err
			}
			if traceFile != "" {
				if err := res.Trace.WriteFile(traceFile); err != nil {
					return err
				}
			}
			if asJSON {
				if err := res.WriteJSON(out); err != nil {
					return err
				}
			} else {
				if diagram {
					if err := viz.ASCII(out, res.Trace, vopts); err != nil {
						return err
					}
					fmt.Fprintln(out)
				}
				if err := res.WriteStyled(out, styler(cmd, out)); err != nil {
					return err
				}
				if traceFile != "" {
					fmt.Fprintf(out, "\ntrace: %s (%s); try: ordo trace why %s e0 e%d\n", traceFile, plural.Count(len(res.Trace.Events), "event"), traceFile, len(res.Trace.Events)-1)
				}
				if r := simReplay(args[0], res); r != "" {
					fmt.Fprintf(out, "\n%s\n", r)
				}
			}
			if len(res.Unmet) > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 0, "override the scenario's seed")
	f.IntVar(&clients, "clients", 0, "override the number of client nodes (the file's one clients: group, or the protocol's default client)")
	f.StringVar(&traceFile, "trace", "", "write the run's trace (JSON Lines) to `FILE`")
	f.StringVar(&auth, "auth", "", "how the scenario's authenticated links authenticate: mac (per-pair MACs, the default) or ed25519 (signatures; same run, more CPU)")
	f.BoolVar(&messages, "messages", false, "with --trace: put each message's contents in its send event (the viewers show them on a click)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&diagram, "diagram", false, "print the run's space-time diagram before the report")
	f.BoolVar(&list, "list", false, "list the built-in scenarios")
	f.StringVar(&vopts.Stamps, "stamps", "lamport", "stamps under the diagram's events: lamport, vector, both or none")
	f.IntVar(&vopts.From, "from", 0, "first event of the diagram")
	f.IntVar(&vopts.MaxEvents, "max", viz.DefaultMaxEvents, "at most this many events in the diagram")
	f.IntVar(&vopts.Width, "width", viz.DefaultWidth, "the diagram's maximum line width")
	f.Uint64Var(&maxEvents, "max-events", 0, "stop the run after this many simulator steps (0: 50M untraced; traced, about 2 GiB of trace); with --trace, the trace up to the cut is written")
	return cmd
}

func listScenarios(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tPROTOCOL\tNODES\tABOUT")
	for _, name := range scenarios.Names() {
		data, err := scenarios.Read(name)
		if err != nil {
			return err
		}
		sc, err := parseBuiltin(name, data)
		if err != nil {
			// A broken built-in file is listed, not hidden.
			fmt.Fprintf(tw, "%s\t?\t?\tERROR: %v\n", name, err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", name, sc.Protocol.Name, sc.Nodes, firstSentence(sc.Doc, 70))
	}
	for _, name := range simSceneNames() {
		fmt.Fprintf(tw, "%s\t(table)\t-\t%s\n", name, firstSentence(simScenes[name].about, 70))
	}
	return tw.Flush()
}

// firstSentence shortens a doc paragraph to its first sentence, at most n runes.
func firstSentence(doc string, n int) string {
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, ". "); i >= 0 {
		doc = doc[:i+1]
	}
	if r := []rune(doc); len(r) > n {
		doc = string(r[:n-1]) + "…"
	}
	return doc
}

// simReplay is the replay line of a run in which a check failed: the same
// scenario and seed, with the trace kept so the violations' event ids can
// be followed (ordo trace why). "" when every check passed.
func simReplay(arg string, res *scenario.Result) string {
	for _, c := range res.Checks {
		if c.Verdict == check.Fail {
			return fmt.Sprintf("replay: ordo sim %s --seed %d --trace run.jsonl   (then: ordo trace why run.jsonl EVENT_A EVENT_B)", arg, res.Seed)
		}
	}
	return ""
}
