package etcd

import (
	"os/exec"
	"syscall"
)

// procAttr puts a member in its own process group (a Ctrl-C at the
// terminal reaches the launcher, which stops the members in order) and has
// the kernel kill it if the launcher dies, so no member outlives a bench.
func procAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
