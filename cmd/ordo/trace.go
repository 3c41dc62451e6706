package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"ordo/trace"
)

func init() { commands = append(commands, newTraceCmd) }

// traceCommands are the subcommands of `ordo trace` (diagram, shiviz,
// merge, ...); each adds itself from its own file's init.
var traceCommands []func() *cobra.Command

func newTraceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "read a trace: happens-before and more",
		Long: `Read a trace written by ordo sim --trace (or by a live cluster): one JSON
line of metadata, then one line per event, each process event stamped with a
Lamport and a vector timestamp.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTraceWhyCmd())
	for _, c := range traceCommands {
		cmd.AddCommand(c())
	}
	return cmd
}

func newTraceWhyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "why FILE EVENT_A EVENT_B",
		Short: "say whether A → B, B → A or A ∥ B, and prove it",
		Long: `Answer the chapter's question (section 2, Happens-Before) for two events of a
trace: a → b (a happened before b), b → a, or a ∥ b (concurrent).

For a → b it prints the chain of events that proves it: each step is either
the next event on the same node (rule 1) or the receipt of a message sent
(rule 2); transitivity (rule 3) strings them together. A run of more than
four steps on one node is printed as its first and last step and how many
lie between. For a ∥ b it prints
both vector timestamps and an entry where each is ahead of the other, which
is why neither happened before the other.

Events are written as e12 or 12 (their ids, as ordo sim --diagram and the
trace show them). Drops and cluster faults are not process events.`,
		Example: `  ordo sim broadcast-lossy --trace run.jsonl
  ordo trace why run.jsonl e3 e40`,
		Args: exactArgs(3, "a trace file and two of its events, like ordo trace why run.jsonl e3 e40"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := trace.ReadFile(args[0])
			if err != nil {
				return err
			}
			a, err := parseEventID(args[1])
			if err != nil {
				return err
			}
			b, err := parseEventID(args[2])
			if err != nil {
				return err
			}
			return why(cmd.OutOrStdout(), t, a, b)
		},
	}
}

func parseEventID(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(s, "e"), "E"))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not an event: write e12 or 12", s)
	}
	return n, nil
}

// why prints the relation of events a and b with its proof
// (trace.Explanation's text).
func why(w io.Writer, t *trace.Trace, a, b int) error {
	x, err := t.Explain(a, b)
	if err != nil {
		return err
	}
	return x.WriteText(w)
}
