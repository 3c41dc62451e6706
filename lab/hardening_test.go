package lab

import (
	"slices"
	"strings"
	"testing"
	"time"

	"ordo/check"
)

// noPauses are every fault kind but process pauses: a paused leader that
// wakes up still believing in its lease defeats every timeout-based scheme
// (Kleppmann's GC pause); fencing tokens are the answer to that.
var noPauses = []string{"crash", "partition", "loss", "clock"}

// Reference: section 5, 해결책: Quorum — "오직 하나의 리더만 존재!". The
// quorum-gated Bully and Ring keep every check under crashes, partitions,
// loss and clock jumps. Randomized: seeds 1..60; replay one with
// `ordo explore --protocol P -o quorum=true --faults crash,partition,loss,clock --replay SEED`.
func TestExplore_Section5_QuorumVariantsSafe(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for _, proto := range []string{"bully", "ring"} {
		rep, err := Explore(ExploreConfig{Protocol: proto, Options: map[string]string{"quorum": "true"}, Nodes: 5, Seeds: seeds, First: 1, Kinds: noPauses, Duration: 10 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) != 0 {
			t.Errorf("%s quorum=true: %v (first: %+v)", proto, rep.Failures, rep.Bad[0])
		}
	}
	// The same campaign still finds plain Bully's split brain: the quorum,
	// not the algorithm, prevents it.
	rep, err := Explore(ExploreConfig{Protocol: "bully", Nodes: 5, Seeds: seeds, First: 1, Kinds: noPauses, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failures["single-leader"] == 0 {
		t.Error("plain bully: no split brain found")
	}
}

// Reference: section 4, "Liveness: 결국 리더가 선출됨": once faults stop,
// a Ring election always completes — also when its initiator crashed with
// the message in flight, or a stale dead-successor hint skipped a node.
// Randomized: seeds 1..120 with every fault kind; replay one with
// `ordo explore --protocol ring --replay SEED`.
func TestExplore_Section4_RingAlwaysElects(t *testing.T) {
	seeds := 120
	if testing.Short() {
		seeds = 30
	}
	for _, variant := range []string{"collect", "chang-roberts"} {
		rep, err := Explore(ExploreConfig{Protocol: "ring", Options: map[string]string{"variant": variant}, Nodes: 5, Seeds: seeds, First: 1, Kinds: AllFaultKinds, Duration: 10 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := rep.Failures["eventual-leader"]; n != 0 {
			t.Errorf("ring %s: eventual-leader failed in %d seeds (%+v)", variant, n, rep.Bad)
		}
	}
}

// Reference: section 4, "Term 기반 리더십" and Kleppmann's fencing tokens:
// a node that was down while others elected (node 5 restarts with epoch 1
// after node 4 led with epoch 2) must not lead with a token the cluster
// already used. The nodes that know a newer epoch answer its COORDINATOR
// with STALE, and it claims above it before it acts as leader.
func TestBully_Section4_RestartedNodeTokenIsNew(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		o, err := Run(Spec{Protocol: "bully", Nodes: 5, Seed: seed, Duration: 4 * time.Second,
			Faults: []Fault{{At: time.Second, Kind: Crash, Node: 5}, {At: 2 * time.Second, Kind: Restart, Node: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		var tokens []int64
		for _, s := range o.Spans {
			tokens = append(tokens, s.Token)
		}
		if !slices.IsSorted(tokens) || len(slices.Compact(slices.Clone(tokens))) != len(tokens) {
			t.Errorf("seed %d: leader tokens %v, want strictly increasing", seed, tokens)
		}
		if r, _ := check.Run(o.Trace, []string{"fencing"}); !r[0].OK {
			t.Errorf("seed %d: %+v", seed, r[0])
		}
		if a := o.Agreement; a.Leader != 5 {
			t.Errorf("seed %d: final leader %v, want n5 (it bullies back)", seed, a.Leader)
		}
	}
}

// A leader that meets a newer epoch after a heal claims again above it
// (plain), so the token of every new leadership is above every earlier
// one even though the split elected a second leader.
func TestRing_Section5_HealRaisesToken(t *testing.T) {
	p, _ := ParsePartition("1,2/3,4,5@1s", 5)
	h, _ := ParseHeal("@4s")
	for _, seed := range []uint64{1, 2, 3, 4} {
		o, err := Run(Spec{Protocol: "ring", Nodes: 5, Seed: seed, Duration: 7 * time.Second, Faults: []Fault{p, h}})
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := check.Run(o.Trace, []string{"fencing", "eventual-leader"}); !r[0].OK || !r[1].OK {
			t.Errorf("seed %d: %+v %+v", seed, r[0], r[1])
		}
	}
}

func TestFirstDetectorErrors(t *testing.T) {
	for _, proto := range []string{"bully", "ring"} {
		for _, v := range []string{"0", "6", "two", "-1"} {
			_, err := Run(Spec{Protocol: proto, Nodes: 5, Duration: time.Second, Options: map[string]string{"first_detector": v}})
			if err == nil || !strings.Contains(err.Error(), "first_detector") {
				t.Errorf("%s first_detector=%s: error %v", proto, v, err)
			}
		}
	}
	// A valid one runs.
	if _, err := Run(Spec{Protocol: "ring", Nodes: 5, Duration: time.Second, Options: map[string]string{"first_detector": "5"}}); err != nil {
		t.Fatal(err)
	}
}

// A cluster of one is its own majority: the lone leader's lease holds, so
// it leads once for the whole run instead of stepping down (and being
// elected again) every lease because no peer acknowledges its rounds.
func TestLoneLeaderKeepsItsLease(t *testing.T) {
	for _, c := range []struct {
		proto string
		opts  map[string]string
	}{
		{"raft", nil}, // check_quorum=true by default
		{"bully", map[string]string{"quorum": "true"}},
		{"ring", map[string]string{"quorum": "true"}},
	} {
		o, err := Run(Spec{Protocol: c.proto, Options: c.opts, Nodes: 1, Seed: 1, Duration: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Spans) != 1 || !o.Spans[0].Open {
			t.Errorf("%s %v alone: %d leaderships %+v, want one that lasts", c.proto, c.opts, len(o.Spans), o.Spans)
		}
	}
}
