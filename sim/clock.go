package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// ClockModel is one node's physical clock (the chapter's section 2,
// "물리 시계의 문제"): an offset from true time, a drift rate, periodic NTP
// synchronisation with an error, and jumps (Sim.JumpClock).
type ClockModel struct {
	Offset time.Duration // initial offset from true time
	// Drift in parts per million, which is µs per second: the chapter's
	// typical 10–100 µs/s. Positive runs fast.
	DriftPPM float64
	// NTPEvery resynchronises the clock to true time ± NTPError.
	NTPEvery time.Duration
	NTPError time.Duration
}

func (m ClockModel) validate() error {
	if m.DriftPPM <= -1e6 || m.DriftPPM > 1e6 {
		return fmt.Errorf("drift %v ppm out of range (-1e6, 1e6]", m.DriftPPM)
	}
	if m.NTPEvery < 0 || m.NTPError < 0 {
		return fmt.Errorf("NTP period and error must not be negative")
	}
	return nil
}

// nodeClock reads local = base + (t - since)·(1 + drift), piecewise: a sync
// or a jump starts a new piece.
type nodeClock struct {
	model ClockModel
	rate  float64       // 1 + drift
	since time.Duration // true time the current piece began
	base  time.Duration // local reading at since
	rng   *rand.Rand
}

func newClock(m ClockModel, rng *rand.Rand) nodeClock {
	return nodeClock{model: m, rate: 1 + m.DriftPPM/1e6, base: m.Offset, rng: rng}
}

func (c *nodeClock) local(t time.Duration) time.Duration {
	if c.rate == 1 {
		return c.base + (t - c.since)
	}
	return c.base + time.Duration(float64(t-c.since)*c.rate)
}

// monotonic is the node's monotonic reading at true time t: true time at
// the node's drift rate, untouched by NTP syncs and jumps (those move only
// the wall clock, as an NTP step does on Linux).
func (c *nodeClock) monotonic(t time.Duration) time.Duration {
	if c.rate == 1 {
		return t
	}
	return time.Duration(float64(t) * c.rate)
}

// trueDuration converts a local duration (a timer) to true time: a fast
// clock fires its timers early. Jumps do not move timers: timers run on a
// monotonic clock, as in Go and Linux. It rounds up, so that a timer never
// fires before its duration has passed on the node's own monotonic clock
// (monotonic truncates: without the rounding, a deadline timer could
// wake its node a nanosecond before the deadline it was armed for).
func (c *nodeClock) trueDuration(d time.Duration) time.Duration {
	if c.rate == 1 || d <= 0 {
		return d
	}
	return time.Duration(math.Ceil(float64(d+1) / c.rate))
}

// sync sets the clock to true time plus an error drawn uniformly from
// ±NTPError.
func (c *nodeClock) sync(t time.Duration) {
	var e time.Duration
	if c.model.NTPError > 0 {
		e = time.Duration(c.rng.Int64N(int64(2*c.model.NTPError)+1)) - c.model.NTPError
	}
	c.since, c.base = t, t+e
}

// jump moves the clock by d (negative: backwards) at true time t.
func (c *nodeClock) jump(t, d time.Duration) {
	c.base = c.local(t) + d
	c.since = t
}
