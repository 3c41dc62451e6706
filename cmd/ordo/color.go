package main

import (
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"ordo/internal/style"
)

// colorFlag is the global --color flag's name.
const colorFlag = "color"

// addColorFlag defines --color auto|always|never on root, for every
// command.
func addColorFlag(root *cobra.Command) {
	mode := style.Auto
	root.PersistentFlags().Var(&mode, colorFlag,
		"colour the output: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always or never")
}

// styler is the Styler for cmd's output w: the --color flag's mode, and
// for auto whether w is a terminal (or the pager's pipe to one).
func styler(cmd *cobra.Command, w io.Writer) style.Styler {
	mode := style.Auto
	if f := cmd.Flags().Lookup(colorFlag); f != nil {
		if m, ok := f.Value.(*style.Mode); ok {
			mode = *m
		}
	}
	return style.New(style.Enabled(mode, style.IsTerminal(w) || pagesToTerminal(w), os.Getenv))
}

// styled returns w with every line passed through line, and the flush to
// call when done; w itself and a no-op when s is off, so that output
// without colour is exactly what the code printing it wrote.
func styled(w io.Writer, s style.Styler, line func(string) string) (io.Writer, func() error) {
	if !s.On() {
		return w, func() error { return nil }
	}
	lw := style.NewLineWriter(w, line)
	return lw, lw.Flush
}

// tourLine styles one line of the tour: the sections' headings and their
// underlines bold, verdicts green or red, the commands that rerun a scene
// dim. headings are the sections' titles.
func tourLine(s style.Styler, headings map[string]bool) func(string) string {
	return func(line string) string {
		switch {
		case headings[line] || line != "" && strings.Trim(line, "═") == "":
			return s.Heading(line)
		case strings.HasPrefix(line, "✗ "):
			return s.Fail(line) // a scene that failed, a stamp that breaks a rule
		case strings.HasPrefix(line, "✓ "):
			return s.Pass(line)
		case strings.HasPrefix(line, "rerun: "), strings.HasPrefix(line, "try: "), strings.HasPrefix(line, "details: "):
			return s.Dim(line)
		}
		line = strings.Replace(line, "✓ pass", s.Pass("✓ pass"), 1)
		return strings.Replace(line, "✗ fail", s.Fail("✗ fail"), 1)
	}
}
