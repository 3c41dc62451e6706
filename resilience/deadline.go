package resilience

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Deadline is when a request must be done, as a reading of the holder's
// monotonic clock. Monotonic clocks of two machines share no origin, so a
// deadline never travels as an instant: Encode sends the time remaining,
// and the receiver starts its own deadline from it on arrival (as gRPC's
// grpc-timeout header does). Time in flight is thus not deducted unless
// the receiver subtracts a margin for it; every hop's own work is, so the
// deadline shrinks at every hop. The zero value is "no deadline".
type Deadline struct {
	at  time.Duration
	set bool
}

// NoDeadline is the zero Deadline.
var NoDeadline Deadline

// DeadlineIn returns the deadline d after now (monotonic). d ≤ 0 gives a
// deadline already expired.
func DeadlineIn(now, d time.Duration) Deadline {
	if d > 0 && now > math.MaxInt64-d {
		return Deadline{at: math.MaxInt64, set: true}
	}
	return Deadline{at: now + d, set: true}
}

// IsSet reports whether there is a deadline.
func (d Deadline) IsSet() bool { return d.set }

// At is the deadline as a monotonic reading (meaningless unless IsSet).
func (d Deadline) At() time.Duration { return d.at }

// Remaining is the time left at now: ≤ 0 once expired, and
// math.MaxInt64 (about 292 years) if there is no deadline.
func (d Deadline) Remaining(now time.Duration) time.Duration {
	if !d.set {
		return math.MaxInt64
	}
	return d.at - now
}

// Expired reports whether the deadline has passed at now.
func (d Deadline) Expired(now time.Duration) bool { return d.set && now >= d.at }

// Min returns the earlier of d and o (a deadline with none is the other).
func (d Deadline) Min(o Deadline) Deadline {
	if !d.set || (o.set && o.at < d.at) {
		return o
	}
	return d
}

// Forward is the deadline a hop hands to the next one at now: what remains
// less margin (a duration ≥ 0 reserved for the reply's way back and this
// hop's work after the call). The result is a relative duration to
// Encode or to pass to DeadlineIn at the receiver.
func (d Deadline) Forward(now, margin time.Duration) time.Duration {
	return d.Remaining(now) - margin
}

// DeadlineHeader is the HTTP header carrying a deadline: the time
// remaining, in TimeoutString's format.
const DeadlineHeader = "Request-Timeout"

// MaxTimeout bounds a decoded timeout: the largest time.Duration (about
// 292 years); larger header values are clamped to it.
const MaxTimeout = time.Duration(math.MaxInt64)

// Encode returns the time remaining at now in the header format of
// TimeoutString; "" if there is no deadline. An expired deadline encodes
// as "0n".
func (d Deadline) Encode(now time.Duration) string {
	if !d.set {
		return ""
	}
	return TimeoutString(d.Remaining(now))
}

// TimeoutString formats a duration as gRPC's timeout header does: at most
// eight digits and a unit, n (ns), u (µs), m (ms), S, M or H, choosing the
// finest unit that fits, rounding up so the receiver never gets more time
// than the sender had. Negative durations format as "0n".
func TimeoutString(d time.Duration) string {
	if d <= 0 {
		return "0n"
	}
	units := []struct {
		c byte
		d time.Duration
	}{{'n', time.Nanosecond}, {'u', time.Microsecond}, {'m', time.Millisecond}, {'S', time.Second}, {'M', time.Minute}, {'H', time.Hour}}
	for _, u := range units {
		v := d / u.d
		if d%u.d != 0 {
			v++
		}
		if v <= 99_999_999 {
			return strconv.FormatInt(int64(v), 10) + string(u.c)
		}
	}
	return "99999999H"
}

// ErrTimeoutSyntax is returned by ParseTimeout for a malformed value.
var ErrTimeoutSyntax = errors.New("resilience: timeout is not 1–8 digits and a unit n, u, m, S, M or H")

// ParseTimeout reads TimeoutString's format. It returns ErrTimeoutSyntax
// (wrapped, quoting at most 32 bytes of the input) for anything else.
// Values beyond the range of time.Duration are clamped to its maximum.
func ParseTimeout(s string) (time.Duration, error) {
	if len(s) < 2 || len(s) > 9 {
		return 0, fmt.Errorf("%w: %q", ErrTimeoutSyntax, clip(s))
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'n':
		unit = time.Nanosecond
	case 'u':
		unit = time.Microsecond
	case 'm':
		unit = time.Millisecond
	case 'S':
		unit = time.Second
	case 'M':
		unit = time.Minute
	case 'H':
		unit = time.Hour
	default:
		return 0, fmt.Errorf("%w: %q", ErrTimeoutSyntax, clip(s))
	}
	var v int64
	for i := 0; i < len(s)-1; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", ErrTimeoutSyntax, clip(s))
		}
		v = v*10 + int64(c-'0')
	}
	if v > int64(MaxTimeout/unit) {
		return MaxTimeout, nil
	}
	return time.Duration(v) * unit, nil
}

// ParseDeadline starts, at now (monotonic), the deadline a request carried
// as a header value (TimeoutString's format) less margin (≥ 0: an estimate
// of the time the request spent in flight). "" is no deadline. Errors are
// ParseTimeout's.
func ParseDeadline(now time.Duration, s string, margin time.Duration) (Deadline, error) {
	if s == "" {
		return NoDeadline, nil
	}
	d, err := ParseTimeout(s)
	if err != nil {
		return NoDeadline, err
	}
	return DeadlineIn(now, d-margin), nil
}

// AppendBinary appends the time remaining at now, for a binary message: a
// uvarint of 1 + nanoseconds remaining (0 for no deadline, 1 for expired).
func (d Deadline) AppendBinary(dst []byte, now time.Duration) []byte {
	if !d.set {
		return binary.AppendUvarint(dst, 0)
	}
	r := d.Remaining(now)
	if r < 0 {
		r = 0
	}
	return binary.AppendUvarint(dst, uint64(r)+1)
}

// DecodeDeadline reads AppendBinary's encoding from b at now (monotonic),
// returning the deadline and the bytes read. Errors: a truncated or
// overlong varint, or a value beyond the range of time.Duration.
func DecodeDeadline(b []byte, now time.Duration) (Deadline, int, error) {
	v, n := uvarint(b)
	if n <= 0 {
		return NoDeadline, 0, errors.New("resilience: deadline: truncated or overlong varint")
	}
	if v == 0 {
		return NoDeadline, n, nil
	}
	if v-1 > math.MaxInt64 {
		return NoDeadline, 0, fmt.Errorf("resilience: deadline: %d ns out of range", v-1)
	}
	return DeadlineIn(now, time.Duration(v-1)), n, nil
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
