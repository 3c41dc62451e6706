//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFileName is the file in a node's directory its process holds an
// exclusive lock on (flock) while it runs; it holds the holder's pid.
const LockFileName = "LOCK"

// ErrDirInUse is the error of a node directory another process holds.
var ErrDirInUse = errors.New("node directory in use")

// dirLock is a held lock on a node directory.
type dirLock struct{ f *os.File }

// lockDir takes the exclusive lock of node directory dir (creating it), so
// that two processes never run on one term-and-vote file: the second
// refuses to start, naming the holder's pid when the lock file tells it.
// The kernel drops the lock when the process dies, even by kill -9, so a
// crash leaves nothing stale to clean up.
func lockDir(dir string, id int) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("live: node directory: %w", err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("live: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "another process"
		b := make([]byte, 64) // the holder wrote "pid P (node N)"
		if n, _ := f.ReadAt(b, 0); n > 0 && strings.TrimSpace(string(b[:n])) != "" {
			holder = strings.TrimSpace(string(b[:n]))
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("live: node %d: %w: %s is held by %s; each node needs a directory of its own, and a node runs once", id, ErrDirInUse, dir, holder)
		}
		return nil, fmt.Errorf("live: lock %s: %w", path, err)
	}
	// Best effort: the pid only helps the refusal message of a second process.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+" (node "+strconv.Itoa(id)+")\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// release drops the lock (closing the file drops the flock).
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
