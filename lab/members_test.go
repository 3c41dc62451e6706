package lab

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	_ "ordo/election/lease" // registers lease, coord and fenced-store
	_ "ordo/election/raft"
	"ordo/fault"
	"ordo/trace"
)

// A run's nodes by role, as New lays them out: the lease election's
// services follow the servers, the kv database's clients too.
func TestMembers(t *testing.T) {
	m, err := Members("lease", 3)
	if err != nil || !reflect.DeepEqual(m, fault.Members{Servers: 3, Services: []string{"coord", "fenced-store"}}) {
		t.Errorf("lease: %+v %v", m, err)
	}
	if m, err := Members("raft", 5); err != nil || !reflect.DeepEqual(m, fault.Members{Servers: 5}) {
		t.Errorf("raft: %+v %v", m, err)
	}
	if _, err := Members("nope", 3); err == nil || !strings.Contains(err.Error(), "unknown protocol") {
		t.Errorf("unknown protocol: %v", err)
	}
}

// The fault flags of ordo elect name services where it makes sense and
// refuse a crash of one with the reason; an ID out of range lists the
// valid IDs by role.
func TestParseFaultInServices(t *testing.T) {
	m, err := Members("lease", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		k    fault.Kind
		s    string
		want string // "" accepted; else a part of the error
	}{
		{fault.Cut, "1->4@2s", ""},
		{fault.Cut, "4->1,2,3@2s", ""},
		{fault.Partition, "1,2,3/4@2s", ""},
		{fault.Pause, "4@2s", ""},
		{fault.Resume, "4@5s", ""},
		{fault.ClockStep, "4 by 3s@2s", ""},
		{fault.ClockDrift, "4 by 40000ppm@0s", ""},
		{fault.Heal, "@3s", ""},
		{fault.Crash, "4@1s", "--crash 4@1s: node 4 is a service (coord), and services are never crashed, restarted or given disk faults: the model keeps its state in memory"},
		{fault.Restart, "5@1s", "--restart 5@1s: node 5 is a service (fenced-store)"},
		{fault.FsyncFail, "4@1s", "fencing tokens would repeat"},
		{fault.Pause, "6@1s", "--pause 6@1s: node 6 does not exist (the servers are 1..3, the services 4 (coord) and 5 (fenced-store))"},
		{fault.Partition, "1/4@1s", "two one-way cuts, 1->4 and 4->1"},
		{fault.Star, "hub 4@1s", "a star names servers only"},
	} {
		f, err := ParseFaultIn(m, c.k, c.s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("--%s %s: %v", c.k, c.s, err)
		case c.want == "" && f.Kind != c.k:
			t.Errorf("--%s %s: kind %s", c.k, c.s, f.Kind)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("--%s %s: %v, want %q", c.k, c.s, err, c.want)
		}
	}
	// The servers-only flags of every other protocol are unchanged.
	if _, err := ParseFault(fault.Cut, "1->4@2s", 3); err == nil || !strings.Contains(err.Error(), "--cut 1->4@2s: ") || !strings.Contains(err.Error(), "(the servers are 1..3)") {
		t.Errorf("servers-only --cut: %v", err)
	}
}

// A run strikes the services its faults name, and refuses to crash one.
func TestRunStrikesServices(t *testing.T) {
	m, _ := Members("lease", 3)
	var faults []Fault
	for _, x := range []struct {
		k fault.Kind
		s string
	}{{fault.Pause, "4@1s"}, {fault.Resume, "4@2s"}, {fault.ClockDrift, "4 by 40000ppm@0s"}, {fault.Cut, "1->4@3s"}} {
		f, err := ParseFaultIn(m, x.k, x.s)
		if err != nil {
			t.Fatal(err)
		}
		faults = append(faults, f)
	}
	o, err := Run(Spec{Protocol: "lease", Nodes: 3, Seed: 1, Duration: 5 * time.Second, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	paused := slices.ContainsFunc(o.Trace.Events, func(e trace.Event) bool { return e.Kind == trace.Pause && e.Node == 4 })
	resumed := slices.ContainsFunc(o.Trace.Events, func(e trace.Event) bool { return e.Kind == trace.Resume && e.Node == 4 })
	if !paused || !resumed {
		t.Errorf("the coord service paused %v, resumed %v", paused, resumed)
	}
	_, err = Run(Spec{Protocol: "lease", Nodes: 3, Seed: 1, Duration: 5 * time.Second, Faults: []Fault{{At: time.Second, Kind: fault.Crash, Node: 4}}})
	if err == nil || !strings.Contains(err.Error(), "never crashed") {
		t.Errorf("a crash of the coord service ran: %v", err)
	}
	_, err = Run(Spec{Protocol: "raft", Nodes: 3, Seed: 1, Duration: 5 * time.Second, Faults: []Fault{{At: time.Second, Kind: fault.Pause, Node: 4}}})
	if err == nil || !strings.Contains(err.Error(), "node 4 does not exist (the servers are 1..3)") {
		t.Errorf("a pause of node 4 of a raft run of 3: %v", err)
	}
}

// A campaign of a protocol without services draws the schedules it drew
// before services existed; one with services strikes them, pauses
// servers for about a lease, and counts the seeds that do.
func TestExploreSchedulesWithServices(t *testing.T) {
	raft := ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 1, Profile: "hostile", Duration: 10 * time.Second}
	for seed := uint64(1); seed <= 50; seed++ {
		if got, want := raft.Schedule(seed), fault.Generate(seed, fault.Hostile, 5, 10*time.Second); !reflect.DeepEqual(got, want) {
			t.Fatalf("raft seed %d: %v, want %v", seed, got, want)
		}
	}
	c := ExploreConfig{Protocol: "lease", Nodes: 3, Seeds: 40, First: 1, Profile: "hostile", Duration: 12 * time.Second, Workers: 1}
	if p := c.FaultProfile(); p.Timeout < 2*time.Second {
		t.Errorf("lease: the profile's timeout %v, want at least the TTL of 2s", p.Timeout)
	}
	names := 0
	for seed := uint64(1); seed <= 40; seed++ {
		for _, f := range c.Schedule(seed) {
			if f.Node > 3 || slices.ContainsFunc(append(f.From, f.To...), func(id ordo.NodeID) bool { return id > 3 }) {
				names++
			}
		}
	}
	if names == 0 {
		t.Error("40 hostile lease schedules never name a service")
	}
	rep, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"service-cut", "service-clock", "service-pause"} {
		if rep.Labels[l] == 0 {
			t.Errorf("no seed labelled %s: %v", l, rep.Labels)
		}
	}
	if rep.Errors > 0 {
		t.Errorf("%d runs errored: %v", rep.Errors, rep.Bad)
	}
}

// What the faults on services are for: the recipe without its drift
// margin (unsafe_no_margin) is found by a hostile campaign that drifts
// the coordination service's clock and cuts servers off from it; the
// safe recipe passes the same seeds. Both campaigns together take well
// under a second of CPU here.
func TestExploreServicesFindNoMargin(t *testing.T) {
	seeds := 1000
	if testing.Short() {
		seeds = 300
	}
	c := ExploreConfig{Protocol: "lease", Nodes: 3, Seeds: seeds, First: 1, Profile: "hostile", Duration: 12 * time.Second}
	safe, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := safe.Unexpected(nil); len(u) > 0 {
		t.Errorf("the safe recipe: %v (first: %+v; replay: go run ./cmd/ordo explore --protocol lease -n 3 --profile hostile --duration 12s --replay SEED)", u, safe.Bad[:min(3, len(safe.Bad))])
	}
	// Both lessors ran, and the candidates' own revocations happened
	// (the even seeds' path), under the same faults.
	if n := safe.Labels[LabelLessorAtDeadline]; n != seeds/2 {
		t.Errorf("%d seeds with the lessor at the deadline, want %d (the odd ones)", n, seeds/2)
	}
	if safe.Notes["pred-revoked"] == 0 {
		t.Errorf("no candidate revoked its predecessor's lease in %d seeds: the probes went unexercised (notes %v)", seeds, safe.Notes)
	}
	c.Options = map[string]string{"unsafe_no_margin": "true"}
	broken, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if broken.BadSeeds == 0 {
		t.Fatalf("unsafe_no_margin passed %d hostile seeds with service faults", seeds)
	}
	t.Logf("unsafe_no_margin: %d of %d seeds failed %v; first: seed %d (replay: go run ./cmd/ordo explore --protocol lease -n 3 --profile hostile --duration 12s -o unsafe_no_margin=true --replay %d)",
		broken.BadSeeds, seeds, broken.Failures, broken.Bad[0].Seed, broken.Bad[0].Seed)
}
