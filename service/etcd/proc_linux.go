package etcd

import (
	"os"
	"strconv"
	"strings"
)

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
