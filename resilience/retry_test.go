package resilience

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

const ms = time.Millisecond

// Section 1, fallacy 1 ("대응: 재시도"): without jitter the waits double
// from Base up to Cap, and MaxAttempts counts the first attempt.
func TestRetryExponentialNoJitter(t *testing.T) {
	r := NewRetry(RetryPolicy{Base: 10 * ms, Cap: 50 * ms, MaxAttempts: 5, Jitter: NoJitter}, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	var got []time.Duration
	for {
		d, err := r.Next(0, rng, Outcome{Kind: Failed})
		if err != nil {
			if !errors.Is(err, ErrAttempts) {
				t.Fatalf("stopped with %v, want ErrAttempts", err)
			}
			break
		}
		got = append(got, d)
	}
	want := []time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms}
	if len(got) != len(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
	if r.Attempts() != 5 {
		t.Fatalf("attempts %d, want 5", r.Attempts())
	}
}

// The AWS study's three jitters stay in their ranges: full in [0, c],
// equal in [c/2, c], decorrelated in [Base, min(Cap, 3·prev)].
func TestRetryJitterRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, j := range []Jitter{FullJitter, EqualJitter, DecorrelatedJitter} {
		for trial := 0; trial < 200; trial++ {
			r := NewRetry(RetryPolicy{Base: 10 * ms, Cap: 300 * ms, MaxAttempts: 10, Jitter: j}, 0)
			prev := 10 * ms
			for n := 0; ; n++ {
				d, err := r.Next(0, rng, Outcome{Kind: Failed})
				if err != nil {
					break
				}
				c := ceilingOf(10*ms, 300*ms, n)
				var lo, hi time.Duration
				switch j {
				case FullJitter:
					lo, hi = 0, c
				case EqualJitter:
					lo, hi = c/2, c
				case DecorrelatedJitter:
					lo, hi = 10*ms, min(300*ms, 3*prev)
					prev = d
				}
				if d < lo || d > hi {
					t.Fatalf("%v jitter retry %d waited %v, want in [%v, %v]", j, n+1, d, lo, hi)
				}
			}
		}
	}
}

// Cancellation is not a failure: it stops without charging the budget.
// A fatal error stops at once.
func TestRetryCanceledAndFatal(t *testing.T) {
	b, _ := NewBudget(2, 0.5)
	r := NewRetry(RetryPolicy{Budget: b}, 0)
	if _, err := r.Next(0, nil, Outcome{Kind: Canceled}); !errors.Is(err, ErrCanceled) {
		t.Fatalf("canceled: %v", err)
	}
	if b.Tokens() != 2000 {
		t.Fatalf("cancel charged the budget: %d tokens", b.Tokens())
	}
	r = NewRetry(RetryPolicy{Budget: b}, 0)
	if _, err := r.Next(0, nil, Outcome{Kind: Fatal}); !errors.Is(err, ErrFatal) {
		t.Fatalf("fatal: %v", err)
	}
}

// Retry-After raises a wait to the hint; a hint past Cap stops the call.
func TestRetryAfterHint(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	r := NewRetry(RetryPolicy{Base: ms, Cap: time.Second}, 0)
	d, err := r.Next(0, rng, Outcome{Kind: Throttled, RetryAfter: 300 * ms})
	if err != nil || d != 300*ms {
		t.Fatalf("hint 300ms: wait %v, %v", d, err)
	}
	if _, err := r.Next(0, rng, Outcome{Kind: Throttled, RetryAfter: 2 * time.Second}); !errors.Is(err, ErrRetryAfter) {
		t.Fatalf("hint past cap: %v", err)
	}
}

// No attempt starts at or after the deadline.
func TestRetryDeadline(t *testing.T) {
	r := NewRetry(RetryPolicy{Base: 100 * ms, Jitter: NoJitter, MaxAttempts: 10, Deadline: DeadlineIn(0, 250*ms)}, 0)
	now := time.Duration(0)
	var waits []time.Duration
	for {
		d, err := r.Next(now, nil, Outcome{Kind: Failed})
		if err != nil {
			if !errors.Is(err, ErrDeadline) {
				t.Fatalf("stopped with %v, want ErrDeadline", err)
			}
			break
		}
		waits = append(waits, d)
		now += d
	}
	// 100ms (at 100), then 200ms would start at 300 ≥ 250.
	if len(waits) != 1 || now != 100*ms {
		t.Fatalf("waits %v ending at %v", waits, now)
	}
}

// gRPC retry throttling: with 10 tokens, ratio 0.1, retries stop once
// tokens ≤ 5, and successes earn them back at a tenth of a token each.
func TestBudgetThrottling(t *testing.T) {
	b, err := NewBudget(10, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		b.Failure()
	}
	if !b.Allow() {
		t.Fatalf("6 tokens must allow a retry")
	}
	b.Failure()
	if b.Allow() {
		t.Fatalf("5 tokens must not allow a retry (threshold is > max/2)")
	}
	for i := 0; i < 10; i++ {
		b.Success()
	}
	if !b.Allow() || b.Tokens() != 6000 {
		t.Fatalf("after 10 successes: %d thousandths, allow=%v", b.Tokens(), b.Allow())
	}
	for _, bad := range []struct {
		n int
		r float64
	}{{0, 0.1}, {1001, 0.1}, {10, 0}, {10, 1.5}} {
		if _, err := NewBudget(bad.n, bad.r); err == nil {
			t.Errorf("NewBudget(%d, %v) accepted", bad.n, bad.r)
		}
	}
}

func TestParseJitter(t *testing.T) {
	for _, j := range []Jitter{FullJitter, EqualJitter, DecorrelatedJitter, NoJitter} {
		if got, err := ParseJitter(j.String()); err != nil || got != j {
			t.Fatalf("ParseJitter(%q) = %v, %v", j.String(), got, err)
		}
	}
	if _, err := ParseJitter("fuller"); err == nil {
		t.Fatal("ParseJitter accepted fuller")
	}
}
