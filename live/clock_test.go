package live

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Section 2 ("물리 시계의 문제"): a step moves the wall clock, never the
// monotonic one; drift scales the monotonic clock and the timers.
func TestClockStepMovesNowNotMonotonic(t *testing.T) {
	var c Clock
	m0 := c.Monotonic()
	step := Duration(10 * time.Second)
	if err := c.Apply(ClockChange{Step: &step}); err != nil {
		t.Fatal(err)
	}
	if off := time.Duration(c.State().Offset); off < 9*time.Second || off > 11*time.Second {
		t.Fatalf("offset after a 10s step = %v", off)
	}
	if d := c.Now().Sub(time.Now()); d < 9*time.Second {
		t.Fatalf("Now is %v ahead of the machine after a 10s step", d)
	}
	if m1 := c.Monotonic(); m1 < m0 || m1-m0 >= 10*time.Second {
		t.Fatalf("the step moved Monotonic from %v to %v", m0, m1)
	}
	back := Duration(-20 * time.Second)
	if err := c.Apply(ClockChange{Step: &back}); err != nil {
		t.Fatal(err)
	}
	if d := time.Now().Sub(c.Now()); d < 9*time.Second {
		t.Fatalf("Now is %v behind the machine after stepping back 20s", d)
	}
	if m2 := c.Monotonic(); m2 < m0 {
		t.Fatalf("Monotonic ran backwards: %v then %v", m0, m2)
	}
	// Now carries no monotonic reading, so subtracting two of them sees
	// the step (as a protocol reading Now must).
	a := c.Now()
	if err := c.Apply(ClockChange{Step: &step}); err != nil {
		t.Fatal(err)
	}
	if d := c.Now().Sub(a); d < 9*time.Second {
		t.Fatalf("two Now readings around a 10s step differ by %v", d)
	}
}

func TestClockDriftScalesTimers(t *testing.T) {
	var c Clock
	if got := c.Real(3 * time.Second); got != 3*time.Second {
		t.Fatalf("no drift: a 3s timer takes %v", got)
	}
	fast := 500_000.0 // +50 %: 1.5 local seconds per real second
	if err := c.Apply(ClockChange{DriftPPM: &fast}); err != nil {
		t.Fatal(err)
	}
	if got := c.Real(3 * time.Second); got != 2*time.Second {
		t.Fatalf("drift +50%%: a 3s timer takes %v of real time, want 2s", got)
	}
	m0 := c.Monotonic()
	slow := -100.0
	if err := c.Apply(ClockChange{DriftPPM: &slow}); err != nil {
		t.Fatal(err)
	}
	if m1 := c.Monotonic(); m1 < m0 {
		t.Fatalf("changing the drift moved Monotonic back: %v then %v", m0, m1)
	}
	for _, bad := range []ClockChange{
		{DriftPPM: ptr(2e6)},
		{Step: ptr(Duration(100 * 365 * 24 * time.Hour))},
	} {
		before := c.State().DriftPPM
		if err := c.Apply(bad); err == nil {
			t.Errorf("Apply(%+v) accepted", bad)
		}
		if c.State().DriftPPM != before {
			t.Errorf("a refused change altered the clock")
		}
	}
}

func ptr[T any](v T) *T { return &v }

// The admin endpoint sets a node's clock fault; the node's Env reads it.
func TestAdminClockEndpoint(t *testing.T) {
	c := startCluster(t, 1)
	rt := c.rt[0]
	base := "http://" + rt.AdminAddr() + "/clock"
	post := func(body string) (int, string) {
		resp, err := http.Post(base, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	m0 := rt.Monotonic()
	if code, body := post(`{"step":"10s","drift_ppm":100}`); code != http.StatusOK {
		t.Fatalf("POST /clock: %d %s", code, body)
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	var st ClockState
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if off := time.Duration(st.Offset); off < 9*time.Second || st.DriftPPM != 100 {
		t.Fatalf("GET /clock = %+v, want offset ≈10s and drift 100ppm", st)
	}
	if d := rt.Now().Sub(time.Now()); d < 9*time.Second {
		t.Fatalf("the node's Now is %v ahead after a 10s step", d)
	}
	if m1 := rt.Monotonic(); m1 < m0 || m1-m0 >= 10*time.Second {
		t.Fatalf("the step moved the node's Monotonic from %v to %v", m0, m1)
	}
	for _, bad := range []string{`{"drift_ppm":5e6}`, `{"skew":"1s"}`, `{"step":"ten"}`, `[`} {
		if code, _ := post(bad); code != http.StatusBadRequest {
			t.Errorf("POST /clock %s: status %d, want 400", bad, code)
		}
	}
	if st := rt.clock.State(); st.DriftPPM != 100 {
		t.Fatalf("a refused change altered the clock: %+v", st)
	}
}
