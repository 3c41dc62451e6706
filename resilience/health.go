package resilience

import (
	"fmt"
	"time"

	"ordo"
	"ordo/detect"
)

// HealthConfig configures Health.
type HealthConfig struct {
	// FallAfter marks an up peer down after this many failed probes in a
	// row (a count; default 3).
	FallAfter int
	// RiseAfter marks a down peer up after this many successful probes
	// in a row (a count; default 2). Asking for more than one keeps a
	// flapping peer out (hysteresis).
	RiseAfter int
	// Detector, if set, is a failure detector of package detect fed by
	// Heard: a peer it suspects is down whatever its probes say, and
	// comes back up only when the detector trusts it and its probes
	// allow it.
	Detector detect.Detector
	// StartUp says whether peers start up (true) or down until RiseAfter
	// probes succeed (false, the default: unknown is not healthy).
	StartUp bool
	// OnChange, if set, is called at every change of a peer's status,
	// synchronously (a protocol notes it with env.Note).
	OnChange func(HealthChange)
}

// HealthChange is one peer's status change.
type HealthChange struct {
	Peer ordo.NodeID
	Up   bool
	At   time.Duration // monotonic
	// Why: "probes-failed", "probes-succeeded" or "detector-suspects".
	Why string
}

type peerHealth struct {
	up            bool
	okRun, badRun int
}

// Health marks peers up or down from probe results and from a failure
// detector (the chapter's section 5, strategy 3, "헬스체크: 노드 상태
// 주기적 확인" — periodic health checks). It is a state machine: the
// caller sends probes on its own timers and reports their results. Not
// safe for concurrent use.
type Health struct {
	cfg   HealthConfig
	peers map[ordo.NodeID]*peerHealth
	order []ordo.NodeID
}

// NewHealth watches peers (ids > 0, no duplicates). Errors: a bad peer
// list or negative counts.
func NewHealth(peers []ordo.NodeID, cfg HealthConfig) (*Health, error) {
	if cfg.FallAfter < 0 || cfg.RiseAfter < 0 {
		return nil, fmt.Errorf("resilience: health: negative FallAfter %d or RiseAfter %d", cfg.FallAfter, cfg.RiseAfter)
	}
	if cfg.FallAfter == 0 {
		cfg.FallAfter = 3
	}
	if cfg.RiseAfter == 0 {
		cfg.RiseAfter = 2
	}
	h := &Health{cfg: cfg, peers: map[ordo.NodeID]*peerHealth{}}
	for _, p := range peers {
		if p <= 0 {
			return nil, fmt.Errorf("resilience: health: invalid peer %v", p)
		}
		if _, dup := h.peers[p]; dup {
			return nil, fmt.Errorf("resilience: health: peer %v listed twice", p)
		}
		h.peers[p] = &peerHealth{up: cfg.StartUp}
		h.order = append(h.order, p)
	}
	return h, nil
}

// Probe reports at now (monotonic) one probe of peer: ok if it answered
// in time and well. Unknown peers are ignored.
func (h *Health) Probe(now time.Duration, peer ordo.NodeID, ok bool) {
	ph := h.peers[peer]
	if ph == nil {
		return
	}
	if ok {
		ph.okRun, ph.badRun = ph.okRun+1, 0
		if h.cfg.Detector != nil {
			h.cfg.Detector.Heard(peer, now)
		}
		if !ph.up && ph.okRun >= h.cfg.RiseAfter && !h.suspected(peer, now) {
			h.set(now, peer, ph, true, "probes-succeeded")
		}
		return
	}
	ph.badRun, ph.okRun = ph.badRun+1, 0
	if ph.up && ph.badRun >= h.cfg.FallAfter {
		h.set(now, peer, ph, false, "probes-failed")
	}
}

// Heard reports at now any message from peer (a heartbeat, a reply):
// evidence of life for the detector. It does not count as a probe.
func (h *Health) Heard(now time.Duration, peer ordo.NodeID) {
	if h.cfg.Detector != nil && h.peers[peer] != nil {
		h.cfg.Detector.Heard(peer, now)
	}
}

// Check applies the detector's view at now: a suspected peer goes down,
// and a peer the detector trusts again whose last RiseAfter probes
// succeeded comes back up. Call it from a timer.
func (h *Health) Check(now time.Duration) {
	for _, p := range h.order {
		ph := h.peers[p]
		susp := h.suspected(p, now)
		if ph.up && susp {
			ph.okRun = 0
			h.set(now, p, ph, false, "detector-suspects")
		} else if !ph.up && !susp && ph.okRun >= h.cfg.RiseAfter {
			h.set(now, p, ph, true, "probes-succeeded")
		}
	}
}

// Up reports whether peer is up at now (false for an unknown peer). It
// applies the detector's view first, as Check does.
func (h *Health) Up(now time.Duration, peer ordo.NodeID) bool {
	ph := h.peers[peer]
	if ph == nil {
		return false
	}
	if ph.up && h.suspected(peer, now) {
		ph.okRun = 0
		h.set(now, peer, ph, false, "detector-suspects")
	}
	return ph.up
}

// UpPeers appends the peers up at now to dst, in the order given to
// NewHealth.
func (h *Health) UpPeers(dst []ordo.NodeID, now time.Duration) []ordo.NodeID {
	for _, p := range h.order {
		if h.Up(now, p) {
			dst = append(dst, p)
		}
	}
	return dst
}

func (h *Health) suspected(p ordo.NodeID, now time.Duration) bool {
	return h.cfg.Detector != nil && h.cfg.Detector.Suspect(p, now)
}

func (h *Health) set(now time.Duration, p ordo.NodeID, ph *peerHealth, up bool, why string) {
	ph.up = up
	if h.cfg.OnChange != nil {
		h.cfg.OnChange(HealthChange{Peer: p, Up: up, At: now, Why: why})
	}
}
