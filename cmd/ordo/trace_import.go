package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/internal/plural"
	"ordo/viz"
)

func init() { traceCommands = append(traceCommands, newTraceImportCmd) }

func newTraceImportCmd() *cobra.Command {
	var out string
	var o viz.ImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "read a GoVector or ShiViz log into an ordo trace",
		Long: `Read a log of a real program logged with vector clocks into an ordo trace that
every ordo command reads (diagram, why, check, ...).

A GoVector log is a "host {clock}" line then the event's line per event;
concatenate the per-process files (cat *-Log.txt) into one. A ShiViz log
has the parser regex on its first line and the executions delimiter on its
second, and ordo reads both from there; --regex and --delimiter give them
otherwise (named groups host, clock and event; RE2 syntax, which has no
lookaround). FILE "-" is standard input.

Each host becomes a node (n1, n2, ... in order of first appearance; the
trace keeps the names). Messages are inferred from the clocks the way ShiViz
does: an event whose clock rises for another host, not through a rise it
learned from another host, received from that host's event with the new
entry. ordo sends one message per event, so an event that several hosts
received becomes one send per receiver, and an event that received from
several at once one receive per sender; the summary counts both. ordo's own
export (ordo trace shiviz) comes back with its event kinds, message ids and
times. The clocks are checked as ShiViz checks them, and a log that breaks a
rule is refused with its line: own entry 1, 2, 3... per host, no entry going
back, no knowledge of an event the host never logged, no causal cycle.`,
		Example: `  cat client-Log.txt server-Log.txt > run.log
  ordo trace import run.log --output run.jsonl
  ordo trace diagram run.jsonl
  ordo trace import shiviz.log --execution 1 --output second.jsonl`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := ordo.OpenInput(args[0], cmd.InOrStdin(), viz.MaxImportBytes)
			if err != nil {
				return err
			}
			defer f.Close()
			t, rep, err := viz.ImportShiViz(f, o)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if out == "" || out == "-" {
				if err := t.Write(cmd.OutOrStdout()); err != nil {
					return err
				}
			} else if err := t.WriteFile(out); err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			var names []string
			for i, h := range rep.Hosts {
				names = append(names, fmt.Sprintf("n%d=%s", i+1, h))
			}
			kind := "a GoVector/ShiViz log"
			if rep.Ordo {
				kind = "ordo's own ShiViz export"
			}
			fmt.Fprintf(w, "%s: %s of %s (%s), %s; %s", kind, plural.Count(rep.Events, "event"), plural.Count(len(rep.Hosts), "host"), strings.Join(names, " "), plural.Count(len(t.Events), "trace event"), plural.Count(rep.Messages, "message"))
			if !rep.Ordo {
				fmt.Fprintf(w, " inferred from the clocks (%s split into sends, %s split)", plural.Count(rep.SplitSends, "broadcast event"), plural.Count(rep.SplitReceives, "merged receive"))
			}
			if rep.Unpaired > 0 {
				fmt.Fprintf(w, "; %s not in the log, kept as notes", plural.Count(rep.Unpaired, "receive whose send is", "receives whose send is"))
			}
			if rep.Executions > 1 {
				fmt.Fprintf(w, "; execution %d of %d", o.Execution, rep.Executions)
			}
			if out != "" && out != "-" {
				fmt.Fprintf(w, " → %s", out)
			}
			fmt.Fprintln(w)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "output", "", "write the trace here (default: standard output)")
	cmd.Flags().StringVar(&o.Regex, "regex", "", "parser regex with groups host, clock and event (default: the log's first line, else GoVector's)")
	cmd.Flags().StringVar(&o.Delimiter, "delimiter", "", "executions delimiter regex (default: the log's second line, if it has a regex)")
	cmd.Flags().IntVar(&o.Execution, "execution", 0, "which execution of a log with a delimiter (from 0)")
	return cmd
}
