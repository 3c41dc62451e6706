package pbft_test

import (
	"fmt"
	"testing"
	"time"

	"ordo"
	"ordo/kv"
	"ordo/ordotest"
	"ordo/pbft"
	"ordo/sim"
)

// converged fails t unless every replica in ids ended at the same last
// executed sequence number and state digest, in the same installed view.
func converged(t *testing.T, s *sim.Sim, what string, ids ...ordo.NodeID) {
	t.Helper()
	first := replica(s, ids[0])
	for _, id := range ids {
		st := replica(s, id)
		if st.LastExecuted != first.LastExecuted || st.StateDigest != first.StateDigest || st.Changing || st.View != first.View {
			for _, id := range ids {
				t.Logf("%v: %+v", id, replica(s, id))
			}
			t.Fatalf("%s: the correct replicas did not converge", what)
		}
	}
}

// Found by a new user, live: a primary that equivocates tells replica 3
// forged batches, which it never prepares; the others commit the real
// ones. Replica 3 suspected the primary alone, left the view and stayed
// behind for good. It still suspects alone (a replica that saw f+1 others
// commit ahead and held back let a faulty primary that fed two backups an
// old request stall the cluster: a second trial), but while it changes
// view it asks the others of the view it left for their commits and
// state, and keeps up. Seeds 1..4.
func TestPBFTEquivocatingPrimaryLeavesNoCorrectReplicaBehind(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		// One client with a pause between requests, as ordo kv puts come
		// live: a checkpoint is seconds away, the request timer 300 ms.
		cfg := config(t, 4, 1, 30, nil, sim.Byzantine{Node: 1, Behaviour: sim.Equivocate})
		cfg.Clients[0].Options = opts(t, pbft.ClientProtocol, map[string]string{"ops": "30", "think": "100ms"})
		cfg.Seed = seed
		s, _ := run(t, cfg, 8*time.Second)
		converged(t, s, fmt.Sprintf("seed %d", seed), 2, 4)
		if got := replica(s, 2).Executed; got != 30 {
			t.Fatalf("seed %d: replica 2 executed %d of 30 requests", seed, got)
		}
		// Replica 3 suspects the primary alone (rightly: it lies to it)
		// and casts no vote in view 0 any more, but goes on executing
		// what 2f+1 commit and restores each stable checkpoint the others
		// reach (2f+1 matching commits need the liar's, which it forges):
		// it trails by less than one checkpoint interval.
		if st, want := replica(s, 3), replica(s, 2); st.LastExecuted < want.Stable || st.Transfers == 0 {
			t.Fatalf("seed %d: replica 3 %+v; want the others' stable checkpoint %d restored", seed, st, want.Stable)
		}
	}
}

// Found by a new user: replica 4 took part in a view change, crashed and
// restarted empty; it restored the others' state but could never install
// their view (its own view-change, which the new-view had used, was lost
// with its state: bad-new-view) and stayed out. A replica that learns
// from f+1 replicas that they installed a later view joins it.
func TestPBFTReplicaRestartedAfterAViewChangeRejoins(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		restartAfterViewChange(t, seed)
	}
}

func restartAfterViewChange(t *testing.T, seed uint64) {
	cfg := config(t, 4, 2, 600, nil)
	cfg.Seed = seed
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at time.Duration
		do func()
	}{
		{100 * time.Millisecond, func() { s.Crash(1) }},
		{600 * time.Millisecond, func() { _ = s.Restart(1) }},
		{time.Second, func() { s.Crash(4) }},
		{2500 * time.Millisecond, func() { _ = s.Restart(4) }},
		{10 * time.Second, func() {}},
	} {
		if err := s.RunFor(step.at - s.Now()); err != nil {
			t.Fatal(err)
		}
		step.do()
	}
	if replica(s, 2).View == 0 {
		t.Fatal("no view change: the test does not test a restart after one")
	}
	converged(t, s, fmt.Sprintf("seed %d, after the restarts", seed), 1, 2, 3, 4)
}

// Found by a new user: replicas whose new-views kept failing (two liars of
// four) moved through more than eight views without installing one; the
// bound on the view-changes a replica keeps was counted from the view
// installed, so every later view-change, its own included, was dropped,
// and the cluster never changed view again, liars gone or not. Counted
// from the view a replica is in, replica 3 (installed: 0) follows f+1
// view-changes through views 1..12 and installs view 12 from the
// new-view of its primary, replica 1.
func TestPBFTFollowsViewChangesFarPastTheViewInstalled(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	// Views 1..12 fail one after another (no new-view comes): each time
	// f+1 others move on, and replica 3 follows.
	for v := int64(1); v <= 12; v++ {
		if pbft.Primary(env.Roster().Servers, v) == 3 {
			continue // (as their primary it would start those views itself)
		}
		env.Receive(n, 2, pbft.ViewChange{View: v})
		env.Receive(n, 4, pbft.ViewChange{View: v})
		if st := replica2(n); st.View != v || !st.Changing {
			t.Fatalf("did not follow the view change to %d: %+v", v, st)
		}
	}
	env.Receive(n, 1, pbft.ViewChange{View: 12})
	env.Receive(n, 1, pbft.NewView{View: 12, From: []ordo.NodeID{1, 2, 3}})
	if st := replica2(n); st.View != 12 || st.Changing || st.Primary != 1 {
		t.Fatalf("after the new-view of view 12: %+v", st)
	}
}

// Exactly once (section 4.1), found by a second trial: a faulty primary
// orders a client's request again at a later sequence number, and the
// backups, which heard it from the client, prepare and commit it. The
// second execution is a no-op: the kv machine does not apply the put a
// second time (its revision does not move) and the client gets no second
// reply. Its sibling, an older request of the client's (a lower
// timestamp), is a no-op too.
func TestPBFTRequestOrderedAgainIsANoOp(t *testing.T) {
	roster := ordo.NewRoster(4, 1, 0)
	env := ordotest.ForProtocol(pbft.Protocol, 2, roster, 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"batch": "1"})
	env.Start(n)
	op := func(key string) string {
		s, err := pbft.EncodeKV(kv.Request{Op: kv.OpPut, Key: key, Value: "v"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	older := pbft.Request{Timestamp: 1, Client: 5, Op: op("a")}
	req := pbft.Request{Timestamp: 2, Client: 5, Op: op("b")}
	order := func(seq int64, q pbft.Request) {
		t.Helper()
		d := pbft.BatchDigest([]pbft.Request{q})
		env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: seq, Digest: d, Reqs: []pbft.Request{q}})
		env.Receive(n, 3, pbft.Prepare{View: 0, Seq: seq, Digest: d})
		env.Receive(n, 1, pbft.Commit{View: 0, Seq: seq, Reqs: []pbft.Request{q}})
		env.Receive(n, 3, pbft.Commit{View: 0, Seq: seq, Reqs: []pbft.Request{q}})
	}
	env.Receive(n, 5, older)
	order(1, older)
	env.Receive(n, 5, req)
	order(2, req)
	env.WantSent(t, "reply→n5")
	first := env.SentTo(5)[0].(pbft.Reply).Result
	for seq, q := range map[int64]pbft.Request{3: req, 4: older} {
		order(seq, q)
		if got := env.SentTo(5); len(got) != 0 {
			t.Fatalf("request of timestamp %d ordered again at %d: answered again %v", q.Timestamp, seq, got)
		}
	}
	if st := replica2(n); st.LastExecuted != 4 {
		t.Fatalf("%+v, want 4 executed", st)
	}
	// The machine applied each put once: b was last modified at its first
	// put (revision 2), not at 3 where it was ordered again.
	if res, err := kv.DecodeResult([]byte(first)); err != nil || res.Rev != 2 {
		t.Fatalf("first put of b: %+v %v, want revision 2", res, err)
	}
	get, err := pbft.EncodeKV(kv.Request{Op: kv.OpGet, Key: "b"})
	if err != nil {
		t.Fatal(err)
	}
	q := pbft.Request{Timestamp: 3, Client: 5, Op: get}
	env.Receive(n, 5, q)
	order(5, q)
	res, err := kv.DecodeResult([]byte(env.SentTo(5)[0].(pbft.Reply).Result))
	if err != nil || res.ModRev != 2 {
		t.Fatalf("get b: %+v %v, want it last modified at revision 2", res, err)
	}
}

// Found by a third trial: a replica that moved on to view 3 before view 1
// was installed (the primary of view 1 was silent when it suspected)
// never installed view 1, where the others went on; it took only commits
// of the view it had installed last, so it kept up only at each stable
// checkpoint. 2f+1 matching commits decide a slot in any view: it
// executes those of the view it skipped too, without voting. And a
// replica answers a changing replica's status with its commits above
// what that one executed, whatever their view.
func TestPBFTReplicaChangingPastASkippedViewExecutesItsCommits(t *testing.T) {
	roster := ordo.NewRoster(4, 1, 0)
	env := ordotest.ForProtocol(pbft.Protocol, 3, roster, 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	for _, v := range []int64{1, 3} { // (not 2: replica 3 is its primary)
		env.Receive(n, 2, pbft.ViewChange{View: v})
		env.Receive(n, 4, pbft.ViewChange{View: v})
	}
	if st := replica2(n); st.View != 3 || !st.Changing {
		t.Fatalf("%+v, want changing to view 3", st)
	}
	q := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	env.Sent = nil
	for _, from := range []ordo.NodeID{1, 2, 4} {
		env.Receive(n, from, pbft.Commit{View: 1, Seq: 1, Reqs: []pbft.Request{q}})
	}
	if st := replica2(n); st.LastExecuted != 1 || !st.Changing || st.View != 3 {
		t.Fatalf("%+v, want slot 1 of view 1 executed, still changing to view 3", st)
	}
	for _, m := range env.Sent {
		if k := m.Msg.Kind(); k == "prepare" || k == "commit" {
			t.Fatalf("voted while changing view: %v", env.SentSummary())
		}
	}

	// The other side: replica 2 committed slot 1 and is asked by a
	// replica changing view that executed nothing.
	env2 := ordotest.ForProtocol(pbft.Protocol, 2, roster, 1)
	n2 := env2.NewNode(t, pbft.Protocol, nil)
	env2.Start(n2)
	d := pbft.BatchDigest([]pbft.Request{q})
	env2.Receive(n2, 5, q)
	env2.Receive(n2, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{q}})
	env2.Receive(n2, 4, pbft.Prepare{View: 0, Seq: 1, Digest: d}) // prepared: it commits
	env2.Receive(n2, 3, pbft.Status{View: 2, Changing: true})
	found := false
	for _, m := range env2.SentTo(3) {
		if c, ok := m.(pbft.Commit); ok && c.Seq == 1 && c.View == 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("a changing replica's status answered with %v, want the commit of slot 1", env2.SentSummary())
	}
}

// A liar's commit of another view does not undo the honest commits a
// changing replica counted: late commits are counted per view, apart
// from the entry's own votes, each replica's latest only. A forged commit
// of view 2 used to reset the slot's entry to view 2, after which every
// honest commit of view 1 was refused as stale (a reviewer; n = 7, f = 2:
// five honest commits of view 1 decide the slot whatever replica 6 says).
func TestPBFTForgedCommitOfAnotherViewLeavesLateCommitsCounted(t *testing.T) {
	roster := ordo.NewRoster(7, 1, 0)
	env := ordotest.ForProtocol(pbft.Protocol, 7, roster, 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"f": "2"})
	env.Start(n)
	for _, v := range []int64{1, 3} {
		for _, from := range []ordo.NodeID{1, 2, 3} {
			env.Receive(n, from, pbft.ViewChange{View: v})
		}
	}
	if st := replica2(n); st.View != 3 || !st.Changing {
		t.Fatalf("%+v, want changing to view 3", st)
	}
	q := pbft.Request{Timestamp: 1, Client: 8, Op: "x"}
	forged := pbft.Request{Timestamp: 1, Client: 8, Op: "forged"}
	env.Receive(n, 1, pbft.Commit{View: 1, Seq: 1, Reqs: []pbft.Request{q}})
	env.Receive(n, 6, pbft.Commit{View: 2, Seq: 1, Reqs: []pbft.Request{forged}})
	for _, from := range []ordo.NodeID{2, 3, 4} {
		env.Receive(n, from, pbft.Commit{View: 1, Seq: 1, Reqs: []pbft.Request{q}})
	}
	if st := replica2(n); st.LastExecuted != 0 {
		t.Fatalf("decided on four commits of view 1 (and one of view 2): %+v", st)
	}
	env.Receive(n, 5, pbft.Commit{View: 1, Seq: 1, Reqs: []pbft.Request{q}})
	if st := replica2(n); st.LastExecuted != 1 || !st.Changing {
		t.Fatalf("five honest commits of view 1 beside a forged one of view 2: %+v, want slot 1 executed", st)
	}
}
