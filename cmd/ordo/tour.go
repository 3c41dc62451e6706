package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/internal/style"
	"ordo/tour"
)

func init() {
	commands = append(commands, newTourCmd)
}

func newTourCmd() *cobra.Command {
	var section int
	cmd := &cobra.Command{
		Use:   "tour",
		Short: "walk the chapter section by section, running each idea",
		Long: `Walk the chapter section by section: for each idea, run a scenario in the
simulator and print a short space-time diagram, what the run exercised and
the checkers' verdicts. The tour takes a few seconds. It exits non-zero if
any scene's own check fails, so it doubles as a smoke test.`,
		Example: `  ordo tour
  ordo tour --section 1`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			return playTour(w, section, styler(cmd, w))
		},
	}
	cmd.Flags().IntVar(&section, "section", 0, "run only this section of the chapter (1-6, 6 being exercise 3 run as a database; 0: every section)")
	return cmd
}

// runTour plays the tour (one section, or all for 0) to w without colour.
func runTour(w io.Writer, section int) error { return playTour(w, section, style.Styler{}) }

// playTour plays the tour to w, styled by s: the sections' headings bold,
// verdicts green or red (tourLine). With s off the text is exactly what
// the scenes print.
func playTour(w io.Writer, section int, s style.Styler) error {
	scenes, err := tour.Select(section)
	if err != nil {
		return err
	}
	headings := map[string]bool{}
	for _, sc := range scenes {
		headings[sc.Section] = true
	}
	sw, flush := styled(w, s, tourLine(s, headings))
	fmt.Fprint(sw, tour.Intro)
	start := time.Now()
	var failed []string
	for _, r := range tour.Run(sw, scenes) {
		if r.Err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", r.Scene.Section, r.Err))
		}
	}
	if err := flush(); err != nil {
		return err
	}
	done := fmt.Sprintf("%s in %.1fs", plural.Count(len(scenes), "scene"), time.Since(start).Seconds())
	if len(failed) > 0 {
		fmt.Fprintf(w, "\n%s\n", s.Fail(fmt.Sprintf("%s; %d FAILED:", done, len(failed))))
		for _, f := range failed {
			fmt.Fprintf(w, "  %s\n", s.Fail(f))
		}
		return exitCode(1)
	}
	fmt.Fprintf(w, "\n%s\n", s.Pass(done+", all as the chapter says."))
	return nil
}
