package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"ordo/check"
	"ordo/internal/plural"
	"ordo/trace"
	"ordo/viz/web"
)

func init() { traceCommands = append(traceCommands, newTraceHTMLCmd) }

func newTraceHTMLCmd() *cobra.Command {
	var out, title string
	var names []string
	var noCheck bool
	cmd := &cobra.Command{
		Use:   "html FILE --output run.html",
		Short: "write a trace as one self-contained HTML page: a space-time diagram to explore",
		Long: `Write a trace as one HTML file that any browser opens, without ordo or a
network: one lane per node (names stay in view while scrolling), messages as
arrows coloured by kind, drops as red dashed arrows ending in a cross,
crashes, restarts and pauses on the lanes, cluster faults as purple lines
across them. Hover an event for its Lamport and vector stamps; click it for
its whole record and to light up its causal past (blue) and future
(orange); shift-click a second event for the chain that proves one
happened before the other, or to see that they are concurrent; the arrow
keys step through the run event by event. The checkers that apply to the
trace's protocol run first (as ordo trace check runs them; --check names
others, --no-check none), and each finding links to the events that prove
it. The address (#e=ID) keeps the selected event, to share. Axis: event
order or time; zoom with + and -, or ctrl and the mouse wheel; filter by
message kind, node or a time window. Only what is
on screen is drawn, so a trace of 100 000 events opens.`,
		Example: `  ordo sim partition-raft --trace run.jsonl
  ordo trace html run.jsonl --output run.html && xdg-open run.html`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("name the page with --output FILE.html (it is a file to open, not text for a terminal)")
			}
			t, err := trace.ReadFile(args[0])
			if err != nil {
				return err
			}
			var res []check.Result
			if !noCheck {
				if len(names) == 0 {
					names = defaultTraceChecks(&t.Meta)
				}
				if res, err = check.Run(t, names); err != nil {
					return err
				}
			}
			if title == "" {
				title = args[0]
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if err := web.Page(f, t, web.Options{Title: title, Results: res}); err != nil {
				f.Close()
				os.Remove(out)
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			failed := 0
			for _, r := range res {
				if r.Failed() {
					failed++
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %s of %s, %s (%d failed); open it in a browser\n", out, plural.Count(len(t.Events), "event"), plural.Count(t.Meta.Nodes, "node"), plural.Count(len(res), "check"), failed)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "output", "", "the HTML file to write (required)")
	cmd.Flags().StringVar(&title, "title", "", "the page's heading (default: the trace file's name)")
	cmd.Flags().StringArrayVar(&names, "check", nil, "a checker to run and show, repeatable (default: those that apply to the trace's protocol)")
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "run no checker")
	return cmd
}
