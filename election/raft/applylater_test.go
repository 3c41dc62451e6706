package raft_test

import (
	"slices"
	"testing"

	"ordo"
	"ordo/election/raft"
	"ordo/ordotest"
)

// earlyEnv is ordotest's Env on a runtime that offers ordo.EarlySender and
// ordo.SyncNotifier (as live and the simulator do): the AfterSync
// wake-ups asked are kept for the test to fire.
type earlyEnv struct {
	*ordotest.Env
	asked []ordo.Timer
}

func (e *earlyEnv) SendEarly(to ordo.NodeID, m ordo.Message) { e.Send(to, m) }
func (e *earlyEnv) AfterSync(t ordo.Timer)                   { e.asked = append(e.asked, t) }

// step runs one event on n through e, as ordotest's steps do.
func (e *earlyEnv) step(n *raft.Node, event func()) {
	e.Reset()
	event()
	ordo.Flush(n, e)
}

// A follower raises its commit index in the turn that learns it but
// applies the committed entries only at an AfterSync wake-up, once the
// turn's writes (the entries its answer acknowledges) are durable: the
// apply is off the path of the append's fsync. One wake-up is asked
// however many commits arrive before it fires, and the apply then covers
// them all, whatever message carried the commit.
func TestReplica_FollowerAppliesAfterTheSync(t *testing.T) {
	env := replicaEnv()
	n, h := replica(t, env, nil)
	e := &earlyEnv{Env: env}
	e.step(n, func() { n.Receive(e, 2, raft.AppendEntries{Term: 1, Leader: 2, Entries: ents(1, 3), Commit: 2}) })
	if n.Committed() != 2 || len(h.applied) != 0 || len(e.asked) != 1 || e.asked[0].Name != raft.TimerApply {
		t.Fatalf("after an AppendEntries with commit 2: committed %d, applied %v, wake-ups asked %v; want 2, none, one %q",
			n.Committed(), h.applied, e.asked, raft.TimerApply)
	}
	e.step(n, func() { n.Receive(e, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1, CommitIndex: 3}) })
	if n.Committed() != 3 || len(h.applied) != 0 || len(e.asked) != 1 {
		t.Fatalf("after a heartbeat with commit 3: committed %d, applied %v, wake-ups asked %d; want 3, none, still one", n.Committed(), h.applied, len(e.asked))
	}
	e.step(n, func() { n.Fire(e, e.asked[0]) })
	if !slices.Equal(h.applied, []uint64{1, 2, 3}) || n.Applied() != 3 {
		t.Fatalf("after the wake-up: applied %v, want 1,2,3", h.applied)
	}
	// Without AfterSync (ordotest's plain Env) the follower applies at
	// once: TestReplica_Figure2_PersistedBeforeAck.
}
