package etcd

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// procAttr puts a member in its own process group (a Ctrl-C at the
// terminal reaches the launcher, which stops the members in order) and,
// unless it is detached, has the kernel kill it if the launcher dies, so
// no member outlives a bench.
func procAttr(cmd *exec.Cmd, dieWithParent bool) {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGKILL
	}
	cmd.SysProcAttr = a
}

// isMember reports whether pid runs the member whose data directory is
// dir (its command line says so), so that StopDir never signals a pid
// that was reused by another process.
func isMember(pid int, dir string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) < 3 || !IsMemberArgs(args[1:]) {
		return false
	}
	m, err := ParseMember(args[3:])
	return err == nil && m.Dir == dir
}
