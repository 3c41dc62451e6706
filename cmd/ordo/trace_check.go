package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"ordo/check"
	"ordo/election"
	"ordo/internal/plural"
	"ordo/trace"
)

func init() { traceCommands = append(traceCommands, newTraceCheckCmd) }

func newTraceCheckCmd() *cobra.Command {
	var names []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "run checkers on a trace, simulated or merged live",
		Long: `Run checkers on any trace: one written by ordo sim --trace or ordo elect --trace,
or a live cluster's trace joined by ordo trace merge. Checkers read the trace
only, so they judge a simulated run and a real one alike.

Without --check it runs the checks that apply to the trace's protocol: the
election checks (` + strings.Join(election.Checks, ", ") + `) for a leader
election, every other registered check otherwise. A check that does not
apply to the trace (an election check on a broadcast run) is reported as
not-applicable with the reason, never passed. Events out of time order (a
merged live trace with skewed clocks) are judged in true-time order, and
the command says so.

Exit status: 0 when no check failed, 1 when one did, 2 for bad input.`,
		Example: `  ordo sim partition-bully --trace run.jsonl
  ordo trace check run.jsonl
  ordo trace check run.jsonl --check single-leader --check stale-leader`,
		Args: exactArgs(1, "one trace file; name checkers with --check NAME, repeatable"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := trace.ReadFile(args[0])
			if err != nil {
				return err
			}
			if len(names) == 0 {
				names = defaultTraceChecks(&t.Meta)
			}
			if len(names) == 0 {
				return fmt.Errorf("%s names no protocol (an imported log?), so no check applies by default: name one with --check NAME (valid: %s)", args[0], strings.Join(check.Names(), ", "))
			}
			w := cmd.OutOrStdout()
			if i := check.OutOfOrder(t); i >= 0 && !asJSON {
				fmt.Fprintf(w, "note: events out of time order (e%d at %dns after e%d at %dns): judged in true-time order\n",
					t.Events[i].ID, t.Events[i].T, t.Events[i-1].ID, t.Events[i-1].T)
			}
			res, err := check.Run(t, names)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				writeTraceChecks(w, args[0], t, res)
			}
			for _, r := range res {
				if r.Failed() {
					return exitCode(1)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&names, "check", nil, "a check to run (repeatable; valid: "+strings.Join(check.Names(), ", ")+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

// defaultTraceChecks are the checks that apply to a trace's protocol:
// none for a trace that names no protocol (an imported GoVector or ShiViz
// log), whose notes no ordo checker can read.
func defaultTraceChecks(m *trace.Meta) []string {
	if m.Protocol == "" {
		return nil
	}
	if election.IsProtocol(m.Protocol) {
		return election.Checks
	}
	var out []string
	for _, n := range check.Names() {
		if !slices.Contains(election.Checks, n) {
			out = append(out, n)
		}
	}
	return out
}

func writeTraceChecks(w io.Writer, file string, t *trace.Trace, res []check.Result) {
	proto := t.Meta.Protocol
	if proto == "" {
		proto = "(no protocol)"
	}
	fmt.Fprintf(w, "%s: %s run of %s, %s, %s\n", file, t.Meta.Runtime, proto, plural.Count(t.Meta.Nodes, "node"), plural.Count(len(t.Events), "event"))
	for _, r := range res {
		v := string(r.Verdict)
		if r.Failed() {
			v = "FAIL"
		}
		fmt.Fprintf(w, "  %-20s %-14s %s\n", r.Check, v, r.Summary)
		for i, x := range r.Violations {
			if i == 10 {
				fmt.Fprintf(w, "      ... and %d more\n", len(r.Violations)-10)
				break
			}
			fmt.Fprintf(w, "      %s\n", x.Message)
		}
	}
}
