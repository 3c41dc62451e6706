//go:build !linux

package live

import (
	"os/exec"
	"syscall"
)

// procAttr puts a node in its own process group. Outside Linux there is no
// parent-death signal: the launcher kills its nodes when it stops.
func procAttr(cmd *exec.Cmd, dieWithParent bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// closeInheritedOnExec does nothing outside Linux (no /proc/self/fd): a
// descriptor the launcher inherited without close-on-exec passes to its
// nodes.
func closeInheritedOnExec() {}
