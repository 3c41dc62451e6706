package coord_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/coord"
	"ordo/coord/coordtest"
	"ordo/election"
	"ordo/ordotest"
)

// One-step tests of the "coord" model, etcd-io/raft style: each cites the
// etcd v3 rule it mirrors (the API reference of etcd's KV, Lease and Watch
// services, and etcd's lessor) and, through the package doc, the chapter's
// section 4 ("현대적 리더 선출 → 외부 서비스 활용").

// reply is the one Reply the step sent to node to.
func reply(t *testing.T, sent []ordotest.Sent, to ordo.NodeID) coord.Reply {
	t.Helper()
	if len(sent) != 1 || sent[0].To != to {
		t.Fatalf("sent %v, want one reply to %v", sent, to)
	}
	r, ok := sent[0].Msg.(coord.Reply)
	if !ok {
		t.Fatalf("sent %v, want a Reply", sent[0])
	}
	return r
}

// deleted returns the Deleted messages among sent.
func deleted(sent []ordotest.Sent) []coord.Deleted {
	var out []coord.Deleted
	for _, s := range sent {
		if d, ok := s.Msg.(coord.Deleted); ok {
			out = append(out, d)
		}
	}
	return out
}

// exact: the model revokes a lease at its deadline, not at etcd's next
// pass of its lessor.
var exact = map[string]string{"sweep": "0s"}

// phase is the instant of one of the model's lessor passes.
func phase(d *coordtest.Driver) time.Duration { return d.Node.(*coord.Service).Phase() }

func grant(t *testing.T, d *coordtest.Driver, from ordo.NodeID, req uint64, ttl int64) int64 {
	t.Helper()
	r := reply(t, d.Call(from, coord.Grant{Req: req, TTL: ttl}), from)
	if r.Err != coord.OK || r.Lease <= 0 || r.TTL != ttl || r.Req != req {
		t.Fatalf("grant: %+v", r)
	}
	return r.Lease
}

func create(t *testing.T, d *coordtest.Driver, from ordo.NodeID, req uint64, key string, lease int64) coord.Reply {
	t.Helper()
	return reply(t, d.Call(from, coord.Create{Req: req, Key: key, Value: "v" + key, Lease: lease}), from)
}

// The store starts at revision 1; a lease grant does not change it (leases
// live beside the MVCC store in etcd).
func TestRevisionStartsAtOneAndGrantDoesNotBump(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	if r := reply(t, d.Call(1, coord.Get{Req: 1, Key: "/k"}), 1); r.Rev != 1 || r.Found {
		t.Fatalf("get on a fresh store: %+v, want rev 1, not found", r)
	}
	grant(t, d, 1, 2, 5)
	if r := reply(t, d.Call(1, coord.Get{Req: 3, Key: "/k"}), 1); r.Rev != 1 {
		t.Fatalf("rev after a grant: %d, want 1", r.Rev)
	}
}

// Create is Txn If(CreateRevision(k) = 0) Then(Put) Else(Get): the first
// succeeds at the next revision; the second fails, bumps nothing and
// returns the key as it is.
func TestCreateTwiceSecondFailsWithExisting(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	l := grant(t, d, 1, 1, 5)
	r := create(t, d, 1, 2, "/e/a", l)
	if !r.Succeeded || !r.Found || r.Rev != 2 || r.CreateRev != 2 || r.ModRev != 2 || r.KeyLease != l || r.Value != "v/e/a" || r.Key != "/e/a" {
		t.Fatalf("first create: %+v", r)
	}
	r = reply(t, d.Call(2, coord.Create{Req: 3, Key: "/e/a", Value: "other"}), 2)
	if r.Succeeded || !r.Found || r.Rev != 2 || r.CreateRev != 2 || r.Value != "v/e/a" || r.KeyLease != l {
		t.Fatalf("second create: %+v, want failed, the first one's key, rev 2", r)
	}
}

// An unknown lease fails a create with ErrNoLease — but only on the branch
// the txn takes: a create whose compare failed just reads the key (etcd
// checks the puts of the taken branch only).
func TestCreateWithUnknownLease(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	if r := create(t, d, 1, 1, "/e/a", 77); r.Err != coord.ErrNoLease || r.Rev != 0 {
		t.Fatalf("create with an unknown lease: %+v, want no-lease without a revision (etcd sends no header with an error)", r)
	}
	if r := reply(t, d.Call(1, coord.Get{Req: 9, Key: "/e/a"}), 1); r.Found || r.Rev != 1 {
		t.Fatalf("after the failed create: %+v, want nothing created at rev 1", r)
	}
	create(t, d, 1, 2, "/e/a", 0)
	if r := create(t, d, 1, 3, "/e/a", 77); r.Err != coord.OK || r.Succeeded || !r.Found {
		t.Fatalf("create of an existing key with an unknown lease: %+v, want a failed compare, no error", r)
	}
}

// Find: the oldest key under a prefix by create revision, or the newest
// below a revision (the recipe's predecessor), never a key outside it.
func TestFindFirstAndLastBelow(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	create(t, d, 1, 1, "/other", 0)  // rev 2
	create(t, d, 1, 2, "/e/z", 0)    // rev 3
	create(t, d, 2, 3, "/e/a", 0)    // rev 4
	create(t, d, 3, 4, "/e/m", 0)    // rev 5
	create(t, d, 3, 5, "/other2", 0) // rev 6
	for _, c := range []struct {
		f       coord.Find
		found   bool
		key     string
		created int64
	}{
		{coord.Find{Prefix: "/e/"}, true, "/e/z", 3},
		{coord.Find{Prefix: "/e/", Last: true}, true, "/e/m", 5},
		{coord.Find{Prefix: "/e/", Last: true, Below: 5}, true, "/e/a", 4},
		{coord.Find{Prefix: "/e/", Last: true, Below: 4}, true, "/e/z", 3},
		{coord.Find{Prefix: "/e/", Last: true, Below: 3}, false, "", 0},
		{coord.Find{Prefix: "/e/", Below: 4}, true, "/e/z", 3},
		{coord.Find{Prefix: "/none/"}, false, "", 0},
	} {
		c.f.Req = 9
		r := reply(t, d.Call(1, c.f), 1)
		if r.Found != c.found || r.Key != c.key || r.CreateRev != c.created || r.Rev != 6 {
			t.Errorf("%+v: %+v, want found %v key %q created %d at rev 6", c.f, r, c.found, c.key, c.created)
		}
	}
}

// Delete is Txn If(CreateRevision(k) = Rev) Then(Delete(k)) (Rev 0: no
// condition). A failed condition deletes nothing and bumps nothing.
func TestDeleteConditional(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	create(t, d, 1, 1, "/k", 0) // rev 2
	if r := reply(t, d.Call(1, coord.Delete{Req: 2, Key: "/k", Rev: 3}), 1); r.Succeeded || r.Rev != 2 {
		t.Fatalf("delete with the wrong create revision: %+v", r)
	}
	if r := reply(t, d.Call(1, coord.Delete{Req: 3, Key: "/k", Rev: 2}), 1); !r.Succeeded || r.Rev != 3 {
		t.Fatalf("delete with the right create revision: %+v", r)
	}
	if r := reply(t, d.Call(1, coord.Get{Req: 4, Key: "/k"}), 1); r.Found {
		t.Fatalf("the key survived its delete: %+v", r)
	}
	if r := reply(t, d.Call(1, coord.Delete{Req: 5, Key: "/k"}), 1); r.Succeeded || r.Rev != 3 {
		t.Fatalf("delete of an absent key: %+v, want nothing deleted at rev 3", r)
	}
	create(t, d, 1, 6, "/k", 0) // rev 4
	if r := reply(t, d.Call(1, coord.Delete{Req: 7, Key: "/k"}), 1); !r.Succeeded || r.Rev != 5 {
		t.Fatalf("unconditional delete: %+v", r)
	}
}

// A watch answers once, with Deleted at the deleting revision; a watch on
// an absent key answers at once with revision 0; Unwatch cancels; a
// duplicated Watch (the network duplicates) is one watch.
func TestWatchThenDelete(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	create(t, d, 1, 1, "/k", 0) // rev 2
	if s := d.Call(2, coord.Watch{Req: 10, Key: "/k", Rev: 3}); len(s) != 0 {
		t.Fatalf("watch of a present key answered at once: %v", s)
	}
	d.Call(2, coord.Watch{Req: 10, Key: "/k", Rev: 3}) // duplicate
	d.Call(3, coord.Watch{Req: 10, Key: "/k", Rev: 3}) // same Req, other node
	d.Call(3, coord.Watch{Req: 11, Key: "/k", Rev: 3})
	if r := reply(t, d.Call(3, coord.Unwatch{Req: 11}), 3); !r.Succeeded {
		t.Fatalf("unwatch of a pending watch: %+v", r)
	}
	if r := reply(t, d.Call(3, coord.Unwatch{Req: 12}), 3); r.Succeeded || r.Err != coord.OK {
		t.Fatalf("unwatch of no watch: %+v, want ok, not succeeded", r)
	}
	sent := d.Call(1, coord.Delete{Req: 2, Key: "/k"})
	want := []ordotest.Sent{
		{To: 2, Msg: coord.Deleted{Req: 10, Key: "/k", Rev: 3}},
		{To: 3, Msg: coord.Deleted{Req: 10, Key: "/k", Rev: 3}},
		{To: 1, Msg: coord.Reply{Req: 2, Rev: 3, Succeeded: true}},
	}
	if len(sent) != len(want) {
		t.Fatalf("delete sent %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("delete sent %v, want %v", sent, want)
		}
	}
	if s := deleted(d.Call(2, coord.Watch{Req: 13, Key: "/k", Rev: 9})); len(s) != 1 || s[0] != (coord.Deleted{Req: 13, Key: "/k"}) {
		t.Fatalf("watch of an absent key: %v, want Deleted at rev 0 at once", s)
	}
}

// A watch from a revision later than the delete does not fire for it
// (etcd's WithRev): it waits for a later delete of the key.
func TestWatchFromFutureRevision(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	create(t, d, 1, 1, "/k", 0) // rev 2
	d.Call(2, coord.Watch{Req: 10, Key: "/k", Rev: 5})
	if s := deleted(d.Call(1, coord.Delete{Req: 2, Key: "/k"})); len(s) != 0 { // rev 3
		t.Fatalf("a watch from rev 5 fired for a delete at 3: %v", s)
	}
	create(t, d, 1, 3, "/k", 0) // rev 4
	create(t, d, 1, 4, "/j", 0) // rev 5
	if s := deleted(d.Call(1, coord.Delete{Req: 5, Key: "/k"})); len(s) != 1 || s[0].Rev != 6 {
		t.Fatalf("the watch from rev 5 at the delete at 6: %v", s)
	}
}

// A lease expires TTL seconds after its grant on the service's monotonic
// clock: its keys go in one txn (one revision), their watches fire, and a
// keepalive after that finds no lease (etcd lessor: expiry revokes).
func TestLeaseExpiryDeletesKeysAndFiresWatches(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, exact)
	l := grant(t, d, 1, 1, 2)
	create(t, d, 1, 2, "/e/b", l) // rev 2
	create(t, d, 1, 3, "/e/a", l) // rev 3
	create(t, d, 1, 4, "/e/c", 0) // rev 4: no lease, survives
	d.Call(2, coord.Watch{Req: 20, Key: "/e/a", Rev: 4})
	d.Call(3, coord.Watch{Req: 30, Key: "/e/b", Rev: 4})
	if s := d.Advance(2*time.Second - time.Millisecond); len(s) != 0 {
		t.Fatalf("sent before the TTL was up: %v", s)
	}
	s := deleted(d.Advance(time.Millisecond))
	if len(s) != 2 || s[0] != (coord.Deleted{Req: 20, Key: "/e/a", Rev: 5}) || s[1] != (coord.Deleted{Req: 30, Key: "/e/b", Rev: 5}) {
		t.Fatalf("at the TTL: %v, want both watches fired at rev 5, keys in sorted order", s)
	}
	if n := d.Notes[len(d.Notes)-1]; n.Kind != "lease-expired" {
		t.Fatalf("last note %v, want lease-expired", n)
	} else if k, _ := n.Int("keys"); k != 2 {
		t.Fatalf("lease-expired note %v: want keys 2", n)
	}
	if r := reply(t, d.Call(1, coord.KeepAlive{Req: 5, Lease: l}), 1); r.Err != coord.ErrNoLease {
		t.Fatalf("keepalive of an expired lease: %+v", r)
	}
	if r := reply(t, d.Call(1, coord.Get{Req: 6, Key: "/e/c"}), 1); !r.Found || r.Rev != 5 {
		t.Fatalf("the key without a lease: %+v, want found at rev 5", r)
	}
}

// KeepAlive renews to the full TTL and answers the TTL; the timer armed
// for the old deadline fires early, finds nothing due and re-arms.
func TestKeepAliveRenewsFullTTL(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, exact)
	l := grant(t, d, 1, 1, 3)
	create(t, d, 1, 2, "/k", l)
	d.Advance(2 * time.Second)
	if r := reply(t, d.Call(1, coord.KeepAlive{Req: 3, Lease: l}), 1); r.Err != coord.OK || r.TTL != 3 || r.Lease != l {
		t.Fatalf("keepalive: %+v", r)
	}
	d.Advance(2*time.Second + 999*time.Millisecond) // 4.999 s: past the first deadline (3 s), before the renewed one (5 s)
	if r := reply(t, d.Call(1, coord.Get{Req: 4, Key: "/k"}), 1); !r.Found {
		t.Fatalf("the key expired with a renewed lease: %+v", r)
	}
	if d.Pending() != 1 {
		t.Fatalf("%d timers pending, want 1 (re-armed for the renewed deadline)", d.Pending())
	}
	d.Advance(time.Millisecond)
	if r := reply(t, d.Call(1, coord.Get{Req: 5, Key: "/k"}), 1); r.Found {
		t.Fatalf("the key outlived its renewed lease: %+v", r)
	}
}

// A keepalive that arrives at the deadline, before the expiry timer has
// fired, finds the lease gone (etcd's Renew refuses an expired lease):
// with sweep 0 at once; with etcd's sweep, the answer waits for the pass
// that revokes the lease (lessor.Renew waits on the revocation).
func TestKeepAliveAtDeadlineFindsNoLease(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, map[string]string{"sweep": "0s"})
	l := grant(t, d, 1, 1, 2)
	d.Env.Advance(2 * time.Second) // the clock moves; the timer has not fired
	if r := reply(t, d.Call(1, coord.KeepAlive{Req: 2, Lease: l}), 1); r.Err != coord.ErrNoLease {
		t.Fatalf("keepalive at the deadline: %+v, want no-lease", r)
	}

	d = coordtest.New(t, coord.Protocol, nil) // sweep 500ms
	d.Advance(phase(d) + 300*time.Millisecond)
	l = grant(t, d, 1, 1, 2) // deadline 2.3 s: swept at 2.5 s
	create(t, d, 1, 2, "/k", l)
	d.Advance(2 * time.Second) // 2.3 s
	if sent := d.Call(1, coord.KeepAlive{Req: 3, Lease: l}); len(sent) != 0 {
		t.Fatalf("keepalive of a lease past its deadline answered before the sweep: %v", sent)
	}
	if r := reply(t, d.Call(2, coord.Get{Req: 4, Key: "/k"}), 2); !r.Found {
		t.Fatalf("the key went before the sweep: %+v", r)
	}
	sent := d.Advance(200 * time.Millisecond) // 2.5 s: the pass
	if r := reply(t, sent, 1); r.Req != 3 || r.Err != coord.ErrNoLease {
		t.Fatalf("the waiting keepalive at the sweep: %+v, want no-lease", r)
	}
	if r := reply(t, d.Call(2, coord.Get{Req: 5, Key: "/k"}), 2); r.Found {
		t.Fatalf("the key outlived the sweep: %+v", r)
	}
}

// TimeToLive answers whole seconds truncated toward zero (etcd's
// int64(Remaining().Seconds())), 0 for a lease past its deadline that no
// pass has revoked yet, and no-lease once it is gone.
func TestTimeToLiveTruncatesSeconds(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	g := phase(d) + 100*time.Millisecond
	d.Advance(g)
	l := grant(t, d, 1, 1, 3) // deadline 3.1 s after the phase: swept at 3.5 s
	for _, c := range []struct {
		at   time.Duration // since the grant
		want int64
		err  uint8
	}{{0, 3, coord.OK}, {time.Millisecond, 2, coord.OK}, {2 * time.Second, 1, coord.OK}, {2001 * time.Millisecond, 0, coord.OK}, {2999 * time.Millisecond, 0, coord.OK}, {3 * time.Second, 0, coord.OK}, {3399 * time.Millisecond, 0, coord.OK}, {3400 * time.Millisecond, 0, coord.ErrNoLease}} {
		d.Advance(c.at - (d.Env.Monotonic() - g))
		r := reply(t, d.Call(2, coord.TimeToLive{Req: uint64(c.at), Lease: l}), 2)
		if r.Err != c.err || r.TTL != c.want || r.Rev != 0 || (r.Err == coord.OK && r.Lease != l) {
			t.Fatalf("%v after the grant: %+v, want ttl %d, %s, no revision", c.at, r, c.want, coord.ErrName(c.err))
		}
	}
}

// The sweep runs on a fixed phase from the service's start, so a lease is
// revoked at the first pass at or after its deadline, not at it.
func TestSweepRevokesAtTheNextPass(t *testing.T) {
	for _, c := range []struct {
		sweep, grantAt, gone time.Duration
	}{{0, 300 * time.Millisecond, 2300 * time.Millisecond}, {500 * time.Millisecond, 0, 2 * time.Second}, {500 * time.Millisecond, 10 * time.Millisecond, 2500 * time.Millisecond}, {500 * time.Millisecond, 499 * time.Millisecond, 2500 * time.Millisecond}, {time.Second, 100 * time.Millisecond, 3 * time.Second}} {
		d := coordtest.New(t, coord.Protocol, map[string]string{"sweep": c.sweep.String()})
		ph := phase(d)
		d.Advance(ph + c.grantAt)
		l := grant(t, d, 1, 1, 2)
		create(t, d, 1, 2, "/k", l)
		d.Call(2, coord.Watch{Req: 9, Key: "/k"})
		var at time.Duration
		for range 4000 {
			if w := deleted(d.Advance(time.Millisecond)); len(w) > 0 {
				at = d.Env.Monotonic()
				break
			}
		}
		if at -= ph; at != c.gone {
			t.Errorf("sweep %v, granted at %v: the key went at %v, want %v", c.sweep, c.grantAt, at, c.gone)
		}
	}
}

// Leases run on the service's monotonic clock: an NTP step of its wall
// clock moves no deadline; a drifting monotonic clock does (a fast service
// clock expires leases early).
func TestLeaseIgnoresWallClockSteps(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	l := grant(t, d, 1, 1, 2)
	d.Env.StepWall(time.Hour)
	if r := reply(t, d.Call(1, coord.KeepAlive{Req: 2, Lease: l}), 1); r.Err != coord.OK {
		t.Fatalf("keepalive after a wall-clock step: %+v", r)
	}
}

// Revoke deletes the lease's keys now, in one revision, fires their
// watches; a second revoke finds no lease.
func TestRevoke(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	l := grant(t, d, 1, 1, 60)
	create(t, d, 1, 2, "/a", l) // rev 2
	create(t, d, 1, 3, "/b", l) // rev 3
	d.Call(2, coord.Watch{Req: 9, Key: "/b"})
	sent := d.Call(1, coord.Revoke{Req: 4, Lease: l})
	if w := deleted(sent); len(w) != 1 || w[0] != (coord.Deleted{Req: 9, Key: "/b", Rev: 4}) {
		t.Fatalf("revoke fired %v", w)
	}
	if r := sent[len(sent)-1].Msg.(coord.Reply); r.Err != coord.OK || r.Rev != 4 {
		t.Fatalf("revoke: %+v", r)
	}
	if r := reply(t, d.Call(1, coord.Revoke{Req: 5, Lease: l}), 1); r.Err != coord.ErrNoLease {
		t.Fatalf("second revoke: %+v", r)
	}
	l2 := grant(t, d, 1, 6, 60)
	if r := reply(t, d.Call(1, coord.Revoke{Req: 7, Lease: l2}), 1); r.Err != coord.OK || r.Rev != 4 {
		t.Fatalf("revoke of a lease without keys: %+v, want rev 4 (nothing deleted)", r)
	}
}

// Lease ids are any positive int64, like etcd's (ids above 2^62 must pass
// the codec: etcd hands them out).
func TestLeaseIdsAreLargeAndDistinct(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, nil)
	seen := map[int64]bool{}
	big := false
	for i := range 64 {
		l := grant(t, d, 1, uint64(i+1), 60)
		if seen[l] {
			t.Fatalf("lease id %d granted twice", l)
		}
		seen[l] = true
		big = big || l > ordo.MaxIndex
	}
	if !big {
		t.Fatalf("64 lease ids, none above 2^62: not drawn from etcd's range")
	}
	r := coord.Reply{Lease: 1<<63 - 1, KeyLease: 1<<63 - 1}
	b, err := coord.Protocol.Codec.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coord.Protocol.Codec.Decode(r.Kind(), b); err != nil {
		t.Fatalf("a reply with etcd's largest lease id does not decode: %v", err)
	}
}

// Every bound of the model's state refuses beyond it (bad-request) and
// loses nothing already held.
func TestBounds(t *testing.T) {
	d := coordtest.New(t, coord.Protocol, map[string]string{"max_keys": "2", "max_leases": "1", "max_watches": "1"})
	l := grant(t, d, 1, 1, 60)
	if r := reply(t, d.Call(1, coord.Grant{Req: 2, TTL: 60}), 1); r.Err != coord.ErrBadRequest {
		t.Fatalf("grant beyond max_leases: %+v", r)
	}
	create(t, d, 1, 3, "/a", l)
	create(t, d, 1, 4, "/b", l)
	if r := create(t, d, 1, 5, "/c", l); r.Err != coord.ErrBadRequest || r.Found {
		t.Fatalf("create beyond max_keys: %+v", r)
	}
	d.Call(1, coord.Watch{Req: 6, Key: "/a"})
	if r := reply(t, d.Call(1, coord.Watch{Req: 7, Key: "/b"}), 1); r.Err != coord.ErrBadRequest {
		t.Fatalf("watch beyond max_watches: %+v", r)
	}
	if w := deleted(d.Call(1, coord.Delete{Req: 8, Key: "/a"})); len(w) != 1 {
		t.Fatalf("the watch held within the bound did not fire: %v", w)
	}
	for _, bad := range []map[string]string{{"max_keys": "0"}, {"max_leases": "1025"}, {"max_watches": "-1"}, {"timeout": "0s"}, {"sweep": "11s"}, {"sweep": "-1ms"}} {
		o, err := coord.Protocol.Resolve(bad)
		if err != nil {
			continue // refused already
		}
		if _, err := coord.NewService(ordo.Config{ID: 4, N: 3, Opts: o, Proto: coord.Protocol, Role: ordo.Service}); err == nil {
			t.Errorf("options %v accepted", bad)
		}
	}
}

// A malformed request (the simulator without wire mode hands it over
// as is) is refused with bad-request, and a Write is not the
// coordination service's.
func TestBadRequests(t *testing.T) {
	d := coordtest.NewRaw(t, coord.Protocol, nil)
	for _, m := range []ordo.Message{
		coord.Grant{Req: 1, TTL: 1},
		coord.Grant{Req: 1, TTL: coord.MaxTTLSeconds + 1},
		coord.Create{Req: 1, Key: ""},
		coord.Create{Req: 1, Key: "/k", Lease: -1},
		coord.TimeToLive{Req: 1, Lease: -1},
		coord.Find{Req: 1, Prefix: "/", Below: -1},
		coord.Watch{Req: 1, Key: string(make([]byte, coord.MaxKeyBytes+1))},
		coord.Write{Req: 1, Token: 1},
	} {
		if r := reply(t, d.Call(1, m), 1); r.Err != coord.ErrBadRequest || r.Req != 1 {
			t.Errorf("%#v: %+v, want bad-request", m, r)
		}
	}
	if s := d.Call(1, coord.Reply{Req: 1}); len(s) != 0 {
		t.Errorf("a Reply sent to the service was answered: %v", s)
	}
	// What travels but no service takes: an empty key, a TTL below the
	// minimum (etcd would raise it silently; both runtimes refuse it).
	w := coordtest.New(t, coord.Protocol, nil)
	for _, m := range []ordo.Message{coord.Grant{Req: 2, TTL: 1}, coord.Get{Req: 2}, coord.Find{Req: 2}, coord.Delete{Req: 2}, coord.Watch{Req: 2}} {
		if r := reply(t, w.Call(1, m), 1); r.Err != coord.ErrBadRequest || r.Req != 2 {
			t.Errorf("%#v over the wire: %+v, want bad-request", m, r)
		}
	}
}

// The fenced store (Kleppmann's fencing tokens; section 4's split brain):
// a write is accepted iff its token is at least the highest accepted, and
// every write is noted for the fencing checker.
func TestFencedStoreRefusesStaleTokens(t *testing.T) {
	d := coordtest.New(t, coord.FencedProtocol, nil)
	for i, c := range []struct {
		token    int64
		writer   ordo.NodeID
		err      uint8
		highest  int64
		seq      int64
		accepted bool
	}{
		{5, 1, coord.OK, 5, 1, true},
		{5, 1, coord.OK, 5, 2, true}, // the same leader again
		{7, 2, coord.OK, 7, 3, true}, // a newer leader
		{5, 1, coord.ErrStaleToken, 7, 0, false},
		{8, 3, coord.OK, 8, 4, true},
	} {
		r := reply(t, d.Call(c.writer, coord.Write{Req: uint64(i + 1), Token: c.token, Writer: c.writer, Value: "x"}), c.writer)
		if r.Err != c.err || r.Highest != c.highest || r.Seq != c.seq {
			t.Fatalf("write %d (token %d): %+v, want err %s highest %d seq %d", i, c.token, r, coord.ErrName(c.err), c.highest, c.seq)
		}
		n := d.Env.NotesOf(coord.NoteFence)
		if len(n) != 1 {
			t.Fatalf("write %d: notes %v, want one fence note", i, d.Env.Notes)
		}
		tok, _ := n[0].Int("token")
		acc, _ := n[0].Get("accepted")
		w, _ := n[0].Int("writer")
		seq, _ := n[0].Int("seq")
		if tok != c.token || acc != c.accepted || w != int64(c.writer) || seq != c.seq {
			t.Fatalf("write %d: note %v", i, n[0])
		}
	}
}

// Without fencing every write is accepted: the stale leader's write goes
// through and the fence note says so, which is what the fencing checker
// fails.
func TestFencedStoreWithoutFencingAcceptsStale(t *testing.T) {
	d := coordtest.New(t, coord.FencedProtocol, map[string]string{"fencing": "false"})
	reply(t, d.Call(2, coord.Write{Req: 1, Token: 7, Writer: 2}), 2)
	r := reply(t, d.Call(1, coord.Write{Req: 2, Token: 5, Writer: 1}), 1)
	if r.Err != coord.OK || r.Highest != 7 || r.Seq != 2 {
		t.Fatalf("stale write without fencing: %+v, want accepted, highest 7, seq 2", r)
	}
	if n := d.Env.NotesOf(coord.NoteFence); len(n) != 1 {
		t.Fatalf("notes %v", d.Env.Notes)
	} else if acc, _ := n[0].Get("accepted"); acc != true {
		t.Fatalf("note %v, want accepted", n[0])
	}
}

// The fenced store refuses what is not a Write.
func TestFencedStoreRefusesOtherRequests(t *testing.T) {
	d := coordtest.NewRaw(t, coord.FencedProtocol, nil)
	for _, m := range []ordo.Message{coord.Grant{Req: 1, TTL: 2}, coord.Write{Req: 1, Token: -1}} {
		if r := reply(t, d.Call(1, m), 1); r.Err != coord.ErrBadRequest {
			t.Errorf("%#v: %+v", m, r)
		}
	}
}

// The store's note is the one the fencing checker reads.
func TestNoteFenceIsTheCheckersNote(t *testing.T) {
	if coord.NoteFence != election.NoteFence {
		t.Fatalf("coord.NoteFence %q, election.NoteFence %q", coord.NoteFence, election.NoteFence)
	}
}
