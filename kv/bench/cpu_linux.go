package bench

import (
	"fmt"
	"os"
	"time"
)

// processCPU is the user+system CPU time process pid has used, read from
// /proc/PID/stat (fields 14 and 15, after the parenthesised command name,
// which may itself hold spaces or parentheses).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}
