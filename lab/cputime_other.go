//go:build !unix

package lab

import (
	"errors"
	"time"
)

func cpuTime() (time.Duration, error) {
	return 0, errors.New("lab: CPU time is measured with getrusage, which this system lacks")
}
