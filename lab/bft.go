package lab

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"ordo"
	"ordo/check"
	"ordo/pbft"
	"ordo/sim"
	"ordo/trace"
)

// The 3f+1 line over many seeds (issue 14, the chapter's section 5,
// "Byzantine failure"): PBFT in the simulator with f Byzantine replicas of
// one behaviour, chosen from the seed, a closed-loop client workload, wire
// mode and authenticated links (as the pbft scenarios run it), each run
// judged online by byzantine-agreement and validity. With n >= 3f+1 the
// replicas run with their own quorums (⌈(n+f+1)/2⌉); below, they would
// refuse to start, so the run sets unsafe_quorum to n − f, the largest
// quorum the correct replicas still make on their own (a larger one
// stalls, which is safe and shows nothing): two such quorums meet in
// 2(n−f) − n = n − 2f replicas, all of them liars when n ≤ 3f.
// `ordo bench bft` is the shell around it.

// BFTChecks are the checks every run of a BFT campaign is judged by.
var BFTChecks = []string{"byzantine-agreement", "validity"}

// Bounds and defaults of a BFT campaign.
const (
	MinBFTNodes = 3
	MaxBFTNodes = 32 // messages per request grow as n²; the table's 10 with room
	MaxBFTF     = 3
	// MaxBFTSeeds bounds the seeds of one cell of a campaign (per
	// behaviour); MaxBFTRuns the runs of a whole grid.
	MaxBFTSeeds    = 1_000_000
	MaxBFTRuns     = 10_000_000
	MaxBFTOps      = 1000 // requests per client
	MaxBFTClients  = 8
	MinBFTDuration = 500 * time.Millisecond
	MaxBFTDuration = time.Minute

	DefaultBFTClients  = 2
	DefaultBFTOps      = 10
	DefaultBFTDuration = 3 * time.Second
)

// BFTConfig is one run's configuration less its seed: n replicas, f of them
// Byzantine with one behaviour, a workload of clients, a duration.
type BFTConfig struct {
	N         int           `json:"n"`
	F         int           `json:"f"`
	Behaviour sim.Behaviour `json:"behaviour"`
	Clients   int           `json:"clients"`     // pbft-client nodes (0: DefaultBFTClients)
	Ops       int           `json:"ops"`         // requests each client issues (0: DefaultBFTOps)
	Duration  time.Duration `json:"duration_ns"` // simulated time per run (0: DefaultBFTDuration)
	// Auth is how the links authenticate (sim.Network.Auth): "" or
	// sim.AuthMAC per-pair MACs, sim.AuthEd25519 signatures. It changes
	// the simulator's CPU time, never a run.
	Auth string `json:"auth,omitempty"`
}

func (c BFTConfig) withDefaults() BFTConfig {
	if c.Clients == 0 {
		c.Clients = DefaultBFTClients
	}
	if c.Ops == 0 {
		c.Ops = DefaultBFTOps
	}
	if c.Duration == 0 {
		c.Duration = DefaultBFTDuration
	}
	return c
}

// Check rejects a configuration that cannot run: n outside
// MinBFTNodes..MaxBFTNodes, f outside 1..MaxBFTF or not below n (a client
// waits for f+1 matching replies), an unknown behaviour, a workload or
// duration out of bounds.
func (c BFTConfig) Check() error {
	c = c.withDefaults()
	switch {
	case c.N < MinBFTNodes || c.N > MaxBFTNodes:
		return fmt.Errorf("-n %d: need %d..%d replicas", c.N, MinBFTNodes, MaxBFTNodes)
	case c.F < 1 || c.F > MaxBFTF:
		return fmt.Errorf("-f %d: need 1..%d Byzantine replicas", c.F, MaxBFTF)
	case c.F >= c.N:
		return fmt.Errorf("-n %d -f %d: f must be below n (no correct replica is left to judge)", c.N, c.F)
	case !slices.Contains(sim.Behaviours, c.Behaviour):
		return fmt.Errorf("--behaviour %q: want one of %s", c.Behaviour, BehaviourNames())
	case c.Clients < 1 || c.Clients > MaxBFTClients:
		return fmt.Errorf("--clients %d: need 1..%d", c.Clients, MaxBFTClients)
	case c.Ops < 1 || c.Ops > MaxBFTOps:
		return fmt.Errorf("--ops %d: need 1..%d requests per client", c.Ops, MaxBFTOps)
	case c.Duration < MinBFTDuration || c.Duration > MaxBFTDuration:
		return fmt.Errorf("--duration %v: need %v..%v of simulated time per run", c.Duration, MinBFTDuration, MaxBFTDuration)
	case c.Auth != "" && !slices.Contains(sim.AuthModes, c.Auth):
		return fmt.Errorf("--auth %q: want %s (per-pair MACs, the default) or %s (signatures)", c.Auth, sim.AuthMAC, sim.AuthEd25519)
	}
	return nil
}

// BehaviourNames is sim.Behaviours as "equivocate, forge, ...".
func BehaviourNames() string {
	s := make([]string, len(sim.Behaviours))
	for i, b := range sim.Behaviours {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// Safe reports whether n >= 3f+1: the replicas run with their own quorums.
func (c BFTConfig) Safe() bool { return c.N >= 3*c.F+1 }

// UnsafeQuorum is the unsafe_quorum option of the runs: 0 (off) when n >=
// 3f+1, else n − f.
func (c BFTConfig) UnsafeQuorum() int {
	if c.Safe() {
		return 0
	}
	return c.N - c.F
}

// Quorum is the quorum the replicas run with.
func (c BFTConfig) Quorum() int {
	q, err := pbft.QuorumsFor(c.N, c.F, c.UnsafeQuorum())
	if err != nil {
		return 0
	}
	return q.Q
}

// bftLiarStream keeps the choice of liars apart from every draw of the
// simulator's (which derives its own streams from the seed).
const bftLiarStream = 0x3f_1b_f7

// Liars are the Byzantine replicas of a seed, sorted: on odd seeds the
// primary of view 0 (replica 1) and f−1 backups, on even seeds f backups,
// the backups drawn from the seed. Half the runs face a lying primary, the
// position where an equivocation does the most harm.
func (c BFTConfig) Liars(seed uint64) []ordo.NodeID {
	if c.N < 2 || c.F < 1 || c.F >= c.N {
		return nil // no such configuration (Check says why)
	}
	r := rand.New(rand.NewPCG(seed, bftLiarStream))
	backups := r.Perm(c.N - 1) // 0..n-2: replicas 2..n
	var out []ordo.NodeID
	k := c.F
	if seed%2 == 1 {
		out = append(out, 1)
		k--
	}
	for _, b := range backups[:k] {
		out = append(out, ordo.NodeID(b+2))
	}
	slices.Sort(out)
	return out
}

// PrimaryLies reports whether the seed's liars include the primary of view 0.
func PrimaryLies(seed uint64) bool { return seed%2 == 1 }

// SimConfig is the simulator configuration of one seed (traced: keep the
// trace; the campaign runs untraced, its checks online).
func (c BFTConfig) SimConfig(seed uint64, traced bool) (sim.Config, error) {
	if err := c.Check(); err != nil {
		return sim.Config{}, err
	}
	c = c.withDefaults()
	opts, err := pbft.Protocol.Resolve(c.ServerOptions())
	if err != nil {
		return sim.Config{}, err
	}
	copts, err := pbft.ClientProtocol.Resolve(c.ClientOptions())
	if err != nil {
		return sim.Config{}, err
	}
	var byz []sim.Byzantine
	for _, id := range c.Liars(seed) {
		byz = append(byz, sim.Byzantine{Node: id, Behaviour: c.Behaviour})
	}
	return sim.Config{
		Protocol: pbft.Protocol, Options: opts, Nodes: c.N, Seed: seed, Trace: traced,
		Clients:   []sim.ClientGroup{{Protocol: pbft.ClientProtocol, Options: copts, Count: c.Clients}},
		Network:   sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}, Authenticated: true, Auth: c.Auth},
		Wire:      true,
		Byzantine: byz,
		Name:      c.Name(),
	}, nil
}

// ServerOptions are the replicas' options: f, and unsafe_quorum below 3f+1.
func (c BFTConfig) ServerOptions() map[string]string {
	o := map[string]string{"f": strconv.Itoa(c.F)}
	if q := c.UnsafeQuorum(); q > 0 {
		o["unsafe_quorum"] = strconv.Itoa(q)
	}
	return o
}

// ClientOptions are the clients' options: their requests, and f (a
// result is accepted from f+1 matching replies).
func (c BFTConfig) ClientOptions() map[string]string {
	c = c.withDefaults()
	return map[string]string{"ops": strconv.Itoa(c.Ops), "f": strconv.Itoa(c.F)}
}

// Name names a run's configuration in its trace.
func (c BFTConfig) Name() string {
	return fmt.Sprintf("bft-n%d-f%d-%s", c.N, c.F, c.Behaviour)
}

// BFTSeed is one seed's outcome.
type BFTSeed struct {
	Seed   uint64        `json:"seed"`
	Liars  []ordo.NodeID `json:"liars"`
	Failed []string      `json:"failed,omitempty"`
	// Violation is the first violation's message, prefixed by its check.
	Violation string `json:"violation,omitempty"`
	// Undecided lists "check: verdict" of the checks without a verdict.
	Undecided []string `json:"undecided,omitempty"`
	Err       string   `json:"error,omitempty"`
	Lies      int      `json:"lies"`
	Events    uint64   `json:"events"`
}

// Bad reports whether the seed broke a check or could not run.
func (s *BFTSeed) Bad() bool { return len(s.Failed) > 0 || s.Err != "" }

// BFTRun runs one seed, judging it online (no trace kept).
func BFTRun(c BFTConfig, seed uint64) (BFTSeed, error) {
	res := BFTSeed{Seed: seed, Liars: c.Liars(seed)}
	cfg, err := c.SimConfig(seed, false)
	if err != nil {
		res.Err = err.Error()
		return res, err
	}
	on, err := newOnline(BFTChecks)
	if err != nil {
		res.Err = err.Error()
		return res, err
	}
	cfg.Observer = on
	s, err := sim.New(cfg)
	if err == nil {
		err = s.RunUntil(c.withDefaults().Duration)
	}
	if err != nil {
		res.Err = err.Error()
		return res, err
	}
	on.sess.End(s.LastEventTime())
	res.Lies, res.Events = s.Stats().Byzantine, s.Events()
	for _, r := range on.sess.Results() {
		switch {
		case r.Failed():
			res.Failed = append(res.Failed, r.Check)
			if res.Violation == "" && len(r.Violations) > 0 {
				res.Violation = r.Check + ": " + r.Violations[0].Message
			}
		case r.Verdict == check.Unknown || r.Verdict == check.NotApplicable:
			res.Undecided = append(res.Undecided, r.Check+": "+string(r.Verdict))
		}
	}
	s.Release()
	return res, nil
}

// BFTTrace runs one seed traced: the replay of a campaign's finding, its
// checks run on the stored trace.
func BFTTrace(c BFTConfig, seed uint64) (*trace.Trace, []check.Result, *sim.Stats, error) {
	cfg, err := c.SimConfig(seed, true)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.RunUntil(c.withDefaults().Duration); err != nil {
		return nil, nil, nil, err
	}
	tr := s.Trace()
	res, err := check.Run(tr, BFTChecks)
	if err != nil {
		return nil, nil, nil, err
	}
	return tr, res, s.Stats(), nil
}

// BFTCampaign is many seeds of many configurations: for each of Ns × Fs
// (f < n) and each behaviour, the seeds First .. First+Seeds−1.
type BFTCampaign struct {
	Ns         []int           `json:"n"`
	Fs         []int           `json:"f"`
	Behaviours []sim.Behaviour `json:"behaviours"`
	First      uint64          `json:"first_seed"`
	Seeds      int             `json:"seeds"`
	Clients    int             `json:"clients"`
	Ops        int             `json:"ops"`
	Duration   time.Duration   `json:"duration_ns"`
	Auth       string          `json:"auth,omitempty"` // BFTConfig.Auth
	Workers    int             `json:"-"`              // 0: GOMAXPROCS; changes no result
}

// Configs are the campaign's configurations: by n, then f, then
// behaviour; a pair with f ≥ n is left out.
func (c BFTCampaign) Configs() []BFTConfig {
	var out []BFTConfig
	for _, n := range c.Ns {
		for _, f := range c.Fs {
			if f >= n {
				continue
			}
			for _, b := range c.Behaviours {
				out = append(out, BFTConfig{N: n, F: f, Behaviour: b, Clients: c.Clients, Ops: c.Ops, Duration: c.Duration, Auth: c.Auth})
			}
		}
	}
	return out
}

// Check rejects a campaign that cannot run: each n, f and behaviour out
// of bounds (BFTConfig.Check), none or a repeated one, seeds out of
// 1..MaxBFTSeeds or past the largest seed, more than MaxBFTRuns runs in
// all, too many workers.
func (c BFTCampaign) Check() error {
	if len(c.Ns) == 0 || len(c.Fs) == 0 || len(c.Behaviours) == 0 {
		return fmt.Errorf("a BFT campaign needs at least one n, one f and one behaviour")
	}
	for _, x := range []struct {
		name string
		list []int
	}{{"-n", c.Ns}, {"-f", c.Fs}} {
		for i, v := range x.list {
			if slices.Contains(x.list[:i], v) {
				return fmt.Errorf("%s: %d given twice", x.name, v)
			}
		}
	}
	for i, b := range c.Behaviours {
		if slices.Contains(c.Behaviours[:i], b) {
			return fmt.Errorf("--behaviour: %s given twice", b)
		}
	}
	base := BFTConfig{N: MinBFTNodes + MaxBFTF, F: 1, Behaviour: c.Behaviours[0], Clients: c.Clients, Ops: c.Ops, Duration: c.Duration, Auth: c.Auth}
	for _, n := range c.Ns {
		x := base
		x.N = n
		if err := x.Check(); err != nil {
			return err
		}
	}
	for _, f := range c.Fs {
		x := base
		x.F = f
		if err := x.Check(); err != nil {
			return err
		}
	}
	for _, b := range c.Behaviours {
		x := base
		x.Behaviour = b
		if err := x.Check(); err != nil {
			return err
		}
	}
	if len(c.Configs()) == 0 {
		return fmt.Errorf("-n %v -f %v: no pair with f below n", c.Ns, c.Fs)
	}
	if c.Seeds < 1 || c.Seeds > MaxBFTSeeds {
		return fmt.Errorf("--seeds %d: need 1..%d", c.Seeds, MaxBFTSeeds)
	}
	if c.First > math.MaxUint64-uint64(c.Seeds-1) {
		return fmt.Errorf("--first-seed %d with --seeds %d runs past the largest seed %d", c.First, c.Seeds, uint64(math.MaxUint64))
	}
	if runs := len(c.Configs()) * c.Seeds; runs > MaxBFTRuns {
		return fmt.Errorf("%d configurations × --seeds %d = %d runs: at most %d in one campaign", len(c.Configs()), c.Seeds, runs, MaxBFTRuns)
	}
	if c.Workers < 0 || c.Workers > MaxWorkers {
		return fmt.Errorf("--workers %d: need 1..%d", c.Workers, MaxWorkers)
	}
	return nil
}

// BFTMaxReported bounds the failing seeds a BFTCell keeps.
const BFTMaxReported = 20

// BFTCell is one configuration's seeds summed up.
type BFTCell struct {
	Config BFTConfig `json:"config"`
	Quorum int       `json:"quorum"`
	Unsafe bool      `json:"unsafe"` // n < 3f+1: run with unsafe_quorum = n − f
	Runs   int       `json:"runs"`
	// Broken counts seeds with a violation (errors apart), Errors the
	// runs that could not finish: never counted as holding.
	Broken int `json:"broken"`
	Errors int `json:"errors"`
	// Failures counts seeds by failed check; PrimaryBroken the broken seeds
	// in which the primary of view 0 lied.
	Failures      map[string]int `json:"failures"`
	PrimaryBroken int            `json:"primary_broken"`
	// Undecided counts "check: verdict" of checks without a verdict.
	Undecided map[string]int `json:"undecided,omitempty"`
	Lies      int64          `json:"lies"`
	Events    uint64         `json:"events"`
	// Bad is the first failing seeds (at most BFTMaxReported), by seed.
	Bad []BFTSeed `json:"findings,omitempty"`
}

// Held reports whether every run of the cell finished and passed.
func (c *BFTCell) Held() bool { return c.Broken == 0 && c.Errors == 0 }

// BFTReport is a campaign's outcome.
type BFTReport struct {
	Campaign BFTCampaign   `json:"campaign"`
	Cells    []BFTCell     `json:"cells"` // in the order of Configs
	Runs     int           `json:"runs"`
	Wall     time.Duration `json:"wall_ns"`
}

// Cell is the cell of (n, f, behaviour), nil if the campaign has none.
func (r *BFTReport) Cell(n, f int, b sim.Behaviour) *BFTCell {
	for i := range r.Cells {
		c := &r.Cells[i].Config
		if c.N == n && c.F == f && c.Behaviour == b {
			return &r.Cells[i]
		}
	}
	return nil
}

// RunBFT runs the campaign on Workers goroutines. Each run is
// deterministic and independent and the results are summed in seed
// order, so the report but its wall time does not depend on the number
// of workers. progress, if set, is called after each run from one
// goroutine at a time.
func RunBFT(c BFTCampaign, progress func(done, total int)) (*BFTReport, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	workers := c.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	cfgs := c.Configs()
	total := len(cfgs) * c.Seeds
	rep := &BFTReport{Campaign: c, Runs: total}
	for _, cfg := range cfgs {
		cfg = cfg.withDefaults()
		rep.Cells = append(rep.Cells, BFTCell{Config: cfg, Quorum: cfg.Quorum(), Unsafe: !cfg.Safe(), Runs: c.Seeds, Failures: map[string]int{}})
	}
	next := make(chan int, workers)
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, _ := BFTRun(cfgs[i/c.Seeds], c.First+uint64(i%c.Seeds))
				mu.Lock()
				rep.Cells[i/c.Seeds].add(r)
				done++
				if progress != nil {
					progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range rep.Cells {
		rep.Cells[i].trim()
	}
	rep.Wall = time.Since(start)
	return rep, nil
}

// add counts one seed's outcome. The sums do not depend on the order of
// the calls, and the findings kept are the lowest seeds (trim), so
// neither does the cell.
func (c *BFTCell) add(r BFTSeed) {
	c.Lies += int64(r.Lies)
	c.Events += r.Events
	for _, u := range r.Undecided {
		if c.Undecided == nil {
			c.Undecided = map[string]int{}
		}
		c.Undecided[u]++
	}
	for _, f := range r.Failed {
		c.Failures[f]++
	}
	switch {
	case r.Err != "":
		c.Errors++
	case len(r.Failed) > 0:
		c.Broken++
		if PrimaryLies(r.Seed) {
			c.PrimaryBroken++
		}
	}
	if r.Bad() {
		c.Bad = append(c.Bad, r)
		if len(c.Bad) >= 4*BFTMaxReported {
			c.trim()
		}
	}
}

// trim keeps the BFTMaxReported lowest failing seeds, sorted.
func (c *BFTCell) trim() {
	slices.SortFunc(c.Bad, func(a, b BFTSeed) int { return cmp.Compare(a.Seed, b.Seed) })
	c.Bad = c.Bad[:min(len(c.Bad), BFTMaxReported)]
}

// ParseBehaviours reads "all" (every behaviour of sim.Behaviours) or a
// comma-separated list of behaviours.
func ParseBehaviours(s string) ([]sim.Behaviour, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(sim.Behaviours), nil
	}
	var out []sim.Behaviour
	for _, f := range strings.Split(s, ",") {
		b := sim.Behaviour(strings.TrimSpace(f))
		if !slices.Contains(sim.Behaviours, b) {
			return nil, fmt.Errorf("--behaviour %q: want all or one or more of %s", s, BehaviourNames())
		}
		if slices.Contains(out, b) {
			return nil, fmt.Errorf("--behaviour %q: %s given twice", s, b)
		}
		out = append(out, b)
	}
	return out, nil
}

// Unexpected lists what the campaign should not have found: a violation
// in a cell with n >= 3f+1 (a bug in pbft, or in the bound), and any run
// that could not finish. A cell below the bound that holds is not listed:
// the bound says a violation is possible there, not that every adversary
// finds one.
func (r *BFTReport) Unexpected() []string {
	var out []string
	for i := range r.Cells {
		c := &r.Cells[i]
		x := c.Config
		if c.Errors > 0 {
			out = append(out, fmt.Sprintf("n=%d f=%d %s: %d of %d runs ended in an error (counted, not held)", x.N, x.F, x.Behaviour, c.Errors, c.Runs))
		}
		if !c.Unsafe && c.Broken > 0 {
			out = append(out, fmt.Sprintf("n=%d f=%d %s: %d of %d seeds broke agreement or validity at n >= 3f+1", x.N, x.F, x.Behaviour, c.Broken, c.Runs))
		}
	}
	return out
}
