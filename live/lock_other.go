//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package live

import (
	"errors"
	"os"
)

// LockFileName is the lock file of a node directory (unused where flock is
// not available: there the cluster file's check that directories differ
// is the only guard).
const LockFileName = "LOCK"

// ErrDirInUse is the error of a node directory another process holds.
var ErrDirInUse = errors.New("node directory in use")

type dirLock struct{}

func lockDir(dir string, id int) (*dirLock, error) { return &dirLock{}, os.MkdirAll(dir, 0o755) }

func (l *dirLock) release() {}
