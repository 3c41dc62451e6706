package scene

import (
	"testing"
	"time"
)

// Section 5, strategy 2 (타임아웃 조정: "너무 짧지도, 길지도 않게"): a timeout
// at the median round trip suspects the live peer on about half the
// probes; one at p99.9 rarely does, but detects a crash later. The φ
// accrual detector, at a higher threshold, is slower and no less sure.
func TestTimeoutTradeoff(t *testing.T) {
	const seed = 1
	rows, err := TimeoutTable(DefaultTimeouts, seed)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]TimeoutRow{}
	for _, r := range rows {
		by[r.Preset+"/"+r.Detector] = r
	}
	for _, c := range DefaultTimeouts {
		for _, kind := range []string{"timeout", "heartbeat"} {
			p50, p99, p999 := by[c.Preset+"/"+kind+" p50"], by[c.Preset+"/"+kind+" p99"], by[c.Preset+"/"+kind+" p99.9"]
			frac := func(r TimeoutRow) float64 { return float64(r.False) / float64(max(r.Probes, 1)) }
			if frac(p50) < 0.3 {
				t.Errorf("%s, %s: p50 falsely suspected %d of %d probes; want many (≥ 30%%) (replay: ordo sim timeout-tuning --seed %d)", c.Preset, kind, p50.False, p50.Probes, seed)
			}
			if frac(p999) > 0.005 || p999.False >= p99.False || p99.False >= p50.False {
				t.Errorf("%s, %s: false suspicions p50 %d, p99 %d, p99.9 %d of %d: want falling, p99.9 under 0.5%% (replay: ordo sim timeout-tuning --seed %d)", c.Preset, kind, p50.False, p99.False, p999.False, p999.Probes, seed)
			}
			if !(0 <= p50.Detect && p50.Detect < p99.Detect && p99.Detect < p999.Detect) {
				t.Errorf("%s, %s: detection p50 %v, p99 %v, p99.9 %v: want rising with the timeout", c.Preset, kind, p50.Detect, p99.Detect, p999.Detect)
			}
			if p999.Detect > c.Interval+time.Second {
				t.Errorf("%s, %s: p99.9 detection %v out of range", c.Preset, kind, p999.Detect)
			}
		}
		lo, hi := by[c.Preset+"/phi 3"], by[c.Preset+"/phi 8"]
		if !(0 < lo.Detect && lo.Detect < hi.Detect) || hi.False > lo.False {
			t.Errorf("%s: φ 3 detects in %v with %d false, φ 8 in %v with %d: want φ 8 later and no less sure", c.Preset, lo.Detect, lo.False, hi.Detect, hi.False)
		}
	}
}
