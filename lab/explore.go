package lab

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/fault"
	"ordo/sim"
)

// AllFaultKinds are the families of the friendly profile (the kinds
// explore drew before the hostile profile existed).
var AllFaultKinds = fault.Friendly.Families

// ParseFaultKinds reads "crash,partition,..." (fault.Families).
func ParseFaultKinds(s string) ([]string, error) {
	k, err := fault.ParseFamilies(s)
	if err != nil {
		return nil, fmt.Errorf("--faults: %w", err)
	}
	return k, nil
}

// settle is the quiet tail of a campaign's runs, for eventual-leader.
const settle = fault.Settle

// ExploreConfig is a campaign over random fault schedules.
type ExploreConfig struct {
	Protocol string            `json:"protocol"`
	Options  map[string]string `json:"options,omitempty"`
	// ClientOptions override the options of every client group of the
	// protocol's workload (Workloads), e.g. admin_every for kv.
	ClientOptions map[string]string `json:"client_options,omitempty"`
	Nodes         int               `json:"nodes"`
	Seeds         int               `json:"seeds"` // the whole campaign: seeds First .. First+Seeds-1
	First         uint64            `json:"first_seed"`
	// Profile names the fault profile ("": friendly); Kinds, if set,
	// replaces its families (fault.Families).
	Profile  string        `json:"profile"`
	Kinds    []string      `json:"faults,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Workers  int           `json:"-"` // does not change any result
	Checks   []string      `json:"checks,omitempty"`
	// Shard K of Shards (1-based) runs one contiguous slice of the seeds;
	// 0 of 0 runs them all.
	Shard  int `json:"shard,omitempty"`
	Shards int `json:"shards,omitempty"`
	// RunMemory bounds each run's trace in bytes (0: DefaultRunMemory):
	// it sets the run's event bound by the simulator's cost model, so a
	// campaign holds at most Workers × RunMemory of traces. A run that
	// reaches the bound is an error, never a pass.
	RunMemory int64 `json:"run_memory,omitempty"`
	// Wire runs every seed in wire mode (sim.Config.Wire): slower, off by
	// default for campaigns.
	Wire bool `json:"wire,omitempty"`
}

// Bounds of a campaign: the report keeps one small result per seed, and a
// traced run of a long duration holds its whole trace in memory.
const (
	MaxSeeds         = 1_000_000
	MaxWorkers       = 256
	MaxDuration      = time.Hour
	MaxShards        = 100_000
	DefaultRunMemory = 256 << 20
	MinRunMemory     = 1 << 20
	MaxRunMemory     = 64 << 30
)

// MaxBadReported bounds the failing seeds an ExploreReport keeps.
const MaxBadReported = 200

// FaultProfile is the campaign's profile with its families.
func (c ExploreConfig) FaultProfile() fault.Profile {
	p := fault.Friendly
	if c.Profile != "" {
		if q, err := fault.ProfileNamed(c.Profile); err == nil {
			p = q
		}
	}
	if c.Kinds != nil {
		p.Families = c.Kinds
	}
	// The pauses about a lease that a run with services draws
	// (fault.Profile.Timeout); ignored without services.
	if _, hi, err := election.Timeouts(c.Protocol, withWorkloadOptions(c.Protocol, c.Options), c.Nodes); err == nil {
		p.Timeout = hi
	}
	return p
}

// Members is the nodes of the campaign's runs by role (the package's
// Members): the services of its protocol are what its schedules may
// strike beside the servers.
func (c ExploreConfig) Members() fault.Members {
	m, err := Members(c.Protocol, c.Nodes)
	if err != nil {
		return fault.Members{Servers: c.Nodes}
	}
	return m
}

// Families are the fault families the campaign draws from.
func (c ExploreConfig) Families() []string { return c.FaultProfile().Families }

// Slice is the seeds this shard runs: first, and how many.
func (c ExploreConfig) Slice() (uint64, int) {
	if c.Shards == 0 {
		return c.First, c.Seeds
	}
	lo := c.Seeds * (c.Shard - 1) / c.Shards
	hi := c.Seeds * c.Shard / c.Shards
	return c.First + uint64(lo), hi - lo
}

func (c ExploreConfig) runMemory() int64 {
	if c.RunMemory == 0 {
		return DefaultRunMemory
	}
	return c.RunMemory
}

// MaxEvents is each run's event bound: RunMemory over the simulator's cost
// of a traced event (sim.TracedMaxEvents' model).
func (c ExploreConfig) MaxEvents() uint64 {
	return uint64(c.runMemory()) / (1024 + 12*uint64(max(c.Nodes, 1)))
}

// Schedule is the fault schedule of one seed.
func (c ExploreConfig) Schedule(seed uint64) fault.Schedule {
	return fault.GenerateFor(seed, c.FaultProfile(), c.Members(), c.Duration)
}

// SpecFor is the spec of one seed of a campaign (the replay).
func (c ExploreConfig) SpecFor(seed uint64) Spec {
	return Spec{Protocol: c.Protocol, Options: c.Options, ClientOptions: c.ClientOptions, Nodes: c.Nodes, Seed: seed, Duration: c.Duration,
		Faults: c.Schedule(seed), Checks: c.Checks, MaxEvents: c.MaxEvents(), Wire: c.Wire, ServiceOptions: lessorFor(c.Protocol, seed)}
}

// LabelLessorAtDeadline labels a seed whose coordination service revokes
// a lease at its deadline.
const LabelLessorAtDeadline = "lessor-at-deadline"

// lessorFor picks the coordination service's lessor for a seed of a
// protocol that has one: odd seeds revoke a lease at its very deadline
// (sweep 0: what etcd does when its 500 ms pass falls there, the worst
// case for a lease holder that trusts its lease too long), even seeds
// revoke at etcd's next pass (where a waiting candidate's probes revoke
// first: the path a campaign must cover too).
func lessorFor(protocol string, seed uint64) map[string]map[string]string {
	p, err := ordo.Lookup(protocol)
	if err != nil || !slices.Contains(p.Services, "coord") || seed%2 == 0 {
		return nil
	}
	return map[string]map[string]string{"coord": {"sweep": "0s"}}
}

// Check rejects a campaign that cannot run: a protocol that is not a
// leader election or options it refuses, no seeds, seeds past the largest
// uint64, an unknown profile or fault kind, a duration without room for
// the quiet tail, too many workers (0 workers means one per core), a shard
// outside 1..Shards, a memory bound out of range.
func (c ExploreConfig) Check() error {
	if _, _, err := Validate(c.Protocol, withWorkloadOptions(c.Protocol, c.Options), c.Nodes); err != nil {
		return err
	}
	if err := checkClientOptions(c.Protocol, c.ClientOptions); err != nil {
		return err
	}
	if c.Profile != "" {
		if _, err := fault.ProfileNamed(c.Profile); err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
	}
	if c.Kinds != nil && len(c.Kinds) == 0 {
		return fmt.Errorf("--faults: no fault kinds (valid: %s)", strings.Join(fault.Families, ","))
	}
	for _, k := range c.Kinds {
		if !slices.Contains(fault.Families, k) {
			return fmt.Errorf("--faults: unknown fault kind %q (valid: %s)", k, strings.Join(fault.Families, ","))
		}
	}
	if c.Seeds < 1 {
		return fmt.Errorf("--seeds %d: need at least 1", c.Seeds)
	}
	if c.Seeds > MaxSeeds {
		return fmt.Errorf("--seeds %d: at most %d per campaign (split it with --first-seed)", c.Seeds, MaxSeeds)
	}
	if c.First > math.MaxUint64-uint64(c.Seeds-1) {
		return fmt.Errorf("--first-seed %d with --seeds %d runs past the largest seed %d", c.First, c.Seeds, uint64(math.MaxUint64))
	}
	if c.Duration < settle+time.Second {
		return fmt.Errorf("--duration %v: at least %v (faults, then %v of quiet)", c.Duration, settle+time.Second, settle)
	}
	if c.Duration > MaxDuration {
		return fmt.Errorf("--duration %v: at most %v of simulated time per run", c.Duration, MaxDuration)
	}
	if c.Workers < 0 || c.Workers > MaxWorkers {
		return fmt.Errorf("--workers %d: need 1..%d", c.Workers, MaxWorkers)
	}
	if c.Shards != 0 || c.Shard != 0 {
		if c.Shards < 1 || c.Shards > MaxShards || c.Shard < 1 || c.Shard > c.Shards {
			return fmt.Errorf("--shard %d/%d: want K/N with 1 ≤ K ≤ N ≤ %d", c.Shard, c.Shards, MaxShards)
		}
		if c.Shards > c.Seeds {
			return fmt.Errorf("--shard %d/%d: more shards than the %d seeds", c.Shard, c.Shards, c.Seeds)
		}
	}
	if m := c.runMemory(); m < MinRunMemory || m > MaxRunMemory {
		return fmt.Errorf("--run-memory %d bytes: need %d..%d", m, MinRunMemory, MaxRunMemory)
	}
	return nil
}

// SeedResult is one seed's outcome in a campaign.
type SeedResult struct {
	Seed       uint64         `json:"seed"`
	Failed     []string       `json:"failed,omitempty"`
	Violations []string       `json:"violations,omitempty"`
	Elections  int            `json:"-"` // leaderships in the trace
	Err        string         `json:"error,omitempty"`
	Undecided  []string       `json:"-"` // Outcome.Undecided
	Labels     []string       `json:"-"` // fault.Schedule.Labels of its schedule
	Events     uint64         `json:"-"`
	Delivered  uint64         `json:"-"` // messages handed to Receive
	Notes      map[string]int `json:"-"` // Outcome.Notes
}

// ExploreReport sums up a campaign (or the shards of one merged).
type ExploreReport struct {
	Config ExploreConfig `json:"config"`
	// ShardsRun lists the shards the report covers (nil: the whole
	// campaign in one run).
	ShardsRun []int `json:"shards_run,omitempty"`
	// Merged is the number of shard reports MergeReports combined (0: a
	// report of one run of explore).
	Merged   int            `json:"merged,omitempty"`
	Runs     int            `json:"runs"`
	Errors   int            `json:"errors"`   // runs that could not finish: never counted as passing
	Failures map[string]int `json:"failures"` // check → seeds where it failed
	// Undecided counts "check: unknown" and "check: not-applicable"
	// verdicts by seed: neither a pass nor a failure. Unknown is
	// unexpected; not applicable (a liveness check where no majority is
	// connected at the end) is not.
	Undecided   map[string]int `json:"undecided,omitempty"`
	Labels      map[string]int `json:"fault_kinds"` // fault label → seeds whose schedule has it
	BadSeeds    int            `json:"bad_seeds"`   // seeds with a violation or an error
	Bad         []SeedResult   `json:"findings"`    // the first of them by seed (at most MaxBadReported)
	Wall        time.Duration  `json:"wall_ns"`     // of the slowest shard
	Events      uint64         `json:"events"`
	Delivered   uint64         `json:"messages_delivered"`
	Leaderships int            `json:"leaderships"`
	// Notes sums the counted note kinds of the protocol's workload over
	// the campaign (snapshots, install-snapshots, transfers, conf-changes
	// of the kv database); nil for a protocol without one.
	Notes map[string]int `json:"notes,omitempty"`
}

// ErrTooBig is returned by Explore when the first run of a campaign
// reaches its event bound: every run would, so none is started.
type ErrTooBig struct {
	Nodes     int
	Duration  time.Duration
	MaxEvents uint64
	RunMemory int64
}

func (e ErrTooBig) Error() string {
	return fmt.Sprintf("a run of %d nodes for %v needs more than %d simulator steps, the bound of --run-memory %dMiB per run: lower -n or --duration, or raise --run-memory (the campaign holds up to --workers runs at once)",
		e.Nodes, e.Duration, e.MaxEvents, e.RunMemory>>20)
}

// runSeed runs one seed and checks it; an error is kept in the result.
func (c ExploreConfig) runSeed(seed uint64) (SeedResult, error) {
	sp := c.SpecFor(seed)
	sp.Online = true // no stored trace: the checks run as events happen
	res := SeedResult{Seed: seed, Labels: fault.Schedule(sp.Faults).LabelsFor(c.Members())}
	if sp.ServiceOptions != nil {
		res.Labels = append(res.Labels, LabelLessorAtDeadline)
	}
	s, err := New(sp)
	var o *Outcome
	if err == nil {
		err = s.RunUntil(sp.Duration)
	}
	if err == nil {
		o, err = Finish(sp, s)
	}
	if s != nil {
		res.Events = s.Events()
		res.Delivered = uint64(s.Stats().Delivered)
	}
	if err != nil {
		res.Err = err.Error()
		return res, err
	}
	s.Release() // the next seed reuses its queue
	res.Failed = o.Failed()
	res.Undecided = o.Undecided()
	res.Violations = o.Violations()
	res.Elections = len(o.Spans)
	res.Notes = o.Notes
	return res, nil
}

// Explore runs the campaign (its shard) on Workers goroutines; each run is
// deterministic and independent, so the report does not depend on the
// number of workers. progress is called after each run (from one
// goroutine at a time). The first seed runs alone first: if it reaches the
// event bound, Explore returns ErrTooBig rather than fail every run.
func Explore(c ExploreConfig, progress func(done, total int)) (*ExploreReport, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if c.Workers < 1 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	first, count := c.Slice()
	results := make([]SeedResult, count)
	var err error
	results[0], err = c.runSeed(first)
	var limit sim.ErrEventLimit
	if errors.As(err, &limit) {
		return nil, ErrTooBig{Nodes: c.Nodes, Duration: c.Duration, MaxEvents: c.MaxEvents(), RunMemory: c.runMemory()}
	}
	var mu sync.Mutex
	done := 1
	if progress != nil {
		progress(done, count)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, _ := c.runSeed(first + uint64(i))
				mu.Lock()
				results[i] = res
				done++
				if progress != nil {
					progress(done, count)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 1; i < count; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &ExploreReport{Config: c, Runs: count, Failures: map[string]int{}, Undecided: map[string]int{}, Labels: map[string]int{}, Wall: time.Since(start)}
	if c.Shards > 0 {
		rep.ShardsRun = []int{c.Shard}
	}
	for _, r := range results {
		rep.Events += r.Events
		rep.Delivered += r.Delivered
		rep.Leaderships += r.Elections
		for k, v := range r.Notes {
			if rep.Notes == nil {
				rep.Notes = map[string]int{}
			}
			rep.Notes[k] += v
		}
		for _, l := range r.Labels {
			rep.Labels[l]++
		}
		for _, f := range r.Failed {
			rep.Failures[f]++
		}
		for _, u := range r.Undecided {
			rep.Undecided[u]++
		}
		if r.Err != "" {
			rep.Errors++
		}
		if len(r.Failed) > 0 || r.Err != "" {
			rep.BadSeeds++
			if len(rep.Bad) < MaxBadReported {
				rep.Bad = append(rep.Bad, r)
			}
		}
	}
	return rep, nil
}

// Unexpected lists every verdict of the campaign that is not what was
// expected: a run that errored (always unexpected), a check that failed in
// some seed although expected to pass, a check in expectFail that passed in
// every seed (judged only when every shard is in the report). Empty means
// the campaign came out as expected.
func (r *ExploreReport) Unexpected(expectFail []string) []string {
	var out []string
	if r.Errors > 0 {
		out = append(out, fmt.Sprintf("%d of %d runs ended in an error (counted, not passed)", r.Errors, r.Runs))
	}
	// A shard alone may hold no seed of an expected failure: that is
	// judged on the merge of all the shards.
	partial := len(r.Missing()) > 0
	for _, k := range r.CheckNames() {
		if u := r.Undecided[k+": "+string(check.Unknown)]; u > 0 {
			out = append(out, fmt.Sprintf("%s: no verdict (unknown) in %d seeds", k, u))
		}
		n := r.Failures[k]
		switch want := slices.Contains(expectFail, k); {
		case want && n == 0 && !partial:
			out = append(out, fmt.Sprintf("%s: expected to fail in some seed, passed in all %d", k, r.Runs-r.Errors))
		case !want && n > 0:
			out = append(out, fmt.Sprintf("%s: failed in %d seeds", k, n))
		}
	}
	return out
}

// CheckNames are the checks the campaign ran.
func (r *ExploreReport) CheckNames() []string {
	if r.Config.Checks != nil {
		return r.Config.Checks
	}
	return ChecksFor(r.Config.Protocol)
}

// MergeReports combines the reports of shards of one campaign (JSON of
// `ordo explore --shard K/N --json`): same configuration but for the
// shard, no shard twice. The findings are re-sorted by seed and bounded
// again; Wall is the slowest shard's.
func MergeReports(reps []*ExploreReport) (*ExploreReport, error) {
	if len(reps) == 0 {
		return nil, fmt.Errorf("merge: no reports")
	}
	base := reps[0].Config
	base.Shard = 0
	out := &ExploreReport{Config: base, Failures: map[string]int{}, Undecided: map[string]int{}, Labels: map[string]int{}}
	seen := map[int]int{}
	for i, r := range reps {
		c := r.Config
		c.Shard, c.Workers = 0, base.Workers
		if !reflect.DeepEqual(normal(c), normal(base)) {
			return nil, fmt.Errorf("merge: report %d is of another campaign (%+v, want %+v)", i+1, c, base)
		}
		shards := r.ShardsRun
		if len(shards) == 0 {
			return nil, fmt.Errorf("merge: report %d is a whole campaign, not a shard (run with --shard K/N)", i+1)
		}
		for _, k := range shards {
			if j, dup := seen[k]; dup {
				return nil, fmt.Errorf("merge: shard %d/%d is in reports %d and %d", k, base.Shards, j, i+1)
			}
			seen[k] = i + 1
			out.ShardsRun = append(out.ShardsRun, k)
		}
		out.Runs += r.Runs
		out.Errors += r.Errors
		out.BadSeeds += r.BadSeeds
		out.Events += r.Events
		out.Delivered += r.Delivered
		out.Leaderships += r.Leaderships
		out.Wall = max(out.Wall, r.Wall)
		for k, v := range r.Notes {
			if out.Notes == nil {
				out.Notes = map[string]int{}
			}
			out.Notes[k] += v
		}
		for k, v := range r.Failures {
			out.Failures[k] += v
		}
		for k, v := range r.Labels {
			out.Labels[k] += v
		}
		for k, v := range r.Undecided {
			out.Undecided[k] += v
		}
		out.Bad = append(out.Bad, r.Bad...)
	}
	slices.Sort(out.ShardsRun)
	out.Merged = len(reps)
	slices.SortFunc(out.Bad, func(a, b SeedResult) int { return cmp.Compare(a.Seed, b.Seed) })
	out.Bad = out.Bad[:min(len(out.Bad), MaxBadReported)]
	return out, nil
}

// normal makes two configurations comparable: nil and empty maps and
// lists are the same.
func normal(c ExploreConfig) ExploreConfig {
	if len(c.Options) == 0 {
		c.Options = nil
	}
	if len(c.ClientOptions) == 0 {
		c.ClientOptions = nil
	}
	if len(c.Checks) == 0 {
		c.Checks = nil
	}
	return c
}

// Missing lists the shards of 1..Shards the report does not cover.
func (r *ExploreReport) Missing() []int {
	if r.Config.Shards == 0 {
		return nil
	}
	var out []int
	for k := 1; k <= r.Config.Shards; k++ {
		if !slices.Contains(r.ShardsRun, k) {
			out = append(out, k)
		}
	}
	return out
}
