package live

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/internal/poll"
	"ordo/live/transport"
	"ordo/trace"
)

// heard records, as they happen, the PeerDown hints that nodes of
// live-test-hints receive (node → the peers reported down, in order), so
// that a test can wait for them instead of sleeping.
var heard = struct {
	sync.Mutex
	by map[ordo.NodeID][]ordo.NodeID
}{by: map[ordo.NodeID][]ordo.NodeID{}}

func heardSnapshot() map[ordo.NodeID][]ordo.NodeID {
	heard.Lock()
	defer heard.Unlock()
	out := map[ordo.NodeID][]ordo.NodeID{}
	for k, v := range heard.by {
		out[k] = slices.Clone(v)
	}
	return out
}

// testElectHints is testElect taking PeerDown hints (it only notes them).
type testElectHints struct{ testElect }

func (p *testElectHints) WantsPeerDown() bool { return true }

func (p *testElectHints) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if _, ok := m.(ordo.PeerDown); ok {
		env.Note("heard-down", "peer", int(from))
		heard.Lock()
		heard.by[p.id] = append(heard.by[p.id], from)
		heard.Unlock()
		return
	}
	p.testElect.Receive(env, from, m)
}

func init() {
	ordo.Register(&ordo.Protocol{
		Name:     "live-test-hints",
		Doc:      "live-test-elect, noting PeerDown hints",
		Options:  testElectOptions,
		Messages: testElectMessages,
		New:      func(c ordo.Config) (ordo.Node, error) { return &testElectHints{newTestElect(c)}, nil },
	})
}

// hints returns the peer-down receives of a trace, by receiving node.
func hints(tr *trace.Trace) map[ordo.NodeID][]ordo.NodeID {
	out := map[ordo.NodeID][]ordo.NodeID{}
	for _, e := range tr.Events {
		if e.Kind == trace.Recv && e.MsgKind == ordo.PeerDownKind {
			out[e.Node] = append(out[e.Node], e.Peer)
		}
	}
	return out
}

// until waits for a condition, never for a fixed time (package poll).
var until = poll.Until

// connectedTo reports whether rt's outbound connection to peer is up.
func connectedTo(rt *Runtime, peer ordo.NodeID) bool {
	for _, p := range rt.Status().Peers {
		if p.ID == peer {
			return p.Out
		}
	}
	return false
}

// Reference: section 5, partial failure. A partition (the fault layer drops
// messages, closes nothing) gives no hint; a node whose process stops (its
// listener and connections close, the host answers "refused") is reported
// to each peer exactly once, recorded as a receive with message id 0.
func TestPeerDownLiveOnceAndNotOnPartition(t *testing.T) {
	heard.Lock()
	clear(heard.by)
	heard.Unlock()
	c := startClusterOf(t, "live-test-hints", 3)
	_, term := c.leader(0, 20*time.Second)

	// Cut n3 off. The partition has lasted long enough once an election
	// timeout ran out because of it: n3 campaigned alone, or (when n3
	// led) the majority elected someone else.
	for _, id := range []ordo.NodeID{1, 2} {
		c.rt[id-1].SetFaults(transport.Faults{BlockOut: []ordo.NodeID{3}, BlockIn: []ordo.NodeID{3}})
	}
	c.rt[2].SetFaults(transport.Faults{BlockOut: []ordo.NodeID{1, 2}, BlockIn: []ordo.NodeID{1, 2}})
	until(t, "an election timeout during the partition", func() bool {
		for _, rt := range c.rt {
			if rt.Status().Term > term {
				return true
			}
		}
		return false
	})
	for _, rt := range c.rt {
		rt.SetFaults(transport.Faults{})
	}
	// Healed once all three follow one leader again, over the
	// connections the partition left open.
	until(t, "one leader known to all after the heal", func() bool {
		s := []Status{c.rt[0].Status(), c.rt[1].Status(), c.rt[2].Status()}
		return s[0].Leader != 0 && s[0].Leader == s[1].Leader && s[1].Leader == s[2].Leader && s[0].Term == s[1].Term && s[1].Term == s[2].Term
	})
	if h := heardSnapshot(); len(h) != 0 {
		t.Fatalf("hints %v during a partition, want none", h)
	}

	// n3's process stops: n1 and n2 hear of it. Their redials keep being
	// refused until n3 comes back; once both reconnected to it, every
	// refused redial is behind us, and each must have heard exactly once.
	if err := c.rt[2].Stop(); err != nil {
		t.Fatal(err)
	}
	c.rt[2] = nil
	until(t, "n1 and n2 hear that n3 is down", func() bool {
		h := heardSnapshot()
		return len(h[1]) > 0 && len(h[2]) > 0
	})
	c.start(3)
	until(t, "n1 and n2 reconnect to the restarted n3", func() bool { return connectedTo(c.rt[0], 3) && connectedTo(c.rt[1], 3) })
	want := map[ordo.NodeID][]ordo.NodeID{1: {3}, 2: {3}}
	if h := heardSnapshot(); !maps.EqualFunc(h, want, slices.Equal) {
		t.Fatalf("hints %v, want n3 exactly once at n1 and n2 and none at n3", h)
	}

	// n3 stops last, after n1 and n2: hints about it stay one each.
	tr := c.stopAndMerge()
	for _, id := range []ordo.NodeID{1, 2} {
		got := hints(tr)[id]
		if len(got) == 0 || got[0] != 3 || slices.Contains(got[1:], 3) {
			t.Fatalf("n%d got hints %v in the trace, want n3 first and once", id, got)
		}
	}
	for _, e := range tr.Events {
		if e.Kind == trace.Recv && e.MsgKind == ordo.PeerDownKind && e.Msg != 0 {
			t.Fatalf("%s: a hint with a message id", e.Describe())
		}
	}
	res, err := check.Run(tr, []string{"one-leader-per-term"})
	if err != nil || !res[0].OK {
		t.Fatalf("one-leader-per-term: %+v %v", res, err)
	}
}
