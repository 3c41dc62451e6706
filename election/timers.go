package election

import (
	"fmt"
	"time"
)

// Bounds of the election protocols' duration options. Timers far shorter
// than a network hop only make a run flood itself with events (and a
// simulator's memory with trace), and the ceiling keeps sums of timers from
// overflowing.
const (
	MinHeartbeat = time.Millisecond
	MinTimeout   = 10 * time.Millisecond
	MaxTimer     = time.Hour
)

// TimerOption is one duration option and its floor.
type TimerOption struct {
	Name  string
	D     time.Duration
	Floor time.Duration
}

// CheckTimers checks protocol's duration options against their floors and
// MaxTimer; the error names the protocol, the option and the bound.
func CheckTimers(protocol string, opts ...TimerOption) error {
	for _, o := range opts {
		if o.D < o.Floor {
			return fmt.Errorf("%s: option %s=%v is below its floor of %v (shorter timers only flood the run with events)", protocol, o.Name, o.D, o.Floor)
		}
		if o.D > MaxTimer {
			return fmt.Errorf("%s: option %s=%v is above its ceiling of %v", protocol, o.Name, o.D, MaxTimer)
		}
	}
	return nil
}
