//go:build unix

package lab

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time so far, all threads.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
