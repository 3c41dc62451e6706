package register

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"ordo/check"
	"ordo/consistency"
	"ordo/scenario"
	"ordo/trace"
)

// run runs a built-in scenario file with seed (nil: the file's own) and
// returns its linearizable and no-lost-write results.
func run(t *testing.T, file string, seed *uint64) (lin, nlw check.Result, replay string) {
	lin, nlw, replay, _ = runTraced(t, file, seed, false)
	return lin, nlw, replay
}

func runTraced(t *testing.T, file string, seed *uint64, traced bool) (lin, nlw check.Result, replay string, tr *trace.Trace) {
	t.Helper()
	sc, err := scenario.Load("../scenarios/" + file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Run(scenario.RunOptions{Seed: seed, Trace: traced})
	if err != nil {
		t.Fatal(err)
	}
	replay = fmt.Sprintf("replay: go run ./cmd/ordo sim scenarios/%s --seed %d", file, res.Seed)
	for _, c := range res.Checks {
		switch c.Check {
		case "linearizable":
			lin = c
		case "no-lost-write":
			nlw = c
		}
	}
	if lin.Check == "" || nlw.Check == "" {
		t.Fatalf("%s: the scenario does not run linearizable and no-lost-write: %+v", file, res.Checks)
	}
	return lin, nlw, replay, res.Trace
}

// The built-in pair, as the scenario files expect them: ABD passes both
// checks; the stale variant fails linearizability, and the violation
// names porcupine's visualization, which exists.
func TestRegisterScenarios(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	lin, nlw, replay, tr := runTraced(t, "register-linearizable.yaml", nil, true)
	if lin.Verdict != check.Pass || nlw.Verdict != check.Pass {
		t.Fatalf("ABD: linearizable %s (%s), no-lost-write %s (%s) %v\n%s", lin.Verdict, lin.Summary, nlw.Verdict, nlw.Summary, nlw.Violations, replay)
	}
	// The storage faults the file schedules did happen.
	faults := map[string]int{}
	for _, e := range tr.Events {
		if e.Kind == trace.Fault || e.Kind == trace.Crash {
			faults[string(e.Kind)+":"+e.Name]++
		}
	}
	if faults["fault:corrupt-read"] != 1 || faults["crash:fail-stop"] < 1 {
		t.Errorf("storage faults of the run: %v", faults)
	}
	lin, _, replay = run(t, "register-stale-reads.yaml", nil)
	if lin.Verdict != check.Fail || len(lin.Violations) == 0 {
		t.Fatalf("stale reads: linearizable %s (%s)\n%s", lin.Verdict, lin.Summary, replay)
	}
	m := consistency.LinearizableVizFile.FindStringSubmatch(lin.Violations[0].Message)
	if m == nil {
		t.Fatalf("the violation names no visualization: %s", lin.Violations[0].Message)
	}
	b, err := os.ReadFile(m[1])
	if err != nil || !strings.Contains(string(b), "<html") || !strings.HasPrefix(m[1], os.Getenv("ORDO_VIZ_DIR")) {
		t.Fatalf("visualization %s: %v (%d bytes)", m[1], err, len(b))
	}
}

// campaignSeeds is how many seeds each campaign runs (-short: fewer).
func campaignSeeds() int {
	if testing.Short() {
		return 10
	}
	return 50
}

// TestABDCampaign runs the ABD scenario (partitions, a crash with restart,
// 10% loss and the random nemesis) over many seeds: the linearizable and
// no-lost-write checkers find nothing on any of them, and no search is
// left without a verdict.
func TestABDCampaign(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	n := campaignSeeds()
	var ops int
	for s := uint64(1); s <= uint64(n); s++ {
		lin, nlw, replay := run(t, "register-linearizable.yaml", &s)
		if lin.Verdict != check.Pass {
			t.Errorf("seed %d: linearizable %s: %s %v\n%s", s, lin.Verdict, lin.Summary, lin.Violations, replay)
		}
		if nlw.Verdict != check.Pass {
			t.Errorf("seed %d: no-lost-write %s: %s %v\n%s", s, nlw.Verdict, nlw.Summary, nlw.Violations, replay)
		}
		var k int
		fmt.Sscanf(lin.Summary, "linearizable: %d ops", &k)
		ops += k
	}
	t.Logf("ABD: %d seeds, %d operations checked, 0 violations", n, ops)
}

// TestStaleCampaign: the same campaign on the stale-read variant finds
// violations on most seeds (a stale read needs a read to reach a lagging
// replica just after a write; the faults make that common, not certain).
func TestStaleCampaign(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	n := campaignSeeds()
	found := 0
	for s := uint64(1); s <= uint64(n); s++ {
		lin, _, _ := run(t, "register-stale-reads.yaml", &s)
		switch lin.Verdict {
		case check.Fail:
			found++
		case check.Pass:
		default:
			t.Errorf("seed %d: linearizable %s: %s", s, lin.Verdict, lin.Summary)
		}
	}
	t.Logf("stale reads: violations found on %d of %d seeds", found, n)
	if found < n*8/10 {
		t.Errorf("violations on only %d of %d seeds, want at least 80%%", found, n)
	}
}
