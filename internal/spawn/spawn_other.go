//go:build !linux

package spawn

import (
	"os/exec"
	"syscall"
)

// Prepare sets cmd to start in its own process group. Outside Linux there
// is no parent-death signal (the launcher kills its children when it
// stops) and no /proc/self/fd: a descriptor the launcher inherited
// without close-on-exec passes to its children.
func Prepare(cmd *exec.Cmd, dieWithParent bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
