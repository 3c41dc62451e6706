// Package resilience holds the chapter's answers to partial failure as
// deterministic state machines: section 5, "부분 장애" (a request times out —
// was it lost, did the server crash, was the reply lost, or is the server
// slow? nobody can know, so "retry or not?" has no safe answer) and its four
// strategies, and section 1's answers to fallacy 1 ("네트워크는 신뢰할 수
// 있다" — 대응: 재시도, 타임아웃, 멱등성: retries, timeouts, idempotency).
//
//   - Strategy 1, idempotent design (멱등성 설계): Table, a bounded
//     deduplication table of idempotency keys that stores the first
//     response and replays it, refuses a key reused for another request
//     and a key whose first request is still in progress, and can be
//     durable on an ordo.Storage so a restart does not forget.
//   - Strategy 2, tuned timeouts (타임아웃 조정): Retry (exponential backoff
//     with full, equal or decorrelated jitter, a cap, a retry budget as in
//     gRPC's retry throttling, a deadline and Retry-After hints) and
//     Deadline, a deadline that travels with a request and shrinks at
//     every hop.
//   - Strategy 3, health checks (헬스체크): Health marks peers up or down
//     from probe results and from a failure detector of package detect.
//   - Strategy 4, circuit breakers (서킷 브레이커): Breaker, closed → open
//     → half-open with a cap on probes, tripped by consecutive failures or
//     by a failure ratio over a sliding time window, reporting every state
//     change.
//
// Every piece takes time and randomness from its caller, never from the
// machine: time as a reading of a monotonic clock (Clock, which ordo.Env
// satisfies; SystemClock in production) and randomness as a *rand.Rand
// (ordo.Env.Rand in a protocol, a seeded source in production). None
// starts a goroutine, takes a lock or reads the wall clock, so the same
// code runs inside the simulator, is replayed bit for bit from a seed, and
// runs in production. The HTTP adapters (IdempotencyHandler, Transport)
// are the production side: they lock around the state machines.
//
// Usage inside a protocol (env is the ordo.Env; every reading is
// env.Monotonic(), every draw env.Rand()):
//
//	r := resilience.NewRetry(resilience.RetryPolicy{Base: 10 * time.Millisecond, Cap: time.Second,
//		Deadline: resilience.DeadlineIn(env.Monotonic(), 2*time.Second)}, env.Monotonic())
//	// after a failed attempt:
//	wait, err := r.Next(env.Monotonic(), env.Rand(), resilience.Outcome{Kind: resilience.Failed})
//	if err == nil {
//		env.After(wait, ordo.Timer{Name: "retry"})
//	}
//
//	b, _ := resilience.NewBreaker(resilience.BreakerConfig{ConsecutiveFailures: 5, OpenFor: time.Second,
//		OnChange: func(c resilience.Change) { env.Note("breaker", "to", c.To.String(), "why", c.Why) }}, env.Monotonic())
//	t, err := b.Allow(env.Monotonic()) // ErrOpen: fail fast without sending
//	// ... later, with the attempt's result:
//	b.Record(env.Monotonic(), t, resilience.Succeeded)
//
//	tbl, _ := resilience.NewTable(resilience.TableConfig{Store: env.Store(), Prefix: "idem/"}, resilience.AtTime(env.Monotonic()))
//	c, err := tbl.Begin(resilience.AtTime(env.Monotonic()), key, resilience.FingerprintOf(body))
//	// err == nil && !c.Replay: apply, then tbl.Finish(..., key, response) in the same event
//
// And in production, around net/http:
//
//	table, _ := resilience.NewTable(resilience.TableConfig{Store: disk, Prefix: "idem/", DurableClaims: true, Sync: disk.Commit}, 0)
//	http.Handle("/transfer", resilience.IdempotencyHandler(transferHandler, table, resilience.HandlerOptions{Required: true}))
//	client := &http.Client{Transport: &resilience.Transport{Policy: resilience.RetryPolicy{MaxAttempts: 4}, Breaker: breaker}}
package resilience
