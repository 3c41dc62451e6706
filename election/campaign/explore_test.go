package campaign

import (
	"testing"
	"time"

	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
)

// Randomized: seeds 1..40; replay one with
// `ordo explore --protocol raft --replay SEED`.
func TestExploreRaftSafe(t *testing.T) {
	rep, err := Explore(ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 40, First: 1, Kinds: []string{"crash", "partition", "loss", "clock"}, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failures %v, wall %v, events %d", rep.Failures, rep.Wall, rep.Events)
	for _, b := range rep.Bad {
		t.Logf("seed %d: %v %v", b.Seed, b.Failed, b.Err)
		for _, v := range b.Violations[:min(3, len(b.Violations))] {
			t.Log("   ", v)
		}
	}
	if rep.Failures["one-leader-per-term"] != 0 {
		t.Fatalf("one-leader-per-term violated")
	}
}
