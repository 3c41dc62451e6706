package main

import (
	"strings"
	"testing"
)

// A scenario run in which a check fails prints the command that replays
// it with its trace kept (the violations name event ids): here the two
// deliberately broken databases of issue 11 (kv-figure8: the Raft paper's
// figure 8; kv-early-conf: thesis 4.1's membership bug). Their -safe
// siblings pass every check and print no replay line.
func TestSimBrokenKVPrintsReplay(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	for _, c := range []struct {
		name  string
		fails []string
	}{
		{"kv-figure8", []string{"FAIL agreement"}},
		{"kv-early-conf", []string{"FAIL linearizable", "FAIL no-lost-write", "FAIL agreement", "FAIL stale-leader"}},
		{"kv-figure8-safe", nil},
		{"kv-early-conf-safe", nil},
	} {
		out, err := run(t, "sim", c.name)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		for _, want := range c.fails {
			if !strings.Contains(out, want) {
				t.Errorf("%s: report lacks %q:\n%s", c.name, want, out)
			}
		}
		replay := "replay: ordo sim " + c.name + " --seed 1 --trace run.jsonl"
		if got := strings.Contains(out, replay); got != (len(c.fails) > 0) {
			t.Errorf("%s: replay line printed %v, want %v:\n%s", c.name, got, len(c.fails) > 0, out)
		}
		// The report says up front that the run is broken on purpose, so
		// its verdicts do not read as the database's own.
		if got := strings.Contains(out, "DELIBERATELY BROKEN: unsafe_"); got != (len(c.fails) > 0) {
			t.Errorf("%s: broken-on-purpose header printed %v, want %v:\n%s", c.name, got, len(c.fails) > 0, out)
		}
		if len(c.fails) == 0 && strings.Contains(out, "FAIL") {
			t.Errorf("%s: the correct database failed a check:\n%s", c.name, out)
		}
	}
}
