package lab

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	_ "ordo/broadcast"
	_ "ordo/detect"
)

func TestElectionProtocolsOnlyElectors(t *testing.T) {
	// kv (Raft with a database on top, kv_test.go imports it) elects
	// too, and so does lease (members_test.go imports it); its services
	// (coord, fenced-store) do not.
	if got := ElectionProtocols(); !slices.Equal(got, []string{"bully", "kv", "kv-stale", "lease", "raft", "ring"}) {
		t.Fatalf("ElectionProtocols() = %v, want [bully kv kv-stale lease raft ring]", got)
	}
	for _, p := range []string{"broadcast", "heartbeat"} {
		_, err := Run(Spec{Protocol: p, Nodes: 3, Duration: time.Second})
		if err == nil || !strings.Contains(err.Error(), "is not a leader election") || !strings.Contains(err.Error(), "bully, kv, kv-stale, lease, raft, ring") {
			t.Errorf("%s: err %v, want a refusal listing the elections", p, err)
		}
		if _, err := RunFailover(FailoverConfig{Protocol: p, Nodes: 5}, 1); err == nil {
			t.Errorf("%s: RunFailover accepted a protocol that elects nobody", p)
		}
	}
}

// Timers far below a network hop only flood the run: each duration option
// has a floor, named in the error, and the orderings still hold.
func TestDurationFloors(t *testing.T) {
	for _, c := range []struct {
		proto string
		opts  map[string]string
		want  string
	}{
		{"raft", map[string]string{"heartbeat": "1ns"}, "raft: option heartbeat=1ns is below its floor of 1ms"},
		{"raft", map[string]string{"heartbeat": "999us"}, "floor of 1ms"},
		{"raft", map[string]string{"election_timeout_min": "5ms", "heartbeat": "1ms"}, "option election_timeout_min=5ms is below its floor of 10ms"},
		{"raft", map[string]string{"election_timeout_max": "2h"}, "election_timeout_max=2h0m0s is above its ceiling of 1h0m0s"},
		{"raft", map[string]string{"election_timeout_min": "300ms", "election_timeout_max": "200ms"}, "election_timeout_max=200ms is below election_timeout_min=300ms"},
		{"raft", map[string]string{"heartbeat": "100ms"}, "heartbeat=100ms must be at most half of election_timeout_min=150ms"},
		{"bully", map[string]string{"heartbeat": "0s"}, "bully: option heartbeat=0s is below its floor of 1ms"},
		{"bully", map[string]string{"timeout": "1ms"}, "bully: option timeout=1ms is below its floor of 10ms"},
		{"bully", map[string]string{"answer_timeout": "1us"}, "answer_timeout=1µs is below its floor of 10ms"},
		{"bully", map[string]string{"heartbeat": "200ms"}, "bully: option timeout=150ms must be longer than heartbeat=200ms"},
		{"ring", map[string]string{"coordinator_timeout": "1ns"}, "ring: option coordinator_timeout=1ns is below its floor of 10ms"},
		{"ring", map[string]string{"suspect_jitter": "3h"}, "ring: option suspect_jitter=3h0m0s is above its ceiling"},
	} {
		_, err := Run(Spec{Protocol: c.proto, Options: c.opts, Nodes: 5, Duration: time.Second})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: err %v, want %q", c.proto, c.opts, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "starting n1") {
			t.Errorf("%s %v: %v: the simulator's wrapping leaks into the message", c.proto, c.opts, err)
		}
	}
	// The floors themselves are accepted.
	for _, c := range []struct {
		proto string
		opts  map[string]string
	}{
		{"raft", map[string]string{"heartbeat": "1ms", "election_timeout_min": "10ms", "election_timeout_max": "10ms"}},
		{"bully", map[string]string{"heartbeat": "1ms", "timeout": "10ms", "suspect_jitter": "0s", "answer_timeout": "10ms", "coordinator_timeout": "10ms"}},
		{"ring", map[string]string{"heartbeat": "1ms", "timeout": "10ms", "suspect_jitter": "0s", "answer_timeout": "10ms", "coordinator_timeout": "10ms"}},
	} {
		if _, err := Run(Spec{Protocol: c.proto, Options: c.opts, Nodes: 5, Duration: time.Second}); err != nil {
			t.Errorf("%s %v at the floors: %v", c.proto, c.opts, err)
		}
	}
}

func TestCheckSchedule(t *testing.T) {
	p, _ := ParsePartition("1,2/3,4,5@1s", 5)
	h4, _ := ParseHeal("@4s")
	h0, _ := ParseHeal("@0s")
	c1, _ := ParseCrash("3@1s", 5)
	c2, _ := ParseCrash("3@2s", 5)
	r1, _ := ParseRestart("3@1s", 5)
	r2, _ := ParseRestart("3@2s", 5)
	for _, c := range []struct {
		faults []Fault
		want   string // "" = accepted
	}{
		{[]Fault{h4}, "--heal @4s: there is no partition to heal"},
		{[]Fault{h0, p}, "--heal @0s: there is no partition"},
		{[]Fault{p, h4}, ""},
		{[]Fault{p, h4, h4}, "no partition to heal"},
		{[]Fault{r2}, "--restart 3@2s: node 3 is not down at 2s"},
		{[]Fault{c1, r2}, ""},
		{[]Fault{c1, r1}, ""}, // same instant, in the order given
		{[]Fault{c1, c2}, "--crash 3@2s: node 3 is already down (crashed at 1s"},
		{[]Fault{c1, r1, c2, r2}, ""},
	} {
		fs := slices.Clone(c.faults)
		SortFaults(fs)
		err := CheckSchedule(fs)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v: err %v, want %q", c.faults, err, c.want)
		}
	}
}

func TestExploreConfigCheck(t *testing.T) {
	ok := ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 10, First: 1, Kinds: AllFaultKinds, Duration: 10 * time.Second}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	last := ok
	last.First, last.Seeds = math.MaxUint64, 1
	if err := last.Check(); err != nil {
		t.Errorf("the last seed alone: %v", err)
	}
	for _, c := range []struct {
		edit func(*ExploreConfig)
		want string
	}{
		{func(c *ExploreConfig) { c.First, c.Seeds = math.MaxUint64, 2 }, "runs past the largest seed"},
		{func(c *ExploreConfig) { c.First, c.Seeds = math.MaxUint64-8, 10 }, "runs past the largest seed"},
		{func(c *ExploreConfig) { c.Seeds = 0 }, "--seeds 0"},
		{func(c *ExploreConfig) { c.Seeds = MaxSeeds + 1 }, "at most"},
		{func(c *ExploreConfig) { c.Workers = -1 }, "--workers -1"},
		{func(c *ExploreConfig) { c.Workers = MaxWorkers + 1 }, "--workers"},
		{func(c *ExploreConfig) { c.Duration = 2 * time.Second }, "at least 4s"},
		{func(c *ExploreConfig) { c.Duration = 2 * time.Hour }, "at most 1h"},
		{func(c *ExploreConfig) { c.Protocol = "broadcast" }, "not a leader election"},
		{func(c *ExploreConfig) { c.Kinds = []string{"crash", "meteor"} }, "unknown fault kind"},
		{func(c *ExploreConfig) { c.Nodes = 0 }, "need 1..4096 nodes"},
	} {
		bad := ok
		c.edit(&bad)
		if err := bad.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", bad, err, c.want)
		}
		if _, err := Explore(bad, nil); err == nil {
			t.Errorf("%+v: Explore ran it", bad)
		}
	}
}

func TestFormatOptions(t *testing.T) {
	for _, c := range []struct {
		in   map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{}, ""},
		{map[string]string{"peer_down": "false"}, "peer_down=false"},
		{map[string]string{"quorum": "true", "heartbeat": "20ms", "prevote": "false"}, "heartbeat=20ms prevote=false quorum=true"},
	} {
		if got := FormatOptions(c.in); got != c.want {
			t.Errorf("FormatOptions(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
