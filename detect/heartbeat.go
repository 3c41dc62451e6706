package detect

import (
	"fmt"
	"time"

	"ordo"
)

// Detector is what the heartbeat protocol needs of a failure detector.
//
// Every reading now is the node's monotonic clock (ordo.Env.Monotonic), a
// duration since an arbitrary origin: a detector measures silences, and an
// interval measured on the steppable wall clock (Env.Now) turns an NTP step
// into a false suspicion or a blind spot (section 2, "물리 시계의 문제").
type Detector interface {
	// Heard records a heartbeat (or any message) from p at now.
	Heard(p ordo.NodeID, now time.Duration)
	// Suspect reports whether p is suspected at now.
	Suspect(p ordo.NodeID, now time.Duration) bool
}

// Heartbeat is the fixed-timeout detector: a peer is suspected once it has
// been silent for longer than Timeout. A peer never heard from counts from
// when monitoring began.
type Heartbeat struct {
	Timeout time.Duration
	peers   []ordo.NodeID
	last    []time.Duration // by NodeID, monotonic
}

// NewHeartbeat monitors peers from now (a monotonic reading) on.
func NewHeartbeat(peers []ordo.NodeID, timeout time.Duration, now time.Duration) *Heartbeat {
	if timeout <= 0 {
		panic(fmt.Sprintf("detect: heartbeat timeout %v must be positive", timeout))
	}
	h := &Heartbeat{Timeout: timeout, peers: peers, last: make([]time.Duration, maxID(peers)+1)}
	for _, p := range peers {
		h.last[p] = now
	}
	return h
}

func maxID(peers []ordo.NodeID) ordo.NodeID {
	m := ordo.NodeID(0)
	for _, p := range peers {
		if p < 1 {
			panic(fmt.Sprintf("detect: peer %d is not a node", p))
		}
		m = max(m, p)
	}
	return m
}

// Heard records that p was heard from at now. A reading earlier than the
// last one is ignored rather than rewinding (a monotonic clock gives none,
// but a caller may mix up readings).
func (h *Heartbeat) Heard(p ordo.NodeID, now time.Duration) {
	if now > h.last[p] {
		h.last[p] = now
	}
}

// Suspect reports whether p has been silent for longer than the timeout.
func (h *Heartbeat) Suspect(p ordo.NodeID, now time.Duration) bool {
	return now-h.last[p] > h.Timeout
}

// LastHeard returns when (monotonic) p was last heard from.
func (h *Heartbeat) LastHeard(p ordo.NodeID) time.Duration { return h.last[p] }

// Suspected lists the suspected peers at now, ascending.
func (h *Heartbeat) Suspected(now time.Duration) []ordo.NodeID {
	return appendSuspected(nil, h, h.peers, now)
}

func appendSuspected(dst []ordo.NodeID, d Detector, peers []ordo.NodeID, now time.Duration) []ordo.NodeID {
	for _, p := range peers {
		if d.Suspect(p, now) {
			dst = append(dst, p)
		}
	}
	return dst
}
