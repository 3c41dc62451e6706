package lab

import (
	"strings"
	"testing"
	"time"

	"ordo/sim"

	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
)

// Randomized: seeds 1..40; replay one with
// `ordo explore --protocol raft --replay SEED` (add --faults as below).
func TestExplore_Section5_RaftSafe(t *testing.T) {
	rep, err := Explore(ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 40, First: 1, Kinds: AllFaultKinds, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.Failures["one-leader-per-term"] + rep.Failures["eventual-leader"]; n != 0 {
		t.Fatalf("raft under every fault kind: %v (seeds %v)", rep.Failures, rep.Bad)
	}
	// Without pauses the lease keeps even true-time overlaps away; a
	// paused leader (Kleppmann's GC pause) is what fencing is for.
	rep, err = Explore(ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 40, First: 1, Kinds: []string{"crash", "partition", "loss", "clock"}, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 0 {
		t.Fatalf("raft without pauses: %v (seeds %v)", rep.Failures, rep.Bad)
	}
}

// The same campaign finds Bully's split brain (expected: a finding).
func TestExplore_Section5_BullySplitBrainFound(t *testing.T) {
	rep, err := Explore(ExploreConfig{Protocol: "bully", Nodes: 5, Seeds: 20, First: 1, Kinds: []string{"partition"}, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failures["single-leader"] == 0 {
		t.Fatal("no split brain found in 20 partitioned bully runs")
	}
	if rep.Failures["eventual-leader"] != 0 {
		t.Fatalf("bully did not recover after the heal: %v", rep.Bad)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		f   func() error
		msg string
	}{
		{func() error { _, err := ParseCrash("7@1s", 5); return err }, "does not exist"},
		{func() error { _, err := ParseCrash("0@1s", 5); return err }, "does not exist"},
		{func() error { _, err := ParseCrash("5", 5); return err }, "ID@TIME"},
		{func() error { _, err := ParsePartition("1,2/3,4@1s", 5); return err }, "missing 5"},
		{func() error { _, err := ParsePartition("1,2/2,3,4,5@1s", 5); return err }, "named twice"},
		{func() error { _, err := ParsePartition("1,2,3,4,5@1s", 5); return err }, "two groups"},
		{func() error { _, err := ParseHeal("@soon"); return err }, "duration"},
		{func() error { _, err := ParseFaultKinds("crash,meteor"); return err }, "meteor"},
		{func() error { _, err := Run(Spec{Protocol: "paxos", Nodes: 5, Duration: time.Second}); return err }, "unknown protocol"},
	} {
		err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("error %v, want one mentioning %q", err, c.msg)
		}
	}
}

func FuzzParsePartition(f *testing.F) {
	for _, s := range []string{"1,2/3,4,5@1s", "1/2@0s", "@", "1,,2/3@1s", "9/1@1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParsePartition(s, 5)
		if err != nil {
			return
		}
		if _, err := ParseGroups(sim.FormatGroups(fl.Groups), 5); err != nil {
			t.Fatalf("accepted %q but its groups do not re-parse: %v", s, err)
		}
	})
}
