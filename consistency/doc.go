// Package consistency judges what clients saw: the checkers `linearizable`
// (porcupine's search over a key-value model, partitioned by key) and
// `no-lost-write` / `no-lost-write-causal` read the client history that
// package history records in a trace, simulated or merged from a live run.
//
// Chapter: section 3's replicated data ("Vector Clock 활용 예: DynamoDB":
// what a read may return after concurrent writes) and exercise 3's database
// (no acknowledged write is lost, no read is stale). The checkers stream:
// they implement check.Online, so a campaign needs no stored trace.
//
// Usage:
//
//	import _ "ordo/consistency" // registers the checkers
//
//	res, err := check.Run(tr, []string{"linearizable", "no-lost-write"})
//	// res[0].Verdict is pass, fail, unknown (the search ran out of time:
//	// never a pass) or not-applicable (no client operation).
//
// A store protocol whose scenarios use these checks imports this package,
// so loading the protocol registers them (see package register).
package consistency
