// Package lab is the harness that runs leader elections in the simulator under the faults
// of the chapter's section 5 (crashes, partitions, pauses, message loss,
// clock jumps) and measures them against section 4's requirements: safety
// (at most one leader), liveness (a leader eventually), messages per
// election against the theory (Bully O(n²), Ring O(n), Raft ≈ 2(n−1)) and
// time to a new leader. `ordo elect`, `ordo explore` and `ordo bench elect`
// are thin shells around it. It also runs PBFT with f Byzantine replicas
// over many seeds on either side of n = 3f+1 (bft.go, `ordo bench bft`).
package lab
