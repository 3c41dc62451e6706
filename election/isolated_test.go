package election

import (
	"strings"
	"testing"
	"time"

	"ordo/check"
	"ordo/trace"
)

func (b *tb) faultAttrs(at int, name string, kv ...any) *tb {
	b.t.Append(trace.Event{Kind: trace.Fault, T: ms(at), Name: name, Attrs: trace.MakeAttrs(kv)})
	return b
}

// Issue 9, case 6 and section 5 ("a leader without a quorum must step
// down"): a leader cut off from the majority for longer than the bound is
// an isolated leader; the finding names it and starts when it was cut.
func TestIsolatedLeader_Section5_LeaderWithoutQuorumReported(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).follower(11, 2, 1, 1).
		faultAttrs(5000, "partition", "groups", "1,2/3,4,5").
		leader(5200, 3, 2).
		ev(6600, 4, trace.Note, "noise")
	r := IsolatedLeader{Bound: time.Second}.Check(&b.t)
	if r.OK || r.Verdict != check.Fail || len(r.Violations) != 1 {
		t.Fatalf("n1 leading 1.6s cut from the majority, bound 1s: %+v", r)
	}
	v := r.Violations[0]
	if v.From != ms(5000) || v.To != ms(6600) || !strings.Contains(v.Message, "n1 (term 1)") {
		t.Fatalf("finding %+v, want n1 (term 1) from 5s to 6.6s", v)
	}
	if r.Summary != "1 leaderships outlived their quorum by more than 1s" {
		t.Errorf("summary %q", r.Summary)
	}
}

// The bound is strict and measured from the cut, whenever the cut
// happens: isolation of exactly the bound, or shorter, is no finding, even
// late in a run (a mutant that added the start time to the elapsed time
// reported it); one event past it is.
func TestIsolatedLeader_BoundIsMeasuredFromTheCut(t *testing.T) {
	short := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).
		faultAttrs(5000, "partition", "groups", "1,2/3,4,5").
		ev(5500, 4, trace.Note, "noise").
		ev(6000, 4, trace.Note, "noise"). // exactly the bound
		ev(6000, 1, trace.Note, "follower", "term", 1, "leader", 0)
	if r := (IsolatedLeader{Bound: time.Second}).Check(&short.t); !r.OK || r.Verdict != check.Pass {
		t.Fatalf("isolated for exactly the 1s bound: %+v", r)
	}
	healed := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).
		faultAttrs(5000, "partition", "groups", "1/2,3,4,5").
		faultAttrs(5900, "heal").
		ev(9000, 4, trace.Note, "noise")
	if r := (IsolatedLeader{Bound: time.Second}).Check(&healed.t); !r.OK {
		t.Fatalf("isolated 0.9s, healed: %+v", r)
	}
	// A leader with a majority (3 of 5) is never isolated.
	held := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).
		faultAttrs(100, "partition", "groups", "1,2,3/4,5").
		ev(9000, 4, trace.Note, "noise")
	if r := (IsolatedLeader{Bound: time.Second}).Check(&held.t); !r.OK {
		t.Fatalf("a leader reaching 3 of 5: %+v", r)
	}
	// Isolated from time 0 (a leader that boots cut off) is still found:
	// its start is stored as t+1.
	zero := newTB(3).start(0, 1, 2, 3).
		faultAttrs(0, "partition", "groups", "1/2,3").
		leader(0, 1, 1).
		ev(1500, 2, trace.Note, "noise")
	r := IsolatedLeader{Bound: time.Second}.Check(&zero.t)
	if r.OK || len(r.Violations) != 1 || r.Violations[0].From != 0 {
		t.Fatalf("isolated from time 0 for 1.5s: %+v", r)
	}
}

// One finding per isolated leadership: the leader that stays cut off is
// reported once however many events pass; a new leadership after it
// stepped down and was cut again is a second finding. A paused leader does
// not lead (a frozen process does nothing), and a crashed one neither.
func TestIsolatedLeader_OneFindingPerLeadership(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).
		leader(10, 1, 1).
		faultAttrs(100, "partition", "groups", "1/2,3").
		ev(1200, 2, trace.Note, "noise").
		ev(1300, 2, trace.Note, "noise").
		ev(1400, 1, trace.Note, "follower", "term", 2, "leader", 0).
		leader(1500, 1, 3).
		ev(2600, 2, trace.Note, "noise")
	r := IsolatedLeader{Bound: time.Second}.Check(&b.t)
	if r.OK || len(r.Violations) != 2 || r.Summary != "2 leaderships outlived their quorum by more than 1s" {
		t.Fatalf("two isolated leaderships of n1: %+v", r)
	}
	if !strings.Contains(r.Violations[1].Message, "(term 3)") || r.Violations[1].From != ms(1500) {
		t.Errorf("second finding %+v, want term 3 from 1.5s", r.Violations[1])
	}

	p := newTB(3).start(0, 1, 2, 3).
		leader(10, 1, 1).
		faultAttrs(100, "partition", "groups", "1/2,3").
		pause(200, 1).
		ev(5000, 2, trace.Note, "noise")
	if r := (IsolatedLeader{Bound: time.Second}).Check(&p.t); !r.OK {
		t.Fatalf("a leader paused while cut off was counted as leading: %+v", r)
	}
	c := newTB(3).start(0, 1, 2, 3).
		leader(10, 1, 1).
		faultAttrs(100, "partition", "groups", "1/2,3").
		ev(200, 1, trace.Crash, "").
		ev(5000, 2, trace.Note, "noise")
	if r := (IsolatedLeader{Bound: time.Second}).Check(&c.t); !r.OK {
		t.Fatalf("a crashed leader was counted as leading: %+v", r)
	}
}

// IsolationBound: isolation_bound overrides, then election_timeout_max,
// then the eventual bound's quarter, never under a second.
func TestIsolationBound(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want time.Duration
	}{
		{map[string]string{"isolation_bound": "3s", "election_timeout_max": "300ms"}, 3 * time.Second},
		{map[string]string{"election_timeout_max": "300ms"}, 300 * time.Millisecond},
		{map[string]string{"isolation_bound": "0s", "election_timeout_max": "300ms"}, 300 * time.Millisecond},
		{map[string]string{"timeout": "2s"}, 2 * time.Second},
		{map[string]string{"timeout": "100ms"}, time.Second},
		{nil, time.Second},
	} {
		if got := IsolationBound(trace.Meta{Options: tc.opts}); got != tc.want {
			t.Errorf("IsolationBound(%v) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}
