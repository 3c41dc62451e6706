package main

import (
	"strings"
	"testing"
)

// A loss rate outside [0, 1) — NaN included, which fails every comparison —
// is refused by name before any run.
func TestBenchChurnRefusesBadLoss(t *testing.T) {
	for _, l := range []string{"NaN", "-0.1", "1", "x", "0.1,"} {
		_, err := run(t, "bench", "churn", "--seeds", "1", "--duration", "5s", "--loss", l)
		if err == nil || !strings.Contains(err.Error(), "is not a loss rate in [0, 1)") {
			t.Errorf("--loss %q: %v; want it refused as not a loss rate", l, err)
		}
	}
}
