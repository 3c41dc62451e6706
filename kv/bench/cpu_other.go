//go:build !linux

package bench

import (
	"errors"
	"time"
)

// processCPU: only Linux is read here.
func processCPU(pid int) (time.Duration, error) {
	return 0, errors.New("process CPU time is read on Linux only")
}
