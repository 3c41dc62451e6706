// Package detect holds failure detectors: the health checks of the
// chapter's section 5 ("부분 장애" — partial failure; response strategy 3,
// "헬스체크: 노드 상태 주기적 확인"). A detector cannot know whether a silent
// peer is dead, partitioned away, or merely slow (the section's four causes
// of a timeout); it can only suspect, and a good one suspects a crashed
// peer quickly while rarely suspecting a live one.
//
// Two detectors are pure, deterministic libraries — time is passed in, as
// readings of the node's monotonic clock (ordo.Env.Monotonic), since a
// silence measured on the wall clock turns an NTP step into a false
// suspicion of every peer, and into a φ window that misses a real crash
// for seconds (scenario phi-clock-step):
//
//   - Heartbeat suspects a peer not heard from within a fixed timeout.
//   - Phi is the φ accrual detector of Hayashibara, Défago, Yared and
//     Katayama (2004): it learns the distribution of heartbeat
//     inter-arrival times and outputs a suspicion level φ = −log10 P(a
//     heartbeat this late), so the threshold is a chosen error rate rather
//     than a guessed timeout.
//
// The registered protocol "heartbeat" runs either detector on every node:
// each node sends a heartbeat to every peer every `interval` and notes
// "suspect" and "trust" (attribute "peer") as its view changes. It is also
// the simulator's benchmark workload, so it allocates nothing per event.
//
// The checker "crash-detected" (CrashDetected) holds a run to the
// detectors' completeness: every crash suspected by every node that stays
// up within timeout + interval.
//
//	checks: [crash-detected]
//	expect: {crash-detected: pass}
package detect
