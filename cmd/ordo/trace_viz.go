package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"ordo/trace"
	"ordo/viz"
)

func init() {
	traceCommands = append(traceCommands, newTraceDiagramCmd, newTraceShiVizCmd)
}

func newTraceDiagramCmd() *cobra.Command {
	var opts viz.Options
	var svgOut string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diagram FILE",
		Short: "draw a trace as a space-time diagram (terminal, or SVG with --svg)",
		Long: `Draw a trace as the chapter draws time: one line per node, events as dots in
a causal order, messages as arrows (in the terminal: vertical arrows where
they fit, otherwise →n / ←n tags naming the other node), Lamport or vector
stamps under the events, crashes (✖), pauses (‖) and cluster faults such as
partitions (a ┆ column across all nodes) marked. Long traces are drawn in a
window of events (--from, --max). --json writes the picture itself (lanes,
marks with their event index, messages, drops) as JSON: the model that the
terminal, the SVG and the browser viewer (ordo web, ordo trace html) draw.`,
		Example: `  ordo trace diagram run.jsonl
  ordo trace diagram run.jsonl --stamps both --from 100 --max 40
  ordo trace diagram run.jsonl --svg run.svg --max 500
  ordo trace diagram run.jsonl --json --max 100000 > picture.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := trace.ReadFile(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				if svgOut != "" {
					return fmt.Errorf("--json and --svg: choose one")
				}
				p, err := viz.FromTrace(t, opts)
				if err != nil {
					return err
				}
				return p.WriteJSON(cmd.OutOrStdout())
			}
			if svgOut != "" {
				f, err := os.Create(svgOut)
				if err != nil {
					return err
				}
				if err := viz.SVG(f, t, opts); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", svgOut)
				return nil
			}
			return viz.ASCII(cmd.OutOrStdout(), t, opts)
		},
	}
	cmd.Flags().StringVar(&svgOut, "svg", "", "write a standalone SVG file instead of drawing in the terminal")
	cmd.Flags().BoolVar(&asJSON, "json", false, "write the picture model as JSON instead of drawing it")
	cmd.Flags().StringVar(&opts.Stamps, "stamps", "lamport", "stamps under the events: lamport, vector, both or none")
	cmd.Flags().IntVar(&opts.Width, "width", viz.DefaultWidth, "maximum line width in the terminal")
	cmd.Flags().IntVar(&opts.MaxEvents, "max", viz.DefaultMaxEvents, "draw at most this many events")
	cmd.Flags().IntVar(&opts.From, "from", 0, "first event id to draw")
	return cmd
}

func newTraceShiVizCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "shiviz FILE",
		Short: "export a trace as a ShiViz log (bestchai.bitbucket.io/shiviz)",
		Long: `Write a trace as a log that ShiViz loads from a file: the parser regex on the
first line, an empty execution delimiter on the second, then each event as a
description line and a "host {vector clock}" line, each host's own entry
starting at 1 and rising by one per event.

Every event of the trace is in the log, described in words with its message
tag (#N.S: the S-th message node N sent) and its time: process events on
their node's host, a dropped message on its sender's host, cluster faults
(partitions, heals) on a host named "cluster". ShiViz draws an arrow only
where a clock rises, so a drop, a duplicate delivery or a fault shows as an
event with those words, not as a picture. In ShiViz choose "load a file" (or
paste the log); the first two lines already hold the regex and the
delimiter. ordo trace import reads the log back into the same trace.`,
		Example: "  ordo trace shiviz run.jsonl --output run.shiviz.log",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := trace.ReadFile(args[0])
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				return viz.ShiViz(cmd.OutOrStdout(), t)
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if err := viz.ShiViz(f, t); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (load it at https://bestchai.bitbucket.io/shiviz/)\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default: standard output)")
	outputShorthandDeprecated(cmd.Flags())
	return cmd
}
