package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"ordo/kv"
	"ordo/live"
	"ordo/measure"
)

// Config selects the cells and how each is measured.
type Config struct {
	Nodes    []int         // cluster sizes, each 1..MaxNodes (default 3, 5)
	Clients  []int         // concurrent closed-loop clients, each 1..MaxClients (default 1, 16, 64)
	Duration time.Duration // measured time per run (default 10 s)
	Warmup   time.Duration // unmeasured load before it (0: none; ordo bench kv's default is 2 s)
	Reps     int           // repetitions of each cell, systems interleaved (default 1)

	// Failover rounds (0: none): with FailoverClients writing to a
	// cluster of FailoverNodes, SIGKILL the leader and time the first
	// acknowledgement of a put invoked after the kill; then restart it.
	Failover        int
	FailoverNodes   int // default Nodes[0]
	FailoverClients int // default 16
	// FailoverOnly skips the cells (Nodes and Clients are then ignored,
	// but for FailoverNodes' default).
	FailoverOnly bool

	ValueSize int           // bytes per value (default 100)
	Keys      int           // key space: keys drawn uniformly from Keys keys (default 100 000)
	Seed      uint64        // keys and values
	OpTimeout time.Duration // one put's deadline (default 10 s)
	Dir       string        // data of both systems, in subdirectories (required)

	Ordo, Etcd System
	// Rounds breaks ordo's writes down into its leader's rounds over each
	// cell's measured windows (Cell.Rounds), from its nodes' traces read
	// once each cluster size is done (System's Driver: a Rounder).
	Rounds bool
	// Progress, if set, receives one line per run (stderr in ordo bench).
	Progress io.Writer
}

// Bounds of a configuration.
const (
	MaxNodes    = 9
	MaxReps     = 100
	MaxFailover = 1000
	MaxDuration = time.Hour
	MaxValue    = 1 << 20
	MaxKeys     = 1 << 30
)

// Cell is one nodes × clients cell: medians over the repetitions.
type Cell struct {
	Nodes       int     `json:"nodes"`
	Clients     int     `json:"clients"`
	OrdoOpsPerS float64 `json:"ordo_ops_per_s"`
	EtcdOpsPerS float64 `json:"etcd_ops_per_s"`
	Ratio       float64 `json:"ratio"` // median over reps of ordo/etcd ops per second
	OrdoP99Ms   float64 `json:"ordo_p99_ms"`
	EtcdP99Ms   float64 `json:"etcd_p99_ms"`
	OrdoP50Ms   float64 `json:"ordo_p50_ms"`
	EtcdP50Ms   float64 `json:"etcd_p50_ms"`
	OrdoMaxMs   float64 `json:"ordo_max_ms"`
	EtcdMaxMs   float64 `json:"etcd_max_ms"`
	OrdoErrors  int64   `json:"ordo_errors"`
	// CPU time per acknowledged put (medians; 0: not measured): all the
	// system's server processes, and the bench's own process (clients).
	OrdoServerCPUUs float64 `json:"ordo_server_cpu_us_per_op"`
	EtcdServerCPUUs float64 `json:"etcd_server_cpu_us_per_op"`
	OrdoClientCPUUs float64 `json:"ordo_client_cpu_us_per_op"`
	EtcdClientCPUUs float64 `json:"etcd_client_cpu_us_per_op"`
	// OrdoPutsPerRequest is the mean batch of ordo's client (median; 0:
	// unbatched).
	OrdoPutsPerRequest float64   `json:"ordo_puts_per_request,omitempty"`
	EtcdErrors         int64     `json:"etcd_errors"`
	Reps               int       `json:"reps"`
	Ratios             []float64 `json:"ratios"` // per rep, in order
	// Rounds is where ordo's write rounds went over the measured windows
	// of every rep (Config.Rounds; nil: not asked for).
	Rounds     *kv.RoundBreakdown `json:"rounds,omitempty"`
	Ordo, Etcd []Stats            `json:"-"` // per rep
	DurationS  float64            `json:"duration_s"`
}

// FailoverStats are one system's failover rounds.
type FailoverStats struct {
	Rounds  int       `json:"rounds"`
	P50Ms   float64   `json:"p50_ms"`
	P99Ms   float64   `json:"p99_ms"`
	MaxMs   float64   `json:"max_ms"`
	TimesMs []float64 `json:"times_ms"` // per round: SIGKILL to the first ack of a put invoked after it
}

// Failover compares the two systems' failover rounds.
type Failover struct {
	Nodes   int           `json:"nodes"`
	Clients int           `json:"clients"`
	Ordo    FailoverStats `json:"ordo"`
	Etcd    FailoverStats `json:"etcd"`
}

// Result is a whole bench run.
type Result struct {
	Config   Config    `json:"-"`
	Cells    []Cell    `json:"cells"`
	Failover *Failover `json:"failover,omitempty"`
	// Series are latency-over-time pictures: one per system for the first
	// repetition of every cell and for the failover rounds (WriteSVG).
	Series []Series `json:"-"`
	// Title heads the picture ("": ordo bench kv's).
	Title      string `json:"-"`
	Filesystem string `json:"filesystem"`
	Warning    string `json:"warning,omitempty"`
}

// Series is one system's latencies over one run (or a chain of failover
// rounds), subsampled for a picture.
type Series struct {
	Title  string  // e.g. "3 nodes, 16 clients" or "failover, 3 nodes"
	System string  // "ordo" or "etcd"
	Points []Point // time order not required
	Faults []Fault // shaded periods
	EndMs  float64 // length of the run
}

// Point is one acknowledged put: invoked at TMs (ms since the run's
// start), acknowledged LatMs later.
type Point struct{ TMs, LatMs float64 }

// Fault is a period with a fault in force: from the SIGKILL of the leader
// to the first acknowledged put invoked after it.
type Fault struct {
	FromMs, ToMs float64
	Label        string // the shaded period's tooltip ("": a leader kill until the next acknowledged put)
}

// maxPoints bounds a series' points (an SVG a browser opens quickly).
const maxPoints = 3000

func (c *Config) defaults() error {
	if len(c.Nodes) == 0 {
		c.Nodes = []int{3, 5}
	}
	if len(c.Clients) == 0 {
		c.Clients = []int{1, 16, 64}
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Reps == 0 {
		c.Reps = 1
	}
	if c.FailoverNodes == 0 {
		c.FailoverNodes = c.Nodes[0]
	}
	if c.FailoverClients == 0 {
		c.FailoverClients = 16
	}
	if c.ValueSize == 0 {
		c.ValueSize = 100
	}
	if c.Keys == 0 {
		c.Keys = 100_000
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = 10 * time.Second
	}
	for _, n := range append(slices.Clone(c.Nodes), c.FailoverNodes) {
		if n < 1 || n > MaxNodes {
			return fmt.Errorf("nodes %d: want 1..%d", n, MaxNodes)
		}
	}
	for _, n := range append(slices.Clone(c.Clients), c.FailoverClients) {
		if n < 1 || n > MaxClients {
			return fmt.Errorf("clients %d: want 1..%d", n, MaxClients)
		}
	}
	switch {
	case c.Duration < 0 || c.Duration > MaxDuration:
		return fmt.Errorf("duration %v: want up to %v", c.Duration, MaxDuration)
	case c.Warmup < 0 || c.Warmup > MaxDuration:
		return fmt.Errorf("warm-up %v: want 0..%v", c.Warmup, MaxDuration)
	case c.Reps < 1 || c.Reps > MaxReps:
		return fmt.Errorf("reps %d: want 1..%d", c.Reps, MaxReps)
	case c.Failover < 0 || c.Failover > MaxFailover:
		return fmt.Errorf("failover %d: want 0..%d rounds", c.Failover, MaxFailover)
	case c.FailoverOnly && c.Failover == 0:
		return errors.New("failover only, but no failover rounds")
	case c.ValueSize < 1 || c.ValueSize > MaxValue:
		return fmt.Errorf("value size %d: want 1..%d bytes", c.ValueSize, MaxValue)
	case c.Keys < 1 || c.Keys > MaxKeys:
		return fmt.Errorf("keys %d: want 1..%d", c.Keys, MaxKeys)
	case c.OpTimeout < 0:
		return fmt.Errorf("op timeout %v: want > 0", c.OpTimeout)
	case c.Dir == "":
		return errors.New("bench: Config.Dir is required")
	case c.Ordo.Start == nil || c.Etcd.Start == nil:
		return errors.New("bench: both systems need a Start")
	}
	return nil
}

// Run measures every cell, then the failover rounds. For each cluster
// size it starts both systems (each in its own subdirectory of Dir), runs
// the cells of every client count Reps times with the systems alternating
// who goes first, and stops them. Errors: a bad Config, a system that
// does not start, a run where one system acknowledged no put at all.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Filesystem: live.Filesystem(cfg.Dir)}
	if res.Filesystem == "tmpfs" {
		res.Warning = cfg.Dir + " is on tmpfs, where fsync costs nothing: run from a directory on a real disk"
	}
	for _, n := range cfg.Nodes {
		if cfg.FailoverOnly {
			break
		}
		cells, series, err := runSize(ctx, cfg, n)
		res.Cells = append(res.Cells, cells...)
		res.Series = append(res.Series, series...)
		if err != nil {
			return res, err
		}
	}
	if cfg.Failover > 0 {
		f, series, err := runFailover(ctx, cfg)
		res.Failover = f
		res.Series = append(res.Series, series...)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// pair is the two systems of a cluster size, started.
type pair struct {
	sys [2]System
	drv [2]Driver
}

func (p *pair) close() error {
	var errs []error
	for i, d := range p.drv {
		if d != nil {
			if err := d.Close(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.sys[i].Name, err))
			}
			p.drv[i] = nil // closed once, whoever closes first
		}
	}
	return errors.Join(errs...)
}

func startPair(ctx context.Context, cfg Config, n int, tag string) (*pair, error) {
	p := &pair{sys: [2]System{cfg.Ordo, cfg.Etcd}}
	for i, s := range p.sys {
		dir := filepath.Join(cfg.Dir, fmt.Sprintf("%s-%s%d", s.Name, tag, n))
		progress(cfg, "starting %s, %d nodes, in %s", s.Name, n, dir)
		d, err := s.Start(ctx, n, dir)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("starting %s (%d nodes): %w", s.Name, n, err)
		}
		p.drv[i] = d
	}
	return p, nil
}

func runSize(ctx context.Context, cfg Config, n int) ([]Cell, []Series, error) {
	p, err := startPair(ctx, cfg, n, "n")
	if err != nil {
		return nil, nil, err
	}
	defer p.close()
	cells := make([]Cell, len(cfg.Clients))
	var series []Series
	periods := make([][]Period, len(cfg.Clients)) // ordo's measured windows, by cell
	for i, c := range cfg.Clients {
		cells[i] = Cell{Nodes: n, Clients: c, Reps: cfg.Reps, DurationS: cfg.Duration.Seconds()}
	}
	for rep := range cfg.Reps {
		for i, c := range cfg.Clients {
			var st [2]Stats
			order := []int{0, 1}
			if rep%2 == 1 {
				order = []int{1, 0}
			}
			for _, k := range order {
				if err := ctx.Err(); err != nil {
					return finish(cells), series, err
				}
				l := newLoad(p.drv[k], c, cfg.ValueSize, cfg.Keys, cfg.Seed+uint64(rep), cfg.OpTimeout)
				rctx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
				cpu := cpuWindow(ctx, p.drv[k], cfg.Warmup, cfg.Duration)
				l.run(rctx)
				cancel()
				if k == 0 {
					from := l.start.Add(cfg.Warmup)
					periods[i] = append(periods[i], Period{from, from.Add(cfg.Duration)})
				}
				use := <-cpu
				if e := l.forkErr.Load(); e != nil {
					return finish(cells), series, fmt.Errorf("%s: a client: %w", p.sys[k].Name, *e)
				}
				s, in := l.window(cfg.Warmup, cfg.Warmup+cfg.Duration)
				if use.ok && s.Ops > 0 {
					s.ServerCPUUsPerOp = float64(use.server.Microseconds()) / float64(s.Ops)
					s.ClientCPUUsPerOp = float64(use.client.Microseconds()) / float64(s.Ops)
				}
				if use.requests > 0 {
					s.PutsPerRequest = float64(use.puts) / float64(use.requests)
				}
				st[k] = s
				progress(cfg, "%d nodes, %2d clients, rep %d/%d: %s %8.0f ops/s  p50 %6.2f ms  p99 %7.2f ms  max %7.1f ms  errors %d  CPU/op: servers %.0f µs, client %.0f µs",
					n, c, rep+1, cfg.Reps, p.sys[k].Name, s.OpsPerS, s.P50Ms, s.P99Ms, s.MaxMs, s.Errors, s.ServerCPUUsPerOp, s.ClientCPUUsPerOp)
				if rep == 0 {
					series = append(series, Series{Title: fmt.Sprintf("%d nodes, %d clients", n, c), System: p.sys[k].Name,
						Points: points(in, cfg.Warmup, maxPoints), EndMs: ms(cfg.Duration)})
				}
				if s.Ops == 0 {
					return finish(cells), series, fmt.Errorf("%s acknowledged no put in %v (%d nodes, %d clients, %d errors)", p.sys[k].Name, cfg.Duration, n, c, s.Errors)
				}
			}
			cells[i].Ordo = append(cells[i].Ordo, st[0])
			cells[i].Etcd = append(cells[i].Etcd, st[1])
		}
	}
	if cfg.Rounds {
		r, ok := p.drv[0].(Rounder)
		if !ok {
			return finish(cells), series, fmt.Errorf("%s cannot break its writes down into rounds", p.sys[0].Name)
		}
		if err := p.close(); err != nil { // the traces are complete once the nodes stop
			return finish(cells), series, err
		}
		bs, err := r.Rounds(periods)
		for i := range cells {
			if i < len(bs) {
				cells[i].Rounds = bs[i]
			}
		}
		if err != nil {
			return finish(cells), series, fmt.Errorf("%s, %d nodes: rounds: %w", p.sys[0].Name, n, err)
		}
	}
	return finish(cells), series, nil
}

// finish fills each cell's medians from its per-rep stats.
func finish(cells []Cell) []Cell {
	var out []Cell
	for _, c := range cells {
		if len(c.Ordo) == 0 {
			continue
		}
		med := func(xs []Stats, f func(Stats) float64) float64 {
			v := make([]float64, len(xs))
			for i, x := range xs {
				v[i] = f(x)
			}
			return median(v)
		}
		c.Reps = len(c.Ordo)
		c.Ratios = nil
		for i := range c.Ordo {
			r := 0.0
			if c.Etcd[i].OpsPerS > 0 {
				r = c.Ordo[i].OpsPerS / c.Etcd[i].OpsPerS
			}
			c.Ratios = append(c.Ratios, r)
		}
		c.Ratio = median(c.Ratios)
		c.OrdoOpsPerS = med(c.Ordo, func(s Stats) float64 { return s.OpsPerS })
		c.EtcdOpsPerS = med(c.Etcd, func(s Stats) float64 { return s.OpsPerS })
		c.OrdoP50Ms = med(c.Ordo, func(s Stats) float64 { return s.P50Ms })
		c.EtcdP50Ms = med(c.Etcd, func(s Stats) float64 { return s.P50Ms })
		c.OrdoP99Ms = med(c.Ordo, func(s Stats) float64 { return s.P99Ms })
		c.EtcdP99Ms = med(c.Etcd, func(s Stats) float64 { return s.P99Ms })
		c.OrdoMaxMs = med(c.Ordo, func(s Stats) float64 { return s.MaxMs })
		c.EtcdMaxMs = med(c.Etcd, func(s Stats) float64 { return s.MaxMs })
		c.OrdoServerCPUUs = med(c.Ordo, func(s Stats) float64 { return s.ServerCPUUsPerOp })
		c.EtcdServerCPUUs = med(c.Etcd, func(s Stats) float64 { return s.ServerCPUUsPerOp })
		c.OrdoClientCPUUs = med(c.Ordo, func(s Stats) float64 { return s.ClientCPUUsPerOp })
		c.EtcdClientCPUUs = med(c.Etcd, func(s Stats) float64 { return s.ClientCPUUsPerOp })
		c.OrdoPutsPerRequest = med(c.Ordo, func(s Stats) float64 { return s.PutsPerRequest })
		c.OrdoErrors, c.EtcdErrors = 0, 0
		for i := range c.Ordo {
			c.OrdoErrors += c.Ordo[i].Errors
			c.EtcdErrors += c.Etcd[i].Errors
		}
		out = append(out, c)
	}
	return out
}

// median of xs (the mean of the middle two for an even count); 0 if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// points subsamples a run's puts for a picture: at most about budget of
// them, every k-th plus the slowest of each of 100 time slices (the
// spikes are what a reader looks for), times shifted by -shift.
func points(in []sample, shift time.Duration, budget int) []Point {
	if len(in) == 0 {
		return nil
	}
	const slices = 100
	k := max(1, len(in)/max(1, budget-slices))
	first, last := in[0].at, in[0].at
	for _, s := range in {
		first, last = min(first, s.at), max(last, s.at)
	}
	width := (last-first)/slices + 1
	slowest := make([]int, slices+1)
	for i := range slowest {
		slowest[i] = -1
	}
	var out []Point
	for i, s := range in {
		b := int((s.at - first) / width)
		if slowest[b] < 0 || s.lat > in[slowest[b]].lat {
			slowest[b] = i
		}
		if i%k == 0 {
			out = append(out, Point{ms(s.at - shift), ms(s.lat)})
		}
	}
	for _, i := range slowest {
		if i >= 0 && i%k != 0 {
			out = append(out, Point{ms(in[i].at - shift), ms(in[i].lat)})
		}
	}
	return out
}

// failoverRound is one system's round: the recovery time, its samples
// and the kill's moment (both since the load's start).
func failoverRound(ctx context.Context, cfg Config, d Driver, seed uint64) (recov time.Duration, in []sample, kill, end time.Duration, err error) {
	const (
		steady = time.Second            // writes before the kill
		after  = 500 * time.Millisecond // writes after recovery, to see it in the picture
		bound  = 60 * time.Second       // no recovery within it: the round fails
	)
	l := newLoad(d, cfg.FailoverClients, cfg.ValueSize, cfg.Keys, seed, cfg.OpTimeout)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.run(lctx); close(done) }()
	defer func() {
		stop()
		<-done
	}()
	select {
	case <-time.After(steady):
	case <-ctx.Done():
		return 0, nil, 0, 0, ctx.Err()
	}
	if e := l.forkErr.Load(); e != nil {
		return 0, nil, 0, 0, fmt.Errorf("a client: %w", *e)
	}
	lctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	leader, err := d.Leader(lctx2)
	cancel()
	if err != nil {
		return 0, nil, 0, 0, err
	}
	kill = time.Since(l.start)
	l.killAt.Store(int64(kill))
	if err := d.Kill(leader); err != nil {
		return 0, nil, 0, 0, err
	}
	select {
	case <-l.acked:
	case <-time.After(bound):
		return 0, nil, 0, 0, fmt.Errorf("no put acknowledged within %v of killing leader %d", bound, leader)
	case <-ctx.Done():
		return 0, nil, 0, 0, ctx.Err()
	}
	recov = time.Duration(l.firstAck.Load()) - kill
	time.Sleep(after)
	stop()
	<-done
	end = time.Since(l.start)
	_, in = l.window(0, end)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := d.Restart(rctx, leader); err != nil {
		return 0, nil, 0, 0, fmt.Errorf("restarting node %d after the kill: %w", leader, err)
	}
	return recov, in, kill, end, nil
}

func runFailover(ctx context.Context, cfg Config) (*Failover, []Series, error) {
	n := cfg.FailoverNodes
	p, err := startPair(ctx, cfg, n, "failover-n")
	if err != nil {
		return nil, nil, err
	}
	defer p.close()
	var times [2][]time.Duration
	series := [2]Series{}
	for k := range 2 {
		series[k] = Series{Title: fmt.Sprintf("%s failover, %d nodes, %d clients, %d rounds: leader SIGKILLed (shaded until the next acknowledged put)", p.sys[k].Name, n, cfg.FailoverClients, cfg.Failover), System: p.sys[k].Name}
	}
	f := &Failover{Nodes: n, Clients: cfg.FailoverClients}
	fill := func() {
		for k, fs := range []*FailoverStats{&f.Ordo, &f.Etcd} {
			*fs = FailoverStats{Rounds: len(times[k])}
			for _, t := range times[k] {
				fs.TimesMs = append(fs.TimesMs, ms(t))
			}
			if len(times[k]) > 0 {
				fs.P50Ms = ms(measure.Percentile(times[k], 50))
				fs.P99Ms = ms(measure.Percentile(times[k], 99))
				fs.MaxMs = ms(slices.Max(times[k]))
			}
		}
	}
	for r := range cfg.Failover {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			recov, in, kill, end, err := failoverRound(ctx, cfg, p.drv[k], cfg.Seed+uint64(r))
			if err != nil {
				fill()
				return f, series[:], fmt.Errorf("%s failover round %d: %w", p.sys[k].Name, r+1, err)
			}
			times[k] = append(times[k], recov)
			off := series[k].EndMs
			for _, pt := range points(in, 0, max(200, maxPoints/cfg.Failover)) {
				series[k].Points = append(series[k].Points, Point{pt.TMs + off, pt.LatMs})
			}
			series[k].Faults = append(series[k].Faults, Fault{FromMs: off + ms(kill), ToMs: off + ms(kill+recov)})
			series[k].EndMs = off + ms(end)
			progress(cfg, "failover round %d/%d: %s: %v from SIGKILL of the leader to the next acknowledged put", r+1, cfg.Failover, p.sys[k].Name, recov.Round(time.Millisecond))
		}
	}
	fill()
	return f, series[:], nil
}

func progress(cfg Config, format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, format+"\n", args...)
	}
}
