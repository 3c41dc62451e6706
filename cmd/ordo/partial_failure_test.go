package main

import (
	"strings"
	"testing"
)

// The section 5 tables are commands: each prints its table and a replay
// line, the same bytes for the same seed, and refuses flags of single
// scenario runs.
func TestSimPartialFailureScenes(t *testing.T) {
	for name, wants := range map[string][]string{
		"partial-failure":    {"reply lost", "naive", "2+", "ok (replayed)", "no: thinks 1, was 2"},
		"backoff-contention": {"no backoff", "exponential", "full jitter", "equal jitter", "decorrelated jitter", "100/100"},
		"timeout-tuning":     {"lan", "intercontinental", "timeout p99.9", "phi 8"},
	} {
		out, err := run(t, "sim", name, "--seed", "2")
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		for _, w := range append(wants, "replay: ordo sim "+name+" --seed 2") {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, out)
			}
		}
		again, _ := run(t, "sim", name, "--seed", "2")
		if again != out {
			t.Errorf("%s: two runs with seed 2 differ", name)
		}
		if _, err := run(t, "sim", name, "--json"); err == nil || !strings.Contains(err.Error(), "--json does not apply") {
			t.Errorf("%s --json: got %v, want a refusal", name, err)
		}
	}
	out, err := run(t, "sim", "--list")
	if err != nil || !strings.Contains(out, "partial-failure") || !strings.Contains(out, "timeout-tuning") {
		t.Errorf("--list lacks the section 5 tables: %v\n%s", err, out)
	}
}
