package resilience

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"ordo"
	"ordo/live"
)

var (
	propSeed = flag.Uint64("resilience.seed", 0, "seed for the property tests (0: seeds 1..resilience.runs)")
	propRuns = flag.Int("resilience.runs", 200, "seeds per property test")
)

// forSeeds runs prop once per seed and names the failing seed with the
// command that replays it.
func forSeeds(t *testing.T, prop func(t *testing.T, rng *rand.Rand)) {
	t.Helper()
	seeds := []uint64{*propSeed}
	if *propSeed == 0 {
		seeds = seeds[:0]
		for s := 1; s <= *propRuns; s++ {
			seeds = append(seeds, uint64(s))
		}
	}
	for _, seed := range seeds {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			prop(t, rand.New(rand.NewPCG(seed, 0x5eed)))
		})
		if !ok {
			t.Fatalf("replay: go test ./resilience -run '%s' -resilience.seed=%d", t.Name(), seed)
		}
	}
}

// Half-open never lets more than HalfOpenProbes probes through per
// half-open period (canceled probes give their slot back), an open breaker
// refuses everything until OpenFor has passed, and every state change
// follows an edge of closed → open → half-open → {closed, open}; under
// random times, outcomes and interleavings of outstanding requests.
func TestPropBreakerProbeCap(t *testing.T) {
	forSeeds(t, func(t *testing.T, rng *rand.Rand) {
		probes := 1 + rng.IntN(4)
		cfg := BreakerConfig{
			ConsecutiveFailures: rng.IntN(4), // 0: off
			OpenFor:             time.Duration(1+rng.IntN(50)) * ms,
			HalfOpenProbes:      probes,
			SuccessesToClose:    1 + rng.IntN(probes),
		}
		if cfg.ConsecutiveFailures == 0 || rng.IntN(2) == 0 {
			cfg.FailureRatio, cfg.Window, cfg.MinRequests = 0.1+0.9*rng.Float64(), time.Duration(10+rng.IntN(100))*ms, 1+rng.IntN(5)
		}
		var state State
		var openedAt, now time.Duration
		var inPeriod, changes int // probes admitted (less canceled) this half-open period
		cfg.OnChange = func(c Change) {
			legal := (c.From == Closed && c.To == Open) || (c.From == Open && c.To == HalfOpen) ||
				(c.From == HalfOpen && (c.To == Closed || c.To == Open))
			if !legal || c.From != state {
				t.Fatalf("illegal change %v→%v (model state %v)", c.From, c.To, state)
			}
			if c.To == HalfOpen && c.At-openedAt < cfg.OpenFor {
				t.Fatalf("half-opened %v after opening, OpenFor %v", c.At-openedAt, cfg.OpenFor)
			}
			if c.To == Open {
				openedAt = c.At
			}
			state, inPeriod = c.To, 0
			changes++
		}
		b, err := NewBreaker(cfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []Ticket
		for step := 0; step < 400; step++ {
			now += time.Duration(rng.IntN(5)) * ms
			if len(out) == 0 || rng.IntN(2) == 0 {
				tk, err := b.Allow(now)
				switch {
				case err == nil:
					if state == Open {
						t.Fatalf("open breaker let a request through at %v", now)
					}
					if tk.Probe() {
						inPeriod++
						if inPeriod > probes {
							t.Fatalf("%d probes in one half-open period, cap %d", inPeriod, probes)
						}
					}
					out = append(out, tk)
				case errors.Is(err, ErrOpen):
					if state != Open {
						t.Fatalf("ErrOpen in state %v", state)
					}
				case errors.Is(err, ErrProbes):
					if state != HalfOpen || inPeriod < probes {
						t.Fatalf("ErrProbes in %v with %d of %d probes", state, inPeriod, probes)
					}
				}
				continue
			}
			i := rng.IntN(len(out))
			tk := out[i]
			out = append(out[:i], out[i+1:]...)
			k := []Kind{Succeeded, Failed, Failed, Throttled, Canceled, Fatal}[rng.IntN(6)]
			before := changes
			stateBefore := b.State(now) // may half-open: a change of its own
			before = changes
			b.Record(now, tk, k)
			if k == Canceled && tk.Probe() && changes == before && stateBefore == HalfOpen && tk.gen == b.gen {
				inPeriod--
			}
			if b.Probes() > probes {
				t.Fatalf("breaker counts %d probes, cap %d", b.Probes(), probes)
			}
		}
	})
}

// Retry never grants an attempt past MaxAttempts or starting at or after
// its deadline, never waits outside [0, Cap], and, over many calls sharing
// one budget, never grants more retries than the budget allows: fewer than
// MaxTokens/2 + Ratio × successes (gRPC retry throttling's bound), and none
// while the budget is at or below half.
func TestPropRetryBudgetDeadline(t *testing.T) {
	forSeeds(t, func(t *testing.T, rng *rand.Rand) {
		maxTok := 1 + rng.IntN(20)
		ratio := float64(1+rng.IntN(1000)) / 1000
		budget, err := NewBudget(maxTok, ratio)
		if err != nil {
			t.Fatal(err)
		}
		p := RetryPolicy{
			Base:        time.Duration(1+rng.IntN(20)) * ms,
			Cap:         time.Duration(20+rng.IntN(500)) * ms,
			MaxAttempts: 1 + rng.IntN(8),
			Jitter:      Jitter(rng.IntN(4)),
			Budget:      budget,
		}
		type call struct {
			r     *Retry
			ready time.Duration // when its next attempt may start
		}
		var calls []*call
		var now time.Duration
		retries, successes := 0, 0
		for step := 0; step < 600; step++ {
			now += time.Duration(rng.IntN(10)) * ms
			if len(calls) < 8 && rng.IntN(3) == 0 {
				q := p
				if rng.IntN(2) == 0 {
					q.Deadline = DeadlineIn(now, time.Duration(rng.IntN(300))*ms)
				}
				calls = append(calls, &call{r: NewRetry(q, now), ready: now})
				continue
			}
			if len(calls) == 0 {
				continue
			}
			i := rng.IntN(len(calls))
			c := calls[i]
			if now < c.ready {
				continue
			}
			o := Outcome{Kind: []Kind{Succeeded, Failed, Failed, Throttled, Canceled}[rng.IntN(5)]}
			if o.Kind == Throttled && rng.IntN(2) == 0 {
				o.RetryAfter = time.Duration(rng.IntN(600)) * ms
			}
			if o.Kind == Succeeded {
				c.r.Succeeded()
				successes++
				calls = append(calls[:i], calls[i+1:]...)
				continue
			}
			tokensBefore := budget.Tokens()
			wait, err := c.r.Next(now, rng, o)
			if err != nil {
				calls = append(calls[:i], calls[i+1:]...)
				continue
			}
			retries++
			pol := c.r.Policy()
			switch {
			case wait < 0 || wait > pol.Cap:
				t.Fatalf("wait %v outside [0, %v]", wait, pol.Cap)
			case o.RetryAfter > wait:
				t.Fatalf("wait %v below Retry-After %v", wait, o.RetryAfter)
			case pol.Deadline.IsSet() && now+wait >= pol.Deadline.At():
				t.Fatalf("attempt at %v, deadline %v", now+wait, pol.Deadline.At())
			case c.r.Attempts() > pol.MaxAttempts:
				t.Fatalf("attempt %d of %d", c.r.Attempts(), pol.MaxAttempts)
			case tokensBefore-1000 <= int64(maxTok)*1000/2:
				t.Fatalf("retry granted with %d/1000 tokens after the charge, threshold %d", tokensBefore-1000, maxTok*1000/2)
			case int64(retries)*1000 >= int64(maxTok)*1000/2+int64(ratio*1000+0.5)*int64(successes):
				t.Fatalf("%d retries with %d successes: over budget (max %d, ratio %v)", retries, successes, maxTok, ratio)
			}
			c.ready = now + wait
		}
	})
}

// tableRun drives a table under random requests, retries and crashes and
// returns how many times each key's request was applied. A crash loses
// the in-memory table (a restart reopens it from store) and whatever the
// request in flight had not yet recorded. atomic applies an effect and
// its Finish in one step (an ordo event: both commit or neither); else a
// crash may fall between them (an HTTP handler).
func tableRun(t *testing.T, rng *rand.Rand, durableClaims, atomic bool, open func() (ordo.Storage, func() error)) map[string]int {
	st, sync := open()
	cfg := TableConfig{MaxEntries: 8, TTL: time.Hour, Store: st, Prefix: "idem/", DurableClaims: durableClaims, Sync: sync}
	var now time.Duration
	tb, err := NewTable(cfg, AtTime(now))
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]int{}
	type pending struct {
		key     string
		applied bool
	}
	var inflight []pending
	fps := map[string]Fingerprint{}
	for step := 0; step < 300; step++ {
		now += time.Duration(rng.IntN(20)) * ms
		switch r := rng.IntN(10); {
		case r < 5: // a request or a retry
			key := fmt.Sprintf("k%d", rng.IntN(6))
			if _, ok := fps[key]; !ok {
				fps[key] = FingerprintOf([]byte(key))
			}
			fp := fps[key]
			if rng.IntN(20) == 0 {
				fp = fpB // a client bug: the key reused
			}
			c, err := tb.Begin(AtTime(now), key, fp)
			if err != nil || c.Replay {
				continue
			}
			if atomic {
				applied[key]++
				if err := tb.Finish(AtTime(now), key, []byte("ok")); err != nil {
					t.Fatal(err)
				}
				continue
			}
			inflight = append(inflight, pending{key: key})
		case r < 8 && len(inflight) > 0: // the handler advances one step
			i := rng.IntN(len(inflight))
			p := &inflight[i]
			switch {
			case !p.applied && rng.IntN(4) == 0: // refused before any effect
				tb.Abort(p.key)
				inflight = append(inflight[:i], inflight[i+1:]...)
			case !p.applied:
				applied[p.key]++
				p.applied = true
			default:
				if err := tb.Finish(AtTime(now), p.key, []byte("ok")); err != nil {
					t.Fatal(err)
				}
				inflight = append(inflight[:i], inflight[i+1:]...)
			}
		case r == 9: // crash and restart: a new process, a new clock origin
			inflight = inflight[:0]
			now = time.Duration(rng.IntN(1000)) * ms
			cfg.Store, cfg.Sync = open()
			if tb, err = NewTable(cfg, AtTime(now)); err != nil {
				t.Fatal(err)
			}
		}
		if tb.Len() > cfg.MaxEntries {
			t.Fatalf("%d entries, bound %d", tb.Len(), cfg.MaxEntries)
		}
	}
	return applied
}

// The dedup table never executes one key twice, across crashes and
// restarts, when durable: in an ordo event (effect and record atomic) with
// finished entries durable, and in an HTTP handler with durable claims.
func TestPropTableOnce(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		durableClaims, atomic bool
	}{{"event", false, true}, {"handler", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			forSeeds(t, func(t *testing.T, rng *rand.Rand) {
				st := ordo.NewMemStorage()
				mem := func() (ordo.Storage, func() error) { return st, nil }
				for key, n := range tableRun(t, rng, tc.durableClaims, tc.atomic, mem) {
					if n > 1 {
						t.Fatalf("key %s applied %d times", key, n)
					}
				}
			})
		})
	}
}

// The property can fail: a handler whose claims are not durable applies a
// key twice when the crash falls between its effect and its Finish, for
// some seed among the first 50.
func TestPropTableOnceNeedsDurableClaims(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		st := ordo.NewMemStorage()
		for _, n := range tableRun(t, rng, false, false, func() (ordo.Storage, func() error) { return st, nil }) {
			if n > 1 {
				t.Logf("seed %d: double application without durable claims, as expected", seed)
				return
			}
		}
	}
	t.Fatal("no seed double-applied without durable claims: the property test cannot fail")
}

// The same property on the live runtime's DiskStorage: every crash closes
// the store and the restart reopens it from its file (what Sync committed
// is all there is).
func TestPropTableOnceDiskStorage(t *testing.T) {
	runs := 10
	if *propSeed != 0 {
		runs = 1
	}
	for i := 0; i < runs; i++ {
		seed := *propSeed
		if seed == 0 {
			seed = uint64(i + 1)
		}
		dir := t.TempDir()
		var cur *live.DiskStorage
		open := func() (ordo.Storage, func() error) {
			if cur != nil {
				if err := cur.Close(); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if cur, err = live.OpenDiskStorage(dir); err != nil {
				t.Fatal(err)
			}
			return cur, cur.Commit
		}
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		for key, n := range tableRun(t, rng, true, false, open) {
			if n > 1 {
				t.Fatalf("seed %d: key %s applied %d times (replay: go test ./resilience -run TestPropTableOnceDiskStorage -resilience.seed=%d)", seed, key, n, seed)
			}
		}
		cur.Close()
	}
}
