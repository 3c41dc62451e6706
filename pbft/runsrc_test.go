package pbft_test

import (
	"testing"

	"ordo/check"
	"ordo/scenario"
)

// runScenario parses scenario text src, runs it with seed (traced when
// traced) and returns the result.
func runScenario(t *testing.T, src string, seed uint64, traced bool) *scenario.Result {
	t.Helper()
	sc, err := scenario.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Run(scenario.RunOptions{Seed: &seed, Trace: traced})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantChecks reports each check of res named in want whose verdict is
// not want's (every check when want is nil: all must pass), with the
// command that replays the run.
func wantChecks(t *testing.T, res *scenario.Result, src string, want map[string]check.Verdict) {
	t.Helper()
	for _, c := range res.Checks {
		w, named := want[c.Check]
		if want == nil {
			w, named = check.Pass, true
		}
		if named && c.Verdict != w {
			t.Errorf("%s seed %d: %s %s (%s), want %s; replay: ordo sim FILE --seed %d with FILE:\n%s", res.Scenario.Name, res.Seed, c.Check, c.Verdict, c.Summary, w, res.Seed, src)
		}
	}
}
