package live

import (
	"os"
	"os/exec"
	"strconv"
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

// closeInheritedOnExec marks every descriptor above stderr close-on-exec.
// Go opens its own files so, but a descriptor the launcher inherited
// without the flag (a lock of `flock FILE ordo cluster up --detach`)
// would pass to every node and outlive the launcher as long as the nodes
// run. The descriptors a node is meant to get (cmd.ExtraFiles) are dup'ed
// onto 3, 4, ... in the child, which clears the flag there.
func closeInheritedOnExec() {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // no /proc: the nodes inherit what the launcher did
	}
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd) // one closed since (ReadDir's own) fails harmlessly
		}
	}
}
