package live

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// Clock is a live node's clock model: the machine's clocks seen through an
// offset, a drift and steps, so a clock fault strikes one node of a local
// cluster without touching the machine's clock (section 2, "물리 시계의
// 문제"; the simulator's sim.ClockModel is the same model in virtual time).
//
//   - Now (Env.Now) = the machine's wall clock + offset, running at
//     1 + drift; a step moves it at once (an NTP step, `date -s`).
//   - Monotonic (Env.Monotonic) = the OS monotonic clock since the node's
//     first reading, running at 1 + drift; steps never move it.
//   - Timers (Env.After) run on Monotonic: a timer of d fires after d/(1 +
//     drift) of real time, so leases and timeouts feel drift live as they
//     do in the simulator.
//
// The zero value is a clock without a fault. It is safe for concurrent use
// (the event loop reads it, the admin endpoint sets it).
type Clock struct {
	mu sync.Mutex
	// At the real instant since (a time.Now reading: wall and monotonic),
	// the local wall clock read wall and the local monotonic clock mono;
	// from there both advance at rate per real second. Every change starts
	// a new piece, so readings stay continuous (Monotonic never jumps).
	since time.Time
	wall  time.Time
	mono  time.Duration
	rate  float64 // 1 + DriftPPM/1e6; 0 until the first reading
	drift float64
}

// MaxClockDriftPPM bounds a configured drift: ±50 % is far past any real
// oscillator (the chapter's typical drift is 10–100 ppm) and keeps every
// timer finite.
const MaxClockDriftPPM = 500_000

// MaxClockStep bounds one step or offset: ±10 years.
const MaxClockStep = 10 * 365 * 24 * time.Hour

// ClockState is what GET /clock answers and POST /clock sets.
type ClockState struct {
	// Offset is the local wall clock minus the machine's, now.
	Offset Duration `json:"offset"`
	// DriftPPM is the rate error in parts per million (µs per second);
	// positive runs fast.
	DriftPPM float64 `json:"drift_ppm"`
	// Monotonic is the node's monotonic reading (GET only).
	Monotonic Duration `json:"monotonic,omitempty"`
}

// ClockChange is a POST /clock body; absent fields change nothing.
type ClockChange struct {
	// Step moves the wall clock by this much (negative: backwards).
	Step *Duration `json:"step,omitempty"`
	// Offset sets the wall clock to the machine's plus this.
	Offset *Duration `json:"offset,omitempty"`
	// DriftPPM sets the drift from now on.
	DriftPPM *float64 `json:"drift_ppm,omitempty"`
}

// Duration is a time.Duration written as "10s" in JSON (a number is read
// as nanoseconds).
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "10s", "-250ms" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: want a string like \"10s\" or nanoseconds", b)
	}
	*d = Duration(n)
	return nil
}

// at returns the local readings at real instant now (locked).
func (c *Clock) at(now time.Time) (wall time.Time, mono time.Duration) {
	if c.rate == 0 {
		// Round(0) drops the monotonic reading: protocol code that
		// subtracts two Now values must see the steps.
		c.since, c.wall, c.mono, c.rate = now, now.Round(0), 0, 1
	}
	el := now.Sub(c.since) // monotonic: immune to the machine's steps
	if c.rate != 1 {
		el = time.Duration(float64(el) * c.rate)
	}
	return c.wall.Add(el), c.mono + el
}

// rebase starts a new piece at now (locked).
func (c *Clock) rebase(now time.Time) {
	c.wall, c.mono = c.at(now)
	c.since = now
}

// Now is the node's wall clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, _ := c.at(time.Now())
	return w
}

// Monotonic is the node's monotonic clock: time since its first reading,
// at the node's drift rate.
func (c *Clock) Monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, m := c.at(time.Now())
	return m
}

// Real converts a duration of the node's monotonic clock (a timer) to real
// time: a fast clock fires its timers early.
func (c *Clock) Real(d time.Duration) time.Duration {
	c.mu.Lock()
	rate := c.rate
	c.mu.Unlock()
	if rate == 0 || rate == 1 {
		return d
	}
	return time.Duration(float64(d) / rate)
}

// State reports the clock's offset, drift and monotonic reading.
func (c *Clock) State() ClockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	w, m := c.at(now)
	return ClockState{Offset: Duration(w.Sub(now.Round(0))), DriftPPM: c.drift, Monotonic: Duration(m)}
}

// Apply makes a change: first the offset or step (the wall clock only),
// then the drift. An out-of-range value is an error and changes nothing.
func (c *Clock) Apply(ch ClockChange) error {
	if ch.Step != nil && math.Abs(float64(*ch.Step)) > float64(MaxClockStep) {
		return fmt.Errorf("clock: step %v beyond ±%v", time.Duration(*ch.Step), MaxClockStep)
	}
	if ch.Offset != nil && math.Abs(float64(*ch.Offset)) > float64(MaxClockStep) {
		return fmt.Errorf("clock: offset %v beyond ±%v", time.Duration(*ch.Offset), MaxClockStep)
	}
	if ch.DriftPPM != nil && (math.IsNaN(*ch.DriftPPM) || math.Abs(*ch.DriftPPM) > MaxClockDriftPPM) {
		return fmt.Errorf("clock: drift %v ppm beyond ±%d", *ch.DriftPPM, MaxClockDriftPPM)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.rebase(now)
	if ch.Offset != nil {
		c.wall = now.Round(0).Add(time.Duration(*ch.Offset))
	}
	if ch.Step != nil {
		c.wall = c.wall.Add(time.Duration(*ch.Step))
	}
	if ch.DriftPPM != nil {
		c.drift = *ch.DriftPPM
		c.rate = 1 + c.drift/1e6
	}
	return nil
}

// clockRoutes serves the node's clock fault on its admin endpoint:
//
//	GET  /clock   {"offset":"0s","drift_ppm":0,"monotonic":"12.3s"}
//	POST /clock   {"step":"10s"} | {"offset":"-2s"} | {"drift_ppm":100}
func (r *Runtime) clockRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /clock", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, r.clock.State())
	})
	mux.HandleFunc("POST /clock", func(w http.ResponseWriter, req *http.Request) {
		var ch ClockChange
		if !decodeJSONBody(w, req, &ch, "clock") { // bounded, one value (admin.go)
			return
		}
		if err := r.clock.Apply(ch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		st := r.clock.State()
		r.log.Info("clock set", "offset", time.Duration(st.Offset), "drift_ppm", st.DriftPPM)
		r.logClock(st) // the cluster's fault log (admin.go)
		writeJSON(w, st)
	})
}
