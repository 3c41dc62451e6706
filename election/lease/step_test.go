package lease_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/coord"
	"ordo/election"
	"ordo/election/lease"
	"ordo/ordotest"
)

// One-step tests of the lease recipe (chapter section 4, "현대적 리더 선출 →
// 외부 서비스 활용"; section 5, fencing tokens), in the style of
// etcd-io/raft's paper tests: the test is the coordination service (n4)
// and the fenced store (n5), answering by hand, and the clock.

const (
	svc   ordo.NodeID = 4
	store ordo.NodeID = 5
)

// roster: servers 1..3, the coordination service n4, the fenced store n5.
func roster() *ordo.Roster { return ordo.NewRoster(3, 0, 2) }

func node(t *testing.T, id ordo.NodeID, opts map[string]string) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env := ordotest.ForProtocol(lease.Protocol, id, roster(), 1)
	return env, env.NewNode(t, lease.Protocol, opts)
}

func view(n ordo.Node) election.View { return n.(election.Elector).View() }

// sentOne returns the one message of the last step of kind (and, for
// FIND, with Last as given), failing t otherwise.
func sentOne[M ordo.Message](t *testing.T, env *ordotest.Env) M {
	t.Helper()
	var out []M
	for _, s := range env.Sent {
		if m, ok := s.Msg.(M); ok {
			out = append(out, m)
		}
	}
	if len(out) != 1 {
		var z M
		t.Fatalf("sent %v, want exactly one %s", env.SentSummary(), z.Kind())
	}
	return out[0]
}

func finds(env *ordotest.Env) (pred, first []coord.Find) {
	for _, s := range env.Sent {
		if f, ok := s.Msg.(coord.Find); ok {
			if f.Last {
				pred = append(pred, f)
			} else {
				first = append(first, f)
			}
		}
	}
	return
}

func noteKinds(env *ordotest.Env) []string { return env.NoteKinds() }

const ttl = 2 * time.Second

// session brings a fresh node to a granted session: Grant sent at Mono 0,
// answered after rtt with lease (TTL 2s). It returns the Create sent.
func session(t *testing.T, env *ordotest.Env, n ordo.Node, lease int64, rtt time.Duration) coord.Create {
	t.Helper()
	env.Start(n)
	g := sentOne[coord.Grant](t, env)
	env.Advance(rtt)
	env.Receive(n, svc, coord.Reply{Req: g.Req, Lease: lease, TTL: 2, Rev: 1})
	return sentOne[coord.Create](t, env)
}

// created answers the Create with CreateRev rev; it returns the Finds sent.
func created(t *testing.T, env *ordotest.Env, n ordo.Node, c coord.Create, rev int64) (pred, first coord.Find) {
	t.Helper()
	env.Receive(n, svc, coord.Reply{Req: c.Req, Rev: rev, Succeeded: true, Found: true, Key: c.Key, Value: c.Value, CreateRev: rev, ModRev: rev, KeyLease: c.Lease})
	p, f := finds(env)
	if len(p) != 1 || len(f) != 1 {
		t.Fatalf("after Create: sent %v, want a Find of the predecessor and one of the first key", env.SentSummary())
	}
	return p[0], f[0]
}

// leading brings node id to lead with token rev (lease 7, rtt 10ms).
func leading(t *testing.T, id ordo.NodeID, opts map[string]string, rev int64) (*ordotest.Env, ordo.Node, coord.Create) {
	t.Helper()
	env, n := node(t, id, opts)
	c := session(t, env, n, 7, 10*time.Millisecond)
	pred, _ := created(t, env, n, c, rev)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: rev}) // no predecessor
	get := sentOne[coord.Get](t, env)
	if get.Key != c.Key {
		t.Fatalf("re-check reads %q, want the own key %q", get.Key, c.Key)
	}
	env.Receive(n, svc, coord.Reply{Req: get.Req, Rev: rev, Found: true, Key: c.Key, Value: c.Value, CreateRev: rev, ModRev: rev, KeyLease: c.Lease})
	if v := view(n); v.Role != election.Leader || v.Token != uint64(rev) {
		t.Fatalf("after the re-check: %+v, want leader with token %d", v, rev)
	}
	return env, n, c
}

// Start: a session first (Grant of the TTL, in whole seconds) and the
// keepalive tick at ttl/3, as etcd's client keeps a lease alive.
func TestStartGrantsASession(t *testing.T) {
	env, n := node(t, 1, nil)
	env.Start(n)
	env.WantSent(t, "GRANT→n4")
	if g := env.Sent[0].Msg.(coord.Grant); g.TTL != 2 || g.Req == 0 {
		t.Errorf("grant %+v, want TTL 2 and a request number", g)
	}
	if a := env.OneTimer(t, "tick"); a.After != ttl/3 {
		t.Errorf("tick after %v, want ttl/3", a.After)
	}
	if v := view(n); v.Role != election.Follower || v.Leader != ordo.None {
		t.Errorf("at boot: %+v, want a follower of nobody", v)
	}
	c := session(t, env, n, 0x2a, time.Millisecond)
	if c.Key != "/leader-election/2a" || c.Value != "1" || c.Lease != 0x2a {
		t.Errorf("create %+v, want key prefix+lease in hex, value the node id, bound to the lease", c)
	}
	if got := env.NotesOf(lease.NoteSession); len(got) != 1 {
		t.Errorf("notes %v, want one session note", env.Notes)
	}
	if !env.Wrote("lease/session") {
		t.Error("the granted lease was not stored (a restart could not revoke it)")
	}
}

// "A restart gets a new session": the restarted incarnation revokes the
// lease it held (its key goes at once, not a TTL later), asks for a new
// one, and numbers its requests apart from the old incarnation's, so a
// late reply to the old one is never taken for its own.
func TestRestartRevokesTheOldSessionAndStartsANew(t *testing.T) {
	env, n := node(t, 1, nil)
	c := session(t, env, n, 7, time.Millisecond)
	n2 := env.NewNode(t, lease.Protocol, nil) // crash, restart: only the store survives
	env.Start(n2)
	env.WantSent(t, "REVOKE→n4", "GRANT→n4")
	if r := env.Sent[0].Msg.(coord.Revoke); r.Lease != 7 {
		t.Errorf("revoke %+v, want the old lease 7", r)
	}
	g := env.Sent[1].Msg.(coord.Grant)
	if g.Req>>32 == c.Req>>32 {
		t.Errorf("requests of two incarnations share their high bits: %x and %x", g.Req, c.Req)
	}
	// The old incarnation's answer to its Create means nothing now.
	env.Receive(n2, svc, coord.Reply{Req: c.Req, Succeeded: true, Found: true, Key: c.Key, CreateRev: 9, KeyLease: 7})
	if len(env.Sent)+len(env.Notes) != 0 {
		t.Errorf("a reply to the old incarnation acted: %v %v", env.SentSummary(), env.Notes)
	}
}

// The local deadline counts from the REQUEST's send time (the service
// restarted the lease no earlier than it received it), minus the margin
// ttl·2·max_drift_ppm + rtt: with 50000 ppm and a 10ms round trip,
// 2s − 200ms − 10ms after the send.
func TestDeadlineFromRequestSendTimeMinusMargin(t *testing.T) {
	env, n := node(t, 1, nil)
	session(t, env, n, 7, 10*time.Millisecond)
	d, ok := n.(*lease.Node).Deadline()
	if want := ttl - 200*time.Millisecond - 10*time.Millisecond; !ok || d != want {
		t.Fatalf("deadline after the grant %v (%v), want send time 0 + %v", d, ok, want)
	}
	// A keepalive sent at 1s and answered 30ms later moves it to
	// 1s + 2s − 200ms − 30ms (the largest round trip of the session).
	env.Advance(time.Second - 10*time.Millisecond)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	ka := sentOne[coord.KeepAlive](t, env)
	if ka.Lease != 7 {
		t.Fatalf("keepalive %+v, want lease 7", ka)
	}
	env.Advance(30 * time.Millisecond)
	env.Receive(n, svc, coord.Reply{Req: ka.Req, Lease: 7, TTL: 2})
	d, _ = n.(*lease.Node).Deadline()
	if want := time.Second + ttl - 200*time.Millisecond - 30*time.Millisecond; d != want {
		t.Fatalf("deadline after the keepalive %v, want %v", d, want)
	}
	// A reordered, older keepalive answer never moves it back.
	env.Receive(n, svc, coord.Reply{Req: ka.Req, Lease: 7, TTL: 2})
	if d2, _ := n.(*lease.Node).Deadline(); d2 != d {
		t.Fatalf("a duplicate answer moved the deadline %v → %v", d, d2)
	}
}

// unsafe_no_margin breaks exactly the deadline: last reply receipt + the
// full TTL, no drift, no round trip.
func TestUnsafeNoMarginDeadlineIsReceiptPlusTTL(t *testing.T) {
	env, n := node(t, 1, map[string]string{"unsafe_no_margin": "true"})
	session(t, env, n, 7, 10*time.Millisecond)
	if d, _ := n.(*lease.Node).Deadline(); d != 10*time.Millisecond+ttl {
		t.Fatalf("deadline %v, want receipt 10ms + ttl", d)
	}
	// Nothing else: past that deadline the node still fails closed.
	env.Advance(ttl)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	if len(env.NotesOf(lease.NoteSessionLost)) != 1 || len(env.SentKind("KEEPALIVE")) != 0 {
		t.Fatalf("past the deadline: notes %v, sent %v", env.Notes, env.SentSummary())
	}
	// And unsafe_no_fail_closed keeps the margin: it only ignores it.
	env2, n2 := node(t, 1, map[string]string{"unsafe_no_fail_closed": "true"})
	session(t, env2, n2, 7, 10*time.Millisecond)
	if d, _ := n2.(*lease.Node).Deadline(); d != ttl-210*time.Millisecond {
		t.Fatalf("unsafe_no_fail_closed changed the deadline: %v", d)
	}
}

// A campaign with no predecessor re-checks its own key before it leads;
// the token is the key's creation revision (cluster-wide, only
// increasing), and the first act is a fenced write with it.
func TestLeaderTokenIsOwnKeyCreateRev(t *testing.T) {
	env, n, _ := leading(t, 1, nil, 5)
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteLeader}) {
		t.Errorf("notes %v, want [leader]", got)
	}
	ln := env.NotesOf(election.NoteLeader)[0]
	if term, _ := ln.Int("term"); term != 5 {
		t.Errorf("leader note %v, want term 5", ln)
	}
	if tok, _ := ln.Int("token"); tok != 5 {
		t.Errorf("leader note %v, want token 5", ln)
	}
	w := sentOne[coord.Write](t, env)
	if w.Token != 5 || w.Writer != 1 || env.Sent[0].To != store {
		t.Errorf("write %+v to %v, want token 5 from n1 to the store n5", w, env.Sent[0].To)
	}
	if a := env.OneTimer(t, "write"); a.After != 200*time.Millisecond {
		t.Errorf("next write after %v, want write_every", a.After)
	}
	// The leader is woken at its deadline, so its role (not only its
	// acts) ends then, before the service can let another lead.
	d, _ := n.(*lease.Node).Deadline()
	dl := env.OneTimer(t, "deadline")
	if env.Mono+dl.After != d {
		t.Errorf("deadline timer at %v, want the deadline %v", env.Mono+dl.After, d)
	}
	env.Advance(dl.After)
	env.Fire(n, dl.Timer)
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteCandidate, lease.NoteSessionLost}) || len(env.SentKind("WRITE")) != 0 {
		t.Errorf("at the deadline: notes %v, sent %v; want a step-down and no write", got, env.SentSummary())
	}
}

// "The others watch": only the predecessor (the newest key created before
// the own), never the leader's key by all — when the leader goes, only
// its successor wakes (no thundering herd).
func TestWatchesOnlyThePredecessor(t *testing.T) {
	env, n := node(t, 3, nil)
	c := session(t, env, n, 9, time.Millisecond)
	pred, first := created(t, env, n, c, 12)
	if pred.Below != 12 || pred.Prefix != "/leader-election/" || first.Prefix != "/leader-election/" {
		t.Fatalf("finds %+v %+v, want the newest below the own revision 12 and the oldest", pred, first)
	}
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 12, Found: true, Key: "/leader-election/8", Value: "2", CreateRev: 11, KeyLease: 8})
	w := sentOne[coord.Watch](t, env)
	if w.Key != "/leader-election/8" || w.Rev != 13 {
		t.Errorf("watch %+v, want the predecessor's key from revision 13", w)
	}
	if ttl := sentOne[coord.TimeToLive](t, env); len(env.Sent) != 2 || ttl.Lease != 8 || len(env.Notes) != 0 {
		t.Errorf("sent %v, noted %v: want the watch and a probe of the predecessor's lease 8 only (it is no leader to follow)", env.SentSummary(), env.Notes)
	}
	// The predecessor goes: look again (it may have had one of its own),
	// never lead on the event alone.
	env.Receive(n, svc, coord.Deleted{Req: w.Req, Key: w.Key, Rev: 14})
	p2, f2 := finds(env)
	if len(p2) != 1 || len(f2) != 1 || len(env.Notes) != 0 {
		t.Fatalf("after Deleted: sent %v, noted %v; want Finds only", env.SentSummary(), env.Notes)
	}
	env.Receive(n, svc, coord.Reply{Req: p2[0].Req, Rev: 14, Found: true, Key: "/leader-election/3", Value: "1", CreateRev: 4, KeyLease: 3})
	if w2 := sentOne[coord.Watch](t, env); w2.Key != "/leader-election/3" {
		t.Errorf("watch %+v, want the next predecessor", w2)
	}
}

// Followers learn the leader from the oldest key (its owner is the value,
// its creation revision the token) and note it.
func TestFollowerLearnsLeaderFromFirstKey(t *testing.T) {
	env, n := node(t, 3, nil)
	c := session(t, env, n, 9, time.Millisecond)
	_, first := created(t, env, n, c, 12)
	env.Receive(n, svc, coord.Reply{Req: first.Req, Rev: 12, Found: true, Key: "/leader-election/3", Value: "1", CreateRev: 4, KeyLease: 3})
	fs := env.NotesOf(election.NoteFollower)
	if len(fs) != 1 {
		t.Fatalf("notes %v, want one follower note", env.Notes)
	}
	if l, _ := fs[0].Int("leader"); l != 1 {
		t.Errorf("follower note %v, want leader 1", fs[0])
	}
	if term, _ := fs[0].Int("term"); term != 4 {
		t.Errorf("follower note %v, want term 4 (the leader's token)", fs[0])
	}
	if v := view(n); v.Role != election.Follower || v.Leader != 1 || v.Token != 4 {
		t.Errorf("view %+v", v)
	}
	// The poll repeats it: no new note for the same belief.
	env.Advance(ttl / 3)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	_, f2 := finds(env)
	if len(f2) != 1 {
		t.Fatalf("tick sent %v, want a leader poll", env.SentSummary())
	}
	env.Receive(n, svc, coord.Reply{Req: f2[0].Req, Found: true, Key: "/leader-election/3", Value: "1", CreateRev: 4, KeyLease: 3})
	if len(env.Notes) != 0 {
		t.Errorf("the same leader noted again: %v", env.Notes)
	}
	// An older answer (a lower token) does not move the belief back.
	env.Receive(n, svc, coord.Reply{Req: f2[0].Req, Found: true, Key: "/leader-election/1", Value: "2", CreateRev: 2})
	if v := view(n); v.Leader != 1 {
		t.Errorf("a stale answer changed the leader: %+v", v)
	}
}

// etcd issues #11051 and #19597: etcd's Campaign returns leadership to a
// candidate whose session expired while it waited. Here the watch firing
// is no verdict: the own key is read again, and a key gone with the
// session (its lease expired at the service) never becomes leadership.
func TestCampaignWhoseSessionExpiredWhileWaitingNeverLeads_KeyGone(t *testing.T) {
	env, n := node(t, 2, nil)
	c := session(t, env, n, 9, time.Millisecond)
	pred, _ := created(t, env, n, c, 6)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 6, Found: true, Key: "/leader-election/3", Value: "1", CreateRev: 4, KeyLease: 3})
	w := sentOne[coord.Watch](t, env)
	// The session expires at the service (keepalives lost): both keys go.
	env.Advance(3 * time.Second)
	env.Receive(n, svc, coord.Deleted{Req: w.Req, Key: w.Key, Rev: 8})
	p2, _ := finds(env)
	env.Receive(n, svc, coord.Reply{Req: p2[0].Req, Rev: 9}) // no predecessor now
	get := sentOne[coord.Get](t, env)
	env.Receive(n, svc, coord.Reply{Req: get.Req, Rev: 9}) // the own key is gone too
	if v := view(n); v.Role == election.Leader || len(env.NotesOf(election.NoteLeader)) != 0 {
		t.Fatalf("leadership from an expired session: %+v", v)
	}
	if l := env.NotesOf(lease.NoteSessionLost); len(l) != 1 {
		t.Fatalf("notes %v, want session-lost", env.Notes)
	}
	env.WantSent(t, "REVOKE→n4", "GRANT→n4")
}

// The same, when the key is still there (the service's clock is slow and
// has not expired it yet) but the local deadline has passed: the deadline
// is part of the re-check.
func TestCampaignWhoseSessionExpiredWhileWaitingNeverLeads_Deadline(t *testing.T) {
	env, n := node(t, 2, nil)
	c := session(t, env, n, 9, time.Millisecond)
	pred, _ := created(t, env, n, c, 6)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 6, Found: true, Key: "/leader-election/3", Value: "1", CreateRev: 4, KeyLease: 3})
	w := sentOne[coord.Watch](t, env)
	env.Advance(ttl) // past 2s − 200ms − 1ms, no keepalive answered
	env.Receive(n, svc, coord.Deleted{Req: w.Req, Key: w.Key, Rev: 8})
	p2, _ := finds(env)
	env.Receive(n, svc, coord.Reply{Req: p2[0].Req, Rev: 9})
	get := sentOne[coord.Get](t, env)
	env.Receive(n, svc, coord.Reply{Req: get.Req, Rev: 9, Found: true, Key: c.Key, Value: c.Value, CreateRev: 6, KeyLease: 9})
	if v := view(n); v.Role == election.Leader || len(env.NotesOf(election.NoteLeader)) != 0 {
		t.Fatalf("leadership past the deadline: %+v, notes %v", v, env.Notes)
	}
	l := env.NotesOf(lease.NoteSessionLost)
	if len(l) != 1 {
		t.Fatalf("notes %v, want session-lost", env.Notes)
	}
	if why, _ := l[0].Get("why"); why != lease.LostDeadline {
		t.Errorf("session-lost %v, want why=deadline", l[0])
	}
}

// A key that holds but under another revision (deleted and created again)
// is not the key the campaign queued with.
func TestRecheckWantsTheSameCreateRev(t *testing.T) {
	env, n := node(t, 2, nil)
	c := session(t, env, n, 9, time.Millisecond)
	pred, _ := created(t, env, n, c, 6)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 6})
	get := sentOne[coord.Get](t, env)
	env.Receive(n, svc, coord.Reply{Req: get.Req, Rev: 9, Found: true, Key: c.Key, Value: c.Value, CreateRev: 8, KeyLease: 9})
	if view(n).Role == election.Leader {
		t.Fatal("led on a key of another revision")
	}
}

// Fail closed: before every leader act the deadline is checked; past it
// the leader steps down (noted before anything is sent), gives its lease
// back and starts a new session — it never writes.
func TestFailClosedBeforeEveryWrite(t *testing.T) {
	env, n, _ := leading(t, 1, nil, 5)
	d, _ := n.(*lease.Node).Deadline()
	env.Advance(d - env.Mono) // exactly at the deadline: no longer held
	env.Fire(n, ordo.Timer{Name: "write", Arg: 1})
	if len(env.SentKind("WRITE")) != 0 {
		t.Fatalf("wrote past the deadline: %v", env.SentSummary())
	}
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteCandidate, lease.NoteSessionLost}) {
		t.Fatalf("notes %v, want [candidate session-lost]", got)
	}
	env.WantSent(t, "REVOKE→n4", "GRANT→n4")
	if v := view(n); v.Role != election.Candidate {
		t.Errorf("view %+v, want candidate", v)
	}
}

// The same rule on any event: a leader that wakes from a pause to a
// message steps down before handling it.
func TestFailClosedOnAnyEvent(t *testing.T) {
	env, n, c := leading(t, 1, nil, 5)
	env.Advance(ttl)
	env.Receive(n, svc, coord.Reply{Req: c.Req}) // anything at all
	if got := noteKinds(env); len(got) == 0 || got[0] != election.NoteCandidate {
		t.Fatalf("notes %v, want candidate first", got)
	}
	// Just before the deadline it still writes.
	env2, n2, _ := leading(t, 1, nil, 5)
	d, _ := n2.(*lease.Node).Deadline()
	env2.Advance(d - env2.Mono - time.Nanosecond)
	env2.Fire(n2, ordo.Timer{Name: "write", Arg: 1})
	if len(env2.SentKind("WRITE")) != 1 {
		t.Fatalf("sent %v, want a write just before the deadline", env2.SentSummary())
	}
}

// unsafe_no_fail_closed breaks exactly that: past its deadline the leader
// still writes, until the service says the lease is gone.
func TestUnsafeNoFailClosedWritesPastDeadline(t *testing.T) {
	env, n, _ := leading(t, 1, map[string]string{"unsafe_no_fail_closed": "true"}, 5)
	env.Advance(10 * ttl)
	env.Fire(n, ordo.Timer{Name: "write", Arg: 1})
	if len(env.SentKind("WRITE")) != 1 || view(n).Role != election.Leader {
		t.Fatalf("sent %v, view %+v: want a write from a leader", env.SentSummary(), view(n))
	}
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	ka := sentOne[coord.KeepAlive](t, env)
	env.Receive(n, svc, coord.Reply{Req: ka.Req, Err: coord.ErrNoLease})
	if view(n).Role == election.Leader {
		t.Fatal("still leader after ErrNoLease")
	}
}

// ErrNoLease (the lease expired or was revoked at the service) steps a
// leader down at once.
func TestNoLeaseStepsDown(t *testing.T) {
	env, n, _ := leading(t, 1, nil, 5)
	env.Advance(ttl / 3)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	ka := sentOne[coord.KeepAlive](t, env)
	env.Receive(n, svc, coord.Reply{Req: ka.Req, Err: coord.ErrNoLease})
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteCandidate, lease.NoteSessionLost}) {
		t.Fatalf("notes %v", got)
	}
	if why, _ := env.Notes[1].Get("why"); why != lease.LostNoLease {
		t.Errorf("why %v", why)
	}
	if len(env.SentKind("GRANT")) != 1 {
		t.Errorf("sent %v, want a new session", env.SentSummary())
	}
}

// The store refusing the token (a newer leader wrote) is news that this
// leadership is over; every answered write is noted on the store's behalf
// with the store's sequence number.
func TestStaleTokenStepsDownAndWritesAreNoted(t *testing.T) {
	env, n, _ := leading(t, 1, nil, 5)
	w := sentOne[coord.Write](t, env)
	env.Receive(n, store, coord.Reply{Req: w.Req, Highest: 5, Seq: 3})
	f := env.NotesOf(election.NoteFence)
	if len(f) != 1 {
		t.Fatalf("notes %v, want a fence note", env.Notes)
	}
	for k, want := range map[string]int64{"resource": 5, "token": 5, "writer": 1, "seq": 3} {
		if v, _ := f[0].Int(k); v != want {
			t.Errorf("fence note %v: %s = %d, want %d", f[0], k, v, want)
		}
	}
	if acc, _ := f[0].Get("accepted"); acc != true {
		t.Errorf("fence note %v, want accepted", f[0])
	}
	env.Advance(200 * time.Millisecond)
	env.Fire(n, ordo.Timer{Name: "write", Arg: 1})
	w2 := sentOne[coord.Write](t, env)
	env.Receive(n, store, coord.Reply{Req: w2.Req, Err: coord.ErrStaleToken, Highest: 9})
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteFence, election.NoteCandidate, lease.NoteSessionLost}) {
		t.Fatalf("notes %v", got)
	}
	if acc, _ := env.Notes[0].Get("accepted"); acc != false {
		t.Errorf("fence note %v, want refused", env.Notes[0])
	}
	// An unavailable store (live: no answer in time) is no outcome.
	env3, n3, _ := leading(t, 1, nil, 5)
	w3 := sentOne[coord.Write](t, env3)
	env3.Receive(n3, store, coord.Reply{Req: w3.Req, Err: coord.ErrUnavailable})
	if len(env3.Notes) != 0 {
		t.Errorf("an unknown outcome was noted: %v", env3.Notes)
	}
}

// A leader's poll that finds another key first (its own is gone) steps
// it down; an answer to a poll sent before it led (the network reorders)
// says nothing about its leadership.
func TestLeaderPollNotFirstStepsDown(t *testing.T) {
	env, n := node(t, 1, nil)
	c := session(t, env, n, 7, time.Millisecond)
	pred, early := created(t, env, n, c, 5)
	env.Advance(time.Millisecond)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 5})
	get := sentOne[coord.Get](t, env)
	env.Receive(n, svc, coord.Reply{Req: get.Req, Found: true, Key: c.Key, Value: c.Value, CreateRev: 5, KeyLease: 7})
	env.Receive(n, svc, coord.Reply{Req: early.Req, Found: true, Key: "/leader-election/3", Value: "2", CreateRev: 4, KeyLease: 3})
	if view(n).Role != election.Leader {
		t.Fatal("a late answer from before the leadership deposed it")
	}
	env.Advance(ttl / 3)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	_, first := finds(env)
	env.Receive(n, svc, coord.Reply{Req: first[0].Req, Found: true, Key: "/leader-election/9", Value: "2", CreateRev: 8, KeyLease: 9})
	if view(n).Role == election.Leader {
		t.Fatal("still leader with another key first")
	}
}

// Resign deletes the own key only at its own creation revision (etcd's
// Resign: If(CreateRevision = rev) Then(Delete)), steps down, and queues
// again from the back once the delete is answered.
func TestResignDeletesWithRevCondition(t *testing.T) {
	env, n, c := leading(t, 1, nil, 5)
	env.Reset()
	n.(*lease.Node).Resign(env)
	d := sentOne[coord.Delete](t, env)
	if d.Key != c.Key || d.Rev != 5 {
		t.Errorf("delete %+v, want the own key at revision 5", d)
	}
	if got := noteKinds(env); !slices.Equal(got, []string{election.NoteCandidate}) {
		t.Errorf("notes %v, want [candidate]", got)
	}
	// The Delete lost: the tick deletes again (never re-creates over the
	// old key, which would undo the resignation).
	env.Advance(ttl / 3)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	d2 := sentOne[coord.Delete](t, env)
	if d2.Key != c.Key || d2.Rev != 5 || len(env.SentKind("CREATE")) != 0 {
		t.Fatalf("retry %+v, sent %v", d2, env.SentSummary())
	}
	env.Receive(n, svc, coord.Reply{Req: d2.Req, Succeeded: true, Rev: 6})
	if c2 := sentOne[coord.Create](t, env); c2.Key != c.Key || c2.Lease != c.Lease {
		t.Errorf("create %+v, want the same key in the same session", c2)
	}
	// The old leadership's write timer is dead.
	env.Fire(n, ordo.Timer{Name: "write", Arg: 1})
	if len(env.SentKind("WRITE")) != 0 {
		t.Error("a resigned leader wrote")
	}
}

// Lost requests are retried by the tick: a Grant, a Create.
func TestLostRequestsAreRetried(t *testing.T) {
	env, n := node(t, 1, nil)
	env.Start(n)
	env.Advance(ttl / 3)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	g := sentOne[coord.Grant](t, env)
	env.Receive(n, svc, coord.Reply{Req: g.Req, Lease: 3, TTL: 2})
	c := sentOne[coord.Create](t, env)
	env.Advance(ttl / 3)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	if c2 := sentOne[coord.Create](t, env); c2.Key != c.Key || c2.Req == c.Req {
		t.Errorf("retry %+v of %+v", c2, c)
	}
	// An answer to the first Grant after all is a lease nobody uses.
	env2, n2 := node(t, 1, nil)
	env2.Start(n2)
	g1 := sentOne[coord.Grant](t, env2)
	env2.Advance(ttl / 3)
	env2.Fire(n2, ordo.Timer{Name: "tick", Arg: 1})
	g2 := sentOne[coord.Grant](t, env2)
	env2.Receive(n2, svc, coord.Reply{Req: g2.Req, Lease: 4, TTL: 2})
	env2.Receive(n2, svc, coord.Reply{Req: g1.Req, Lease: 3, TTL: 2})
	if r := sentOne[coord.Revoke](t, env2); r.Lease != 3 {
		t.Errorf("revoke %+v, want the unused lease 3", r)
	}
}

// A follower whose deadline passes without a keepalive answered gives the
// session up at the tick (its key is not to be relied on).
func TestFollowerDeadlineEndsTheSession(t *testing.T) {
	env, n := node(t, 2, nil)
	session(t, env, n, 9, time.Millisecond)
	env.Advance(ttl)
	env.Fire(n, ordo.Timer{Name: "tick", Arg: 1})
	if l := env.NotesOf(lease.NoteSessionLost); len(l) != 1 || len(env.NotesOf(election.NoteCandidate)) != 0 {
		t.Fatalf("notes %v, want session-lost without a role change", env.Notes)
	}
	env.WantSent(t, "REVOKE→n4", "GRANT→n4")
}

// Without services in the roster the node has nobody to campaign with.
func TestNoServiceIdles(t *testing.T) {
	env := ordotest.ForProtocol(lease.Protocol, 1, ordo.NewRoster(3, 0, 0), 1)
	n := env.NewNode(t, lease.Protocol, nil)
	env.Start(n)
	if len(env.Sent) != 0 || view(n).Role != election.Follower {
		t.Fatalf("sent %v, view %+v", env.SentSummary(), view(n))
	}
}

func TestOptionsRefused(t *testing.T) {
	for opts, msg := range map[string]map[string]string{
		"whole seconds":  {"ttl": "2500ms"},
		"2s..3600s":      {"ttl": "1s"},
		"1ms..ttl/2":     {"keepalive": "1500ms"},
		"max_drift_ppm":  {"max_drift_ppm": "300000"},
		"write_every":    {"write_every": "0s"},
		"0 (off) or 5ms": {"probe": "1ms"},
		"probe 667ms":    {"probe": "667ms"},
		"bytes of UTF-8": {"prefix": strings.Repeat("p", 300)},
	} {
		o, err := lease.Protocol.Resolve(msg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = lease.New(ordo.Config{ID: 1, N: 3, Opts: o, Proto: lease.Protocol})
		if err == nil || !strings.Contains(err.Error(), opts) {
			t.Errorf("%v: error %v, want one mentioning %q", msg, err, opts)
		}
	}
}

// The oldest key under the prefix being the own one, at its creation
// revision and under this session's lease, is the re-check in one read:
// the successor leads one round trip after the predecessor's delete, as
// etcd's Campaign does, but never on the delete alone.
func TestOwnKeyFirstIsTheRecheckInOneRead(t *testing.T) {
	env, n := node(t, 3, nil)
	c := session(t, env, n, 9, time.Millisecond)
	pred, _ := created(t, env, n, c, 12)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 12, Found: true, Key: "/leader-election/8", Value: "2", CreateRev: 11, KeyLease: 8})
	w := sentOne[coord.Watch](t, env)
	env.Receive(n, svc, coord.Deleted{Req: w.Req, Key: w.Key, Rev: 14})
	if len(env.Notes) != 0 {
		t.Fatalf("the delete alone changed the role: %v", env.Notes)
	}
	_, first := finds(env)
	// Another session's key of the same name (impossible with keys named
	// by lease, but not by the check): no leadership.
	env.Receive(n, svc, coord.Reply{Req: first[0].Req, Found: true, Key: c.Key, Value: "3", CreateRev: 12, KeyLease: 99})
	if view(n).Role == election.Leader {
		t.Fatal("led on a key under another lease")
	}
	env2, n2 := node(t, 3, nil)
	c2 := session(t, env2, n2, 9, time.Millisecond)
	pred2, _ := created(t, env2, n2, c2, 12)
	env2.Receive(n2, svc, coord.Reply{Req: pred2.Req, Rev: 12, Found: true, Key: "/leader-election/8", Value: "2", CreateRev: 11, KeyLease: 8})
	w2 := sentOne[coord.Watch](t, env2)
	env2.Receive(n2, svc, coord.Deleted{Req: w2.Req, Key: w2.Key, Rev: 14})
	_, first2 := finds(env2)
	env2.Receive(n2, svc, coord.Reply{Req: first2[0].Req, Found: true, Key: c2.Key, Value: "3", CreateRev: 12, KeyLease: 9})
	if v := view(n2); v.Role != election.Leader || v.Token != 12 {
		t.Fatalf("own key first, same revision and lease: %+v, want leader with token 12", v)
	}
	if len(env2.SentKind("WRITE")) != 1 {
		t.Errorf("sent %v, want the first write", env2.SentSummary())
	}
	// Past the deadline the same answer leads nowhere.
	env3, n3 := node(t, 3, nil)
	c3 := session(t, env3, n3, 9, time.Millisecond)
	_, first3 := created(t, env3, n3, c3, 12)
	env3.Advance(ttl)
	env3.Receive(n3, svc, coord.Reply{Req: first3.Req, Found: true, Key: c3.Key, Value: "3", CreateRev: 12, KeyLease: 9})
	if view(n3).Role == election.Leader || len(env3.NotesOf(election.NoteLeader)) != 0 {
		t.Fatal("led past the deadline")
	}
}
