package lab

import (
	"bytes"
	"fmt"
	"testing"

	"ordo/check"
	_ "ordo/kv"
	"ordo/scenario"
	"ordo/scenarios"
)

// The acceptance: a deliberately broken database is caught. The
// two Raft bugs that batching hides from random campaigns (the leader's
// no-op commits the old entries with a current-term one) are placed by a
// scripted schedule instead: kv-figure8 (paper section 5.4.2, figure 8:
// unsafe_commit_any_term) and kv-early-conf (thesis section 4.1, the 2015
// erratum: unsafe_early_conf_change). Each broken scenario must fail the
// checks named here; its -safe sibling, the same schedule on the correct
// database, must pass every check. Each runs with its file's seed and two
// more, so a small shift in timing (another seed's message latencies and
// election timeouts) does not hide the bug. A failure prints the command
// that replays the run.
func TestKVBrokenScenariosFound(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	cases := []struct {
		name string
		fail []string // checks that must fail; every other must pass
	}{
		{"kv-figure8", []string{"agreement"}},
		{"kv-figure8-safe", nil},
		{"kv-early-conf", []string{"linearizable", "no-lost-write", "agreement", "stale-leader"}},
		{"kv-early-conf-safe", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := scenarios.Read(c.name)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := scenario.Parse(c.name, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, seed := range []uint64{sc.Seed, sc.Seed + 1, sc.Seed + 2} {
				res, err := sc.Run(scenario.RunOptions{Seed: &seed})
				if err != nil {
					t.Fatal(err)
				}
				replay := fmt.Sprintf("ordo sim %s --seed %d --trace run.jsonl", c.name, seed)
				want := map[string]bool{}
				for _, f := range c.fail {
					want[f] = true
				}
				for _, r := range res.Checks {
					switch {
					case want[r.Check] && r.Verdict != check.Fail:
						t.Errorf("seed %d: %s %s, want fail: the broken variant was not caught\n  replay: %s", seed, r.Check, r.Verdict, replay)
					case !want[r.Check] && r.Verdict != check.Pass:
						var out bytes.Buffer
						_ = res.WriteText(&out)
						t.Errorf("seed %d: %s %s, want pass\n%s\n  replay: %s", seed, r.Check, r.Verdict, out.String(), replay)
					}
					delete(want, r.Check)
				}
				if len(want) > 0 {
					t.Errorf("seed %d: checks %v were not run", seed, want)
				}
			}
		})
	}
}
