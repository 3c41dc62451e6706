package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo/check"
)

// `ordo trace check` judges any stored trace: the Bully split brain of
// section 5 fails single-leader (exit status 1), election checks refuse a
// broadcast run with a reason (exit 0: nothing failed), and all-delivered
// refuses a Raft run.
func TestTraceCheck(t *testing.T) {
	dir := t.TempDir()
	bully := filepath.Join(dir, "bully.jsonl")
	if out, err := run(t, "sim", "partition-bully", "--trace", bully); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := run(t, "trace", "check", bully)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 {
		t.Fatalf("a split brain must exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{"single-leader", "FAIL", "split brain: n5", "stale-leader", "eventual-leader"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	bc := filepath.Join(dir, "broadcast.jsonl")
	if out, err := run(t, "sim", "broadcast-lossy", "--trace", bc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run(t, "trace", "check", bc, "--check", "single-leader", "--check", "all-delivered", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var res []check.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res) != 2 || res[0].Verdict != check.NotApplicable || !strings.Contains(res[0].Summary, "this run of broadcast has no role note") || res[1].Verdict != check.Pass {
		t.Fatalf("%+v", res)
	}

	raft := filepath.Join(dir, "raft.jsonl")
	if out, err := run(t, "sim", "partition-raft", "--trace", raft); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run(t, "trace", "check", raft, "--check", "all-delivered", "--check", "single-leader")
	if err != nil || !strings.Contains(out, "not-applicable") || !strings.Contains(out, "all-delivered judges reliable broadcast") {
		t.Fatalf("%v\n%s", err, out)
	}

	// Bad input: exit 2 (an error), naming the file.
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("not a trace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "trace", "check", bad); err == nil || errors.As(err, &ec) || !strings.Contains(err.Error(), "bad.jsonl") {
		t.Fatalf("a bad trace: %v", err)
	}
	if _, err := run(t, "trace", "check", raft, "--check", "nope"); err == nil || !strings.Contains(err.Error(), "unknown check") {
		t.Fatalf("an unknown check: %v", err)
	}
}
