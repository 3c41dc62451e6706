package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"ordo"
)

// AllFaultKinds are the fault kinds explore can draw.
var AllFaultKinds = []string{"crash", "partition", "loss", "pause", "clock"}

// ParseFaultKinds reads "crash,partition,...".
func ParseFaultKinds(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--faults is empty (valid: %s)", strings.Join(AllFaultKinds, ","))
	}
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(AllFaultKinds, k) {
			return nil, fmt.Errorf("--faults: unknown fault kind %q (valid: %s)", k, strings.Join(AllFaultKinds, ","))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Schedule bounds for random faults.
const (
	faultStart = 500 * time.Millisecond
	settle     = 3 * time.Second // quiet time after the last fault, for eventual-leader
)

// RandomFaults draws a fault schedule from seed: faults from 0.5 s until
// duration − 3 s, each undone (restart, heal, resume, loss 0) before the
// quiet tail so that eventual-leader can be judged.
func RandomFaults(seed uint64, kinds []string, n int, duration time.Duration) []Fault {
	r := rand.New(rand.NewPCG(seed, 0x6e656d65)) // "neme"
	stop := duration - settle
	var out []Fault
	t := faultStart
	pick := func() ordo.NodeID { return ordo.NodeID(1 + r.IntN(n)) }
	for len(kinds) > 0 {
		t += time.Duration(r.ExpFloat64() * float64(400*time.Millisecond))
		if t >= stop {
			break
		}
		end := min(stop, t+50*time.Millisecond+time.Duration(r.Int64N(int64(1500*time.Millisecond))))
		switch kinds[r.IntN(len(kinds))] {
		case "crash":
			// Crashing a node that is already down does nothing, and a
			// restart only boots a node that is down.
			id := pick()
			out = append(out, Fault{At: t, Kind: Crash, Node: id}, Fault{At: end, Kind: Restart, Node: id})
		case "partition":
			perm := r.Perm(n)
			k := 1 + r.IntN(max(1, n-1))
			var a, b []ordo.NodeID
			for i, p := range perm {
				if i < k {
					a = append(a, ordo.NodeID(p+1))
				} else {
					b = append(b, ordo.NodeID(p+1))
				}
			}
			slices.Sort(a)
			slices.Sort(b)
			if len(b) == 0 {
				continue
			}
			out = append(out, Fault{At: t, Kind: Partition, Groups: [][]ordo.NodeID{a, b}}, Fault{At: end, Kind: Heal})
		case "pause":
			id := pick()
			out = append(out, Fault{At: t, Kind: Pause, Node: id}, Fault{At: min(end, t+800*time.Millisecond), Kind: Resume, Node: id})
		case "clock":
			by := time.Duration(r.Int64N(int64(4*time.Second))) - 2*time.Second
			out = append(out, Fault{At: t, Kind: ClockJump, Node: pick(), By: by})
		case "loss":
			out = append(out, Fault{At: t, Kind: Loss, Rate: 0.01 + 0.2*r.Float64()}, Fault{At: end, Kind: Loss, Rate: 0})
		}
	}
	// The quiet tail: everything back to normal.
	out = append(out, Fault{At: stop, Kind: Heal}, Fault{At: stop, Kind: Loss, Rate: 0})
	for id := 1; id <= n; id++ {
		out = append(out, Fault{At: stop, Kind: Resume, Node: ordo.NodeID(id)}, Fault{At: stop, Kind: Restart, Node: ordo.NodeID(id)})
	}
	SortFaults(out)
	return out
}

// ExploreConfig is a campaign over random fault schedules.
type ExploreConfig struct {
	Protocol string
	Options  map[string]string
	Nodes    int
	Seeds    int
	First    uint64 // first seed (seeds are First .. First+Seeds-1)
	Kinds    []string
	Duration time.Duration
	Workers  int
	Checks   []string
}

// SeedResult is one seed's outcome in a campaign.
type SeedResult struct {
	Seed       uint64
	Failed     []string
	Violations []string
	Elections  int // leaderships in the trace
	Err        error
}

// ExploreReport sums up a campaign.
type ExploreReport struct {
	Config      ExploreConfig
	Runs        int
	Failures    map[string]int // check → seeds where it failed
	Bad         []SeedResult   // seeds with a violation or an error (bounded)
	Wall        time.Duration
	Events      uint64
	Leaderships int
}

// Bounds of a campaign: the report keeps one small result per seed, and a
// traced run of a long duration holds its whole trace in memory.
const (
	MaxSeeds    = 1_000_000
	MaxWorkers  = 256
	MaxDuration = time.Hour
)

// MaxBadReported bounds the failing seeds an ExploreReport keeps.
const MaxBadReported = 200

// SpecFor is the spec of one seed of a campaign (the replay).
func (c ExploreConfig) SpecFor(seed uint64) Spec {
	return Spec{Protocol: c.Protocol, Options: c.Options, Nodes: c.Nodes, Seed: seed, Duration: c.Duration,
		Faults: RandomFaults(seed, c.Kinds, c.Nodes, c.Duration), Checks: c.Checks}
}

// Check rejects a campaign that cannot run: a protocol that is not a
// leader election or options it refuses, no seeds, seeds past the largest
// uint64, an unknown fault kind, a duration without room for the quiet
// tail, too many workers (0 workers means one per core).
func (c ExploreConfig) Check() error {
	if _, _, err := Validate(c.Protocol, c.Options, c.Nodes); err != nil {
		return err
	}
	for _, k := range c.Kinds {
		if !slices.Contains(AllFaultKinds, k) {
			return fmt.Errorf("--faults: unknown fault kind %q (valid: %s)", k, strings.Join(AllFaultKinds, ","))
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
	return nil
}

// Explore runs the campaign on Workers goroutines; each run is
// deterministic and independent, so the report does not depend on the
// number of workers. progress is called after each run (from one
// goroutine at a time).
func Explore(c ExploreConfig, progress func(done, total int)) (*ExploreReport, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if c.Workers < 1 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	results := make([]SeedResult, c.Seeds)
	var mu sync.Mutex
	done := 0
	var events uint64
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				seed := c.First + uint64(i)
				sp := c.SpecFor(seed)
				s, err := New(sp)
				var o *Outcome
				if err == nil {
					err = s.RunUntil(sp.Duration)
				}
				if err == nil {
					o, err = Finish(sp, s)
				}
				res := SeedResult{Seed: seed, Err: err}
				if o != nil {
					res.Failed = o.Failed()
					res.Violations = o.Violations()
					res.Elections = len(o.Spans)
				}
				mu.Lock()
				results[i] = res
				if s != nil {
					events += s.Events()
				}
				done++
				if progress != nil {
					progress(done, c.Seeds)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < c.Seeds; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &ExploreReport{Config: c, Runs: c.Seeds, Failures: map[string]int{}, Wall: time.Since(start), Events: events}
	for _, r := range results {
		rep.Leaderships += r.Elections
		for _, f := range r.Failed {
			rep.Failures[f]++
		}
		if (len(r.Failed) > 0 || r.Err != nil) && len(rep.Bad) < MaxBadReported {
			rep.Bad = append(rep.Bad, r)
		}
	}
	return rep, nil
}
