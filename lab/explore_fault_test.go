package lab

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo/fault"
)

// A run that errors is counted and reported, never a pass (issue 9,
// "honest results"). The bound on each run's events is set between the
// first seed's need and the largest need of the others, so the first seed
// runs and some later ones stop at the bound.
func TestExplore_RunErrorsAreCounted(t *testing.T) {
	c := ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 12, First: 1, Duration: 5 * time.Second, Workers: 2}
	need := make([]uint64, c.Seeds)
	for i := range need {
		r, err := c.runSeed(c.First + uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		need[i] = r.Events
	}
	bound := need[0]
	if slices.Max(need) <= bound {
		t.Skipf("seed 1 needs the most events (%v); no bound separates them", need)
	}
	c.RunMemory = int64(bound * (1024 + 12*5)) // MaxEvents = bound
	if c.RunMemory < MinRunMemory {
		t.Skipf("bound %d events is below the smallest run memory", bound)
	}
	want := 0
	for _, n := range need {
		if n > c.MaxEvents() {
			want++
		}
	}
	rep, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != want || rep.BadSeeds < want {
		t.Fatalf("%d errors, %d bad seeds, want %d errors (needs %v, bound %d)", rep.Errors, rep.BadSeeds, want, need, c.MaxEvents())
	}
	u := rep.Unexpected(nil)
	if len(u) == 0 || !strings.Contains(u[0], "ended in an error") {
		t.Fatalf("errors not reported as unexpected: %v", u)
	}
	found := false
	for _, b := range rep.Bad {
		found = found || strings.Contains(b.Err, "stopped after")
	}
	if !found {
		t.Fatalf("no finding carries the run's error: %+v", rep.Bad)
	}
}

// A campaign whose first run cannot fit its memory bound is refused
// before any other run starts (today's `explore -n 400 --seeds 4` took
// 4 GB).
func TestExplore_TooBigIsRefused(t *testing.T) {
	c := ExploreConfig{Protocol: "raft", Nodes: 200, Seeds: 4, First: 1, Duration: 10 * time.Second, Workers: 1, RunMemory: MinRunMemory}
	_, err := Explore(c, nil)
	var big ErrTooBig
	if !errors.As(err, &big) || !strings.Contains(err.Error(), "lower -n or --duration") {
		t.Fatalf("err %v, want ErrTooBig", err)
	}
}

// Shards cover the seeds once, and merging their reports gives the whole
// campaign's report.
func TestExplore_ShardsMergeToTheWhole(t *testing.T) {
	c := ExploreConfig{Protocol: "bully", Nodes: 5, Seeds: 11, First: 100, Profile: "hostile", Duration: 5 * time.Second, Workers: 2}
	whole, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reps []*ExploreReport
	next := c.First
	for k := 1; k <= 3; k++ {
		s := c
		s.Shard, s.Shards = k, 3
		first, n := s.Slice()
		if first != next {
			t.Fatalf("shard %d starts at %d, want %d", k, first, next)
		}
		next += uint64(n)
		r, err := Explore(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, r)
	}
	if next != c.First+uint64(c.Seeds) {
		t.Fatalf("shards end at %d, want %d", next, c.First+uint64(c.Seeds))
	}
	slices.Reverse(reps) // order does not matter
	m, err := MergeReports(reps)
	if err != nil {
		t.Fatal(err)
	}
	if m.Runs != whole.Runs || m.Errors != whole.Errors || m.BadSeeds != whole.BadSeeds || m.Events != whole.Events ||
		!reflect.DeepEqual(m.Failures, whole.Failures) || !reflect.DeepEqual(m.Labels, whole.Labels) || len(m.Missing()) != 0 {
		t.Fatalf("merged %+v\nwhole  %+v", m, whole)
	}
	for i := range m.Bad {
		if m.Bad[i].Seed != whole.Bad[i].Seed || !reflect.DeepEqual(m.Bad[i].Violations, whole.Bad[i].Violations) {
			t.Fatalf("finding %d: merged %+v, whole %+v", i, m.Bad[i], whole.Bad[i])
		}
	}
	if _, err := MergeReports([]*ExploreReport{reps[0], reps[0]}); err == nil || !strings.Contains(err.Error(), "is in reports") {
		t.Errorf("a shard twice: %v", err)
	}
	other := *reps[1]
	other.Config.Nodes = 7
	if _, err := MergeReports([]*ExploreReport{reps[0], &other}); err == nil || !strings.Contains(err.Error(), "another campaign") {
		t.Errorf("shards of two campaigns: %v", err)
	}
	if m, _ := MergeReports(reps[1:]); !reflect.DeepEqual(m.Missing(), []int{3}) { // shards 2 and 1
		t.Errorf("missing shards %v, want [3]", m.Missing())
	}
}

// Expectations: a check expected to fail must fail in some seed; every
// other check must pass in every seed.
func TestExploreReport_Unexpected(t *testing.T) {
	r := &ExploreReport{Runs: 10, Failures: map[string]int{"single-leader": 3}}
	if u := r.Unexpected([]string{"single-leader"}); len(u) != 0 {
		t.Errorf("expected split brain found: %v", u)
	}
	if u := r.Unexpected(nil); len(u) != 1 || !strings.Contains(u[0], "single-leader: failed in 3 seeds") {
		t.Errorf("unexpected split brain: %v", u)
	}
	if u := r.Unexpected([]string{"single-leader", "fencing"}); len(u) != 1 || !strings.Contains(u[0], "fencing: expected to fail") {
		t.Errorf("fencing expected to fail but passed: %v", u)
	}
}

func TestExploreConfig_Profiles(t *testing.T) {
	c := ExploreConfig{Protocol: "raft", Nodes: 5, Seeds: 10, First: 1, Duration: 10 * time.Second}
	if p := c.FaultProfile(); p.Name != "friendly" {
		t.Errorf("default profile %s", p.Name)
	}
	c.Profile = "hostile"
	c.Kinds = []string{"star"}
	if f := c.Families(); !reflect.DeepEqual(f, []string{"star"}) {
		t.Errorf("families %v", f)
	}
	for _, f := range c.Schedule(3) {
		if f.Kind != fault.Star && f.Kind != Heal {
			t.Errorf("star only drew %v", f)
		}
	}
	for _, bad := range []struct {
		edit func(*ExploreConfig)
		want string
	}{
		{func(c *ExploreConfig) { c.Profile = "nasty" }, "unknown fault profile"},
		{func(c *ExploreConfig) { c.Kinds = []string{} }, "no fault kinds"},
		{func(c *ExploreConfig) { c.Shard, c.Shards = 0, 3 }, "--shard 0/3"},
		{func(c *ExploreConfig) { c.Shard, c.Shards = 4, 3 }, "--shard 4/3"},
		{func(c *ExploreConfig) { c.Shard, c.Shards = 1, 11 }, "more shards than"},
		{func(c *ExploreConfig) { c.RunMemory = 1 }, "--run-memory"},
	} {
		x := c
		bad.edit(&x)
		if err := x.Check(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", x, err, bad.want)
		}
	}
}

// The hostile profile against Raft (heartbeat 15 ms, the default issue 9
// case 5 asks for): no check fails, safety or connectivity-aware liveness.
// With issue 9's case 1 or case 3 put back, about one seed in twenty fails
// eventual-leader (docs/explore.md). Randomized: seeds 1..300; replay one
// with `ordo explore --profile hostile -o heartbeat=15ms --replay SEED`.
func TestExplore_Section5_RaftSafeUnderHostileFaults(t *testing.T) {
	rep, err := Explore(ExploreConfig{Protocol: "raft", Options: map[string]string{"heartbeat": "15ms"}, Nodes: 5, Seeds: 300, First: 1,
		Profile: "hostile", Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Unexpected(nil); len(u) > 0 {
		t.Fatalf("raft under hostile faults: %v\nfirst findings: %+v", u, rep.Bad[:min(3, len(rep.Bad))])
	}
	// The campaign did draw what friendly never does.
	for _, l := range []string{"bridge", "star", "cut", "crash-forever", "cut-forever", "torn-write", "clock-drift"} {
		if rep.Labels[l] == 0 {
			t.Errorf("300 hostile seeds without %s: %v", l, rep.Labels)
		}
	}
}
