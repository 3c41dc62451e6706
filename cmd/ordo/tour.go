package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTour(cmd.OutOrStdout(), section)
		},
	}
	cmd.Flags().IntVar(&section, "section", 0, "run only this section of the chapter (1-6, 6 being exercise 3 run as a database; 0: every section)")
	return cmd
}

func runTour(w io.Writer, section int) error {
	scenes, err := tour.Select(section)
	if err != nil {
		return err
	}
	fmt.Fprint(w, tour.Intro)
	start := time.Now()
	var failed []string
	for _, r := range tour.Run(w, scenes) {
		if r.Err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", r.Scene.Section, r.Err))
		}
	}
	noun := "scenes"
	if len(scenes) == 1 {
		noun = "scene"
	}
	fmt.Fprintf(w, "\n%d %s in %.1fs", len(scenes), noun, time.Since(start).Seconds())
	if len(failed) > 0 {
		fmt.Fprintf(w, "; %d FAILED:\n", len(failed))
		for _, f := range failed {
			fmt.Fprintf(w, "  %s\n", f)
		}
		return exitCode(1)
	}
	fmt.Fprintln(w, ", all as the chapter says.")
	return nil
}
