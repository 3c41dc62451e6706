package lab

import (
	"testing"
	"time"

	"ordo/measure"
)

// Reference: section 4, "복잡도: O(n²) 메시지" (Bully) and "복잡도: O(n)
// 메시지" (Ring); Raft's uncontested election is 2(n−1) messages.
func TestBench_Section4_MessagesWithinTheory(t *testing.T) {
	sizes := []int{3, 5, 9, 17}
	if !testing.Short() {
		sizes = BenchSizes
	}
	for _, p := range []struct{ proto, variant string }{{"bully", ""}, {"ring", "collect"}, {"ring", "chang-roberts"}, {"raft", ""}} {
		for _, n := range sizes {
			for _, worst := range []bool{false, true} {
				r, err := Bench(p.proto, p.variant, n, worst)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%-20s n=%2d %-5s msgs %4d (theory %s: %d..%d) time %v", r.Protocol, n, r.Case, r.Messages, r.Theory, r.Lo, r.Hi, r.TimeToElect)
				if r.Messages < r.Lo || r.Messages > r.Hi {
					t.Errorf("%s n=%d %s: %d messages outside the theory's %d..%d", r.Protocol, n, r.Case, r.Messages, r.Lo, r.Hi)
				}
			}
		}
	}
}

func TestFailoverRaft(t *testing.T) {
	var ds []time.Duration
	for seed := uint64(1); seed <= 50; seed++ {
		f, err := RunFailover(FailoverConfig{Protocol: "raft", Nodes: 5}, seed)
		if err != nil {
			t.Fatal(err)
		}
		if f.New == 0 || f.Elected < 0 {
			t.Fatalf("seed %d: no new leader", seed)
		}
		ds = append(ds, f.Elected)
	}
	t.Logf("p50 %v p99 %v", measure.Percentile(ds, 50), measure.Percentile(ds, 99))
}
