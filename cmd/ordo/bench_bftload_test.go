package main

import (
	"os/exec"
	"strings"
	"testing"
)

// bench bft-load prints one row per PBFT size (and per --batch) and one
// for the Raft database, and refuses sizes it cannot run.
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
	out, err = run(t, "bench", "bft-load", "--nodes", "4", "--clients", "2", "--duration", "300ms", "--batch", "64,1")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	row = func(i int) string { return strings.Join(strings.Fields(lines[i])[:4], " ") }
	if err != nil || len(lines) != 5 || row(1) != "pbft 4 2 64" || row(2) != "pbft 4 2 1" || row(3) != "kv 3 2 -" {
		t.Fatalf("--batch 64,1 (%v):\n%s", err, out)
	}
	for _, args := range [][]string{{"--nodes", "3"}, {"--clients", "0"}, {"--duration", "0s"}, {"--live", "--duration", "-1s"}, {"--raft-nodes", "0"}, {"--batch", "0"}, {"--batch", "1025"}} {
		if out, err := run(t, append([]string{"bench", "bft-load"}, args...)...); err == nil || strings.Contains(out, "live: ") {
			t.Errorf("%v accepted, or refused only after a cluster started:\n%s", args, out)
		}
	}
}

// A duration out of range is refused by the flag's name, simulated or
// live, before anything runs.
func TestBenchBFTLoadRefusesDurationsByName(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "0s"}, "--duration 0s: want a positive duration"},
		{[]string{"--duration", "-1s"}, "--duration -1s: want a positive duration"},
		{[]string{"--live", "--duration", "0s"}, "--duration 0s: want a positive duration"},
		{[]string{"--duration", "2h"}, "--duration 2h0m0s: at most 1h0m0s"},
	} {
		out, err := run(t, append([]string{"bench", "bft-load", "--nodes", "4", "--clients", "1"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(out, "live: ") {
			t.Errorf("%v: %v\n%s; want %q before any run", c.args, err, out, c.want)
		}
		// bench dynamo shares the check (it said the simulator's
		// "duration 0s: want (0, 1h0m0s]", without the flag's name).
		out, err = run(t, append([]string{"bench", "dynamo"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("bench dynamo %v: %v\n%s; want %q before any run", c.args, err, out, c.want)
		}
	}
}

// A size given twice is refused as bench bft -n refuses it (it ran the
// same row twice), and --dir without --live is refused, not ignored (the
// simulator keeps no directory): before any run.
func TestBenchBFTLoadRefusesDuplicatesAndDirWithoutLive(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bft-load", "--nodes", "4,4"}, `--nodes "4,4": 4 given twice`},
		{[]string{"bft-load", "--nodes", "4", "--clients", "2,1,2"}, `--clients "2,1,2": 2 given twice`},
		{[]string{"bft-load", "--nodes", "4", "--batch", "64,64"}, `--batch "64,64": 64 given twice`},
		{[]string{"bft-load", "--nodes", "4", "--dir", t.TempDir()}, "--dir is for --live runs"},
		{[]string{"dynamo", "--dir", t.TempDir()}, "--dir is for --live runs"},
	} {
		out, err := run(t, append([]string{"bench"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(out, "msgs/req") {
			t.Errorf("%v: %v\n%s; want %q before any run", c.args, err, out, c.want)
		}
	}
}

// --live runs the same load on real processes and measures their merged
// trace: PBFT at n = 4 and the Raft database both complete operations.
func TestBenchBFTLoadLive(t *testing.T) {
	bin := leaseOrdo(t)
	out, err := exec.Command(bin, "bench", "bft-load", "--live", "--nodes", "4", "--clients", "2", "--duration", "1s").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rows int
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 10 && (f[0] == "pbft" || f[0] == "kv") {
			if f[4] == "0" {
				t.Errorf("no request completed: %s", l)
			}
			rows++
		}
	}
	if rows != 2 || !strings.Contains(string(out), "req/s") {
		t.Fatalf("want a pbft and a kv row per second of wall time:\n%s", out)
	}
}
