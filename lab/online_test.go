package lab

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"ordo/election"
	"ordo/fault"
)

// The checkers judge a run the same way online (as the simulator produces
// events, no trace kept) and over the stored trace of the same run: one
// run per seed each way, for several protocols and fault mixes, with
// every election checker on (issue 8 item 6; issue 9 "Online and
// stored-trace checkers give identical verdicts on the same runs").
func TestOnlineMatchesStoredTrace(t *testing.T) {
	seeds := 25
	if testing.Short() {
		seeds = 6
	}
	cases := []struct {
		proto   string
		opts    map[string]string
		kinds   []string
		profile string
	}{
		{"raft", nil, AllFaultKinds, ""},
		{"raft", nil, nil, "hostile"}, // permanent crashes and partitions, cuts, bridges
		{"raft", map[string]string{"check_quorum": "false"}, []string{"partition", "pause"}, ""},
		{"bully", nil, AllFaultKinds, ""},
		{"bully", nil, nil, "hostile"},
		{"ring", nil, []string{"pause", "clock", "loss"}, ""},
	}
	checks := election.Checks
	judged := map[string]map[string]int{} // check → verdict → runs
	for _, c := range cases {
		if _, _, err := Validate(c.proto, c.opts, 5); err != nil {
			t.Logf("skipping %s %v: %v", c.proto, c.opts, err)
			continue
		}
		if c.profile != "" {
			if _, err := fault.ProfileNamed(c.profile); err != nil {
				t.Fatal(err)
			}
		}
		cfg := ExploreConfig{Protocol: c.proto, Options: c.opts, Nodes: 5, Kinds: c.kinds, Profile: c.profile, Duration: 8 * time.Second, Checks: checks}
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			sp := cfg.SpecFor(seed)
			stored, err := Run(sp)
			if err != nil {
				t.Fatalf("%s seed %d stored: %v", c.proto, seed, err)
			}
			sp.Online = true
			online, err := Run(sp)
			if err != nil {
				t.Fatalf("%s seed %d online: %v", c.proto, seed, err)
			}
			replay := fmt.Sprintf("replay: ordo explore --protocol %s -n 5 --faults %v --profile %q --duration 8s --replay %d (options %v)", c.proto, c.kinds, c.profile, seed, c.opts)
			if online.Trace != nil {
				t.Fatalf("an online run kept a trace")
			}
			if !reflect.DeepEqual(stored.Checks, online.Checks) {
				t.Fatalf("verdicts differ\nstored %+v\nonline %+v\n%s", stored.Checks, online.Checks, replay)
			}
			if !reflect.DeepEqual(stored.Spans, online.Spans) || !reflect.DeepEqual(stored.Agreement, online.Agreement) {
				t.Fatalf("leaderships or agreement differ\nstored %+v %+v\nonline %+v %+v\n%s", stored.Spans, stored.Agreement, online.Spans, online.Agreement, replay)
			}
			if stored.Stats.Sent != online.Stats.Sent || stored.Stats.Events != online.Stats.Events {
				t.Fatalf("observing changed the run: %d/%d messages, %d/%d events\n%s", stored.Stats.Sent, online.Stats.Sent, stored.Stats.Events, online.Stats.Events, replay)
			}
			for _, r := range online.Checks {
				if judged[r.Check] == nil {
					judged[r.Check] = map[string]int{}
				}
				judged[r.Check][string(r.Verdict)]++
			}
		}
	}
	// Identical verdicts prove little if every run passes: the mixes above
	// must make the checkers say more than one thing.
	if len(judged["single-leader"]) < 2 && len(judged["stale-leader"]) < 2 && len(judged["eventual-leader"]) < 2 {
		t.Fatalf("every run got the same verdicts, the comparison is vacuous: %v", judged)
	}
	t.Logf("verdicts: %v", judged)
}

// BenchmarkCampaign runs the default Raft campaign's first 200 seeds with
// the checks over a stored trace and online (no trace kept), for the
// ratio: go test ./lab -run '^$' -bench Campaign -benchtime 3x.
func BenchmarkCampaign(b *testing.B) {
	for _, mode := range []string{"stored", "online"} {
		b.Run(mode, func(b *testing.B) {
			cfg := ExploreConfig{Protocol: "raft", Nodes: 5, Kinds: AllFaultKinds, Duration: 10 * time.Second}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for seed := uint64(1); seed <= 200; seed++ {
					sp := cfg.SpecFor(seed)
					sp.Online = mode == "online"
					if _, err := Run(sp); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
