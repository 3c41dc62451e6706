package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"ordo/internal/style"
)

// pagerFlag is the global --pager flag's name.
const pagerFlag = "pager"

// defaultPager pages only output longer than a screen (-F), passes colour
// through (-R) and leaves the text on the screen when it quits (-X).
const defaultPager = "less -FRX"

// paging is the pager the command's standard output goes through, nil for
// none. There is at most one per process: while it runs, os.Stdout is the
// pipe to it.
var paging *pager

// pager is a running pager process reading the command's output.
type pager struct {
	cmd    *exec.Cmd
	w      *os.File // the write end of the pipe to the pager: os.Stdout while paging
	stdout *os.File // the real standard output, a terminal
}

// addPagerFlag defines --pager on root and the hook that starts the pager
// before any command runs.
func addPagerFlag(root *cobra.Command) {
	root.PersistentFlags().Bool(pagerFlag, false,
		"page the output when it goes to a terminal, through $ORDO_PAGER, $PAGER or "+defaultPager)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		on, _ := cmd.Flags().GetBool(pagerFlag)
		// Only the process's own standard output is paged: a command
		// whose output was redirected (SetOut, as tests do) is not.
		if on && paging == nil && cmd.OutOrStdout() == io.Writer(os.Stdout) {
			if p := startPager(os.Stdout, style.IsTerminal(os.Stdout), pagerCommand(os.Getenv), cmd.ErrOrStderr()); p != nil {
				paging = p
				os.Stdout = p.w
			}
		}
		return nil
	}
}

// pagerCommand is the pager to run, split into words: $ORDO_PAGER, else
// $PAGER, else less -FRX. nil when the one chosen is empty or cat: no
// pager.
func pagerCommand(getenv func(string) string) []string {
	cmd := strings.TrimSpace(getenv("ORDO_PAGER"))
	if cmd == "" {
		cmd = strings.TrimSpace(getenv("PAGER"))
	}
	if cmd == "" {
		cmd = defaultPager
	}
	argv := strings.Fields(cmd)
	if len(argv) == 0 || argv[0] == "cat" && len(argv) == 1 {
		return nil
	}
	return argv
}

// startPager starts argv reading from a pipe and writing to out, and
// returns it; the command's output then goes to its w. Without a
// terminal (tty false) or a pager (argv nil) it does nothing and returns
// nil. A pager that cannot be started is a one-line warning on warn, and
// the output stays plain.
func startPager(out *os.File, tty bool, argv []string, warn io.Writer) *pager {
	if !tty || len(argv) == 0 {
		return nil
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(warn, "ordo: pager %q not found (set ORDO_PAGER or PAGER); printing without one\n", argv[0])
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(warn, "ordo: no pipe to the pager (%v); printing without one\n", err)
		return nil
	}
	c := exec.Command(path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = r, out, os.Stderr
	if err := c.Start(); err != nil {
		r.Close()
		w.Close()
		fmt.Fprintf(warn, "ordo: pager %q did not start (%v); printing without one\n", argv[0], err)
		return nil
	}
	r.Close() // the pager holds its own copy
	return &pager{cmd: c, w: w, stdout: out}
}

// wait ends the pager's input and waits for it to exit: the user reads to
// the end (or quits) before ordo's exit status and errors appear.
func (p *pager) wait() error {
	p.w.Close()
	return p.cmd.Wait()
}

// stopPager restores standard output and waits for the pager, if one runs.
func stopPager() {
	if paging == nil {
		return
	}
	os.Stdout = paging.stdout
	_ = paging.wait() // a pager quit early, or failing, has nothing left to say
	paging = nil
}

// pagesToTerminal reports whether w is the pipe to a pager that shows
// the output on a terminal, so --color auto colours it (less -R passes
// colour through).
func pagesToTerminal(w io.Writer) bool {
	return paging != nil && w == io.Writer(paging.w)
}
