package dynamo

import (
	"fmt"
	"testing"

	"ordo"
	"ordo/ordotest"
)

// retree rebuilds s's trees at another depth (tests: a shallow tree makes
// leaves hold more keys than one message lists).
func retree(s *Server, me ordo.NodeID, depth int) {
	s.ae = newAntiEntropy(depth)
	for k, o := range s.objs {
		s.treeSet(me, k, o.Digest(), true)
	}
	for _, t := range s.ae.trees {
		t.rehash()
	}
}

// A leaf holding more keys than a SyncLeaves lists is compared in random
// windows (Partial); differences anywhere in it are found in time.
func TestPartialLeavesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("preloads 70 000 keys")
	}
	const store = 70_000 // depth 1: 16 leaves of ~4 400 keys, more than MaxSyncKeys
	r := ordo.NewRoster(2, 1, 0)
	opts := map[string]string{"n_replicas": "2", "r": "1", "w": "1", "sync_every": "0s", "preload": fmt.Sprint(store), "max_keys": fmt.Sprint(1 << 17)}
	envs := map[ordo.NodeID]*ordotest.Env{}
	nodes := map[ordo.NodeID]*Server{}
	for _, id := range []ordo.NodeID{1, 2} {
		e := ordotest.ForProtocol(Protocol, id, r, uint64(id))
		n := e.NewNode(t, Protocol, opts).(*Server)
		e.Start(n)
		retree(n, id, 1)
		envs[id], nodes[id] = e, n
	}
	// Writes at 1 that 2 never sees.
	for i := range 20 {
		envs[1].Receive(nodes[1], 3, Request{ID: uint64(i + 1), Op: OpPut, Key: fmt.Sprintf("w/%02d", i), Value: "v"})
	}
	type msg struct {
		from, to ordo.NodeID
		m        ordo.Message
	}
	partial := 0
	for round := 0; nodes[1].SyncRoot(2) != nodes[2].SyncRoot(1); round++ {
		if round > 200 {
			t.Fatalf("not converged after %d exchanges", round)
		}
		from := ordo.NodeID(1 + round%2)
		envs[from].Fire(nodes[from], ordo.Timer{Name: timerSync})
		var q []msg
		for _, s := range envs[from].Sent {
			q = append(q, msg{from, s.To, s.Msg})
		}
		for len(q) > 0 {
			m := q[0]
			q = q[1:]
			if l, ok := m.m.(SyncLeaves); ok && l.Partial {
				partial++
			}
			envs[m.to].Receive(nodes[m.to], m.from, m.m)
			for _, s := range envs[m.to].Sent {
				q = append(q, msg{m.to, s.To, s.Msg})
			}
		}
	}
	if partial == 0 {
		t.Error("no leaf was sent in part: the test does not test what it says")
	}
	for i := range 20 {
		k := fmt.Sprintf("w/%02d", i)
		a, b := nodes[1].objs[k], nodes[2].objs[k]
		if a == nil || b == nil || !a.Equal(b) {
			t.Fatalf("key %s: %v and %v", k, a, b)
		}
	}
	for id, n := range nodes {
		if err := n.treeCheck(id); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("converged with %d partial leaf listings", partial)
}

// Taking a key out restores the trees as they were without it.
func TestTreeForget(t *testing.T) {
	r := ordo.NewRoster(3, 1, 0)
	e := ordotest.ForProtocol(Protocol, 1, r, 1)
	n := e.NewNode(t, Protocol, map[string]string{"n_replicas": "3", "sync_every": "0s", "preload": "100"}).(*Server)
	e.Start(n)
	roots := []uint64{n.SyncRoot(2), n.SyncRoot(3)}
	e.Receive(n, 4, Request{ID: 1, Op: OpPut, Key: "X", Value: "v"})
	if n.SyncRoot(2) == roots[0] {
		t.Fatal("a write left the root as it was")
	}
	delete(n.objs, "X")
	n.treeForget(1, "X")
	if err := n.treeCheck(1); err != nil {
		t.Fatal(err)
	}
	if n.SyncRoot(2) != roots[0] || n.SyncRoot(3) != roots[1] {
		t.Error("roots differ from before the write")
	}
}
