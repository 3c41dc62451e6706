package election

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/ordotest"
	"ordo/trace"
)

func (b *tb) faultAttrs(at int, name string, kv ...any) *tb {
	b.t.Append(trace.Event{Kind: trace.Fault, T: ms(at), Name: name, Attrs: trace.MakeAttrs(kv)})
	return b
}

// Issue 9, case 6 and section 5 ("a leader without a quorum must step
// down"): a leader cut off from the majority for longer than the bound is
// an isolated leader; the finding names it, starts when it was cut and ends
// when the isolation outlasted the bound (not at whichever event came next:
// the same instant online and over a stored trace).
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
	if v.From != ms(5000) || v.To != ms(6000) || !strings.Contains(v.Message, "n1 (term 1)") {
		t.Fatalf("finding %+v, want n1 (term 1) from 5s to 6s", v)
	}
	if r.Summary != "1 leadership outlived its quorum by more than 1s" {
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

// SpanLog.Leading answers for every server id 1..N and -1 outside it
// (the checkers ask it for ids read from traces).
func TestSpanLogLeadingBounds(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).leader(10, 3, 1).leader(20, 1, 2)
	l := NewSpanLog(&b.t.Meta)
	for i := range b.t.Events {
		l.Observe(&b.t.Events[i])
	}
	for id, want := range map[int]int{-1: -1, 0: -1, 1: 1, 2: -1, 3: 0, 4: -1} {
		if got := l.Leading(id); got != want {
			t.Errorf("Leading(%d) = %d, want %d", id, got, want)
		}
	}
}

type testElector struct{ notElector }

func (testElector) View() View { return View{} }

// IsProtocol: a registered server protocol whose nodes are Electors is a
// leader election; the same nodes as a client protocol are not (clients
// are never judged by the election checks), nor is an unknown name.
func TestIsProtocolNeedsServerElector(t *testing.T) {
	newNode := func(ordo.Config) (ordo.Node, error) { return testElector{}, nil }
	ordo.Register(&ordo.Protocol{Name: "test-elector-server", Doc: "x", New: newNode})
	ordo.Register(&ordo.Protocol{Name: "test-elector-client", Doc: "x", New: newNode, Role: ordo.Client})
	for name, want := range map[string]bool{"test-elector-server": true, "test-elector-client": false, "test-no-such-protocol": false} {
		if got := IsProtocol(name); got != want {
			t.Errorf("IsProtocol(%q) = %v, want %v", name, got, want)
		}
	}
}

// A hard state of the wrong length is refused with an error that says how
// long it is and how long it must be (the runtimes print it to the user).
func TestLoadWordsNamesTheLength(t *testing.T) {
	env := ordotest.NewEnv(1, ordo.NewRoster(3, 0, 0), 1)
	env.Storage().Put("k", make([]byte, 12))
	defer func() {
		c, ok := recover().(ordo.Corrupt)
		if !ok || c.Key != "k" || c.Err.Error() != "12 bytes, want 16" {
			t.Fatalf("12 bytes for 2 words: %v", c)
		}
	}()
	LoadWords(env, "k", 2)
}

// Rounds counts acknowledgements from every server id 1..n, the last one
// included, and ignores ids outside the cluster.
func TestRoundsAckBounds(t *testing.T) {
	q := NewRounds(1, 3)
	r := q.Next()
	q.Ack(4, r)
	q.Ack(0, r)
	if q.Newest() == r {
		t.Fatalf("acks from n0 and n4 of a 3-node cluster made round %d a majority's", r)
	}
	q.Ack(3, r)
	if q.Newest() != r {
		t.Fatalf("n1 and n3 of 3 acknowledged round %d, newest is %d", r, q.Newest())
	}
}

// Exercise 3: a failover measured from `from` counts notes at exactly
// that instant (a leader elected in the same step as the crash it
// replaces).
func TestFailoverMsCountsNotesAtFrom(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	for _, e := range []trace.Event{
		{Kind: trace.Note, Node: 2, T: ms(100), Name: NoteCandidate, Attrs: trace.MakeAttrs([]any{"term", 2})},
		{Kind: trace.Note, Node: 2, T: ms(100), Name: NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 2, "token", 2})},
		{Kind: trace.Note, Node: 3, T: ms(100), Name: NoteFollower, Attrs: trace.MakeAttrs([]any{"term", 2, "leader", 2})},
	} {
		tr.Append(e)
	}
	if f := FailoverMs(tr, ms(100), 1, 1, nil); f != 0 {
		t.Fatalf("failover %v ms, want 0", f)
	}
	if e := ElectionMs(tr, ms(100), 1, 0); e != 0 {
		t.Fatalf("election part of a 0 ms failover: %v, want 0", e)
	}
}

func noteEv(node int, at int64, name string, kv ...any) trace.Event {
	return trace.Event{Kind: trace.Note, Node: ordo.NodeID(node), T: at, Name: name, Attrs: trace.MakeAttrs(kv)}
}

// Exercise 3's split of a failover: the election part runs from the
// winner's last (pre)candidacy before it led — an attempt of its own that
// failed (it noted follower again) does not count, nor do other nodes'
// notes or a leader note of the old term — to the failover's end.
func TestElectionMsFromWinnersLastCandidacy(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 5}}
	for _, e := range []trace.Event{
		noteEv(3, ms(150), NoteCandidate, "term", 2), // a failed attempt of the winner
		noteEv(3, ms(160), NoteFollower, "term", 2, "leader", 0),
		noteEv(1, ms(170), NoteCandidate, "term", 2), // another node's attempt
		noteEv(3, ms(200), NotePreCandidate, "term", 2),
		noteEv(3, ms(205), NoteCandidate, "term", 3),
		noteEv(1, ms(210), NoteFollower, "term", 3, "leader", 0),
		noteEv(3, ms(220), NoteLeader, "term", 3, "token", 3),
		noteEv(4, ms(221), NoteFollower, "term", 3, "leader", 3),
		noteEv(2, ms(225), NoteLeader, "term", 1, "token", 1), // the old term
		noteEv(5, ms(230), NoteFollower, "term", 3, "leader", 3),
		noteEv(3, ms(240), NoteFollower, "term", 3, "leader", 0), // after it led
	} {
		tr.Append(e)
	}
	f := FailoverMs(tr, ms(100), 1, 2, nil)
	if f != 130 {
		t.Fatalf("failover %v ms, want 130", f)
	}
	if e := ElectionMs(tr, ms(100), 1, f); e != 30 {
		t.Errorf("election part %v ms, want 30 (from n3's pre-candidacy at 200ms to 230ms)", e)
	}
	// A failover ending exactly at the winner's leader note.
	if e := ElectionMs(tr, ms(100), 1, 120); e != 20 {
		t.Errorf("election part of a failover ending at 220ms: %v ms, want 20", e)
	}

	// Candidacy and leadership in one instant at the failover's end, from
	// time 0: an election part of 0 ms, not "none".
	at := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	at.Append(noteEv(1, 0, NoteCandidate, "term", 1))
	at.Append(noteEv(1, 0, NoteLeader, "term", 1, "token", 1))
	at.Append(noteEv(2, 0, NoteFollower, "term", 1, "leader", 1))
	if e := ElectionMs(at, 0, 0, 0); e != 0 {
		t.Errorf("candidacy and leadership at 0: election part %v, want 0", e)
	}
	late := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	late.Append(noteEv(1, ms(50), NoteCandidate, "term", 1))
	late.Append(noteEv(1, ms(50), NoteLeader, "term", 1, "token", 1))
	if e := ElectionMs(late, 0, 0, 50); e != 0 {
		t.Errorf("candidacy and leadership at the failover's end: %v, want 0", e)
	}
}

// The bound of isolated-leader: an explicit Bound wins over the trace's
// options; Bound 0 takes the trace's isolation_bound.
func TestIsolatedLeader_ExplicitAndTraceBound(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).
		leader(10, 1, 1).
		faultAttrs(100, "partition", "groups", "1/2,3").
		ev(2100, 2, trace.Note, "noise")
	b.t.Meta.Options = map[string]string{"isolation_bound": "3s"}
	if r := run(t, "isolated-leader", &b.t); !r.OK {
		t.Fatalf("isolated 2s under the trace's 3s bound: %+v", r)
	}
	if r := (IsolatedLeader{Bound: 500 * time.Millisecond}).Check(&b.t); r.OK {
		t.Fatalf("isolated 2s, explicit bound 500ms: %+v", r)
	}
	b.t.Meta.Options = nil
	if r := (IsolatedLeader{Bound: 3 * time.Second}).Check(&b.t); !r.OK {
		t.Fatalf("isolated 2s, explicit bound 3s over the default 1s: %+v", r)
	}
}

// The highest server id is judged like any other.
func TestIsolatedLeader_HighestID(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).
		leader(10, 3, 1).
		faultAttrs(100, "partition", "groups", "3/1,2").
		ev(1500, 2, trace.Note, "noise")
	r := IsolatedLeader{Bound: time.Second}.Check(&b.t)
	if r.OK || len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "n3 (term 1)") {
		t.Fatalf("n3 isolated 1.4s: %+v", r)
	}
}

// The election checks judge a run of a registered election protocol even
// when it has no role note yet (a run too short to elect is judged, not
// refused); a run naming no protocol and holding no role note is refused.
func TestGateJudgesElectionProtocols(t *testing.T) {
	ordo.Register(&ordo.Protocol{Name: "test-elector-gate", Doc: "x", New: func(ordo.Config) (ordo.Node, error) { return testElector{}, nil }})
	b := newTB(3).start(0, 1, 2, 3)
	b.t.Meta.Protocol = "test-elector-gate"
	if r := run(t, "single-leader", &b.t); r.Verdict != check.Pass {
		t.Fatalf("an election run with no role note yet: %+v", r)
	}
	b.t.Meta.Protocol = ""
	if r := run(t, "single-leader", &b.t); r.Verdict != check.NotApplicable {
		t.Fatalf("a run of no named protocol with no role note: %+v", r)
	}
}

// Reports print true times rounded to 10µs; the message names both leaders
// and the stretch. Events of ids outside the servers are ignored by the
// span log.
func TestSingleLeader_MessageTimes(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3)
	b.t.Append(trace.Event{Kind: trace.Note, Node: 1, T: 1234567, Name: "leader", Attrs: trace.MakeAttrs([]any{"term", 1, "token", 1})})
	b.t.Append(trace.Event{Kind: trace.Note, Node: 2, T: 1234567, Name: "leader", Attrs: trace.MakeAttrs([]any{"term", 2, "token", 2})})
	b.t.Append(trace.Event{Kind: trace.Note, Node: 4, T: 2000000, Name: "leader", Attrs: trace.MakeAttrs([]any{"term", 3, "token", 3})})
	b.t.Append(trace.Event{Kind: trace.Note, Node: 1, T: 2345678, Name: "follower", Attrs: trace.MakeAttrs([]any{"term", 1, "leader", 0})})
	b.ev(9, 3, trace.Note, "noise") // the run goes on: the overlap ended when n1 stepped down
	r := run(t, "single-leader", &b.t)
	if r.OK || len(r.Violations) != 1 {
		t.Fatalf("%+v", r)
	}
	if got, want := r.Violations[0].Message, "split brain: n1 (term 1) and n2 (term 2) both act as leader from 1.23ms to 2.35ms"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if spans := LeaderSpans(&b.t); len(spans) != 2 {
		t.Fatalf("spans %+v: node 4 is not a server of this run", spans)
	}
}

// CheckTimers: a duration option at its floor or at MaxTimer is accepted,
// one nanosecond outside either is refused, naming the option.
func TestCheckTimersBounds(t *testing.T) {
	for d, ok := range map[time.Duration]bool{MinTimeout: true, MaxTimer: true, MinTimeout - 1: false, MaxTimer + 1: false} {
		err := CheckTimers("p", TimerOption{Name: "timeout", D: d, Floor: MinTimeout})
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "p: option timeout=")) {
			t.Errorf("timeout=%v: %v, want accepted=%v", d, err, ok)
		}
	}
}

// A three-way split brain: when the middle leadership ends, the other two
// still overlap until one of them ends (the open list drops exactly the
// span that closed).
func TestSingleLeader_ThreeWayOverlap(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).leader(20, 2, 2).leader(30, 3, 3).
		follower(40, 2, 3, 3).
		follower(60, 1, 3, 3).
		ev(100, 4, trace.Note, "noise")
	r := run(t, "single-leader", &b.t)
	type stretch struct{ from, to int64 }
	var got []stretch
	for _, v := range r.Violations {
		got = append(got, stretch{v.From, v.To})
	}
	// n1-n2 from 20 to 40 (n2 steps down; nobody is deposed: only n1,
	// n2, n3 noted terms), n1-n3 from 30 to 60, n2-n3 from 30 to 40.
	want := []stretch{{ms(20), ms(40)}, {ms(30), ms(60)}, {ms(30), ms(40)}}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("overlaps %v, want %v", got, want)
	}
}

// Section 5, fencing: a deposed leader acts when it sends a message or
// uses its fencing token; a note of anything else is not acting, and the
// new leader's sends are not the deposed one's. Here the deposed
// leadership is the newer span: n2 led term 2 after n1 had led term 3.
func TestStaleLeader_WhoActed(t *testing.T) {
	base := func() *tb {
		return newTB(3).start(0, 1, 2, 3).
			leader(10, 1, 3).follower(11, 3, 3, 1).
			leader(20, 2, 2) // a majority (n1, n3) is past term 2: deposed at once
	}
	for _, tc := range []struct {
		name  string
		act   func(b *tb)
		stale bool
	}{
		{"a note", func(b *tb) { b.ev(30, 2, trace.Note, "noise") }, false},
		{"the new leader sends", func(b *tb) { b.ev(30, 1, trace.Send, "") }, false},
		{"the deposed leader sends", func(b *tb) { b.ev(30, 2, trace.Send, "") }, true},
		{"the deposed leader fences", func(b *tb) { b.ev(30, 2, trace.Note, NoteFence, "token", 2, "accepted", true) }, true},
	} {
		b := base()
		tc.act(b)
		b.follower(50, 2, 3, 1)
		r := run(t, "stale-leader", &b.t)
		if r.OK == tc.stale {
			t.Errorf("%s: stale-leader %+v, want a finding = %v", tc.name, r, tc.stale)
		}
		switch {
		case !tc.stale && r.Summary != "2 leaderships, no deposed leader acted (1 held the role a moment and yielded without acting)":
			t.Errorf("%s: summary %q", tc.name, r.Summary)
		case tc.stale && r.Summary != "1 overlap of a deposed leader with a new one, 30ms in all":
			t.Errorf("%s: summary %q", tc.name, r.Summary)
		}
		if tc.stale {
			s := run(t, "single-leader", &b.t)
			if !s.OK || s.Summary != "2 leaderships, never two undeposed at once (1 overlap with a deposed leader not yet told, which is the stale-leader check's to judge)" {
				t.Errorf("%s: single-leader %+v", tc.name, s)
			}
		}
	}
}

// eventual-leader's analysis without a leader: TimeToLeader is -1 and the
// agreement has no start, whether no leader ever came or the agreed one
// crashed; a leader_bound of 0 means "not set".
func TestAgreementWithoutLeader(t *testing.T) {
	if d := (Agreement{}).TimeToLeader(); d != -1 {
		t.Errorf("TimeToLeader without a leader = %v, want -1", d)
	}
	none := newTB(3).start(0, 1, 2, 3).ev(10, 1, trace.Note, "noise")
	if a := FinalAgreement(&none.t); a.Leader != ordo.None || a.Since != -1 {
		t.Errorf("no leader ever: %+v", a)
	}
	lost := newTB(3).start(0, 1, 2, 3).leader(10, 1, 1).follower(11, 2, 1, 1).follower(11, 3, 1, 1).
		ev(500, 1, trace.Crash, "")
	if a := FinalAgreement(&lost.t); a.Leader != ordo.None || a.Since != -1 {
		t.Errorf("the agreed leader crashed: %+v", a)
	}
	if d := EventualBound(trace.Meta{Options: map[string]string{"leader_bound": "0s", "timeout": "2s"}}); d != 8*time.Second {
		t.Errorf("leader_bound 0s: bound %v, want 4×timeout = 8s", d)
	}
}

// one-leader-per-term lists at most MaxReported violations and counts them
// all in its summary.
func TestOneLeaderPerTerm_ReportBound(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3)
	for term := 1; term <= MaxReported+2; term++ {
		b.leader(10*term, 1, term).leader(10*term+1, 2, term)
	}
	r := run(t, "one-leader-per-term", &b.t)
	if len(r.Violations) != MaxReported || r.Summary != "52 terms with two leaders" {
		t.Fatalf("%d violations, summary %q; want %d and 52 terms", len(r.Violations), r.Summary, MaxReported)
	}
}

// fencing lists at most MaxReported of a resource's regressions.
func TestFencing_ReportBound(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3)
	b.ev(1, 3, trace.Note, NoteFence, "token", 100, "accepted", true)
	for i := 0; i < MaxReported+2; i++ {
		b.ev(2+i, 3, trace.Note, NoteFence, "token", 1, "accepted", true)
	}
	if r := run(t, "fencing", &b.t); r.OK || len(r.Violations) != MaxReported {
		t.Fatalf("%d violations (ok %v), want %d", len(r.Violations), r.OK, MaxReported)
	}
}

// Two servers, both leading, cut from each other: each is an isolated
// leader (a majority of 2 is both), and both are reported.
func TestIsolatedLeader_EveryServerIsolated(t *testing.T) {
	b := newTB(2).start(0, 1, 2).
		leader(10, 1, 1).leader(20, 2, 2).
		faultAttrs(100, "partition", "groups", "1/2").
		ev(1500, 2, trace.Note, "noise")
	if r := (IsolatedLeader{Bound: time.Second}).Check(&b.t); r.OK || len(r.Violations) != 2 {
		t.Fatalf("both of 2 isolated for 1.4s: %+v", r)
	}
}

// A stored vote or promise may name any node id up to MaxNodeID.
func TestLoadWordsAcceptsTheHighestNodeID(t *testing.T) {
	env := ordotest.NewEnv(1, ordo.NewRoster(3, 0, 0), 1)
	b := make([]byte, 16)
	b[7] = 4                           // term 4
	b[13] = byte(ordo.MaxNodeID >> 16) // node MaxNodeID, big-endian
	env.Storage().Put("k", b)
	w, ok := LoadWords(env, "k", 2)
	if !ok || w[0] != 4 || w[1] != ordo.MaxNodeID {
		t.Fatalf("LoadWords = %v, %v; want [4 %d]", w, ok, ordo.MaxNodeID)
	}
}

// Exercise 3's election part, at its edges: a winner that ran without a
// PreVote (its candidate note starts the election part); a candidacy at
// time 0 followed by another before leading (the first counts); another
// node's leader note of the old term in between (it ends nothing); a
// failed attempt in the instant the failover began (it does not count);
// and a winner that led at `from` and later stepped down (its leadership
// at `from` ends the search).
func TestElectionMsEdges(t *testing.T) {
	mk := func(evs ...trace.Event) *trace.Trace {
		tr := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
		for _, e := range evs {
			tr.Append(e)
		}
		return tr
	}
	for _, tc := range []struct {
		name    string
		tr      *trace.Trace
		from    int64
		f, want float64
	}{
		{"candidate only", mk(
			noteEv(2, ms(205), NoteCandidate, "term", 2),
			noteEv(2, ms(220), NoteLeader, "term", 2, "token", 2)), ms(100), 130, 25},
		{"two candidacies from time 0", mk(
			noteEv(2, 0, NotePreCandidate, "term", 2),
			noteEv(2, ms(5), NoteCandidate, "term", 2),
			noteEv(2, ms(10), NoteLeader, "term", 2, "token", 2)), 0, 10, 10},
		{"an old leader's note between", mk(
			noteEv(1, ms(190), NoteLeader, "term", 1, "token", 1),
			noteEv(2, ms(200), NotePreCandidate, "term", 2),
			noteEv(2, ms(220), NoteLeader, "term", 2, "token", 2)), ms(100), 130, 30},
		{"a failed attempt at from", mk(
			noteEv(2, ms(100), NoteCandidate, "term", 2),
			noteEv(2, ms(100), NoteFollower, "term", 2, "leader", 0),
			noteEv(2, ms(120), NoteCandidate, "term", 3),
			noteEv(2, ms(130), NoteLeader, "term", 3, "token", 3)), ms(100), 30, 10},
		{"led at from, stepped down later", mk(
			noteEv(2, ms(100), NoteCandidate, "term", 2),
			noteEv(2, ms(100), NoteLeader, "term", 2, "token", 2),
			noteEv(2, ms(150), NoteFollower, "term", 3, "leader", 0)), ms(100), 0, 0},
	} {
		if got := ElectionMs(tc.tr, tc.from, 1, tc.f); got != tc.want {
			t.Errorf("%s: election part %v ms, want %v", tc.name, got, tc.want)
		}
	}
}

// isolated-leader at its edges: isolation of exactly the bound is no
// finding (the bound is "more than"); at most MaxReported findings are
// listed, all counted; the message prints the cut's time rounded to 10µs.
func TestIsolatedLeader_Edges(t *testing.T) {
	exact := newTB(3).start(0, 1, 2, 3).leader(10, 1, 1).
		faultAttrs(100, "partition", "groups", "1/2,3")
	exact.t.Append(trace.Event{Kind: trace.Note, Node: 1, T: ms(1100) + 1, Name: "follower", Attrs: trace.MakeAttrs([]any{"term", 1, "leader", 0})})
	if r := (IsolatedLeader{Bound: time.Second}).Check(&exact.t); !r.OK {
		t.Fatalf("isolated exactly 1s, bound 1s: %+v", r)
	}

	many := newTB(3).start(0, 1, 2, 3).faultAttrs(1, "partition", "groups", "1/2,3")
	for k := 1; k <= MaxReported+2; k++ {
		many.leader(2000*k, 1, k).follower(2000*k+1500, 1, k, 0)
	}
	r := IsolatedLeader{Bound: time.Second}.Check(&many.t)
	if len(r.Violations) != MaxReported || r.Summary != "52 leaderships outlived their quorum by more than 1s" {
		t.Fatalf("52 isolated leaderships: %d listed, summary %q", len(r.Violations), r.Summary)
	}

	cut := newTB(3).start(0, 1, 2, 3).leader(0, 1, 1)
	cut.t.Append(trace.Event{Kind: trace.Fault, T: 4998, Name: "partition", Attrs: trace.MakeAttrs([]any{"groups", "1/2,3"})})
	cut.ev(1500, 2, trace.Note, "noise")
	r = IsolatedLeader{Bound: time.Second}.Check(&cut.t)
	if len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "leads from 0s without") {
		t.Fatalf("cut at 4.998µs: %+v", r)
	}
}

// Findings are listed in (first span, second span, start) order, whatever
// order the overlaps end in: n2's pause splits its overlap with n1 in two,
// and the second part (from 50ms) comes before n1-n3's (from 30ms). A
// leadership announced at a term the node had already noted (no term
// change) still opens an overlap at once.
func TestSingleLeader_FindingOrder(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).leader(20, 2, 2).
		ev(22, 3, trace.Note, "candidate", "term", 3).
		pause(25, 2).
		leader(30, 3, 3).
		resume(50, 2).
		ev(100, 4, trace.Note, "noise")
	r := run(t, "single-leader", &b.t)
	var got []int64
	for _, v := range r.Violations {
		got = append(got, v.From)
	}
	want := []int64{ms(20), ms(50), ms(30), ms(50)}
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("findings from %v, want %v (n1-n2 twice, n1-n3, n2-n3)", got, want)
	}
	if !strings.Contains(r.Violations[2].Message, "n1 (term 1) and n3 (term 3)") {
		t.Fatalf("third finding %q, want n1 and n3", r.Violations[2].Message)
	}
}

// fencing without resource notes: a leader announcing its own token again
// (a re-announcement after a pause) is not a regression; another node with
// that token is.
func TestFencing_SameTokenSameLeader(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).leader(10, 1, 3).follower(20, 1, 3, 0).leader(30, 1, 3)
	if r := run(t, "fencing", &b.t); !r.OK {
		t.Fatalf("n1 re-announcing token 3: %+v", r)
	}
	b.leader(40, 2, 3)
	if r := run(t, "fencing", &b.t); r.OK {
		t.Fatalf("n2 with n1's token 3: %+v", r)
	}
}

// eventual-leader's bound is inclusive: agreement exactly `bound` after
// the last fault passes; a nanosecond tighter bound fails.
func TestEventualLeader_BoundInclusive(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).
		leader(10, 3, 1).follower(11, 1, 1, 3).follower(11, 2, 1, 3).
		ev(1000, 3, trace.Crash, "").
		leader(1201, 1, 2).follower(1202, 2, 2, 1)
	if r := (EventualLeader{Bound: 202 * time.Millisecond}).Check(&b.t); !r.OK {
		t.Fatalf("agreement exactly at the bound: %+v", r)
	}
	if r := (EventualLeader{Bound: 202*time.Millisecond - 1}).Check(&b.t); r.OK {
		t.Fatalf("agreement 1ns past the bound passed: %+v", r)
	}
}
