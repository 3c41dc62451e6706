package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"ordo/clock"
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
		Args: cobra.NoArgs,
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
(rule 2); transitivity (rule 3) strings them together. For a ∥ b it prints
both vector timestamps and an entry where each is ahead of the other, which
is why neither happened before the other.

Events are written as e12 or 12 (their ids, as ordo sim --diagram and the
trace show them). Drops and cluster faults are not process events.`,
		Example: `  ordo sim broadcast-lossy --trace run.jsonl
  ordo trace why run.jsonl e3 e40`,
		Args: cobra.ExactArgs(3),
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

// why prints the relation of events a and b with its proof.
func why(w io.Writer, t *trace.Trace, a, b int) error {
	o, err := t.Relation(a, b)
	if err != nil {
		return err
	}
	ea, eb := &t.Events[a], &t.Events[b]
	// A trace may carry no vector stamps (Relation then walks the
	// happens-before graph): the proof is then the chain alone.
	vectors := len(ea.Vector) > 0 && len(eb.Vector) > 0
	switch o {
	case clock.Equal:
		fmt.Fprintf(w, "e%d and e%d are the same event\n  %s\n", a, b, ea.Describe())
	case clock.Before, clock.After:
		from, to := a, b
		if o == clock.After {
			from, to = b, a
		}
		fmt.Fprintf(w, "e%d → e%d: e%d happened before e%d\n\n", from, to, from, to)
		chain, err := t.Chain(from, to)
		if err != nil {
			return err
		}
		for i, id := range chain {
			e := &t.Events[id]
			if i == 0 {
				fmt.Fprintf(w, "     %s\n", e.Describe())
				continue
			}
			prev := &t.Events[chain[i-1]]
			step := "rule 1: the next event on " + e.Node.String()
			if prev.Node != e.Node {
				step = fmt.Sprintf("rule 2: the receipt of message #%d, sent by %v", e.Msg, prev.Node)
			}
			fmt.Fprintf(w, "  →  %s\n       (%s)\n", e.Describe(), step)
		}
		if vectors {
			fmt.Fprintf(w, "\nand V(e%d) = %v ≤ V(e%d) = %v, entry by entry.\n", from, t.Events[from].Vector, to, t.Events[to].Vector)
		}
	case clock.Concurrent:
		fmt.Fprintf(w, "e%d ∥ e%d: concurrent — neither happened before the other\n\n", a, b)
		fmt.Fprintf(w, "  %s\n  %s\n\n", ea.Describe(), eb.Describe())
		if vectors {
			i, j := ahead(ea.Vector, eb.Vector), ahead(eb.Vector, ea.Vector)
			fmt.Fprintf(w, "V(e%d) ≰ V(e%d): entry n%d is %d > %d (e%d knows an event of n%d that e%d does not)\n",
				a, b, i+1, ea.Vector.Get(i), eb.Vector.Get(i), a, i+1, b)
			fmt.Fprintf(w, "V(e%d) ≰ V(e%d): entry n%d is %d > %d (e%d knows an event of n%d that e%d does not)\n",
				b, a, j+1, eb.Vector.Get(j), ea.Vector.Get(j), b, j+1, a)
		}
		fmt.Fprintln(w, "No chain of same-node steps and messages leads from either event to the other.")
	}
	return nil
}

// ahead returns the first index where x exceeds y.
func ahead(x, y clock.Vector) int {
	for i := range x {
		if x[i] > y.Get(i) {
			return i
		}
	}
	panic("trace why: concurrent vectors with no entry ahead")
}
