//go:build !linux

package etcd

import "os/exec"

// procAttr: only Linux can tie a member's life to the launcher's.
func procAttr(cmd *exec.Cmd) {}
