// Package scene runs the scenes of the chapter's section 5, "부분 장애"
// (partial failure), in the deterministic simulator and prints their
// tables; `ordo sim partial-failure`, `ordo sim backoff-contention` and
// `ordo sim timeout-tuning` are its commands.
//
//   - Table: every client Strategy of package partial under every Cause
//     of a timeout (request lost, server crashed before applying, reply
//     lost, server slow), each built by a deterministic fault: how many
//     times the transfer was applied (0, 1, 2+), the errors the client
//     saw, its time to an answer, and whether it could tell what happened.
//   - ContentionTable: total calls and completion time of N clients
//     contending by compare-and-set, per backoff (the experiment behind
//     the AWS "exponential backoff and jitter" study).
//   - TimeoutTable: a link's round trips measured, then timeouts at their
//     p50, p99 and p99.9 and φ accrual detectors judged on a fresh run:
//     false suspicions of a live peer against detection time after a
//     crash, for the LAN and intercontinental presets.
//
// Usage:
//
//	rows, err := scene.Table(scene.DefaultScene, 1)
//	if err == nil {
//		scene.WriteTable(os.Stdout, rows)
//	}
package scene
