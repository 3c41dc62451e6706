package resilience

import (
	"testing"
	"time"

	"ordo"
	"ordo/detect"
)

// Section 5, strategy 3 ("헬스체크: 노드 상태 주기적 확인"): probes move a
// peer down after FallAfter failures and up after RiseAfter successes, and
// a detector's suspicion takes a peer down between probes.
func TestHealth(t *testing.T) {
	var log []HealthChange
	det := detect.NewHeartbeat([]ordo.NodeID{2, 3}, 100*ms, 0)
	h, err := NewHealth([]ordo.NodeID{2, 3}, HealthConfig{FallAfter: 2, RiseAfter: 2, Detector: det,
		OnChange: func(c HealthChange) { log = append(log, c) }})
	if err != nil {
		t.Fatal(err)
	}
	if h.Up(0, 2) {
		t.Fatal("a peer never probed is not up")
	}
	h.Probe(10*ms, 2, true)
	h.Probe(20*ms, 2, true)
	if !h.Up(20*ms, 2) {
		t.Fatal("two good probes must bring n2 up")
	}
	h.Probe(30*ms, 2, false)
	if !h.Up(30*ms, 2) {
		t.Fatal("one failed probe must not take n2 down")
	}
	h.Probe(40*ms, 2, false)
	if h.Up(40*ms, 2) {
		t.Fatal("two failed probes must take n2 down")
	}
	h.Probe(50*ms, 2, true)
	h.Probe(60*ms, 2, true)
	// Silent past the detector's timeout: down without a probe.
	h.Check(161 * ms)
	if h.Up(161*ms, 2) {
		t.Fatal("a suspected peer must be down")
	}
	want := []string{"n2 up probes-succeeded", "n2 down probes-failed", "n2 up probes-succeeded", "n2 down detector-suspects"}
	if len(log) != len(want) {
		t.Fatalf("changes %v, want %v", log, want)
	}
	for i, c := range log {
		s := c.Peer.String() + map[bool]string{true: " up ", false: " down "}[c.Up] + c.Why
		if s != want[i] {
			t.Fatalf("change %d: %q, want %q", i, s, want[i])
		}
	}
	if _, err := NewHealth([]ordo.NodeID{2, 2}, HealthConfig{}); err == nil {
		t.Fatal("duplicate peer accepted")
	}
	_ = time.Second
}
