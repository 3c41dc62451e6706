// Package check holds the checkers that read a trace and say whether a
// promise of the chapter held: section 4's Safety (at most one leader) and
// Liveness (a leader eventually), section 3's causality rules for stamps,
// and no lost acknowledged write. Checkers read traces, so they work the
// same on simulated and real runs.
package check
