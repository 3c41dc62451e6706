package election

import (
	"strings"

	"testing"
	"time"

	"ordo"
	"ordo/check"
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

func run(t *testing.T, name string, tr *trace.Trace) check.Result {
	t.Helper()
	c, err := check.Lookup(name)
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

func (b *tb) pause(at, node int) *tb  { return b.ev(at, node, trace.Pause, "") }
func (b *tb) resume(at, node int) *tb { return b.ev(at, node, trace.Resume, "") }

func us(v int) int64 { return int64(time.Duration(v) * time.Microsecond) }

// Issue 9, "A suite that catches what it claims to": an overlap of one
// microsecond is an overlap.
func TestSingleLeader_OneMicrosecondOverlapCaught(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).leader(10, 1, 1)
	b.t.Append(trace.Event{Kind: trace.Note, Node: 2, T: ms(20), Name: "leader", Attrs: trace.MakeAttrs([]any{"term", 1, "token", 1})})
	b.t.Append(trace.Event{Kind: trace.Note, Node: 1, T: ms(20) + us(1), Name: "follower", Attrs: trace.MakeAttrs([]any{"term", 1, "leader", 2})})
	r := run(t, "single-leader", &b.t)
	if r.OK || len(r.Violations) != 1 || r.Violations[0].To-r.Violations[0].From != us(1) {
		t.Fatalf("a 1µs overlap of two leaders of term 1 passed or was mismeasured: %+v", r)
	}
	// The same overlap with the handover at the same instant is none.
	b.t.Events[len(b.t.Events)-1].T = ms(20)
	if r := run(t, "single-leader", &b.t); !r.OK {
		t.Fatalf("a handover at one instant was flagged: %+v", r)
	}
}

// Issue 9, "A frozen process does nothing": a leader paused while the
// others elect a new one is not a second leader; once it resumes it acts
// as a deposed (stale) leader until it learns, which is stale-leader's
// finding, not split brain.
func TestSingleLeader_PauseIsNotSplitBrain(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 1, 1).follower(11, 2, 1, 1).follower(11, 3, 1, 1).follower(11, 4, 1, 1).follower(11, 5, 1, 1).
		pause(100, 1).
		ev(300, 2, trace.Note, "candidate", "term", 2).follower(301, 3, 2, 0).follower(301, 4, 2, 0).
		leader(302, 2, 2).follower(303, 3, 2, 2).follower(303, 4, 2, 2).follower(303, 5, 2, 2)
	// Paused until the end: no finding at all.
	for _, name := range []string{"single-leader", "stale-leader"} {
		if r := run(t, name, &b.t); !r.OK {
			t.Fatalf("%s: a leader paused for good was counted as acting: %+v", name, r)
		}
	}
	// It resumes at 500 ms, sends a heartbeat under its old term at 510 ms
	// and learns of term 2 at 520 ms.
	b.resume(500, 1).ev(510, 1, trace.Send, "").follower(520, 1, 2, 2)
	if r := run(t, "single-leader", &b.t); !r.OK {
		t.Fatalf("a paused, deposed leader was reported as split brain: %+v", r)
	}
	// Had it yielded without a word (its lease checked first), it would
	// not have acted.
	quiet := b.t
	quiet.Events = append([]trace.Event(nil), b.t.Events...)
	for i := range quiet.Events {
		if quiet.Events[i].Kind == trace.Send {
			quiet.Events[i].Kind, quiet.Events[i].Name = trace.Note, "tick"
		}
	}
	if r := run(t, "stale-leader", &quiet); !r.OK {
		t.Fatalf("a deposed leader that sent nothing was reported: %+v", r)
	}
	r := run(t, "stale-leader", &b.t)
	if r.OK || len(r.Violations) != 1 {
		t.Fatalf("the deposed leader acting after its pause was not reported: %+v", r)
	}
	if v := r.Violations[0]; v.From != ms(500) || v.To != ms(520) || !strings.HasPrefix(v.Message, "stale leader: n1 (term 1)") {
		t.Fatalf("stale leader reported as %+v", v)
	}
	// Resuming and stepping down at the same instant (the queued heartbeat
	// reply is handled at once) acts for no time at all.
	b.t.Events[len(b.t.Events)-1].T = ms(500)
	if r := run(t, "stale-leader", &b.t); !r.OK {
		t.Fatalf("%+v", r)
	}
}

// A pause inside a real split brain cuts the overlap in two: the two
// stretches where both act are reported, the paused one is not.
func TestSingleLeader_PauseSplitsAnOverlap(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 5, 1).leader(100, 1, 2). // only n1 noted term 2: nobody is deposed
		pause(200, 5).resume(300, 5).
		follower(400, 5, 2, 1)
	r := run(t, "single-leader", &b.t)
	if r.OK || len(r.Violations) != 2 {
		t.Fatalf("want two stretches, got %+v", r)
	}
	if v := r.Violations; v[0].From != ms(100) || v[0].To != ms(200) || v[1].From != ms(300) || v[1].To != ms(400) {
		t.Fatalf("stretches %+v", v)
	}
	if r.Summary != "2 overlaps of two leaders, 200ms in all" {
		t.Fatalf("summary %q", r.Summary)
	}
}

// Split brain turns into a stale leader the moment a majority of servers
// has moved past the old leader's term.
func TestSingleLeader_DepositionSplitsAnOverlap(t *testing.T) {
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		leader(10, 5, 1).
		leader(100, 1, 2).follower(101, 2, 2, 1). // two of five past term 1
		follower(200, 3, 2, 1).                   // three: n5 is deposed
		ev(250, 5, trace.Send, "").               // and acts
		follower(300, 5, 2, 1)
	sl, st := run(t, "single-leader", &b.t), run(t, "stale-leader", &b.t)
	if sl.OK || len(sl.Violations) != 1 || sl.Violations[0].From != ms(100) || sl.Violations[0].To != ms(200) {
		t.Fatalf("single-leader %+v", sl)
	}
	if st.OK || len(st.Violations) != 1 || st.Violations[0].From != ms(200) || st.Violations[0].To != ms(300) {
		t.Fatalf("stale-leader %+v", st)
	}
}

// Clients are not servers: their notes are nobody's leadership, and the
// majority is over servers.
func TestElectionChecks_CountServersOnly(t *testing.T) {
	b := &tb{t: trace.Trace{Meta: trace.Meta{Nodes: 5, Servers: []int{1, 2, 3}, Clients: []int{4, 5}}}}
	b.start(0, 1, 2, 3, 4, 5).leader(10, 1, 1).follower(11, 2, 1, 1).follower(11, 3, 1, 1).
		leader(20, 4, 1). // a client that notes "leader" is no leader
		ev(30, 5, trace.Crash, "")
	for _, name := range []string{"single-leader", "one-leader-per-term", "eventual-leader"} {
		if r := run(t, name, &b.t); !r.OK {
			t.Fatalf("%s judged a client: %+v", name, r)
		}
	}
	// Two of three servers crashed: no majority of servers, whatever the
	// clients do.
	b.ev(40, 2, trace.Crash, "").ev(40, 3, trace.Crash, "")
	if r := run(t, "eventual-leader", &b.t); r.Verdict != check.NotApplicable {
		t.Fatalf("%+v", r)
	}
}

// Issue 9, "Liveness relative to connectivity".
func TestEventualLeader_RelativeToConnectivity(t *testing.T) {
	// A 2|3 split that never heals: the majority agrees on n5.
	b := newTB(5).start(0, 1, 2, 3, 4, 5).
		ev(5, 0, trace.Fault, "partition", "groups", "1,2/3,4,5").
		leader(10, 5, 1).follower(11, 3, 1, 5).follower(11, 4, 1, 5).
		ev(12, 1, trace.Note, "candidate", "term", 7)
	if r := run(t, "eventual-leader", &b.t); !r.OK {
		t.Fatalf("the majority side agrees, yet: %+v", r)
	}
	if a := FinalAgreement(&b.t); len(a.Judged) != 3 || a.Leader != 5 {
		t.Fatalf("%+v", a)
	}
	// Full isolation: nobody reaches a majority.
	iso := newTB(5).start(0, 1, 2, 3, 4, 5).ev(5, 0, trace.Fault, "partition", "groups", "1/2/3/4/5").leader(10, 5, 1)
	if r := run(t, "eventual-leader", &iso.t); r.Verdict != check.NotApplicable || r.OK || !strings.Contains(r.Summary, "n1 reaches 1") {
		t.Fatalf("full isolation: %+v", r)
	}
	// A crashed majority of two (-n 2 --crash 2@1s).
	two := newTB(2).start(0, 1, 2).leader(10, 2, 1).follower(11, 1, 1, 2).ev(1000, 2, trace.Crash, "")
	if r := run(t, "eventual-leader", &two.t); r.Verdict != check.NotApplicable {
		t.Fatalf("crashed majority: %+v", r)
	}
	// A leader paused for good: the others must elect another one.
	p := newTB(3).start(0, 1, 2, 3).leader(10, 1, 1).follower(11, 2, 1, 1).follower(11, 3, 1, 1).
		pause(1000, 1)
	if r := run(t, "eventual-leader", &p.t); r.OK || r.Verdict != check.Fail {
		t.Fatalf("followers of a frozen leader passed: %+v", r)
	}
	p.leader(1300, 2, 2).follower(1301, 3, 2, 2)
	if r := (EventualLeader{Bound: time.Second}).Check(&p.t); !r.OK {
		t.Fatalf("%+v", r)
	}
	// A one-way cut isolates as surely: n1 hears nobody.
	cut := newTB(3).start(0, 1, 2, 3).ev(5, 0, trace.Fault, "cut-one-way", "from", "[n2 n3]", "to", "[n1]").
		leader(10, 2, 1).follower(11, 3, 1, 2).follower(11, 1, 0, 0)
	if a := FinalAgreement(&cut.t); a.Leader != 2 || len(a.Judged) != 2 {
		t.Fatalf("one-way cut: %+v", a)
	}
	// A bridge: both sides reach a majority through n3, so all must agree.
	br := newTB(5).start(0, 1, 2, 3, 4, 5).
		ev(5, 0, trace.Fault, "partition", "groups", "1,2/4,5").ev(5, 0, trace.Fault, "bridge", "node", 3).
		leader(10, 3, 1).follower(11, 1, 1, 3).follower(11, 2, 1, 3).follower(11, 4, 1, 3)
	if a := FinalAgreement(&br.t); a.Leader != ordo.None || len(a.Judged) != 5 {
		t.Fatalf("bridge, n5 not yet following: %+v", a)
	}
	br.follower(12, 5, 1, 3)
	if a := FinalAgreement(&br.t); a.Leader != 3 {
		t.Fatalf("bridge: %+v", a)
	}
}

// Issue 9, "Checks that do not apply ... are refused with a message".
func TestElectionChecks_RefuseOtherProtocols(t *testing.T) {
	ordo.Register(&ordo.Protocol{Name: "test-not-an-election", Doc: "x",
		New: func(ordo.Config) (ordo.Node, error) { return notElector{}, nil }})
	b := newTB(3).start(0, 1, 2, 3)
	b.t.Meta.Protocol = "test-not-an-election"
	for _, name := range Checks {
		r := run(t, name, &b.t)
		if r.OK || r.Verdict != check.NotApplicable || !strings.Contains(r.Summary, "this run of test-not-an-election has no role note") {
			t.Fatalf("%s on a non-election run: %+v", name, r)
		}
	}
	// A protocol that is no Elector but writes the role notes (the live
	// runtime's test election) is judged.
	b.leader(10, 1, 1).follower(11, 2, 1, 1).follower(11, 3, 1, 1)
	for _, name := range Checks {
		if r := run(t, name, &b.t); r.Verdict != check.Pass {
			t.Fatalf("%s on a run with role notes: %+v", name, r)
		}
	}
}

type notElector struct{}

func (notElector) Start(ordo.Env)                              {}
func (notElector) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (notElector) Fire(ordo.Env, ordo.Timer)                   {}

// Issue 9, "Traces out of time order are rejected by the reader or sorted
// before any checker runs": a merged live trace whose lines are out of
// order is judged in true-time order.
func TestSingleLeader_OutOfOrderTraceIsSorted(t *testing.T) {
	b := newTB(3).start(0, 1, 2, 3).leader(10, 1, 1).leader(500, 2, 2).follower(100, 1, 1, 0)
	res, err := check.Run(&b.t, []string{"single-leader"})
	if err != nil || !res[0].OK {
		t.Fatalf("%v %+v", err, res)
	}
	// n1 leads again at 400ms, written last: in time order it overlaps
	// n2 from 500ms on.
	b.t.Events = append(b.t.Events, trace.Event{ID: len(b.t.Events), Kind: trace.Note, Node: 1, T: ms(400), Name: "leader", Attrs: trace.MakeAttrs([]any{"term", 2})})
	b.leader(600, 3, 3)
	res, _ = check.Run(&b.t, []string{"single-leader"})
	if res[0].OK {
		t.Fatalf("an overlap hidden by file order passed: %+v", res[0])
	}
}

// Raft's quorum-loss limit is a named finding, not a liveness violation
// (issue 11): n2 was removed (voters {1,3,4,5}) and n3, n5 crashed, so the
// running servers n1, n2, n4 reach a majority of the five processes but
// hold only two of the four votes. The same run without the configuration
// notes (every server votes) owes a leader: a violation.
func TestEventualLeader_QuorumLossIsNamed(t *testing.T) {
	build := func(voters bool) *tb {
		b := newTB(5).start(0, 1, 2, 3, 4, 5).leader(10, 1, 1)
		if voters {
			for _, n := range []int{1, 3, 4, 5} {
				b.ev(20, n, trace.Note, NoteVoters, "ids", "1,3,4,5")
			}
			b.ev(20, 2, trace.Note, NoteVoters, "ids", "1,3,4,5")
		}
		b.ev(100, 3, trace.Crash, "").ev(100, 5, trace.Crash, "").
			ev(400, 1, trace.Note, "precandidate", "term", 2, "last_index", 9, "last_term", 1).
			ev(410, 4, trace.Note, "precandidate", "term", 2, "last_index", 9, "last_term", 1)
		return b
	}
	r := run(t, "eventual-leader", &build(true).t)
	if r.Verdict != check.NotApplicable || !strings.Contains(r.Summary, "quorum loss") {
		t.Fatalf("voters {1,3,4,5} with n3, n5 down: %+v", r)
	}
	if r := run(t, "eventual-leader", &build(false).t); !r.Failed() {
		t.Fatalf("every server a voter, three running: %+v", r)
	}
}

// Log freshness (Raft 5.4.1): a candidate needs votes from voters whose
// logs are no fresher than its own. All five run; {1,2,3} | {4,5} are
// split; n1, n2 hold 5@1 and n3 holds 9@2. n3 can win (n1 and n2 vote for
// it): a leader is owed. Cut n2 and n3 apart as well, and only n1 still
// reaches a majority (n2 and n3) — but n3 refuses it its vote: nobody can
// win, the named finding.
func TestEventualLeader_LogFreshness(t *testing.T) {
	build := func(cut bool) *tb {
		b := newTB(5).start(0, 1, 2, 3, 4, 5).leader(10, 3, 1)
		b.t.Append(trace.Event{Kind: trace.Fault, T: ms(100), Name: "partition", Attrs: trace.MakeAttrs([]any{"groups", "1,2,3/4,5"})})
		if cut {
			b.t.Append(trace.Event{Kind: trace.Fault, T: ms(110), Name: "cut-one-way", Attrs: trace.MakeAttrs([]any{"from", "2", "to", "3"})})
			b.t.Append(trace.Event{Kind: trace.Fault, T: ms(110), Name: "cut-one-way", Attrs: trace.MakeAttrs([]any{"from", "3", "to", "2"})})
		}
		return b.ev(400, 1, trace.Note, "precandidate", "term", 2, "last_index", 5, "last_term", 1).
			ev(400, 2, trace.Note, "precandidate", "term", 2, "last_index", 5, "last_term", 1).
			ev(400, 3, trace.Note, "precandidate", "term", 2, "last_index", 9, "last_term", 2).
			ev(400, 4, trace.Note, "precandidate", "term", 2, "last_index", 9, "last_term", 2)
	}
	if r := run(t, "eventual-leader", &build(false).t); !r.Failed() {
		t.Fatalf("n3 can win: %+v", r)
	}
	r := run(t, "eventual-leader", &build(true).t)
	if r.Verdict != check.NotApplicable || !strings.Contains(r.Summary, "quorum loss") || !strings.Contains(r.Summary, "log 5@t1") {
		t.Fatalf("nobody can win: %+v", r)
	}
}
