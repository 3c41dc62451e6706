package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/clock"
	"ordo/diagram"
	"ordo/tour"
	"ordo/viz"
)

func init() {
	commands = append(commands, newClockCmd)
}

const diagramFormatHelp = `A diagram file (see examples/seed/):

  # a process and its events, in order
  P1: a b c
  P2: d e f
  # a message: send event -> receive event
  a -> d
  f -> c

An event may carry a claimed stamp, b=2 (Lamport) or b=[2,0] (vector, one
entry per process in the order they are declared), which 'ordo clock check'
verifies.`

func newClockCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clock",
		Short: "Lamport and vector clocks on hand-drawn diagrams (chapter sections 2, 3)",
		Long: `Compute, compare and check logical clocks the way the chapter's section 3
does by hand, on diagrams written as text.

` + diagramFormatHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newClockStampCmd("lamport"), newClockStampCmd("vector"),
		newClockCompareCmd(), newClockCheckCmd(), newClockHBCmd())
	return cmd
}

// loadDiagram reads a diagram file ("-": stdin) through the bound
// diagram.MaxSize: at most that plus one byte is read, so /dev/zero or an
// endless pipe fails at once with a size error.
func loadDiagram(stdin io.Reader, path string) (*diagram.Diagram, error) {
	src, err := ordo.ReadInput(path, stdin, diagram.MaxSize)
	if err != nil {
		return nil, err
	}
	d, err := diagram.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

type jsonEvent struct {
	ID      string       `json:"id"`
	Process string       `json:"process"`
	Lamport uint64       `json:"lamport"`
	Vector  clock.Vector `json:"vector"`
}

func newClockStampCmd(kind string) *cobra.Command {
	var asJSON bool
	var width int
	rule := "C = C + 1 on every event; a message carries C; on receipt C = max(C, msg.C) + 1"
	if kind == "vector" {
		rule = "V[i]++ on every event; a message carries V; on receipt V[j] = max(V[j], msg.V[j]) for all j, then V[i]++"
	}
	cmd := &cobra.Command{
		Use:   kind + " FILE",
		Short: "every event's " + kind + " timestamp, and the diagram with the stamps under the events",
		Long: "Compute every event's " + kind + " timestamp by the chapter's rules (" + rule + `),
list them, and draw the diagram with the stamps under the events.

` + diagramFormatHelp,
		Example: "  ordo clock " + kind + " examples/seed/exercise-1.txt\n  ordo clock " + kind + " --json examples/seed/vector-figure.txt",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadDiagram(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				out := struct {
					Events []jsonEvent `json:"events"`
				}{Events: []jsonEvent{}}
				for _, e := range d.Events {
					out.Events = append(out.Events, jsonEvent{e.Name, d.Processes[e.Proc].Name, e.Lamport, e.Vector})
				}
				enc := json.NewEncoder(w)
				return enc.Encode(out)
			}
			return tour.Stamps(w, d, kind, width)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"events":[{"id","process","lamport","vector"}, ...]}`)
	cmd.Flags().IntVar(&width, "width", viz.DefaultWidth, "maximum width of the drawing")
	return cmd
}

func newClockCompareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare V1 V2 [V3 ...]",
		Short: "the relation of every pair of vector timestamps (exercise 2)",
		Long: `Compare vector timestamps pairwise by the chapter's rule: V1 → V2 (V1
happens before V2) when every entry of V1 is ≤ V2's and they differ;
V1 ∥ V2 (concurrent) when neither happens before the other. Missing
entries count as zero.

A vector is dense, [2,1,0] (entry i is process i+1's), sparse with
process ids, {1:2,3:1}, or named, {a:2,b:1} (named vectors compare with
named vectors only). Quote each one: shells expand [..] and {..}.`,
		Example: "  ordo clock compare '[2,1,0]' '[1,2,0]' '[2,2,1]' '[3,1,0]'     # exercise 2\n  ordo clock compare '{a:1,b:2}' '{b:2,c:1}'\n  ordo clock compare --json '[2,0]' '[1,1]'",
		Args:    minimumArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := parseCompareArgs(args)
			if err != nil {
				return err
			}
			type pair struct {
				A        string `json:"a"`
				B        string `json:"b"`
				Relation string `json:"relation"`
			}
			out := struct {
				Pairs []pair `json:"pairs"`
			}{Pairs: []pair{}}
			w := cmd.OutOrStdout()
			if !asJSON {
				for i, v := range vs {
					fmt.Fprintf(w, "V%d = %s\n", i+1, v.text)
				}
				fmt.Fprintln(w)
			}
			for i := range vs {
				for j := i + 1; j < len(vs); j++ {
					o := clock.CompareSparse(&vs[i].s, &vs[j].s)
					out.Pairs = append(out.Pairs, pair{vs[i].text, vs[j].text, o.String()})
					if asJSON {
						continue
					}
					a, b := fmt.Sprintf("V%d", i+1), fmt.Sprintf("V%d", j+1)
					switch o {
					case clock.Before:
						fmt.Fprintf(w, "%s → %s   %s happens before %s\n", a, b, vs[i].text, vs[j].text)
					case clock.After:
						fmt.Fprintf(w, "%s → %s   %s happens before %s\n", b, a, vs[j].text, vs[i].text)
					case clock.Equal:
						fmt.Fprintf(w, "%s = %s   equal\n", a, b)
					default:
						fmt.Fprintf(w, "%s ∥ %s   concurrent: %s and %s each have an entry larger than the other's\n", a, b, vs[i].text, vs[j].text)
					}
				}
			}
			if asJSON {
				return json.NewEncoder(w).Encode(out)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"pairs":[{"a","b","relation"}, ...]}, relation before/after/equal/concurrent`)
	return cmd
}

func newClockCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "verify the timestamps claimed in a diagram (exit status 1 if any is wrong)",
		Long: `Verify every claimed stamp (b=2 or b=[2,0]) in a diagram against the
chapter's rules. For each wrong one, print the event, the claimed and the
correct value, the rule it breaks, and the rule applied to its inputs.
Exit status 1 when any claim is wrong.

` + diagramFormatHelp,
		Example: "  ordo clock check examples/seed/lamport-figure.txt\n  ordo clock check examples/seed/exercise-1-answer.txt",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadDiagram(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			if tour.Mismatches(cmd.OutOrStdout(), d) > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
}

func newClockHBCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hb FILE X Y",
		Short: "does event X happen before Y, after it, or concurrently? with the chain",
		Long: `Answer the chapter's happens-before question for two events of a diagram:
X → Y, Y → X or X ∥ Y, with the chain of events (same process or message
steps) that proves it.

` + diagramFormatHelp,
		Example: "  ordo clock hb examples/seed/happens-before-figure.txt a d\n  ordo clock hb examples/seed/concurrent-figure.txt a b",
		Args:    exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadDiagram(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			return tour.HappensBefore(cmd.OutOrStdout(), d, args[1], args[2])
		},
	}
}
