package live

import (
	"os/exec"
	"syscall"
)

// procAttr puts a node in its own process group (a Ctrl-C at the terminal
// reaches the launcher, which stops the nodes in order) and, when the
// launcher stays to supervise, makes the kernel kill the node if the
// launcher dies.
func procAttr(cmd *exec.Cmd, dieWithParent bool) {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGKILL
	}
	cmd.SysProcAttr = a
}
