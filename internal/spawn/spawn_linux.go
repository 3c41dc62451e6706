package spawn

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Prepare sets cmd to start in its own process group and, when
// dieWithParent, to be killed (SIGKILL) by the kernel if the launcher
// dies. It also marks every descriptor of this process above stderr
// close-on-exec: Go opens its own files so, but one the launcher inherited
// without the flag (the lock of `flock FILE ordo cluster up --detach`)
// would pass to every child and stay held as long as they run. The
// descriptors a child is meant to get (cmd.ExtraFiles) are dup'ed onto 3,
// 4, ... in the child, which clears the flag there.
func Prepare(cmd *exec.Cmd, dieWithParent bool) {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGKILL
	}
	cmd.SysProcAttr = a
	closeInheritedOnExec()
}

func closeInheritedOnExec() {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // no /proc: children inherit what the launcher did
	}
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd) // one closed since (ReadDir's own) fails harmlessly
		}
	}
}
