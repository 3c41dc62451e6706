package main

import (
	"fmt"
	"time"

	"ordo/lab"
)

// One bound per quantity: every command that simulates a cluster checks
// its size and its simulated time here, against lab's named bounds, with
// the same words. (A real cluster, `ordo cluster`, is bounded by
// live.MaxClusterNodes instead: it is processes and ports, not memory.)

// checkNodes refuses a simulated cluster size outside 1..lab.MaxNodes.
func checkNodes(n int) error {
	if n < 1 || n > lab.MaxNodes {
		return fmt.Errorf("-n %d: need 1..%d nodes", n, lab.MaxNodes)
	}
	return nil
}

// checkSimDuration refuses simulated time per run outside
// (0, lab.MaxDuration].
func checkSimDuration(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("--duration %v: must be positive", d)
	}
	if d > lab.MaxDuration {
		return fmt.Errorf("--duration %v: at most %v of simulated time per run", d, lab.MaxDuration)
	}
	return nil
}
