package lease_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/coord"
	"ordo/election"
	"ordo/election/lease"
	"ordo/ordotest"
)

// Probing the predecessor's lease (probe.go): the successor revokes a
// lease that has certainly expired, and never one that may still live.

const predLease = 8

// waiting brings node 3 to watch its predecessor (key rev 11, lease 8)
// and returns the first probe it sent.
func waiting(t *testing.T, opts map[string]string) (*ordotest.Env, ordo.Node, coord.TimeToLive) {
	t.Helper()
	env, n := node(t, 3, opts)
	c := session(t, env, n, 9, time.Millisecond)
	pred, _ := created(t, env, n, c, 12)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 12, Found: true, Key: "/leader-election/8", Value: "2", CreateRev: 11, KeyLease: predLease})
	return env, n, sentOne[coord.TimeToLive](t, env)
}

// answer answers probe q after rtt with ttl (err: coord.OK or an error)
// and returns the next probe, fired from its timer; revoked reports a
// Revoke of the predecessor's lease sent instead (at env.Mono).
func answer(t *testing.T, env *ordotest.Env, n ordo.Node, q coord.TimeToLive, rtt time.Duration, ttl int64, err uint8) (next coord.TimeToLive, revoked bool) {
	t.Helper()
	env.Advance(rtt)
	env.Receive(n, svc, coord.Reply{Req: q.Req, Err: err, Lease: q.Lease, TTL: ttl})
	for _, s := range env.SentKind("REVOKE") {
		if s.Msg.(coord.Revoke).Lease == predLease {
			return coord.TimeToLive{}, true
		}
	}
	tm := env.OneTimer(t, "probe")
	env.Advance(tm.After)
	env.Fire(n, tm.Timer)
	return sentOne[coord.TimeToLive](t, env), false
}

// zeroesUntilRevoked answers every probe from q on with 0 after rtt until
// the node revokes the predecessor's lease, and returns when it did.
func zeroesUntilRevoked(t *testing.T, env *ordotest.Env, n ordo.Node, q coord.TimeToLive, rtt time.Duration) time.Duration {
	t.Helper()
	for range 200 {
		next, revoked := answer(t, env, n, q, rtt, 0, coord.OK)
		if revoked {
			return env.Mono
		}
		q = next
	}
	t.Fatal("no Revoke after 200 answers 0")
	return 0
}

// A dead predecessor: answers 1 until its last second, then 0. The Revoke
// goes once a probe sent a full second (plus the drift allowance: 1.1 s at
// the default 50 000 ppm) after the first 0 arrived has answered 0 — and
// not before.
func TestProbeRevokesACertainlyExpiredLease(t *testing.T) {
	env, n, q := waiting(t, nil)
	const rtt = time.Millisecond
	for range 5 {
		q, _ = answer(t, env, n, q, rtt, 1, coord.OK)
	}
	first := env.Mono + rtt
	at := zeroesUntilRevoked(t, env, n, q, rtt)
	if at < first+1100*time.Millisecond || at > first+1100*time.Millisecond+50*time.Millisecond+2*rtt {
		t.Errorf("revoked %v after the first 0 arrived, want within a probe of 1.1 s", at-first)
	}
	if got := env.NoteKinds(); len(got) != 1 || got[0] != lease.NotePredRevoked {
		t.Errorf("notes %v, want %s", got, lease.NotePredRevoked)
	}
	if v := view(n); v.Role == election.Leader {
		t.Fatal("leads on its own revocation: only the watch and the re-check may make it lead")
	}
}

// A renewal between two answers shows as an answer ≥ 1: the chain starts
// over, and the Revoke waits a full second from the new chain's start.
func TestProbeChainStartsOverAfterARenewal(t *testing.T) {
	env, n, q := waiting(t, nil)
	const rtt = time.Millisecond
	for range 10 { // half a second of 0s
		q, _ = answer(t, env, n, q, rtt, 0, coord.OK)
	}
	q, _ = answer(t, env, n, q, rtt, 1, coord.OK) // renewed late
	start := env.Mono + rtt
	if d := zeroesUntilRevoked(t, env, n, q, rtt) - start; d < 1100*time.Millisecond {
		t.Errorf("revoked %v after the renewal's chain began, want ≥ 1.1 s", d)
	}
}

// Two answers 0 too far apart (here 800 ms, the gap bound being 2 s − 1.1
// s − 0.2 s = 0.7 s) cannot rule out a renewal between them: the chain
// starts over at the late answer.
func TestProbeGapBreaksTheChain(t *testing.T) {
	env, n, q := waiting(t, nil)
	q, _ = answer(t, env, n, q, time.Millisecond, 0, coord.OK)
	q, _ = answer(t, env, n, q, 800*time.Millisecond, 0, coord.OK) // a slow answer
	start := env.Mono
	if d := zeroesUntilRevoked(t, env, n, q, time.Millisecond) - start; d < 1100*time.Millisecond {
		t.Errorf("revoked %v after the late answer, want ≥ 1.1 s (the chain was broken)", d)
	}
}

// Far from the end, one probe when the answer can first be 1: an answer
// of 4 s waits 3 s less the drift margin (0.2 s at TTL 2 s).
func TestProbeSleepsWhileTheLeaseIsLong(t *testing.T) {
	env, n, q := waiting(t, nil)
	env.Advance(time.Millisecond)
	env.Receive(n, svc, coord.Reply{Req: q.Req, Lease: predLease, TTL: 4})
	if tm := env.OneTimer(t, "probe"); tm.After != 2800*time.Millisecond {
		t.Errorf("next probe after %v, want 2.8 s", tm.After)
	}
}

// The predecessor's lease gone: probing stops, and this node's own
// session is untouched (a "no lease" about another's lease is no loss).
func TestProbeOfAGoneLeaseStops(t *testing.T) {
	env, n, q := waiting(t, nil)
	env.Advance(time.Millisecond)
	env.Receive(n, svc, coord.Reply{Req: q.Req, Err: coord.ErrNoLease})
	if len(env.Sent) != 0 || len(env.Notes) != 0 || len(env.TimersNamed("probe")) != 0 {
		t.Errorf("sent %v, noted %v, timers %v: want nothing", env.SentSummary(), env.Notes, env.Timers)
	}
	if _, ok := n.(*lease.Node).Deadline(); !ok {
		t.Error("the own session was given up over the predecessor's lease")
	}
}

// An unavailable service is no evidence: the chain is kept only while
// answers 0 stay within the gap bound.
func TestProbeUnavailableIsNoEvidence(t *testing.T) {
	env, n, q := waiting(t, nil)
	q, _ = answer(t, env, n, q, time.Millisecond, 0, coord.OK)
	for range 30 { // 1.5 s of unavailable answers
		var revoked bool
		q, revoked = answer(t, env, n, q, time.Millisecond, 0, coord.ErrUnavailable)
		if revoked {
			t.Fatal("revoked on unavailable answers")
		}
	}
	if _, revoked := answer(t, env, n, q, time.Millisecond, 0, coord.OK); revoked {
		t.Fatal("revoked on a 0 that follows the last 0 by 1.5 s: a renewal may have fallen between")
	}
}

// probe 0 is etcd's recipe: no TimeToLive is ever sent (out-of-range
// values: TestOptionsRefused).
func TestProbeOff(t *testing.T) {
	env, n := node(t, 3, map[string]string{"probe": "0s"})
	c := session(t, env, n, 9, time.Millisecond)
	pred, _ := created(t, env, n, c, 12)
	env.Receive(n, svc, coord.Reply{Req: pred.Req, Rev: 12, Found: true, Key: "/leader-election/8", Value: "2", CreateRev: 11, KeyLease: predLease})
	if len(env.SentKind("TIMETOLIVE")) != 0 {
		t.Fatalf("probe 0 sent %v", env.SentSummary())
	}
}
