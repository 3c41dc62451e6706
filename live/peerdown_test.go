package live

import (
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/live/transport"
	"ordo/trace"
)

// testElectHints is testElect taking PeerDown hints (it only notes them).
type testElectHints struct{ testElect }

func (p *testElectHints) WantsPeerDown() bool { return true }

func (p *testElectHints) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if _, ok := m.(ordo.PeerDown); ok {
		env.Note("heard-down", "peer", int(from))
		return
	}
	p.testElect.Receive(env, from, m)
}

func init() {
	ordo.Register(&ordo.Protocol{
		Name:     "live-test-hints",
		Doc:      "live-test-elect, noting PeerDown hints",
		Options:  []ordo.Option{{Name: "election_timeout_min", Default: "150ms"}, {Name: "election_timeout_max", Default: "300ms"}, {Name: "heartbeat", Default: "40ms"}},
		Messages: []ordo.Message{teVote{}, teVoteResp{}, teBeat{}},
		New: func(c ordo.Config) (ordo.Node, error) {
			return &testElectHints{testElect{id: c.ID, n: c.N, minT: c.Opts.Duration("election_timeout_min"), maxT: c.Opts.Duration("election_timeout_max"), hb: c.Opts.Duration("heartbeat")}}, nil
		},
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

// Reference: section 5, partial failure. A partition (the fault layer drops
// messages, closes nothing) gives no hint; a node whose process stops (its
// listener and connections close, the host answers "refused") is reported
// to each peer exactly once, recorded as a receive with message id 0.
func TestPeerDownLiveOnceAndNotOnPartition(t *testing.T) {
	c := startClusterOf(t, "live-test-hints", 3)
	c.leader(0, 5*time.Second)
	for _, id := range []ordo.NodeID{1, 2} {
		c.rt[id-1].SetFaults(transport.Faults{BlockOut: []ordo.NodeID{3}, BlockIn: []ordo.NodeID{3}})
	}
	c.rt[2].SetFaults(transport.Faults{BlockOut: []ordo.NodeID{1, 2}, BlockIn: []ordo.NodeID{1, 2}})
	time.Sleep(400 * time.Millisecond)
	for _, rt := range c.rt {
		rt.SetFaults(transport.Faults{})
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.rt[2].Stop(); err != nil {
		t.Fatal(err)
	}
	c.rt[2] = nil
	time.Sleep(700 * time.Millisecond) // refused redials with backoff: still one hint
	for _, rt := range c.rt[:2] {
		rt.Stop()
	}
	c.rt = make([]*Runtime, 3)
	tr, err := Merge(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertTraceSound(t, tr)
	h := hints(tr)
	for _, id := range []ordo.NodeID{1, 2} {
		// The first hint is n3's stop; n2 may also see n1 stop at the end
		// (the cleanup stops n1 first, and that is a real process exit).
		got := h[id]
		if len(got) == 0 || got[0] != 3 || slices.Contains(got[1:], 3) || (id == 1 && len(got) != 1) {
			t.Fatalf("n%d got hints %v, want n3 exactly once (all: %v)", id, got, h)
		}
	}
	if len(h[3]) != 0 {
		t.Fatalf("n3 got hints %v during a partition", h[3])
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
