package resilience

import (
	"errors"
	"testing"
	"time"
)

type changes []Change

func (c *changes) record(ch Change) { *c = append(*c, ch) }

func (c changes) path() string {
	s := ""
	for _, ch := range c {
		s += ch.From.String() + "→" + ch.To.String() + "(" + ch.Why + ") "
	}
	return s
}

// Section 5, strategy 4 ("서킷 브레이커: 반복적 실패 시 빠른 실패"):
// consecutive failures open the breaker, it fails fast while open, half-
// opens after OpenFor, and a successful probe closes it.
func TestBreakerConsecutive(t *testing.T) {
	var log changes
	b, err := NewBreaker(BreakerConfig{ConsecutiveFailures: 3, OpenFor: time.Second, OnChange: log.record}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		tk, _ := b.Allow(0)
		b.Record(0, tk, Failed)
	}
	tk, _ := b.Allow(0)
	b.Record(0, tk, Succeeded) // resets the run
	for i := 0; i < 3; i++ {
		tk, err := b.Allow(ms)
		if err != nil {
			t.Fatalf("closed breaker refused: %v", err)
		}
		b.Record(ms, tk, Failed)
	}
	if _, err := b.Allow(500 * ms); !errors.Is(err, ErrOpen) {
		t.Fatalf("open breaker: %v, want ErrOpen", err)
	}
	probe, err := b.Allow(ms + time.Second)
	if err != nil || !probe.Probe() {
		t.Fatalf("after OpenFor: %v probe=%v", err, probe.Probe())
	}
	if _, err := b.Allow(ms + time.Second); !errors.Is(err, ErrProbes) {
		t.Fatalf("second probe: %v, want ErrProbes", err)
	}
	b.Record(ms+time.Second, probe, Succeeded)
	if got, want := log.path(), "closed→open(consecutive-failures) open→half-open(open-elapsed) half-open→closed(probes-succeeded) "; got != want {
		t.Fatalf("changes %q, want %q", got, want)
	}
}

// A failed probe reopens; an outcome from before the change is ignored;
// cancellation is not a failure and frees the probe's slot.
func TestBreakerHalfOpen(t *testing.T) {
	var log changes
	b, _ := NewBreaker(BreakerConfig{ConsecutiveFailures: 1, OpenFor: 10 * ms, HalfOpenProbes: 2, OnChange: log.record}, 0)
	slow, _ := b.Allow(0)
	tk, _ := b.Allow(0)
	b.Record(0, tk, Failed) // open
	p1, _ := b.Allow(10 * ms)
	p2, _ := b.Allow(10 * ms)
	if _, err := b.Allow(10 * ms); !errors.Is(err, ErrProbes) {
		t.Fatalf("third probe: %v", err)
	}
	b.Record(11*ms, slow, Failed) // started while closed: stale
	if b.State(11*ms) != HalfOpen {
		t.Fatalf("stale failure moved the breaker to %v", b.State(11*ms))
	}
	b.Record(11*ms, p1, Canceled)
	p3, err := b.Allow(11 * ms)
	if err != nil {
		t.Fatalf("canceled probe did not free its slot: %v", err)
	}
	b.Record(12*ms, p2, Succeeded)
	b.Record(12*ms, p3, Failed)
	if got, want := log.path(), "closed→open(consecutive-failures) open→half-open(open-elapsed) half-open→open(probe-failed) "; got != want {
		t.Fatalf("changes %q, want %q", got, want)
	}
}

// The time-window rule trips on the failure ratio over the last Window,
// and outcomes older than the window no longer count.
func TestBreakerWindow(t *testing.T) {
	var log changes
	b, err := NewBreaker(BreakerConfig{Window: time.Second, Buckets: 10, FailureRatio: 0.5, MinRequests: 4, OnChange: log.record}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(at time.Duration, k Kind) {
		tk, err := b.Allow(at)
		if err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
		b.Record(at, tk, k)
	}
	rec(0, Failed)
	rec(0, Failed)
	rec(0, Failed) // 3 requests < MinRequests: no trip
	rec(1500*ms, Succeeded)
	rec(1500*ms, Succeeded)
	rec(1500*ms, Failed) // the first three fell out of the window: 1/3
	if len(log) != 0 {
		t.Fatalf("tripped early: %s", log.path())
	}
	if req, bad := b.Window(1500 * ms); req != 3 || bad != 1 {
		t.Fatalf("window %d/%d, want 1/3", bad, req)
	}
	rec(1600*ms, Failed) // 2/4 = 0.5
	if got := log.path(); got != "closed→open(failure-ratio) " {
		t.Fatalf("changes %q", got)
	}
}

func TestBreakerConfigErrors(t *testing.T) {
	for _, c := range []BreakerConfig{
		{},
		{ConsecutiveFailures: -1},
		{FailureRatio: 0.5},
		{FailureRatio: 1.5, Window: time.Second},
		{ConsecutiveFailures: 1, HalfOpenProbes: 1, SuccessesToClose: 2},
		{FailureRatio: 0.5, Window: 5, Buckets: 10},
		{ConsecutiveFailures: 1, Buckets: MaxBuckets + 1},
	} {
		if _, err := NewBreaker(c, 0); err == nil {
			t.Errorf("NewBreaker(%+v) accepted", c)
		}
	}
}
