// Package scenario reads ordo's scenario files (YAML) and runs them in the
// simulator. A scenario names a protocol, a cluster, a network and clock
// model, a schedule of faults and the checks to run: it is how the chapter's
// section 1 (the eight fallacies as faults the network injects) and section 5
// (partitions and partial failure) become a reproducible run. Every mistake
// in a file is reported with its line, column and field. The format is
// documented in docs/scenarios.md.
package scenario
