// Package measure summarizes repeated measurements — failover times over
// many seeds (`ordo bench elect --failover`), the live chaos test's
// failovers (`ordo cluster chaos`) — the way the chapter's section 5
// judges a design: by its tail (p99), not its average. It imports nothing
// of ordo, so the live runtime and the lab can both use it.
//
//	p99 := measure.Percentile(failovers, 99) // []time.Duration or []float64
package measure
