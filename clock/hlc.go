package clock

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Timestamp is a hybrid logical clock timestamp (Kulkarni, Demirbas et al.,
// "Logical Physical Clocks", 2014): L is the largest physical time (in
// milliseconds since the Unix epoch) the node has heard of, C counts events
// that share that L, and Node breaks the remaining ties so that timestamps
// are totally ordered.
type Timestamp struct {
	L    uint64 // milliseconds; fits in 48 bits until the year 10889
	C    uint16
	Node uint16
}

// Packed form: L in the high 48 bits, C in the low 16, as in the paper's
// proposal to fit an HLC into an NTP-sized 64-bit field. Node is not part of
// the packed form; packed values order exactly as (L, C) do.
const (
	packBits = 16
	maxL     = 1<<48 - 1
)

// Pack returns the 64-bit form of (L, C).
func (t Timestamp) Pack() uint64 { return t.L<<packBits | uint64(t.C) }

// Unpack is the inverse of Pack; the node is supplied separately.
func Unpack(p uint64, node uint16) Timestamp {
	return Timestamp{L: p >> packBits, C: uint16(p), Node: node}
}

// Less orders timestamps totally: by L, then C, then Node.
func (t Timestamp) Less(o Timestamp) bool {
	if t.L != o.L {
		return t.L < o.L
	}
	if t.C != o.C {
		return t.C < o.C
	}
	return t.Node < o.Node
}

// CompareHLC returns -1, 0 or +1 in the total order of Less.
func CompareHLC(a, b Timestamp) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// String formats t as L.C@Node, e.g. 1700000000123.2@3.
func (t Timestamp) String() string {
	return strconv.FormatUint(t.L, 10) + "." + strconv.FormatUint(uint64(t.C), 10) + "@" + strconv.FormatUint(uint64(t.Node), 10)
}

// ParseTimestamp parses the String form L.C@Node.
func ParseTimestamp(s string) (Timestamp, error) {
	lc, node, ok := strings.Cut(s, "@")
	if !ok {
		return Timestamp{}, &SyntaxError{Input: s, Offset: 0, Msg: "an HLC timestamp is written L.C@node"}
	}
	l, c, ok := strings.Cut(lc, ".")
	if !ok {
		return Timestamp{}, &SyntaxError{Input: s, Offset: 0, Msg: "missing '.' between L and C"}
	}
	lv, err := strconv.ParseUint(l, 10, 64)
	if err != nil || lv > maxL {
		return Timestamp{}, &SyntaxError{Input: s, Offset: 0, Msg: "L must be an integer below 2^48"}
	}
	cv, err := strconv.ParseUint(c, 10, 16)
	if err != nil {
		return Timestamp{}, &SyntaxError{Input: s, Offset: len(l) + 1, Msg: "C must be an integer below 2^16"}
	}
	nv, err := strconv.ParseUint(node, 10, 16)
	if err != nil {
		return Timestamp{}, &SyntaxError{Input: s, Offset: len(lc) + 1, Msg: "node must be an integer below 2^16"}
	}
	return Timestamp{L: lv, C: uint16(cv), Node: uint16(nv)}, nil
}

// ErrClockOffset reports a remote timestamp further ahead of the local
// physical clock than the tolerated maximum: accepting it would drag this
// node's clock (and everyone it talks to) into the future. The message is
// rejected and the clock left unchanged.
type ErrClockOffset struct {
	Remote    Timestamp
	Physical  uint64        // local physical time, ms
	MaxOffset time.Duration // the tolerance
	Default   bool          // MaxOffset was unset: the tolerance is DefaultMaxOffset
}

func (e *ErrClockOffset) Error() string {
	msg := fmt.Sprintf("clock: remote HLC %v is %v ahead of local physical time %d ms, more than the tolerated %v",
		e.Remote, time.Duration(e.Remote.L-e.Physical)*time.Millisecond, e.Physical, e.MaxOffset)
	if e.Default {
		msg += " (the default bound, clock.DefaultMaxOffset; set HLC.MaxOffset to choose another, or clock.NoMaxOffset for none)"
	}
	return msg
}

// DefaultMaxOffset is the tolerance of an HLC whose MaxOffset is 0: a
// remote timestamp more than half a second ahead of local physical time is
// refused. Without a bound one peer whose clock is hours ahead drags every
// node it talks to hours into the future, and their L stops following
// physical time until the real clock catches up (Kulkarni et al. 2014, §5:
// the algorithm assumes clocks synchronized within ε). Half a second is
// well above what NTP keeps clocks within on a network (milliseconds) and
// far below a misconfigured clock's error (minutes to hours).
const DefaultMaxOffset = 500 * time.Millisecond

// NoMaxOffset, or any negative MaxOffset, turns the bound off: the HLC
// follows any remote clock, however far ahead (for tests of that danger).
const NoMaxOffset time.Duration = -1

// HLC is a hybrid logical clock. It reads physical time through Physical
// (milliseconds since the Unix epoch; in the simulator, the node's skewed
// clock) so it is deterministic under test.
type HLC struct {
	Node      uint16
	Physical  func() uint64
	MaxOffset time.Duration // 0: DefaultMaxOffset; negative (NoMaxOffset): no limit
	last      Timestamp
}

// NewHLC returns an HLC for node reading physical time from now, refusing
// remote timestamps more than maxOffset ahead (0: DefaultMaxOffset;
// negative: no bound).
func NewHLC(node uint16, now func() time.Time, maxOffset time.Duration) *HLC {
	return &HLC{Node: node, Physical: func() uint64 { return Millis(now()) }, MaxOffset: maxOffset}
}

// Millis converts t to the HLC's physical unit.
func Millis(t time.Time) uint64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return min(uint64(ms), maxL)
}

// Last returns the most recent timestamp issued, without ticking.
func (h *HLC) Last() Timestamp { return h.last }

// Now stamps a local or send event (the paper's "send or local event"):
// l' = l; l = max(l', pt); c = (l == l') ? c+1 : 0.
func (h *HLC) Now() Timestamp {
	pt := min(h.Physical(), maxL)
	if pt > h.last.L {
		h.last.L, h.last.C = pt, 0
	} else {
		h.tickC()
	}
	h.last.Node = h.Node
	return h.last
}

// Update stamps the receipt of a message carrying m (the paper's "receive
// event of message m"): l = max(l', m.l, pt), and c continues from whichever
// of the local or remote counters had that l (both: the larger), or restarts
// at 0 when physical time is ahead of both. A remote L more than MaxOffset
// ahead of physical time (DefaultMaxOffset when MaxOffset is 0) is refused
// with *ErrClockOffset and the clock left unchanged.
func (h *HLC) Update(m Timestamp) (Timestamp, error) {
	pt := min(h.Physical(), maxL)
	bound, def := h.MaxOffset, h.MaxOffset == 0
	if def {
		bound = DefaultMaxOffset
	}
	// Compared in milliseconds, so an offset of 2^48 ms cannot overflow
	// time.Duration's nanoseconds and slip under the bound.
	if bound > 0 && m.L > pt && m.L-pt > uint64(bound/time.Millisecond) {
		return h.last, &ErrClockOffset{Remote: m, Physical: pt, MaxOffset: bound, Default: def}
	}
	if m.L > maxL {
		m.L = maxL
	}
	old := h.last
	l := max(old.L, m.L, pt)
	switch {
	case l == old.L && l == m.L:
		h.last.L, h.last.C = l, max(old.C, m.C)
		h.tickC()
	case l == old.L:
		h.tickC()
	case l == m.L:
		h.last.L, h.last.C = l, m.C
		h.tickC()
	default:
		h.last.L, h.last.C = l, 0
	}
	h.last.Node = h.Node
	return h.last, nil
}

// tickC increments C. The paper bounds C by the number of processes times
// the clock offset; if 16 bits ever overflow, L borrows one millisecond so
// timestamps stay strictly increasing and still fit the packed form.
func (h *HLC) tickC() {
	if h.last.C == 1<<16-1 {
		h.last.L++
		h.last.C = 0
		return
	}
	h.last.C++
}
