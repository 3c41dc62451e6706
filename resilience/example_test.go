package resilience_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"ordo"
	"ordo/resilience"
)

// A retry under full jitter: each wait is drawn from the caller's seeded
// source, so the same seed gives the same waits.
func ExampleRetry() {
	rng := rand.New(rand.NewPCG(1, 2))
	r := resilience.NewRetry(resilience.RetryPolicy{Base: 100 * time.Millisecond, Cap: time.Second, MaxAttempts: 4}, 0)
	now := time.Duration(0)
	for {
		wait, err := r.Next(now, rng, resilience.Outcome{Kind: resilience.Failed})
		if err != nil {
			fmt.Println("stop:", errors.Is(err, resilience.ErrAttempts))
			return
		}
		now += wait
		fmt.Println("attempt", r.Attempts(), "waits", wait <= time.Second)
	}
	// Output:
	// attempt 2 waits true
	// attempt 3 waits true
	// attempt 4 waits true
	// stop: true
}

// Two failures open the breaker; after OpenFor one probe is let through
// and its success closes it.
func ExampleBreaker() {
	b, _ := resilience.NewBreaker(resilience.BreakerConfig{ConsecutiveFailures: 2, OpenFor: time.Second,
		OnChange: func(c resilience.Change) { fmt.Println(c.From, "→", c.To, c.Why) }}, 0)
	for i := 0; i < 2; i++ {
		t, _ := b.Allow(0)
		b.Record(0, t, resilience.Failed)
	}
	_, err := b.Allow(500 * time.Millisecond)
	fmt.Println(err)
	t, _ := b.Allow(time.Second)
	b.Record(time.Second, t, resilience.Succeeded)
	// Output:
	// closed → open consecutive-failures
	// resilience: circuit breaker is open
	// open → half-open open-elapsed
	// half-open → closed probes-succeeded
}

// The first request under a key runs; its response is replayed to every
// retry, even after a restart that reopens the table from storage.
func ExampleTable() {
	store := ordo.NewMemStorage()
	cfg := resilience.TableConfig{Store: store, Prefix: "idem/"}
	tbl, _ := resilience.NewTable(cfg, 0)
	fp := resilience.FingerprintOf([]byte("transfer 10 from A to B"))
	c, _ := tbl.Begin(0, "key-1", fp)
	fmt.Println("replay:", c.Replay) // run it
	tbl.Finish(0, "key-1", []byte("done"))

	tbl, _ = resilience.NewTable(cfg, 0) // restart
	c, _ = tbl.Begin(0, "key-1", fp)
	fmt.Println("replay:", c.Replay, string(c.Response))
	_, err := tbl.Begin(0, "key-1", resilience.FingerprintOf([]byte("transfer 99")))
	fmt.Println(err)
	// Output:
	// replay: false
	// replay: true done
	// resilience: idempotency key reused for a different request
}
