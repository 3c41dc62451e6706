// Package sim is ordo's deterministic runtime: one goroutine, virtual time,
// a seeded random source and an event queue. It runs any ordo.Node under the
// faults the chapter names — section 1's eight fallacies (loss, latency,
// bandwidth, tampering, topology change, heterogeneity), section 2's
// physical clocks (offset, drift, NTP error, jumps) and section 5's
// partitions and partial failures (crash, restart, pause), scripted with
// Sim.At or drawn at random by the Nemesis. Same configuration and seed ⇒
// the same trace, byte for byte. docs/simulator.md describes the models
// and the measured speed.
package sim
