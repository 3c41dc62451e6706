package check

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// tb builds a trace by hand: times in milliseconds.
type tb struct{ t trace.Trace }

func newTB(n int) *tb { return &tb{t: trace.Trace{Meta: trace.Meta{Nodes: n}}} }

func ms(v int) int64 { return int64(time.Duration(v) * time.Millisecond) }

func (b *tb) ev(at int, node int, kind trace.Kind, name string, kv ...any) *tb {
	b.t.Append(trace.Event{Kind: kind, Node: ordo.NodeID(node), T: ms(at), Name: name, Attrs: trace.MakeAttrs(kv)})
	return b
}
func (b *tb) start(at int, nodes ...int) *tb {
	for _, n := range nodes {
		b.ev(at, n, trace.Start, "")
	}
	return b
}
func (b *tb) leader(at, node, term int) *tb {
	return b.ev(at, node, trace.Note, "leader", "term", term, "token", term)
}
func (b *tb) follower(at, node, term, leader int) *tb {
	return b.ev(at, node, trace.Note, "follower", "term", term, "leader", leader)
}
func (b *tb) fault(at int, name string) *tb {
	b.t.Append(trace.Event{Kind: trace.Fault, T: ms(at), Name: name})
	return b
}

func run(t *testing.T, name string, tr *trace.Trace) Result {
	t.Helper()
	c, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return c.Check(tr)
}

// Reference: section 5, "Split-Brain 문제": node 1 and node 5 both lead.
func TestSingleLeader_Section5_SplitBrainReported(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 5, 1).follower(11, 1, 1, 5).follower(11, 2, 1, 5).
		fault(100, "partition").
		leader(400, 1, 2).follower(401, 2, 2, 1).
		fault(900, "heal").
		follower(950, 1, 2, 5).
		ev(1000, 3, trace.Note, "noise")
	r := run(t, "single-leader", &b.t)
	if r.OK || len(r.Violations) != 1 {
		t.Fatalf("want one overlap, got %+v", r)
	}
	v := r.Violations[0]
	if v.From != ms(400) || v.To != ms(950) || !strings.Contains(v.Message, "n5") || !strings.Contains(v.Message, "n1") {
		t.Fatalf("overlap reported as %+v", v)
	}
}

func TestSingleLeader_HandoverIsNotOverlap(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).
		leader(10, 3, 1).
		ev(200, 3, trace.Crash, "").
		leader(400, 2, 2).
		ev(500, 2, trace.Note, "candidate", "term", 3).
		leader(500, 1, 3). // same instant as 2's step-down: no overlap
		leader(600, 1, 3)  // a re-announcement
	r := run(t, "single-leader", &b.t)
	if !r.OK {
		t.Fatalf("handover flagged: %+v", r)
	}
	spans := LeaderSpans(&b.t)
	if len(spans) != 3 || !spans[2].Open || spans[0].To != ms(200) {
		t.Fatalf("spans %+v", spans)
	}
}

func TestOneLeaderPerTerm(t *testing.T) {
	ok := newTB(3).start(0, 1, 2, 3).leader(10, 1, 1).leader(20, 1, 1).leader(30, 2, 2)
	if r := run(t, "one-leader-per-term", &ok.t); !r.OK {
		t.Fatalf("%+v", r)
	}
	bad := newTB(3).start(0, 1, 2, 3).leader(10, 1, 4).leader(30, 2, 4)
	r := run(t, "one-leader-per-term", &bad.t)
	if r.OK || len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "term 4") {
		t.Fatalf("%+v", r)
	}
	// A third leader of term 4 is one more violation, not one more term.
	bad.leader(40, 3, 4)
	r = run(t, "one-leader-per-term", &bad.t)
	if len(r.Violations) != 2 || r.Summary != "1 terms with two leaders" {
		t.Fatalf("three leaders of one term: %+v", r)
	}
}

func TestEventualLeader(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).
		leader(10, 3, 1).follower(11, 1, 1, 3).follower(11, 2, 1, 3).
		ev(1000, 3, trace.Crash, "").
		ev(1200, 1, trace.Note, "candidate", "term", 2).
		leader(1201, 1, 2).follower(1202, 2, 2, 1)
	r := EventualLeader{Bound: 500 * time.Millisecond}.Check(&b.t)
	if !r.OK {
		t.Fatalf("%+v", r)
	}
	a := FinalAgreement(&b.t)
	if a.Leader != 1 || a.TimeToLeader() != 202*time.Millisecond {
		t.Fatalf("agreement %+v ttl %v", a, a.TimeToLeader())
	}
	// Too slow for a tighter bound.
	if r := (EventualLeader{Bound: 100 * time.Millisecond}).Check(&b.t); r.OK {
		t.Fatalf("bound 100ms passed: %+v", r)
	}
	// The old leader restarts and has not learnt the new one: no agreement.
	b.ev(1300, 3, trace.Restart, "")
	if r := run(t, "eventual-leader", &b.t); r.OK {
		t.Fatalf("a restarted node without a leader passed: %+v", r)
	}
	b.follower(1301, 3, 2, 1)
	if r := run(t, "eventual-leader", &b.t); !r.OK {
		t.Fatalf("%+v", r)
	}
	if got := FinalAgreement(&b.t).TimeToLeader(); got != time.Millisecond {
		t.Fatalf("ttl after restart %v", got)
	}
}

func TestEventualLeader_SplitNeverAgrees(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).fault(5, "partition").
		leader(10, 5, 1).follower(11, 3, 1, 5).follower(11, 4, 1, 5).
		leader(10, 2, 1).follower(11, 1, 1, 2)
	if r := run(t, "eventual-leader", &b.t); r.OK {
		t.Fatalf("%+v", r)
	}
}

func TestEventualBound(t *testing.T) {
	m := trace.Meta{Options: map[string]string{"election_timeout_max": "300ms", "heartbeat": "50ms"}}
	if got := EventualBound(m); got != 1200*time.Millisecond {
		t.Fatal(got)
	}
	m.Options["leader_bound"] = "2s"
	if got := EventualBound(m); got != 2*time.Second {
		t.Fatal(got)
	}
}

func TestFencing(t *testing.T) {
	// Leader tokens: 5 leads with 1, then 1 with 2, then 5 again with 1?
	// A deposed leader's token never comes back in a correct protocol.
	ok := newTB(5).start(0, 1, 5).leader(10, 5, 1).leader(400, 1, 2)
	if r := run(t, "fencing", &ok.t); !r.OK {
		t.Fatalf("%+v", r)
	}
	shared := newTB(5).start(0, 1, 5).leader(10, 5, 2).leader(400, 1, 2)
	if r := run(t, "fencing", &shared.t); r.OK {
		t.Fatalf("two leaders with one token passed: %+v", r)
	}
	// A leader that re-claims under a higher token while still leading
	// (plain Ring does) starts a new leadership: a later leader whose
	// token lies between the two is stale and must be caught.
	reclaim := newTB(5).start(0, 1, 5).leader(10, 5, 1).leader(200, 5, 3).leader(400, 1, 2)
	if r := run(t, "fencing", &reclaim.t); r.OK {
		t.Fatalf("token 2 after a re-claim with 3 passed: %+v", r)
	}
	if spans := LeaderSpans(&reclaim.t); len(spans) != 3 || spans[0].Token != 1 || spans[1].Token != 3 || spans[0].End != spans[1].Begin {
		t.Fatalf("a re-claim must close the old span and open one with the new token: %+v", spans)
	}
	// The same claim announced again is not a new leadership.
	again := newTB(5).start(0, 5).leader(10, 5, 1).leader(200, 5, 1)
	if spans := LeaderSpans(&again.t); len(spans) != 1 {
		t.Fatalf("a re-announcement opened a new span: %+v", spans)
	}
	// With a resource's own notes, only what it accepted counts.
	res := newTB(3).start(0, 1, 2, 3).
		ev(10, 3, trace.Note, "fence", "token", 2, "accepted", true).
		ev(20, 3, trace.Note, "fence", "token", 1, "accepted", false).
		ev(30, 3, trace.Note, "fence", "token", 3, "accepted", true)
	if r := run(t, "fencing", &res.t); !r.OK {
		t.Fatalf("%+v", r)
	}
	res.ev(40, 3, trace.Note, "fence", "token", 2, "accepted", true)
	if r := run(t, "fencing", &res.t); r.OK || len(r.Violations) != 1 {
		t.Fatalf("stale token accepted but passed: %+v", r)
	}
}
