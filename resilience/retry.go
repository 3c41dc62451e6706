package resilience

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Jitter chooses how Retry spreads its waits. The three jittered forms are
// those of the AWS architecture blog's "Exponential Backoff and Jitter"
// study (Brooker, 2015), restated here: let ceiling = min(Cap, Base·2^n)
// before the (n+1)-th retry.
type Jitter uint8

const (
	// FullJitter (the default) waits a uniformly random time between zero
	// and the ceiling: clients that failed together spread over the whole
	// interval, which in the study did the least total work.
	FullJitter Jitter = iota
	// EqualJitter keeps half the ceiling and randomizes the other half:
	// never retry at once, but spread less than full jitter.
	EqualJitter
	// DecorrelatedJitter forgets the attempt number: each wait is uniform
	// between Base and three times the previous wait, capped at Cap, so
	// waits grow on average but each depends only on the one before.
	DecorrelatedJitter
	// NoJitter waits exactly the ceiling: the plain exponential backoff
	// whose synchronized retries the study shows clumping.
	NoJitter
)

func (j Jitter) String() string {
	switch j {
	case FullJitter:
		return "full"
	case EqualJitter:
		return "equal"
	case DecorrelatedJitter:
		return "decorrelated"
	case NoJitter:
		return "none"
	}
	return fmt.Sprintf("jitter(%d)", uint8(j))
}

// ParseJitter reads "full", "equal", "decorrelated" or "none".
func ParseJitter(s string) (Jitter, error) {
	for j := FullJitter; j <= NoJitter; j++ {
		if j.String() == s {
			return j, nil
		}
	}
	return 0, fmt.Errorf("resilience: unknown jitter %q (valid: full, equal, decorrelated, none)", s)
}

// Kind classifies the outcome of one attempt.
type Kind uint8

const (
	// Failed is a failure worth retrying: a timeout, a refused or reset
	// connection, a 5xx answer. A timeout may still have been applied by
	// the server (section 5's causes 3 and 4): retry only an idempotent
	// request or one carrying an idempotency key.
	Failed Kind = iota + 1
	// Throttled is an overload answer (HTTP 429 or 503), usually with a
	// Retry-After hint: a failure that asks the client to slow down.
	Throttled
	// Fatal is a failure no retry can fix (a 4xx answer, a bad request).
	Fatal
	// Canceled is the caller giving up (context canceled): not a failure
	// of the server, so it neither trips a breaker nor spends a budget.
	Canceled
	// Succeeded is a success.
	Succeeded
)

func (k Kind) String() string {
	switch k {
	case Failed:
		return "failed"
	case Throttled:
		return "throttled"
	case Fatal:
		return "fatal"
	case Canceled:
		return "canceled"
	case Succeeded:
		return "succeeded"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Outcome is one attempt's result as Retry.Next sees it.
type Outcome struct {
	Kind Kind
	// RetryAfter is the server's hint (HTTP Retry-After), 0 if none: the
	// next attempt waits at least this long.
	RetryAfter time.Duration
}

// Why Retry.Next refuses another attempt. Canceled and Fatal outcomes stop
// without a budget charge.
var (
	ErrAttempts   = errors.New("resilience: retry: attempts exhausted")
	ErrBudget     = errors.New("resilience: retry: retry budget exhausted (too many recent failures)")
	ErrDeadline   = errors.New("resilience: retry: the next attempt would start after the deadline")
	ErrRetryAfter = errors.New("resilience: retry: the server's Retry-After exceeds the cap")
	ErrCanceled   = errors.New("resilience: retry: canceled")
	ErrFatal      = errors.New("resilience: retry: the failure is not retryable")
)

// RetryPolicy configures Retry. Its zero value is usable: every zero field
// takes the default given.
type RetryPolicy struct {
	// Base is the first ceiling (and the smallest decorrelated wait);
	// default 10ms.
	Base time.Duration
	// Cap bounds every wait, Retry-After hints included; default 10s.
	Cap time.Duration
	// MaxAttempts bounds attempts, the first included (a count ≥ 1);
	// default 5.
	MaxAttempts int
	// Jitter is the spreading rule; default FullJitter.
	Jitter Jitter
	// Deadline, if set, is when the whole call must be done: no attempt
	// starts at or after it.
	Deadline Deadline
	// Budget, if not nil, is shared by every call to one service and
	// refuses retries once failures outrun successes (gRPC's retry
	// throttling). Retry charges it for every failure and credits it for
	// every success.
	Budget *Budget
}

// Defaults of RetryPolicy.
const (
	DefaultBase        = 10 * time.Millisecond
	DefaultCap         = 10 * time.Second
	DefaultMaxAttempts = 5
	// MaxAttemptsLimit bounds MaxAttempts (TIGER_STYLE: a bound on
	// everything).
	MaxAttemptsLimit = 1000
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Base <= 0 {
		p.Base = DefaultBase
	}
	if p.Cap <= 0 {
		p.Cap = DefaultCap
	}
	if p.Cap < p.Base {
		p.Cap = p.Base
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxAttempts > MaxAttemptsLimit {
		p.MaxAttempts = MaxAttemptsLimit
	}
	return p
}

// Retry is one call's retry state machine: after each failed attempt, Next
// says how long to wait before the next one, or why there is none. It
// holds no clock: every reading is the caller's monotonic time.
type Retry struct {
	p        RetryPolicy
	attempts int           // attempts made so far (the first included)
	prev     time.Duration // previous wait, for DecorrelatedJitter
	done     bool
}

// NewRetry starts a call whose first attempt is being made at now
// (monotonic). Zero fields of p take their defaults.
func NewRetry(p RetryPolicy, now time.Duration) *Retry {
	_ = now // the first attempt's time matters only through p.Deadline
	p = p.withDefaults()
	return &Retry{p: p, attempts: 1, prev: p.Base}
}

// Policy returns the policy in force, defaults filled in.
func (r *Retry) Policy() RetryPolicy { return r.p }

// Attempts is the number of attempts made so far, the first included.
func (r *Retry) Attempts() int { return r.attempts }

// Succeeded records that the last attempt succeeded: it credits the
// budget. The call is over; Next must not be called again.
func (r *Retry) Succeeded() {
	if r.done {
		return
	}
	r.done = true
	if r.p.Budget != nil {
		r.p.Budget.Success()
	}
}

// Next is called at now (monotonic) after an attempt ended with o. It
// returns the wait before the next attempt (≥ 0, ≤ Cap) and nil, or 0 and
// the reason there is no next attempt: ErrCanceled, ErrFatal, ErrAttempts,
// ErrBudget, ErrDeadline or ErrRetryAfter. A Succeeded outcome is
// Succeeded(). rng is the caller's random source (ordo.Env.Rand).
//
// A Retry-After hint longer than Cap stops the call (ErrRetryAfter) rather
// than retrying early against the server's word; a shorter one raises the
// wait to at least the hint.
func (r *Retry) Next(now time.Duration, rng *rand.Rand, o Outcome) (time.Duration, error) {
	if r.done {
		return 0, ErrAttempts
	}
	switch o.Kind {
	case Succeeded:
		r.Succeeded()
		return 0, ErrAttempts
	case Canceled:
		r.done = true
		return 0, ErrCanceled
	case Fatal:
		r.done = true
		return 0, ErrFatal
	}
	if r.p.Budget != nil {
		r.p.Budget.Failure()
	}
	if r.attempts >= r.p.MaxAttempts {
		r.done = true
		return 0, ErrAttempts
	}
	if o.RetryAfter > r.p.Cap {
		r.done = true
		return 0, ErrRetryAfter
	}
	wait := r.backoff(rng)
	if o.RetryAfter > wait {
		wait = o.RetryAfter
	}
	if r.p.Deadline.IsSet() && now+wait >= r.p.Deadline.At() {
		r.done = true
		return 0, ErrDeadline
	}
	if r.p.Budget != nil && !r.p.Budget.Allow() {
		r.done = true
		return 0, ErrBudget
	}
	if wait < 0 || wait > r.p.Cap {
		panic(fmt.Sprintf("resilience: retry wait %v outside [0, %v]", wait, r.p.Cap))
	}
	r.attempts++
	return wait, nil
}

// backoff is the wait before attempt r.attempts+1 (retry number n =
// r.attempts, 1-based), by the policy's jitter.
func (r *Retry) backoff(rng *rand.Rand) time.Duration {
	ceiling := ceilingOf(r.p.Base, r.p.Cap, r.attempts-1)
	var w time.Duration
	switch r.p.Jitter {
	case NoJitter:
		w = ceiling
	case EqualJitter:
		half := ceiling / 2
		w = half + uniform(rng, ceiling-half)
	case DecorrelatedJitter:
		hi := r.prev * 3
		if hi > r.p.Cap || hi < r.prev { // overflow guard
			hi = r.p.Cap
		}
		w = r.p.Base + uniform(rng, hi-r.p.Base)
		if w > r.p.Cap {
			w = r.p.Cap
		}
		r.prev = w
	default: // FullJitter
		w = uniform(rng, ceiling)
	}
	return w
}

// ceilingOf is min(cap, base·2^n) without overflow.
func ceilingOf(base, cap time.Duration, n int) time.Duration {
	c := base
	for i := 0; i < n && c < cap; i++ {
		c *= 2
	}
	if c > cap {
		c = cap
	}
	return c
}

// uniform returns a duration uniform in [0, d] (0 if d ≤ 0).
func uniform(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d) + 1))
}

// Budget is a retry budget shared by every call to one service: gRPC's
// retry throttling (gRFC A6). It holds tokens, at most MaxTokens and at
// first full; every failure takes one token, every success gives back
// Ratio of one; retries are allowed only while more than MaxTokens/2
// tokens remain. In a steady state retries thus stop once failures exceed
// about Ratio of successes: a fraction of recent requests, not a count.
// Tokens are kept in thousandths, as gRPC does, so the arithmetic is exact.
// Not safe for concurrent use (the HTTP Transport locks around it).
type Budget struct {
	max, ratio, tokens int64 // thousandths of a token
}

// NewBudget returns a full budget of maxTokens tokens (a count in (0,
// 1000]) crediting ratio (a fraction in (0, 1], three decimals kept) of a
// token per success. It returns an error for values outside those ranges.
// gRPC's example is maxTokens 10, ratio 0.1.
func NewBudget(maxTokens int, ratio float64) (*Budget, error) {
	if maxTokens <= 0 || maxTokens > 1000 {
		return nil, fmt.Errorf("resilience: budget maxTokens %d outside (0, 1000]", maxTokens)
	}
	if !(ratio > 0 && ratio <= 1) {
		return nil, fmt.Errorf("resilience: budget ratio %v outside (0, 1]", ratio)
	}
	m := int64(maxTokens) * 1000
	rt := int64(ratio*1000 + 0.5)
	if rt == 0 {
		rt = 1
	}
	return &Budget{max: m, ratio: rt, tokens: m}, nil
}

// Failure takes one token (not below zero).
func (b *Budget) Failure() {
	b.tokens -= 1000
	if b.tokens < 0 {
		b.tokens = 0
	}
}

// Success gives back Ratio of a token (not above MaxTokens).
func (b *Budget) Success() {
	b.tokens += b.ratio
	if b.tokens > b.max {
		b.tokens = b.max
	}
}

// Allow reports whether a retry may be made now: more than half the
// maximum tokens remain.
func (b *Budget) Allow() bool { return b.tokens > b.max/2 }

// Tokens is the number of tokens left, in thousandths of a token.
func (b *Budget) Tokens() int64 { return b.tokens }
