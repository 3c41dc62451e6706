// Package partial is the chapter's section 5, "부분 장애" (partial
// failure), as protocols: a request times out, and the client cannot know
// whether the request was lost, the server crashed before applying it,
// the reply was lost, or the server is only slow. Retry, and a
// non-idempotent operation may happen twice; do not, and it may not have
// happened at all.
//
// Three protocol pairs stage the section's scenes (package partial/scene
// runs them in the simulator and prints their tables):
//
//   - "bank" and "bank-client": a server holding two accounts applies a
//     non-idempotent transfer durably; the client sends it under a
//     Strategy — no retry, naive retry, retry with an idempotency key
//     (the bank deduplicates with a durable resilience.Table), or a key
//     and a resilience.Breaker. Retries back off with resilience.Retry.
//   - "occ-resource" and "occ-client": N clients each write once to one
//     value by compare-and-set, retrying on conflict under a Backoff (no
//     backoff, exponential, full, equal or decorrelated jitter).
//   - "rtt-probe": a monitor probes a peer and records round trips, from
//     which timeouts are tuned (strategy 2, "너무 짧지도, 길지도 않게").
//
// Every node is a deterministic state machine: time from Env.Monotonic,
// randomness from Env.Rand.
//
// Usage (the bank under a cut of its reply, in the simulator):
//
//	opts, _ := partial.BankClientProtocol.Resolve(map[string]string{"strategy": "key"})
//	s, _ := sim.New(sim.Config{Protocol: partial.BankProtocol, Nodes: 1, Seed: 1,
//		Clients: []sim.ClientGroup{{Protocol: partial.BankClientProtocol, Options: opts, Count: 1}}})
//	_ = s.CutOneWay([]ordo.NodeID{1}, []ordo.NodeID{2})
//	s.At(15*time.Millisecond, func(s *sim.Sim) { s.Heal() })
//	_ = s.RunFor(5 * time.Second)
//	fmt.Println(partial.Applied(s.Store(1))) // 1: the retry was replayed
package partial
