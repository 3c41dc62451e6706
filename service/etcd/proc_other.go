//go:build !linux

package etcd

import "os/exec"

// procAttr: only Linux can tie a member's life to the launcher's.
func procAttr(cmd *exec.Cmd, dieWithParent bool) {}

// isMember: without /proc a pid cannot be told from a reused one, so a
// detached member is never signalled (stop it yourself).
func isMember(pid int, dir string) bool { return false }
