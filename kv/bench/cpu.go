package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// userHZ is the unit of /proc/PID/stat's CPU times (USER_HZ: 100 on
// every Linux architecture Go supports).
const userHZ = 100

// maxTicks bounds a CPU time read (2^32 ticks: about 1.4 years of one
// process's CPU), so the sum of two, in nanoseconds, cannot overflow (a
// bound of 2^40 did: the fuzzer found 10^10 ticks read as a negative time).
const maxTicks = 1 << 32

func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name")
	}
	f := bytes.Fields(b[i+1:])
	// After the name: state(3) ppid(4) ... utime(14) stime(15).
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || n < 0 || n > maxTicks {
			return 0, fmt.Errorf("proc stat: CPU time %q", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}
