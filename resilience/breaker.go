package resilience

import (
	"errors"
	"fmt"
	"time"
)

// State is a circuit breaker's state.
type State uint8

const (
	// Closed lets every request through and counts failures.
	Closed State = iota
	// Open refuses every request (fail fast) until OpenFor has passed.
	Open
	// HalfOpen lets at most HalfOpenProbes requests through to test
	// whether the service is back: enough successes close the breaker,
	// one failure opens it again.
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Change is one state change, as reported to BreakerConfig.OnChange.
type Change struct {
	From, To State
	// At is the monotonic reading at the change.
	At time.Duration
	// Why names the rule: "consecutive-failures", "failure-ratio",
	// "open-elapsed", "probe-failed", "probes-succeeded".
	Why string
}

// Errors of Breaker.Allow.
var (
	// ErrOpen: the breaker is open; fail fast without calling.
	ErrOpen = errors.New("resilience: circuit breaker is open")
	// ErrProbes: the breaker is half-open and its probes are all taken.
	ErrProbes = errors.New("resilience: circuit breaker is half-open and its probe cap is reached")
)

// BreakerConfig configures a Breaker. At least one trip rule must be on:
// ConsecutiveFailures > 0, or FailureRatio > 0 with a Window.
type BreakerConfig struct {
	// ConsecutiveFailures trips the breaker after this many failures in a
	// row (a count; 0 turns the rule off).
	ConsecutiveFailures int
	// Window is the length of the sliding window of the failure-ratio
	// rule, split into Buckets buckets (default 10, at most 1000); the
	// window slides one bucket at a time.
	Window  time.Duration
	Buckets int
	// FailureRatio trips the breaker once failures/requests over the
	// window reach it (a fraction in (0, 1]; 0 turns the rule off), when
	// the window holds at least MinRequests outcomes (a count; default 1).
	FailureRatio float64
	MinRequests  int
	// OpenFor is how long the breaker stays open before it half-opens;
	// default 1s.
	OpenFor time.Duration
	// HalfOpenProbes caps the requests let through while half-open (a
	// count; default 1): never more than this many per half-open period.
	HalfOpenProbes int
	// SuccessesToClose is how many probe successes close the breaker (a
	// count ≤ HalfOpenProbes; default HalfOpenProbes).
	SuccessesToClose int
	// OnChange, if set, is called at every state change, synchronously,
	// before the call that caused it returns (a protocol notes it with
	// env.Note; it must not call back into the breaker).
	OnChange func(Change)
}

// Ticket is what Allow hands out for one request; Record takes it back
// with the request's outcome. It remembers the breaker's generation, so
// an outcome arriving after the state changed (a slow request started
// while closed, answering after the breaker opened) is ignored.
type Ticket struct {
	gen   uint64
	probe bool
}

// Probe reports whether the ticket is a half-open probe.
func (t Ticket) Probe() bool { return t.probe }

// Breaker is a circuit breaker (the chapter's section 5, strategy 4: "서킷
// 브레이커: 반복적 실패 시 빠른 실패" — fail fast after repeated failures),
// a state machine driven by the caller's monotonic readings. Not safe for
// concurrent use (the HTTP Transport locks around it).
type Breaker struct {
	cfg   BreakerConfig
	state State
	gen   uint64        // bumped at every state change
	since time.Duration // when the current state began

	consecutive int // failures in a row while closed

	width   time.Duration // one bucket's span
	buckets []bucket

	probes    int // probes let through in this half-open period (not canceled)
	successes int // probe successes in this half-open period
}

type bucket struct {
	epoch         int64 // now / width when last written; -1 unused
	requests, bad int
}

// MaxBuckets bounds BreakerConfig.Buckets.
const MaxBuckets = 1000

// NewBreaker returns a closed breaker that starts at now (monotonic). It
// returns an error for a configuration with no trip rule or with a value
// out of range (negative counts, a ratio outside (0, 1], a Window shorter
// than its Buckets in nanoseconds, SuccessesToClose above HalfOpenProbes).
func NewBreaker(cfg BreakerConfig, now time.Duration) (*Breaker, error) {
	if cfg.ConsecutiveFailures < 0 || cfg.MinRequests < 0 || cfg.HalfOpenProbes < 0 || cfg.SuccessesToClose < 0 || cfg.Buckets < 0 || cfg.OpenFor < 0 || cfg.Window < 0 {
		return nil, fmt.Errorf("resilience: breaker: negative setting in %+v", cfg)
	}
	if cfg.FailureRatio < 0 || cfg.FailureRatio > 1 {
		return nil, fmt.Errorf("resilience: breaker: FailureRatio %v outside (0, 1]", cfg.FailureRatio)
	}
	if cfg.FailureRatio > 0 && cfg.Window == 0 {
		return nil, errors.New("resilience: breaker: FailureRatio needs a Window")
	}
	if cfg.ConsecutiveFailures == 0 && cfg.FailureRatio == 0 {
		return nil, errors.New("resilience: breaker: no trip rule (set ConsecutiveFailures or FailureRatio with Window)")
	}
	if cfg.Buckets == 0 {
		cfg.Buckets = 10
	}
	if cfg.Buckets > MaxBuckets {
		return nil, fmt.Errorf("resilience: breaker: %d buckets exceed MaxBuckets (%d)", cfg.Buckets, MaxBuckets)
	}
	if cfg.MinRequests == 0 {
		cfg.MinRequests = 1
	}
	if cfg.OpenFor == 0 {
		cfg.OpenFor = time.Second
	}
	if cfg.HalfOpenProbes == 0 {
		cfg.HalfOpenProbes = 1
	}
	if cfg.SuccessesToClose == 0 {
		cfg.SuccessesToClose = cfg.HalfOpenProbes
	}
	if cfg.SuccessesToClose > cfg.HalfOpenProbes {
		return nil, fmt.Errorf("resilience: breaker: SuccessesToClose %d above HalfOpenProbes %d", cfg.SuccessesToClose, cfg.HalfOpenProbes)
	}
	b := &Breaker{cfg: cfg, state: Closed, since: now}
	if cfg.FailureRatio > 0 {
		b.width = cfg.Window / time.Duration(cfg.Buckets)
		if b.width <= 0 {
			return nil, fmt.Errorf("resilience: breaker: Window %v too short for %d buckets", cfg.Window, cfg.Buckets)
		}
		b.buckets = make([]bucket, cfg.Buckets)
		for i := range b.buckets {
			b.buckets[i].epoch = -1
		}
	}
	return b, nil
}

// State returns the state at now: an open breaker whose OpenFor has
// passed half-opens here (and reports the change).
func (b *Breaker) State(now time.Duration) State {
	if b.state == Open && now-b.since >= b.cfg.OpenFor {
		b.set(now, HalfOpen, "open-elapsed")
	}
	return b.state
}

// Allow asks at now (monotonic) whether a request may be made. It returns
// a Ticket for Record, or ErrOpen (open: fail fast) or ErrProbes
// (half-open with its cap of probes taken).
func (b *Breaker) Allow(now time.Duration) (Ticket, error) {
	switch b.State(now) {
	case Open:
		return Ticket{}, ErrOpen
	case HalfOpen:
		if b.probes >= b.cfg.HalfOpenProbes {
			return Ticket{}, ErrProbes
		}
		b.probes++
		return Ticket{gen: b.gen, probe: true}, nil
	}
	return Ticket{gen: b.gen}, nil
}

// Record reports at now the outcome of the request t was issued for.
// Succeeded and Fatal (the request was bad, but the service answered)
// count as successes; Failed and Throttled as failures; Canceled (the
// caller gave up: not the service's fault) counts as neither, and a
// canceled probe frees its slot. Outcomes of tickets from an earlier
// state are ignored.
func (b *Breaker) Record(now time.Duration, t Ticket, k Kind) {
	b.State(now)
	if t.gen != b.gen {
		return
	}
	switch b.state {
	case Closed:
		switch k {
		case Succeeded, Fatal:
			b.consecutive = 0
			b.count(now, false)
		case Failed, Throttled:
			b.consecutive++
			b.count(now, true)
			if b.cfg.ConsecutiveFailures > 0 && b.consecutive >= b.cfg.ConsecutiveFailures {
				b.set(now, Open, "consecutive-failures")
				return
			}
			if b.cfg.FailureRatio > 0 && b.tripRatio(now) {
				b.set(now, Open, "failure-ratio")
			}
		}
	case HalfOpen:
		if !t.probe {
			return
		}
		switch k {
		case Succeeded, Fatal:
			b.successes++
			if b.successes >= b.cfg.SuccessesToClose {
				b.set(now, Closed, "probes-succeeded")
			}
		case Failed, Throttled:
			b.set(now, Open, "probe-failed")
		case Canceled:
			b.probes--
		}
	}
}

// Probes is the number of probes let through in the current half-open
// period and not canceled (0 unless half-open).
func (b *Breaker) Probes() int { return b.probes }

func (b *Breaker) set(now time.Duration, to State, why string) {
	from := b.state
	b.state, b.since = to, now
	b.gen++
	b.consecutive, b.probes, b.successes = 0, 0, 0
	for i := range b.buckets {
		b.buckets[i] = bucket{epoch: -1}
	}
	if b.cfg.OnChange != nil {
		b.cfg.OnChange(Change{From: from, To: to, At: now, Why: why})
	}
}

func (b *Breaker) count(now time.Duration, bad bool) {
	if b.buckets == nil {
		return
	}
	e := int64(now / b.width)
	i := int(e % int64(len(b.buckets)))
	if i < 0 {
		i += len(b.buckets)
	}
	if b.buckets[i].epoch != e {
		b.buckets[i] = bucket{epoch: e}
	}
	b.buckets[i].requests++
	if bad {
		b.buckets[i].bad++
	}
}

// Window returns the requests and failures counted in the sliding window
// ending at now (zeros when the ratio rule is off).
func (b *Breaker) Window(now time.Duration) (requests, failures int) {
	if b.buckets == nil {
		return 0, 0
	}
	e := int64(now / b.width)
	for _, bk := range b.buckets {
		if bk.epoch >= 0 && bk.epoch > e-int64(len(b.buckets)) && bk.epoch <= e {
			requests += bk.requests
			failures += bk.bad
		}
	}
	return
}

func (b *Breaker) tripRatio(now time.Duration) bool {
	req, bad := b.Window(now)
	return req >= b.cfg.MinRequests && float64(bad) >= b.cfg.FailureRatio*float64(req)
}
