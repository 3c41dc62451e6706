package live

import (
	"testing"

	_ "ordo/dynamo"
	"ordo/scenario"
)

// Issue 12's acceptance: "ordo cluster run cart-partition on real
// processes gives the simulator's verdicts". The pair is the chapter's
// shopping cart on both sides of a 2|3 partition: the observed-remove cart
// passes no-resurrection, the union cart fails it (apple comes back). Two
// client groups with their own scripts run as their own processes.
func TestLiveCartPartitionVerdictsMatchSim(t *testing.T) {
	bin := buildOrdo(t)
	for _, name := range []string{"cart-partition", "cart-partition-union"} {
		t.Run(name, func(t *testing.T) {
			sc := loadBuiltin(t, name)
			if len(sc.Clients) < 2 {
				t.Fatalf("%s: %d client groups; the test is of several", name, len(sc.Clients))
			}
			simRes, err := sc.Run(scenario.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			liveRes, err := RunScenario(sc, ScenarioOptions{Dir: t.TempDir(), Binary: bin})
			if err != nil {
				t.Fatal(err)
			}
			if len(simRes.Checks) != len(liveRes.Checks) {
				t.Fatalf("checks: sim %d, live %d", len(simRes.Checks), len(liveRes.Checks))
			}
			for i, s := range simRes.Checks {
				l := liveRes.Checks[i]
				t.Logf("%-16s sim %-5s (%s) | live %-5s (%s)", s.Check, s.Verdict, s.Summary, l.Verdict, l.Summary)
				if s.Check != l.Check || s.Verdict != l.Verdict {
					t.Errorf("%s: sim says %s, live says %s (%s); trace %s", s.Check, s.Verdict, l.Verdict, l.Summary, liveRes.Trace)
				}
			}
			if len(liveRes.Unmet) != 0 || len(simRes.Unmet) != 0 {
				t.Errorf("unmet expectations: sim %v, live %v", simRes.Unmet, liveRes.Unmet)
			}
		})
	}
}
