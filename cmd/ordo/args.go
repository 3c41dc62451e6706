package main

// Arity: every command that counts its arguments says, when the count is
// wrong, what it expects and where to read more ("kv put needs KEY VALUE
// (2 arguments, got 1: "x"); see ordo kv put --help"), not cobra's
// bare "accepts 2 arg(s), received 1". cobra.ExactArgs and its siblings
// are not used in this package (TestArityErrorsSayWhatIsExpected).

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
)

// noArgs wants none. A command with subcommands answers a stray word as
// cobra does (unknown command: a mistyped subcommand); a leaf says it
// takes no arguments (cobra's "unknown command" misled there).
func noArgs(cmd *cobra.Command, args []string) error {
	if cmd.HasSubCommands() {
		return cobra.NoArgs(cmd, args)
	}
	return arity(0, 0)(cmd, args)
}

// exactArgs wants n arguments; hint, if given, is said after the count
// (what the arguments are, where to find one).
func exactArgs(n int, hint ...string) cobra.PositionalArgs { return arity(n, n, hint...) }

// rangeArgs wants lo..hi arguments.
func rangeArgs(lo, hi int, hint ...string) cobra.PositionalArgs { return arity(lo, hi, hint...) }

// minimumArgs wants n arguments or more.
func minimumArgs(n int, hint ...string) cobra.PositionalArgs { return arity(n, -1, hint...) }

// maximumArgs wants at most n arguments.
func maximumArgs(n int, hint ...string) cobra.PositionalArgs { return arity(0, n, hint...) }

// arity wants lo..hi arguments (hi < 0: no upper bound).
func arity(lo, hi int, hint ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && (hi < 0 || len(args) <= hi) {
			return nil
		}
		return arityError(cmd, args, lo, hi, strings.Join(hint, "; "))
	}
}

// arityError says what cmd expects (its Use line's arguments and how
// many), what it got, and where its help is.
func arityError(cmd *cobra.Command, args []string, lo, hi int, hint string) error {
	path := cmd.CommandPath()
	var count string
	switch {
	case lo == hi:
		count = plural.Count(lo, "argument")
	case hi < 0:
		count = "at least " + plural.Count(lo, "argument")
	case lo == 0:
		count = "at most " + plural.Count(hi, "argument")
	case hi == lo+1:
		count = fmt.Sprintf("%d or %d arguments", lo, hi)
	default:
		count = fmt.Sprintf("%d to %d arguments", lo, hi)
	}
	got := "none"
	if len(args) > 0 {
		quoted := make([]string, 0, min(len(args), 4))
		for i, a := range args {
			if i == 3 {
				quoted = append(quoted, "...")
				break
			}
			quoted = append(quoted, strconv.Quote(a))
		}
		got = fmt.Sprintf("%d: %s", len(args), strings.Join(quoted, " "))
	}
	verb := "needs"
	if lo == 0 {
		verb = "takes"
	}
	// main prefixes every error with "ordo: ", so the command is named
	// without the root: "ordo: kv put needs KEY VALUE ...".
	msg := fmt.Sprintf("%s %s", strings.TrimPrefix(path, cmd.Root().Name()+" "), verb)
	if hi == 0 {
		return fmt.Errorf("%s no arguments (got %s); see %s --help", msg, got, path)
	}
	if want := useArgs(cmd.Use); want != "" {
		msg += " " + want + " ("
	} else {
		msg += " ("
	}
	msg += fmt.Sprintf("%s, got %s)", count, got)
	if hint != "" {
		msg += "; " + hint
	}
	return fmt.Errorf("%s; see %s --help", msg, path)
}

// useArgs is the arguments of a Use line: "put KEY VALUE" → "KEY VALUE",
// "cas KEY VALUE (--expect OLD | --absent)" → "KEY VALUE", "html FILE
// --output run.html" → "FILE" (flags are not arguments).
func useArgs(use string) string {
	words := strings.Fields(use)
	var out []string
	for _, w := range words[min(1, len(words)):] {
		if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "(") {
			break
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}
