package raft

import "time"

// ElectionTimeout implements election.TimeoutReporter: Raft's randomized
// election timeout, drawn from [election_timeout_min, election_timeout_max].
func (r *Node) ElectionTimeout() (lo, hi time.Duration) { return r.cfg.min, r.cfg.max }
