package main

import (
	"path/filepath"
	"strings"
	"testing"

	"ordo/trace"
)

func TestElectRejectsNonsense(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--protocol", "broadcast"}, "protocol broadcast is not a leader election, so the election checkers cannot judge it (leader elections: bully, kv, kv-stale, lease, raft, ring)"},
		{[]string{"--protocol", "heartbeat"}, "not a leader election"},
		{[]string{"--protocol", "paxos"}, `unknown protocol "paxos" (leader elections: bully, kv, kv-stale, lease, raft, ring)`},
		{[]string{"-o", "heartbeat=1ns", "--duration", "2s"}, "raft: option heartbeat=1ns is below its floor of 1ms"},
		{[]string{"--protocol", "bully", "-o", "timeout=5ms"}, "bully: option timeout=5ms is below its floor of 10ms"},
		{[]string{"--heal", "@4s"}, "--heal @4s: there is no partition to heal before 4s"},
		{[]string{"--partition", "1,2/3,4,5@5s", "--heal", "@4s"}, "--heal @4s: there is no partition"},
		{[]string{"--restart", "3@2s"}, "--restart 3@2s: node 3 is not down at 2s"},
		{[]string{"--crash", "3@1s", "--crash", "3@2s"}, "node 3 is already down"},
		{[]string{"--max-events", "500"}, "--max-events"},
		// The lease election's services (n4 coord, n5 fenced-store with
		// -n 3) may be cut off, never crashed; ids beyond are named by role.
		{[]string{"--protocol", "lease", "-n", "3", "--crash", "4@1s"}, "node 4 is a service (coord), and services are never crashed"},
		{[]string{"--protocol", "lease", "-n", "3", "--crash", "6@1s"}, "node 6 does not exist (the servers are 1..3, the services 4 (coord) and 5 (fenced-store))"},
		{[]string{"--protocol", "raft", "-n", "3", "--cut", "1->4@1s"}, "node 4 does not exist (the servers are 1..3)"},
	} {
		out, err := run(t, append([]string{"elect"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("elect %v: err %v, want one containing %q\n%s", c.args, err, c.want, out)
		}
	}
	// A partition healed, a crash restarted: accepted, options shown.
	out, err := run(t, "elect", "--protocol", "bully", "--partition", "1,2/3,4,5@1s", "--heal", "@2s", "--crash", "5@1s", "--restart", "5@2s", "-o", "quorum=true", "--duration", "4s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "bully (quorum=true), 5 nodes, seed 1, 4s simulated\n") {
		t.Errorf("header:\n%s", out)
	}
	// A lease leader cut off from the coordination service both ways
	// steps down within its TTL and another candidate leads.
	out, err = run(t, "elect", "--protocol", "lease", "-n", "3", "--duration", "8s", "--cut", "2->4@2s", "--cut", "4->2@2s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "n2   term 2") || !strings.Contains(out, "isolated-leader      pass") || strings.Contains(out, "final leaders: [n2]") {
		t.Errorf("lease leader n2 cut from n4:\n%s", out)
	}
}

// The cluster commands check options the way every node will before any
// process starts.
func TestClusterOptionsRefusedBeforeStart(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "up", "--heartbeat", "1ns"}, "raft: option heartbeat=1ns is below its floor of 1ms"},
		{[]string{"cluster", "up", "--heartbeat", "100ms"}, "heartbeat=100ms must be at most half of election_timeout_min=150ms"},
		{[]string{"cluster", "chaos", "--election-timeout", "5ms"}, "election_timeout_min=5ms is below its floor of 10ms"},
		{[]string{"cluster", "up", "-o", "election_timeout_max=3h"}, "above its ceiling"},
	} {
		out, err := run(t, append(c.args, "--dir", dir+"/c")...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want one containing %q\n%s", c.args, err, c.want, out)
		}
	}
}

func TestSimMaxEvents(t *testing.T) {
	out, err := run(t, "sim", "broadcast-lossy", "--max-events", "100")
	if err == nil || !strings.Contains(err.Error(), "stopped after 100 events") || !strings.Contains(err.Error(), "--max-events") {
		t.Fatalf("err %v, want the event bound and how to raise it\n%s", err, out)
	}
	if _, err := run(t, "sim", "broadcast-lossy", "--max-events", "1000000"); err != nil {
		t.Fatal(err)
	}
	// Cut with --trace: the trace up to the cut is written, to see what
	// flooded the run (a fresh user's trial: nothing was written).
	file := filepath.Join(t.TempDir(), "cut.jsonl")
	out, err = run(t, "sim", "pbft-4", "--max-events", "500", "--trace", file)
	if err == nil || !strings.Contains(out, "trace up to the cut: "+file) {
		t.Fatalf("err %v, want the cut and the trace named\n%s", err, out)
	}
	if tr, err := trace.ReadFile(file); err != nil || len(tr.Events) < 500 {
		t.Fatalf("the cut run's trace: %v, %d events", err, len(tr.Events))
	}
	// And ordo elect, which the error names too.
	file = filepath.Join(t.TempDir(), "elect-cut.jsonl")
	out, err = run(t, "elect", "--protocol", "raft", "--max-events", "300", "--trace", file)
	if err == nil || !strings.Contains(out, "trace up to the cut: "+file) {
		t.Fatalf("elect: err %v, want the cut and the trace named\n%s", err, out)
	}
	if tr, err := trace.ReadFile(file); err != nil || len(tr.Events) < 300 {
		t.Fatalf("elect: the cut run's trace: %v", err)
	}
}
