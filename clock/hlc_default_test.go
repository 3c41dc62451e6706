package clock

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// An HLC built without a MaxOffset must not follow a peer hours ahead
// (Kulkarni et al. 2014, §5 assume clocks within ε): the zero value takes
// DefaultMaxOffset, refuses a remote 3 h ahead with *ErrClockOffset naming
// the default, and keeps its clock; exactly DefaultMaxOffset ahead is still
// adopted. NoMaxOffset turns the bound off, and a remote 2^48 ms ahead
// (which overflows time.Duration's nanoseconds) is refused, not wrapped.
func TestHLCDefaultMaxOffset(t *testing.T) {
	const pt = 1_000_000
	h := NewHLC(1, func() time.Time { return time.UnixMilli(pt) }, 0)
	before := h.Now()
	hours := Timestamp{L: pt + uint64(3*time.Hour/time.Millisecond), C: 2, Node: 2}
	got, err := h.Update(hours)
	var oe *ErrClockOffset
	if !errors.As(err, &oe) || !oe.Default || oe.MaxOffset != DefaultMaxOffset {
		t.Fatalf("remote 3h ahead with no MaxOffset: %v, %v; want *ErrClockOffset with the default bound", got, err)
	}
	if got != before || h.Last() != before {
		t.Fatalf("refused update moved the clock: %v → %v", before, h.Last())
	}
	if !strings.Contains(err.Error(), "3h0m0s ahead") || !strings.Contains(err.Error(), "clock.DefaultMaxOffset") {
		t.Errorf("error text does not say how far ahead nor which bound: %q", err)
	}

	edge := Timestamp{L: pt + uint64(DefaultMaxOffset/time.Millisecond), C: 4, Node: 2}
	if got, err := h.Update(edge); err != nil || got != (Timestamp{edge.L, 5, 1}) {
		t.Fatalf("remote exactly DefaultMaxOffset ahead: %v, %v; want %d.5@1", got, err, edge.L)
	}
	over := Timestamp{L: edge.L + 1 + 1, Node: 2} // physical time has not moved: 501 ms ahead
	if _, err := h.Update(over); !errors.As(err, &oe) {
		t.Fatalf("remote 1ms beyond the default bound accepted: %v", err)
	}

	far := &HLC{Node: 1, Physical: func() uint64 { return 0 }, MaxOffset: time.Hour}
	if _, err := far.Update(Timestamp{L: 1 << 48, Node: 2}); !errors.As(err, &oe) || oe.Default {
		t.Fatalf("remote 2^48 ms ahead of a 1h bound: %v; want *ErrClockOffset (explicit bound)", err)
	}

	free := NewHLC(1, func() time.Time { return time.UnixMilli(pt) }, NoMaxOffset)
	if got, err := free.Update(hours); err != nil || got.L != hours.L {
		t.Fatalf("NoMaxOffset: %v, %v; want the remote L adopted", got, err)
	}
}
