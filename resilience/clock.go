package resilience

import "time"

// Clock is a monotonic clock: time since an arbitrary origin that never
// steps backwards. ordo.Env satisfies it (Env.Monotonic), so does the
// simulator's per-node clock; SystemClock adapts the machine's.
type Clock interface {
	Monotonic() time.Duration
}

type systemClock struct{ origin time.Time }

// Monotonic implements Clock: the time since SystemClock was called, read
// from the OS monotonic clock (time.Since uses the monotonic reading, so a
// step of the wall clock does not move it).
func (c systemClock) Monotonic() time.Duration { return time.Since(c.origin) }

// SystemClock returns a Clock over the machine's monotonic clock, with its
// origin (reading 0) at the call. For production use; protocols use their
// ordo.Env instead.
func SystemClock() Clock { return systemClock{origin: time.Now()} }
