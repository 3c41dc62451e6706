package detect

import (
	"math"
	"testing"
	"time"

	"ordo"
)

// t0 is a monotonic reading: detectors measure on Env.Monotonic.
const t0 = 7 * time.Second

func TestHeartbeatSuspectsAfterTimeout(t *testing.T) {
	h := NewHeartbeat([]ordo.NodeID{2, 3}, 500*time.Millisecond, t0)
	at := func(d time.Duration) time.Duration { return t0 + d }
	if h.Suspect(2, at(500*time.Millisecond)) {
		t.Fatal("suspected at exactly the timeout")
	}
	if !h.Suspect(2, at(501*time.Millisecond)) {
		t.Fatal("not suspected after the timeout with no heartbeat since monitoring began")
	}
	h.Heard(2, at(400*time.Millisecond))
	if h.Suspect(2, at(800*time.Millisecond)) {
		t.Fatal("suspected 400ms after a heartbeat")
	}
	h.Heard(2, at(100*time.Millisecond)) // an earlier reading: ignored
	if h.LastHeard(2) != at(400*time.Millisecond) {
		t.Fatal("an earlier reading rewound the last heartbeat")
	}
	if got := h.Suspected(at(950 * time.Millisecond)); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("suspected %v, want [2 3]", got)
	}
}

func TestPhiGrowsWithSilence(t *testing.T) {
	p := NewPhi([]ordo.NodeID{2}, PhiConfig{Threshold: 8, Expected: 100 * time.Millisecond}, t0)
	now := t0
	for i := 0; i < 200; i++ { // heartbeats every 100ms ± 5ms
		now += 95*time.Millisecond + time.Duration(i%11)*time.Millisecond
		p.Heard(2, now)
	}
	if v := p.Phi(2, now); v > 0.01 {
		t.Fatalf("φ right after a heartbeat = %v, want ≈0", v)
	}
	// At the mean gap the next heartbeat is as likely late as early: φ = log10 2.
	if v := p.Phi(2, now+100*time.Millisecond); math.Abs(v-math.Log10(2)) > 0.05 {
		t.Fatalf("φ at the mean interval = %v, want ≈0.30", v)
	}
	prev := -1.0
	for d := time.Duration(0); d < 10*time.Second; d += 7 * time.Millisecond {
		v := p.Phi(2, now+d)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < prev {
			t.Fatalf("φ(%v) = %v after %v: must be finite and non-decreasing", d, v, prev)
		}
		prev = v
	}
	if p.Suspect(2, now+150*time.Millisecond) {
		t.Fatal("suspected after 150ms of silence: threshold 8 is far stricter")
	}
	if !p.Suspect(2, now+time.Second) {
		t.Fatal("not suspected after 1s of silence with 100ms heartbeats")
	}
}

// The tail formula takes over from Erfc without a jump.
func TestPhiTailIsContinuous(t *testing.T) {
	z := 5.0
	below := -math.Log10(0.5 * math.Erfc(z-1e-9))
	above := phiOf(z*math.Sqrt2+1e-9, 0, 1)
	if math.Abs(below-above)/below > 0.01 {
		t.Fatalf("φ jumps at the switch: %v vs %v", below, above)
	}
}

var sink ordo.Message

func TestBeatDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(1000, func() { sink = Beat{} }); n != 0 {
		t.Fatalf("converting Beat to ordo.Message allocates %v times", n)
	}
}

func TestProtocolOptions(t *testing.T) {
	for _, bad := range []map[string]string{{"detector": "oracle"}, {"interval": "0s"}, {"phi": "0"}} {
		o, err := Protocol.Resolve(bad)
		if err != nil {
			continue
		}
		if _, err := Protocol.New(ordo.Config{ID: 1, N: 3, Opts: o, Proto: Protocol}); err == nil {
			t.Errorf("options %v accepted", bad)
		}
	}
}
