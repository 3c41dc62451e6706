package lab

import (
	"testing"
	"time"
)

// A smoke-size dynamo campaign (the 1000-seed one is `ordo explore dynamo
// --seeds 1000`, figures in docs/dynamo.md): under crashes, partitions,
// loss, pauses and clock steps, dotted version vectors lose no
// acknowledged write and every replica converges; last-write-wins loses
// writes in some seeds (findings, expected) and still converges.
func TestDynamoCampaignSmoke(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 8
	}
	for _, name := range []string{"dynamo", "dynamo-lww"} {
		c := ExploreConfig{Protocol: name, Nodes: 5, Seeds: seeds, First: 1, Duration: 10 * time.Second}
		rep, err := Explore(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: seeds 1..%d; replay one: ordo explore %s --replay SEED", name, seeds, name)
		if u := rep.Unexpected(Workloads[name].Findings); len(u) > 0 {
			t.Errorf("%s: %v", name, u)
			for _, b := range rep.Bad {
				t.Errorf("  seed %d: %v %v", b.Seed, b.Err, b.Violations)
			}
		}
		if rep.Failures["convergence"] != 0 || rep.Errors != 0 {
			t.Errorf("%s: convergence failed in %d seeds, %d errors", name, rep.Failures["convergence"], rep.Errors)
		}
		if name == "dynamo" && (rep.Notes["dynamo-concurrent"] == 0 || rep.Notes["lost-write"] != 0) {
			t.Errorf("dynamo: notes %v: want siblings and no write discarded", rep.Notes)
		}
		if name == "dynamo-lww" && (rep.Failures["no-lost-write"] == 0 || rep.Notes["lost-write"] == 0) {
			t.Errorf("dynamo-lww: no-lost-write failed in %d seeds, notes %v: want lost writes found", rep.Failures["no-lost-write"], rep.Notes)
		}
	}
}

// A dynamo campaign runs only the store's checks (no election checker
// judges a leaderless store), and names what it cannot run.
func TestDynamoCampaignChecks(t *testing.T) {
	if got := ChecksFor("dynamo"); len(got) != 3 || got[0] != "no-lost-write" {
		t.Errorf("ChecksFor(dynamo) = %v", got)
	}
	if _, _, err := Validate("dynamo-lww", nil, 5); err != nil {
		t.Errorf("dynamo-lww: %v", err)
	}
	if _, _, err := Validate("dynamo", map[string]string{"resolution": "sometimes"}, 5); err == nil {
		t.Error("a bad option was accepted")
	}
}
