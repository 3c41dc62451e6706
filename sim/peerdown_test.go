package sim

import (
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// listener records the PeerDown hints it receives; wants switches them on.
type listener struct {
	wants bool
	downs []ordo.NodeID
}

func (l *listener) Start(ordo.Env)            {}
func (l *listener) Fire(ordo.Env, ordo.Timer) {}
func (l *listener) WantsPeerDown() bool       { return l.wants }
func (l *listener) Receive(_ ordo.Env, from ordo.NodeID, m ordo.Message) {
	if _, ok := m.(ordo.PeerDown); !ok {
		panic("listener: unexpected message")
	}
	l.downs = append(l.downs, from)
}

func newListenerSim(t *testing.T, n int, wants bool) *Sim {
	t.Helper()
	p := &ordo.Protocol{Name: "listener", New: func(ordo.Config) (ordo.Node, error) { return &listener{wants: wants}, nil }}
	s, err := New(Config{Protocol: p, Nodes: n, Seed: 7, Trace: true,
		Network: Network{Default: Link{Latency: Presets["lan"]}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func downs(s *Sim, id ordo.NodeID) []ordo.NodeID { return s.Node(id).(*listener).downs }

// Reference: section 5, partial failure: a crashed process (host up) is
// told apart from a slow or partitioned one: its peers receive PeerDown,
// once, a link latency after the crash, recorded as a receive without a
// message (id 0) that ticks like a local event and is no network traffic.
func TestCrashHintsPeerDownOnce(t *testing.T) {
	s := newListenerSim(t, 4, true)
	s.At(10*time.Millisecond, func(s *Sim) { s.Crash(1) })
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids(2, 3, 4) {
		if got := downs(s, id); len(got) != 1 || got[0] != 1 {
			t.Fatalf("%v heard %v, want [n1] once", id, got)
		}
	}
	recvs := find(s.Trace(), kindIs(trace.Recv))
	if len(recvs) != 3 {
		t.Fatalf("%d recv events, want 3 hints", len(recvs))
	}
	crashAt := find(s.Trace(), kindIs(trace.Crash))[0].T
	for _, e := range recvs {
		if e.Msg != 0 || e.MsgKind != ordo.PeerDownKind || e.Peer != 1 || e.T <= crashAt {
			t.Fatalf("hint recorded as %s (msg %d, peer %v, at %d, crash at %d)", e.Describe(), e.Msg, e.Peer, e.T, crashAt)
		}
		// Ticked like a local event: this node's first event was start (1).
		if e.Lamport != 2 || e.Vector[e.Node-1] != 2 || e.Vector[0] != 0 {
			t.Fatalf("%s: stamps L=%d V=%v, want a local tick without merging n1's clock", e.Describe(), e.Lamport, e.Vector)
		}
	}
	if st := s.Stats(); st.Sent != 0 || st.Delivered != 0 || st.Dropped != 0 || len(st.Kinds) != 0 {
		t.Fatalf("hints counted as traffic: %+v", st)
	}
}

// A partition, a pause or a graceful leave closes no connection: no hint.
// Only timeouts find those (section 5).
func TestNoPeerDownWithoutACrash(t *testing.T) {
	s := newListenerSim(t, 3, true)
	s.At(10*time.Millisecond, func(s *Sim) { _ = s.Partition(ids(1), ids(2, 3)) })
	s.At(20*time.Millisecond, func(s *Sim) { s.Crash(1) }) // behind the cut: nobody notices
	s.At(30*time.Millisecond, func(s *Sim) { s.Heal() })
	s.At(40*time.Millisecond, func(s *Sim) { s.Pause(2) })
	s.At(50*time.Millisecond, func(s *Sim) { s.Leave(3) })
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := downs(s, 2); len(got) != 0 {
		t.Fatalf("n2 heard %v, want nothing", got)
	}
}

// A paused node gets the hint after it resumes, like any event; a node that
// does not ask for hints gets none.
func TestPeerDownWaitsForPausedNodeAndNeedsConsent(t *testing.T) {
	s := newListenerSim(t, 3, true)
	s.At(10*time.Millisecond, func(s *Sim) { s.Pause(2) })
	s.At(20*time.Millisecond, func(s *Sim) { s.Crash(1) })
	if err := s.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := downs(s, 2); len(got) != 0 {
		t.Fatalf("paused n2 handled %v", got)
	}
	if got := downs(s, 3); len(got) != 1 {
		t.Fatalf("n3 heard %v, want [n1]", got)
	}
	s.Resume(2)
	if got := downs(s, 2); len(got) != 1 || got[0] != 1 {
		t.Fatalf("resumed n2 heard %v, want [n1]", got)
	}

	s = newListenerSim(t, 3, false)
	s.At(10*time.Millisecond, func(s *Sim) { s.Crash(1) })
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := downs(s, 2); len(got) != 0 || len(find(s.Trace(), kindIs(trace.Recv))) != 0 {
		t.Fatalf("a node without WantsPeerDown heard %v", got)
	}
}

// A hint carries no stamps of the dead node: the crash and the hint are
// concurrent by the vector clocks (no message links them), and a chain
// through the hint's node still runs by program order.
func TestPeerDownHappensBefore(t *testing.T) {
	s := newListenerSim(t, 2, true)
	s.At(10*time.Millisecond, func(s *Sim) { s.Crash(1) })
	tr := run(t, s, time.Second)
	var crash, start, hint = -1, -1, -1
	for i, e := range tr.Events {
		switch {
		case e.Kind == trace.Crash:
			crash = i
		case e.Kind == trace.Start && e.Node == 2:
			start = i
		case e.Kind == trace.Recv:
			hint = i
		}
	}
	if o, err := tr.Relation(crash, hint); err != nil || o.String() != "concurrent" {
		t.Fatalf("Relation(crash, hint) = %v, %v; want concurrent", o, err)
	}
	if c, err := tr.Chain(start, hint); err != nil || len(c) != 2 {
		t.Fatalf("Chain(start, hint) = %v, %v; want [start hint]", c, err)
	}
}
