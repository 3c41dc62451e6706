package measure

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50} // the textbook example, shuffled below
	in := []float64{50, 15, 40, 20, 35}
	for _, c := range []struct {
		p    float64
		want float64
	}{{0, 15}, {5, 15}, {30, 20}, {40, 20}, {50, 35}, {100, 50}, {150, 50}} {
		if got := Percentile(in, c.p); got != c.want {
			t.Errorf("p%v of %v = %v, want %v", c.p, xs, got, c.want)
		}
	}
	if in[0] != 50 {
		t.Error("Percentile sorted its input")
	}
	if got := Percentile([]time.Duration(nil), 99); got != 0 {
		t.Errorf("empty: %v", got)
	}
	// Float noise: 0.57·100 = 57.00000000000001 must still be rank 57.
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, p := range []float64{29, 57, 99} {
		if got := Percentile(hundred, p); got != int(p) {
			t.Errorf("p%v of 1..100 = %d, want %d", p, got, int(p))
		}
	}
}
