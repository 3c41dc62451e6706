package main

import (
	"strings"
	"testing"
)

// bench bft-load prints one row per PBFT size and one for the Raft
// database, and refuses sizes it cannot run.
func TestBenchBFTLoad(t *testing.T) {
	out, err := run(t, "bench", "bft-load", "--nodes", "4,7", "--clients", "2", "--duration", "300ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	row := func(i int) string { return strings.Join(strings.Fields(lines[i])[:3], " ") }
	if len(lines) != 5 || !strings.Contains(lines[0], "msgs/req") || row(1) != "pbft 4 2" || row(2) != "pbft 7 2" || row(3) != "kv 3 2" {
		t.Fatalf("table:\n%s", out)
	}
	for _, args := range [][]string{{"--nodes", "3"}, {"--clients", "0"}, {"--duration", "0s"}, {"--raft-nodes", "0"}} {
		if out, err := run(t, append([]string{"bench", "bft-load"}, args...)...); err == nil {
			t.Errorf("%v accepted:\n%s", args, out)
		}
	}
}
