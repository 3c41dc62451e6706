package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// The window counts puts acknowledged inside it, and its percentiles are
// nearest-rank over their latencies (section 5: judge by the tail).
func TestWindowCountsAcknowledgements(t *testing.T) {
	l := newLoad(nil, 2, 1, 1, 0, time.Second)
	ms := time.Millisecond
	l.samples[0] = []sample{{0, 5 * ms}, {90 * ms, 20 * ms}, {100 * ms, 1 * ms}, {150 * ms, 2 * ms}}
	l.samples[1] = []sample{{110 * ms, 100 * ms}, {195 * ms, 10 * ms}}
	l.errors.Store(3)
	st, in := l.window(100*ms, 200*ms)
	// In: 90+20=110, 100+1, 150+2; out: 0+5 (before), 110+100 and 195+10 (after).
	if st.Ops != 3 || len(in) != 3 {
		t.Fatalf("ops %d (%d samples), want 3", st.Ops, len(in))
	}
	if st.OpsPerS != 30 {
		t.Errorf("ops/s %v, want 30 (3 in 100 ms)", st.OpsPerS)
	}
	if st.P50Ms != 2 || st.P99Ms != 20 || st.MaxMs != 20 || st.Errors != 3 {
		t.Errorf("stats %+v: want p50 2, p99 20, max 20, 3 errors", st)
	}
}

func TestPointsKeepTheSlowest(t *testing.T) {
	var in []sample
	for i := range 100000 {
		in = append(in, sample{time.Duration(i) * time.Microsecond, time.Millisecond})
	}
	in[54321].lat = time.Second
	pts := points(in, 0, 1000)
	if len(pts) > 1200 {
		t.Errorf("%d points for a budget of 1000", len(pts))
	}
	found := false
	for _, p := range pts {
		found = found || p.LatMs == 1000
	}
	if !found {
		t.Error("the slowest put was thinned out of the picture")
	}
	if points(nil, 0, 10) != nil {
		t.Error("points of no samples")
	}
}

func TestConfigRefusesBadBounds(t *testing.T) {
	ok := System{Name: "x", Start: func(context.Context, int, string) (Driver, error) { return nil, nil }}
	good := Config{Dir: "d", Ordo: ok, Etcd: ok}
	if err := good.defaults(); err != nil {
		t.Fatalf("defaults refused %+v: %v", good, err)
	}
	for name, c := range map[string]Config{
		"no dir":       {},
		"nodes 0":      {Nodes: []int{0}, Dir: "d"},
		"nodes 10":     {Nodes: []int{10}, Dir: "d"},
		"clients":      {Clients: []int{MaxClients + 1}, Dir: "d"},
		"reps":         {Reps: -1, Dir: "d"},
		"failover":     {Failover: MaxFailover + 1, Dir: "d"},
		"value":        {ValueSize: -1, Dir: "d"},
		"duration":     {Duration: -time.Second, Dir: "d"},
		"no systems":   {Dir: "d"},
		"long":         {Duration: 2 * MaxDuration, Dir: "d"},
		"keys":         {Keys: -5, Dir: "d"},
		"fail clients": {FailoverClients: -1, Dir: "d"},
	} {
		c.Ordo, c.Etcd = ok, ok
		if name == "no systems" {
			c.Ordo = System{}
		}
		if err := c.defaults(); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

func TestSVGWithoutSeries(t *testing.T) {
	var b strings.Builder
	if err := WriteSVG(&b, &Result{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(b.String()), "</svg>") {
		t.Fatal("not a closed SVG document")
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a parenthesis must not shift the fields.
	line := []byte("42 (ordo) (x y) S 1 42 42 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 8 0 5 0 0\n")
	got, err := parseStatCPU(line)
	if err != nil || got != 3800*time.Millisecond {
		t.Fatalf("parseStatCPU = %v, %v; want 3.8s (380 ticks)", got, err)
	}
	for _, bad := range []string{"", "42 ordo S 1", "42 (x) S 1 2 3", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 -5 130"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) accepted", bad)
		}
	}
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte("42 (ordo) S 1 42 42 0 -1 4194560 100 0 0 0 250 130 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseStatCPU(b); err == nil && d < 0 {
			t.Fatalf("negative CPU time %v from %q", d, b)
		}
	})
}
