package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	err := newRoot().Execute()
	stopPager() // the output's reader first, then the error and the status
	if err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			// The command has said what went wrong; only the status is left.
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "ordo:", err)
		os.Exit(2)
	}
}

// exitCode is an error that asks for a particular exit status with no
// further message (e.g. 1 when a check found violations).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// commands lists the constructors of every subcommand; each command's file
// adds its own in an init function, so the files stay independent.
var commands []func() *cobra.Command

// benchCommands are the subcommands of `ordo bench`, added the same way.
var benchCommands []func() *cobra.Command

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "ordo",
		Short: "run, break and check the core ideas of distributed systems",
		Long: `ordo makes the ideas of the distributed-systems chapter real: clocks and
happens-before, leader election, partitions and quorums, partial failure,
and exercise 3's replicated database.
Protocols are deterministic state machines that run in a reproducible
simulator (same seed, same trace) and as real processes over TCP.

Start with:  ordo tour

Two flags work with every command: --color auto|always|never (auto: colour
on a terminal, none when piped, with NO_COLOR set or TERM=dumb) and --pager
(page the output through $ORDO_PAGER, $PAGER or less -FRX when it goes to a
terminal).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addColorFlag(root)
	addPagerFlag(root)
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print ordo's version",
		Args:  noArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "ordo", version)
		},
	})
	bench := &cobra.Command{
		Use:   "bench",
		Short: "measure end-to-end figures (simulator speed, elections, the 3f+1 line of PBFT, Dynamo quorums, ...)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	for _, c := range benchCommands {
		bench.AddCommand(c())
	}
	root.AddCommand(bench)
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}
