package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"ordo/kv"
	"ordo/measure"
)

// Putter writes.
type Putter interface {
	// Put writes value at key and returns nil once the system has
	// acknowledged it: a majority has it on disk (fsynced). An error
	// means the write was not acknowledged.
	Put(ctx context.Context, key string, value []byte) error
}

// Forker is a Driver whose closed-loop clients each need a client of
// their own (ordo's: a client session has one write in flight). Without
// it the clients share the Driver's Put, which must then be safe for
// concurrent use. A forked Putter that is an io.Closer is closed after
// the run.
type Forker interface {
	Fork() (Putter, error)
}

// Processes is a Driver that names its server processes, so that the
// bench reports the CPU time they spend per acknowledged put (Linux).
type Processes interface {
	Pids() []int
}

// Batching is a Driver whose client batches puts into requests: the bench
// reports the mean batch over each measured window.
type Batching interface {
	// BatchStats are the requests sent and the puts they carried so far.
	BatchStats() (requests, puts int64)
}

// Rounder is a Driver that can break its writes down into the rounds of
// its leader (ordo: from its nodes' traces, kv.Rounds). The bench calls
// it after Close, when the records are complete: one breakdown per set
// of periods (a cell's measured windows), nil where that set has none,
// and the errors of those joined.
type Rounder interface {
	Rounds(sets [][]Period) ([]*kv.RoundBreakdown, error)
}

// Period is a span of wall-clock time.
type Period struct{ From, To time.Time }

// Driver is one running system under test.
type Driver interface {
	Putter
	// Leader is the index 0..nodes-1 of the current leader, waiting for
	// one until ctx ends.
	Leader(ctx context.Context) (int, error)
	// Kill crashes node i with SIGKILL and waits until it is gone.
	Kill(i int) error
	// Restart starts node i again from its own disk and waits until it
	// serves.
	Restart(ctx context.Context, i int) error
	// Close stops the whole system.
	Close() error
}

// System starts a Driver: a cluster of nodes members (1..9) keeping its
// data under dir (created by the bench, on the filesystem under test).
type System struct {
	Name  string
	Start func(ctx context.Context, nodes int, dir string) (Driver, error)
	// About says how the system is configured (fsync, TLS, client), for
	// the report.
	About string
}

// Bounds of one load run.
const (
	// MaxSamples bounds the latencies one run keeps (16 bytes each): at
	// 10 s a cell, far above what two cores reach. Beyond it operations
	// are counted, not sampled (Stats.Truncated).
	MaxSamples = 1 << 22
	// MaxClients bounds the concurrent clients of a cell.
	MaxClients = 4096
	// keyDigits formats keys as "key-0000123": fixed width, as etcd's
	// own benchmark tool does.
	keyDigits = 7
)

// sample is one acknowledged operation: when it was invoked (since the
// run's start) and how long it took to be acknowledged.
type sample struct {
	at, lat time.Duration
}

// Stats summarize one system's run of one cell.
type Stats struct {
	Ops       int64   `json:"ops"`    // acknowledged puts in the measured window
	Errors    int64   `json:"errors"` // puts that failed (retried by the client loop)
	OpsPerS   float64 `json:"ops_per_s"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	Truncated bool    `json:"truncated,omitempty"` // more ops than MaxSamples: percentiles over the first ones
	// CPU time per acknowledged put in the measured window: the
	// system's server processes (all nodes) and this process (the
	// clients); 0 where it could not be read.
	ServerCPUUsPerOp float64 `json:"server_cpu_us_per_op,omitempty"`
	ClientCPUUsPerOp float64 `json:"client_cpu_us_per_op,omitempty"`
	// PutsPerRequest is the mean batch of a Batching driver's client in
	// the window (0: not batching).
	PutsPerRequest float64 `json:"puts_per_request,omitempty"`
}

// cpuUse is the CPU time used over a window.
type cpuUse struct {
	server, client time.Duration
	ok             bool
	// requests and puts a Batching driver sent in the window.
	requests, puts int64
}

// cpuWindow measures the CPU time of d's server processes and of this
// process from warmup to warmup+duration after now, the measured window
// of a run started now. The channel gets one value once the window ends
// (ok false if a process time could not be read, or ctx ended first).
func cpuWindow(ctx context.Context, d Driver, warmup, duration time.Duration) <-chan cpuUse {
	out := make(chan cpuUse, 1)
	p, ok := d.(Processes)
	if !ok {
		out <- cpuUse{}
		return out
	}
	start := time.Now()
	snap := func() (srv, self time.Duration, ok bool) {
		for _, pid := range p.Pids() {
			t, err := processCPU(pid)
			if err != nil {
				return 0, 0, false
			}
			srv += t
		}
		self, err := processCPU(os.Getpid())
		return srv, self, err == nil
	}
	go func() {
		var u cpuUse
		defer func() { out <- u }()
		sleepUntil := func(t time.Time) bool {
			select {
			case <-time.After(time.Until(t)):
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !sleepUntil(start.Add(warmup)) {
			return
		}
		s0, c0, ok0 := snap()
		b, batching := d.(Batching)
		var r0, p0 int64
		if batching {
			r0, p0 = b.BatchStats()
		}
		if !sleepUntil(start.Add(warmup + duration)) {
			return
		}
		s1, c1, ok1 := snap()
		u = cpuUse{server: s1 - s0, client: c1 - c0, ok: ok0 && ok1}
		if batching {
			r1, p1 := b.BatchStats()
			u.requests, u.puts = r1-r0, p1-p0
		}
	}()
	return out
}

// load is the closed-loop client load of one run.
type load struct {
	d         Driver
	clients   int
	valueSize int
	keys      int
	seed      uint64
	opTimeout time.Duration

	start   time.Time
	samples [][]sample // per client, in invocation order
	errors  atomic.Int64
	// killAt/firstAck: failover runs. firstAck is the acknowledgement
	// time (since start) of the first put invoked after killAt; 0: none.
	killAt   atomic.Int64
	firstAck atomic.Int64
	acked    chan struct{}
	ackOnce  sync.Once
	forkErr  atomic.Pointer[error] // a client that could not be made
}

func newLoad(d Driver, clients, valueSize, keys int, seed uint64, opTimeout time.Duration) *load {
	return &load{d: d, clients: clients, valueSize: valueSize, keys: keys, seed: seed, opTimeout: opTimeout,
		samples: make([][]sample, clients), acked: make(chan struct{})}
}

// run starts the clients and returns once ctx is done and every client
// has returned; a client invokes no put after ctx is done and the put in
// flight then finishes (bounded by opTimeout).
func (l *load) run(ctx context.Context) {
	l.start = time.Now()
	l.killAt.Store(-1)
	per := MaxSamples / l.clients
	var wg sync.WaitGroup
	for c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.client(ctx, c, per)
		}()
	}
	wg.Wait()
}

func (l *load) client(ctx context.Context, c, maxSamples int) {
	var p Putter = l.d
	if f, ok := l.d.(Forker); ok {
		var err error
		if p, err = f.Fork(); err != nil {
			l.forkErr.CompareAndSwap(nil, &err)
			return
		}
		if cl, ok := p.(io.Closer); ok {
			defer cl.Close()
		}
	}
	rng := rand.New(rand.NewPCG(l.seed, uint64(c)+1))
	value := make([]byte, l.valueSize)
	for i := range value {
		value[i] = 'a' + byte(rng.IntN(26))
	}
	key := make([]byte, 0, 16)
	var out []sample
	defer func() { l.samples[c] = out }()
	for ctx.Err() == nil {
		key = fmt.Appendf(key[:0], "key-%0*d", keyDigits, rng.IntN(l.keys))
		value[rng.IntN(len(value))] = 'a' + byte(rng.IntN(26)) // every put writes new bytes
		octx, cancel := context.WithTimeout(context.Background(), l.opTimeout)
		t0 := time.Now()
		err := p.Put(octx, string(key), value)
		t1 := time.Now()
		cancel()
		if err != nil {
			l.errors.Add(1)
			// A failed put (leader gone, election running) is retried at
			// once by the loop, after a breath that keeps a dead endpoint
			// from spinning a core.
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		at, lat := t0.Sub(l.start), t1.Sub(t0)
		if k := l.killAt.Load(); k >= 0 && int64(at) >= k {
			l.ackOnce.Do(func() {
				l.firstAck.Store(int64(t1.Sub(l.start)))
				close(l.acked)
			})
		}
		if len(out) < maxSamples {
			out = append(out, sample{at, lat})
		}
	}
}

// window summarizes the puts acknowledged in [from, to) since the run's
// start: throughput counts acknowledgements, latency is from invocation.
func (l *load) window(from, to time.Duration) (Stats, []sample) {
	var lats []time.Duration
	var in []sample
	truncated := false
	for _, s := range l.samples {
		if len(s) == MaxSamples/l.clients {
			truncated = true
		}
		for _, x := range s {
			if ack := x.at + x.lat; ack >= from && ack < to {
				lats = append(lats, x.lat)
				in = append(in, x)
			}
		}
	}
	st := summarize(lats, to-from)
	st.Errors = l.errors.Load()
	st.Truncated = truncated
	return st, in
}

// summarize gives throughput over d and nearest-rank percentiles.
func summarize(lats []time.Duration, d time.Duration) Stats {
	st := Stats{Ops: int64(len(lats))}
	if d > 0 {
		st.OpsPerS = float64(len(lats)) / d.Seconds()
	}
	if len(lats) > 0 {
		st.P50Ms = ms(measure.Percentile(lats, 50))
		st.P99Ms = ms(measure.Percentile(lats, 99))
		st.MaxMs = ms(slices.Max(lats))
	}
	return st
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
