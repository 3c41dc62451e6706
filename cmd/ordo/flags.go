package main

import (
	"github.com/spf13/pflag"
)

// optionFlag defines the one meaning of -o across ordo's commands:
// --option KEY=VALUE, repeatable, a protocol option. --opt, its name in
// `ordo cluster` and `ordo bench elect` before, stays as a hidden,
// deprecated alias sharing the same list, so old scripts keep working
// (with a warning on standard error) and `--opt a --option b` keeps both.
func optionFlag(fl *pflag.FlagSet, p *[]string, usage string) {
	fl.StringArrayVarP(p, "option", "o", nil, usage)
	fl.AddFlag(&pflag.Flag{
		Name:       "opt",
		Usage:      usage,
		Value:      fl.Lookup("option").Value,
		DefValue:   "[]",
		Hidden:     true,
		Deprecated: "use --option (-o)",
	})
}

// outputShorthandDeprecated keeps -o working as --output on the trace
// commands that had it, with a warning: everywhere else -o is --option.
func outputShorthandDeprecated(fl *pflag.FlagSet) {
	if err := fl.MarkShorthandDeprecated("output", "use --output (-o means --option in other commands)"); err != nil {
		panic(err) // the flag is defined just above each call
	}
}
