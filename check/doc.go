// Package check holds the checkers that say whether a promise of the
// chapter held on a run, and the one interface they share. A checker
// judges a stored trace (Checker.Check) and, when it is Online, the events
// of a run as they happen, with no trace kept: a Session feeds it, from a
// simulation (sim.Config.Observer) or from a stored trace (Run), so both
// ways give the same verdict. Verdicts are pass, fail, unknown (no verdict
// reached, never a pass) and not-applicable (the run cannot be judged by
// this checker: refused, never passed).
//
// Checkers of a protocol family register with the family (package
// election registers single-leader, stale-leader, one-leader-per-term,
// eventual-leader and fencing; package broadcast registers all-delivered;
// package consistency registers linearizable and no-lost-write over client
// histories). This package holds the interface, the registry and Net, the
// replay of which servers run and which links are cut.
//
//	s, _ := check.NewSession([]string{"single-leader", "eventual-leader"})
//	s.Begin(meta)
//	for each event e in time order { s.Observe(e) }
//	for _, r := range s.Results() { fmt.Println(r.Check, r.Verdict, r.Summary) }
package check
