package main

import (
	"strings"
	"testing"
	"time"

	"ordo/live"
)

// Percentiles say how many runs they leave out, and only when they do.
func TestPercentilesSayWhatTheyLeaveOut(t *testing.T) {
	var b strings.Builder
	ms := time.Millisecond
	writeFailoverTimes(&b, 5, []time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms}, []time.Duration{2 * ms, 3 * ms})
	out := b.String()
	for _, want := range []string{
		"p50 2ms  p99 4ms  max 4ms  (over 4 of 5 seeds; 1 left out: no new leader within 3s)",
		"p50 2ms  p99 3ms  max 3ms  (over 2 of 5 seeds; 3 left out: no new leader, or not every node followed it within 3s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeFailoverTimes(&b, 2, []time.Duration{ms, ms}, []time.Duration{ms, ms})
	if strings.Contains(b.String(), "left out") {
		t.Errorf("nothing left out, yet:\n%s", b.String())
	}

	b.Reset()
	writeChaosFailover(&b, &live.ChaosReport{FailoverMs: []float64{10, -1, 30}, P50Ms: 10, P99Ms: 30, MaxMs: 30,
		PartitionFailoverMs: []float64{5, 6}, PartitionP50Ms: 5})
	out = b.String()
	if !strings.Contains(out, "max 30.0 ms  (over 2 of 3 rounds; 1 left out: ") {
		t.Errorf("chaos SIGKILL line does not say a round is left out:\n%s", out)
	}
	if strings.Contains(strings.Split(out, "\n")[1], "left out") {
		t.Errorf("chaos partition line leaves out nothing, yet:\n%s", out)
	}
}
