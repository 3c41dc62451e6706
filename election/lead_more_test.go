package election_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/election/bully"
	"ordo/ordotest"
	"ordo/trace"
)

// StepDown notes "follower" of nobody only when something changed: from
// leader or candidate, or from following someone; a follower of nobody
// stepping down again notes nothing. Either way the detector is re-armed
// and a claim in progress ends.
func TestLeadershipStepDownNotesOnlyAChange(t *testing.T) {
	env, l := leadership(2, false)
	step(env, func(e ordo.Env) { l.Epoch.See(e, 3); l.Lead(e, 3) })
	step(env, func(e ordo.Env) { l.StepDown(e) })
	want(t, "leader steps down", notes(env), "follower [term 3 leader 0]")
	step(env, func(e ordo.Env) { l.StepDown(e) })
	want(t, "again", notes(env))
	if len(env.TimersNamed("suspect")) != 1 {
		t.Errorf("stepping down armed %v, want the detector", timers(env))
	}
	step(env, func(e ordo.Env) { l.Follow(e, 4, 3) })
	step(env, func(e ordo.Env) { l.StepDown(e) })
	want(t, "follower of n4 steps down", notes(env), "follower [term 3 leader 0]")
	step(env, func(e ordo.Env) { l.Run(e, 4) })
	l.Claiming = true
	step(env, func(e ordo.Env) { l.StepDown(e) })
	want(t, "candidate steps down", notes(env), "follower [term 3 leader 0]")
	if l.Claiming || l.Role.String() != "follower" {
		t.Errorf("after StepDown: claiming %v role %v", l.Claiming, l.Role)
	}
}

// With quorum, the leader this node promised is not stale at the promised
// epoch (only another leader of that epoch, or an older epoch, is).
func TestLeadershipConflictsPromisedLeader(t *testing.T) {
	env, l := leadership(2, true)
	step(env, func(e ordo.Env) { l.Promise.Keep(e, 4, 3) })
	if s, known := l.Conflicts(4, 3); s || known != 3 {
		t.Errorf("quorum, the promised leader at its epoch: stale %v known %d", s, known)
	}
	if s, _ := l.Conflicts(4, 2); !s {
		t.Error("quorum, an epoch below the promise is not stale")
	}
}

// Section 5's promise (a majority's acknowledgement is what a quorum
// leadership stands on): while bound to a leader, a node acknowledges only
// that leader; unbound, it acknowledges a newer epoch, or the same epoch of
// the leader it promised; it stores a promise only when it changes, and a
// stale binding timer does not unbind it.
func TestPromiseMayKeepExpire(t *testing.T) {
	env := ordotest.NewEnv(2, ordo.NewRoster(5, 0, 0), 1)
	p := election.NewPromise("p", "bound", 150*time.Millisecond)
	env.Reset()
	p.Keep(env, 4, 3)
	if !env.Wrote("p") || !p.Bound || p.BoundTo != 4 {
		t.Fatalf("Keep(4, 3): wrote %v, promise %+v", env.Writes, p)
	}
	bind := env.TimersNamed("bound")
	if len(bind) != 1 || bind[0].After != 150*time.Millisecond {
		t.Fatalf("Keep armed %v, want the binding for one timeout", env.Timers)
	}
	for _, c := range []struct {
		l   ordo.NodeID
		e   uint64
		may bool
	}{{4, 3, true}, {4, 4, true}, {4, 2, false}, {5, 4, false}, {5, 9, false}} {
		if got := p.May(c.l, c.e); got != c.may {
			t.Errorf("bound to n4 after (n4, 3): May(n%d, %d) = %v, want %v", c.l, c.e, got, c.may)
		}
	}
	if p.Expired(ordo.Timer{Name: "bound", Arg: bind[0].Timer.Arg - 1}) || p.Expired(ordo.Timer{Name: "other", Arg: bind[0].Timer.Arg}) || !p.Bound {
		t.Fatal("a stale or foreign timer unbound the promise")
	}
	if !p.Expired(bind[0].Timer) || p.Bound {
		t.Fatal("the binding's timer did not unbind it")
	}
	for _, c := range []struct {
		l   ordo.NodeID
		e   uint64
		may bool
	}{{4, 3, true}, {5, 3, false}, {5, 4, true}, {4, 2, false}} {
		if got := p.May(c.l, c.e); got != c.may {
			t.Errorf("unbound after (n4, 3): May(n%d, %d) = %v, want %v", c.l, c.e, got, c.may)
		}
	}
	env.Reset()
	p.Keep(env, 4, 3) // the same promise again: rebinds, writes nothing
	if env.Wrote("p") || !p.Bound {
		t.Fatalf("keeping the same promise wrote %v", env.Writes)
	}
	env.Reset()
	p.Keep(env, 4, 4)
	if !env.Wrote("p") {
		t.Fatal("a promise of a newer epoch to the same leader was not stored")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("keeping a promise May refuses did not panic")
		}
	}()
	p.Keep(env, 5, 4)
}

// ParseWatch: the detector's timeout must be longer than the heartbeat
// (equal is refused), and first_detector names any node 1..N, node 1 and
// node N included.
func TestParseWatchBounds(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		ok   bool
	}{
		{map[string]string{"heartbeat": "50ms", "timeout": "50ms"}, false},
		{map[string]string{"heartbeat": "50ms", "timeout": "51ms"}, true},
		{map[string]string{"first_detector": "1"}, true},
		{map[string]string{"first_detector": "5"}, true},
		{map[string]string{"first_detector": "0"}, false},
		{map[string]string{"first_detector": "6"}, false},
	} {
		o, err := bully.Protocol.Resolve(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = election.ParseWatch("bully", ordo.Config{ID: 1, N: 5, Opts: o})
		if (err == nil) != tc.ok {
			t.Errorf("%v: %v, want accepted=%v", tc.opts, err, tc.ok)
		}
	}
}

// Epoch.See stores a newer epoch once (seeing it again writes nothing),
// accepts ordo.MaxTerm itself and refuses to go beyond it.
func TestEpochSeeBounds(t *testing.T) {
	env := ordotest.NewEnv(1, ordo.NewRoster(3, 0, 0), 1)
	e := election.NewEpoch("e")
	env.Reset()
	e.See(env, 3)
	if !env.Wrote("e") || e.N != 3 {
		t.Fatalf("See(3): wrote %v, N %d", env.Writes, e.N)
	}
	env.Reset()
	e.See(env, 3)
	if len(env.Writes) != 0 {
		t.Fatalf("seeing epoch 3 again wrote %v", env.Writes)
	}
	e.See(env, ordo.MaxTerm)
	if e.N != ordo.MaxTerm {
		t.Fatalf("See(MaxTerm): N %d", e.N)
	}
	env.Reset()
	e.See(env, ordo.MaxTerm+1)
	if e.N != ordo.MaxTerm || len(env.Writes) != 0 || len(env.NotesOf("term-exhausted")) != 1 {
		t.Fatalf("See(MaxTerm+1): N %d, writes %v, notes %v", e.N, env.Writes, env.Notes)
	}
}

// An empty run has no agreement and no start of one; a resource that
// accepts the same token twice (two writes of one leadership) is fenced
// correctly; fencing lists at most MaxReported regressions of leaderships.
func TestCheckerEdges(t *testing.T) {
	if a := election.FinalAgreement(&trace.Trace{Meta: trace.Meta{Nodes: 3}}); a.Leader != ordo.None || a.Since != -1 {
		t.Errorf("empty run: %+v", a)
	}
	one := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	one.Append(trace.Event{Kind: trace.Note, Node: 1, T: 1, Name: election.NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 1, "token", 1})})
	sl, _ := check.Lookup("stale-leader")
	if r := sl.Check(one); r.Summary != "1 leadership, no deposed leader acted" {
		t.Errorf("stale-leader on one leadership: %q", r.Summary)
	}
	sg, _ := check.Lookup("single-leader")
	if r := sg.Check(one); r.Summary != "1 leadership, never two at once" {
		t.Errorf("single-leader on one leadership: %q", r.Summary)
	}
	same := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	for i, tok := range []int{3, 3, 4} {
		same.Append(trace.Event{Kind: trace.Note, Node: 3, T: int64(i + 1), Name: election.NoteFence, Attrs: trace.MakeAttrs([]any{"token", tok, "accepted", true})})
	}
	c, _ := check.Lookup("fencing")
	if r := c.Check(same); !r.OK {
		t.Errorf("tokens 3, 3, 4 at one resource: %+v", r)
	}
	many := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	many.Append(trace.Event{Kind: trace.Note, Node: 1, T: 1, Name: election.NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 100, "token", 100})})
	for i := 0; i < election.MaxReported+2; i++ {
		many.Append(trace.Event{Kind: trace.Note, Node: 2, T: int64(10 + 2*i), Name: election.NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 1, "token", 1})})
		many.Append(trace.Event{Kind: trace.Note, Node: 2, T: int64(11 + 2*i), Name: election.NoteFollower, Attrs: trace.MakeAttrs([]any{"term", 1, "leader", 0})})
	}
	if r := c.Check(many); r.OK || len(r.Violations) != election.MaxReported {
		t.Errorf("52 stale tokens: %d listed (ok %v), want %d", len(r.Violations), r.OK, election.MaxReported)
	}
}

// CanIncrement: a term below ordo.MaxTerm may grow; at the bound the node
// refuses, noting why (a wrapped term would restart at 0).
func TestCanIncrementBound(t *testing.T) {
	env := ordotest.NewEnv(1, ordo.NewRoster(3, 0, 0), 1)
	if !election.CanIncrement(env, ordo.MaxTerm-1) || len(env.Notes) != 0 {
		t.Fatalf("MaxTerm-1: refused or noted %v", env.Notes)
	}
	if election.CanIncrement(env, ordo.MaxTerm) || len(env.NotesOf("term-exhausted")) != 1 {
		t.Fatalf("MaxTerm: allowed, or no note (%v)", env.Notes)
	}
}

// Exercise 3: a winner with no candidacy in the failover's window (it
// became leader without a recorded candidacy) has no election part: -1.
func TestElectionMsWithoutCandidacy(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	tr.Append(trace.Event{Kind: trace.Note, Node: 2, T: 200, Name: election.NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 2, "token", 2})})
	if e := election.ElectionMs(tr, 100, 1, 0.0001); e != -1 {
		t.Fatalf("election part %v, want -1", e)
	}
}

// What the election judges ask a runtime for (check.Interest, the campaign
// speed-up): one-leader-per-term only notes; single-leader sends only while
// two leaderships overlap (who acted), never otherwise; a gated judge
// always wants notes (role notes decide whether it judges at all).
func TestJudgesInterest(t *testing.T) {
	want := func(name string, m *trace.Meta) check.Interest {
		c, _ := check.Lookup(name)
		j, err := c.(check.Online).Start(m)
		if err != nil {
			t.Fatal(err)
		}
		in, ok := j.(check.Interest)
		if !ok {
			t.Fatalf("%s: judge without Interest", name)
		}
		return in
	}
	m := &trace.Meta{Nodes: 3}
	if in := want("one-leader-per-term", m); !in.Wants(trace.Note) || in.Wants(trace.Send) {
		t.Errorf("one-leader-per-term wants note %v, send %v", in.Wants(trace.Note), in.Wants(trace.Send))
	}
	if in := want("single-leader", m); !in.Wants(trace.Note) || in.Wants(trace.Send) {
		t.Errorf("single-leader before any overlap: wants note %v, send %v", in.Wants(trace.Note), in.Wants(trace.Send))
	}
	c, _ := check.Lookup("single-leader")
	j, _ := c.(check.Online).Start(m)
	for _, e := range []trace.Event{
		{Kind: trace.Start, Node: 1}, {Kind: trace.Start, Node: 2},
		{Kind: trace.Note, Node: 1, T: 1, Name: election.NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 1, "token", 1})},
		{Kind: trace.Note, Node: 2, T: 2, Name: election.NoteLeader, Attrs: trace.MakeAttrs([]any{"term", 2, "token", 2})},
	} {
		j.Observe(&e)
	}
	if !j.(check.Interest).Wants(trace.Send) {
		t.Error("single-leader during an overlap does not want sends (who acted)")
	}
}
