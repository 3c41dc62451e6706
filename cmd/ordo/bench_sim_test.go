package main

import (
	"encoding/json"
	"testing"
)

// TestBenchSimReportsWireRatio: `ordo bench sim` compares each workload
// plain and in wire mode on the same run (benchWire fails if the two runs
// differ by one event) and reports the ratio. Only the shape is asserted:
// timings are the machine's.
func TestBenchSimReportsWireRatio(t *testing.T) {
	out, err := run(t, "bench", "sim", "--nodes", "3", "--events", "20000", "--trace-events", "5000", "--wire-events", "20000", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep benchSimReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Wire) != 2 {
		t.Fatalf("wire rows %+v, want heartbeat and raft", rep.Wire)
	}
	for _, w := range rep.Wire {
		if w.Events == 0 || w.Messages == 0 || w.Ratio <= 0 {
			t.Fatalf("wire row %+v", w)
		}
	}
	if rep.Wire[1].BytesPerMsg == 0 {
		t.Fatalf("raft messages measured at 0 bytes: %+v", rep.Wire[1])
	}
}
