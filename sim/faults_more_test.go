package sim

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// Issue 9, "a suite that catches what it claims to": the scripted faults
// (chapter section 5, partial failure and partitions; section 1, fallacies
// 1 and 5) at their edges.

// linkMatrix returns which links a → b are cut among nodes 1..n.
func linkMatrix(s *Sim, n int) string {
	var b strings.Builder
	for a := 1; a <= n; a++ {
		for c := 1; c <= n; c++ {
			switch {
			case a == c:
				b.WriteByte('.')
			case s.Blocked(ordo.NodeID(a), ordo.NodeID(c)):
				b.WriteByte('x')
			default:
				b.WriteByte('o')
			}
		}
		b.WriteByte('/')
	}
	return b.String()
}

// A partition's unnamed servers form one more group; a one-way cut adds to
// the partition; a new partition replaces both; Heal clears everything.
func TestPartitionCutBridgeMatrix(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 4})
	if err := s.Partition(ids(1), ids(2)); err != nil { // 3 and 4: a third group
		t.Fatal(err)
	}
	if got, want := linkMatrix(s, 4), ".xxx/x.xx/xx.o/xxo./"; got != want {
		t.Errorf("partition 1/2 (3,4 unnamed): %s, want %s", got, want)
	}
	if err := s.CutOneWay(ids(3), ids(4, 3)); err != nil { // 3 -> 3 is no link: skipped
		t.Fatal(err)
	}
	if got, want := linkMatrix(s, 4), ".xxx/x.xx/xx.x/xxo./"; got != want {
		t.Errorf("cut 3->4 added: %s, want %s", got, want)
	}
	if err := s.Partition(ids(1, 2), ids(3, 4)); err != nil {
		t.Fatal(err)
	}
	if got, want := linkMatrix(s, 4), ".oxx/o.xx/xx.o/xxo./"; got != want {
		t.Errorf("new partition replaces: %s, want %s", got, want)
	}
	if err := s.Bridge(ids(1), ids(3, 4), 2); err != nil {
		t.Fatal(err)
	}
	if got, want := linkMatrix(s, 4), ".oxx/o.oo/xo.o/xoo./"; got != want {
		t.Errorf("bridge 1/3,4 via 2: %s, want %s", got, want)
	}
	s.Heal()
	if got, want := linkMatrix(s, 4), ".ooo/o.oo/oo.o/ooo./"; got != want {
		t.Errorf("healed: %s, want %s", got, want)
	}
	if n := len(find(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Fault && e.Name == "heal" })); n != 1 {
		t.Errorf("%d heal events, want 1", n)
	}
}

// Bad fault arguments are errors and change nothing: ids 0 and Size()+1,
// a node in two groups, a bridge on a side, a link to itself.
func TestFaultArgumentBounds(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3})
	for name, err := range map[string]error{
		"partition 0":        s.Partition(ids(0), ids(1)),
		"partition 4":        s.Partition(ids(1), ids(4)),
		"two groups":         s.Partition(ids(1, 2), ids(2, 3)),
		"cut from 0":         s.CutOneWay(ids(0), ids(1)),
		"cut to 4":           s.CutOneWay(ids(1), ids(4)),
		"bridge 0":           s.Bridge(ids(1), ids(3), 0),
		"bridge 4":           s.Bridge(ids(1), ids(3), 4),
		"bridge on a side":   s.Bridge(ids(1, 2), ids(3), 2),
		"bridge on side two": s.Bridge(ids(1), ids(2, 3), 3),
		"bridge bad side":    s.Bridge(ids(1), ids(5), 2),
		"link to self":       s.SetLink(1, 1, Link{}),
		"link from 0":        s.SetLink(0, 1, Link{}),
		"link to 4":          s.SetLink(1, 4, Link{}),
		"link from 4":        s.SetLink(4, 1, Link{}),
		"link bad loss":      s.SetLink(1, 2, Link{Loss: 2}),
	} {
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if got := linkMatrix(s, 3); got != ".oo/o.o/oo./" {
		t.Errorf("refused faults cut links: %s", got)
	}
	// The edges themselves are accepted.
	if err := s.CutOneWay(ids(3), ids(1)); err != nil {
		t.Errorf("cut 3->1: %v", err)
	}
	if err := s.Bridge(ids(1), ids(2), 3); err != nil {
		t.Errorf("bridge via 3: %v", err)
	}
	if err := s.SetLink(3, 2, Link{Loss: 1}); err != nil {
		t.Errorf("link 3->2: %v", err)
	}
	if err := s.SetLink(1, 2, Link{Loss: 1}); err != nil {
		t.Errorf("link 1->2: %v", err)
	}
	if !s.Fallacies().Has(FallacyHomogeneous) {
		t.Error("a per-link change is not fallacy 8")
	}
}

// FormatGroups writes the CLI's notation.
func TestFormatGroupsNotation(t *testing.T) {
	if got := FormatGroups([][]ordo.NodeID{ids(1, 2), ids(3), ids(4, 5, 6)}); got != "1,2/3/4,5,6" {
		t.Errorf("got %q", got)
	}
	if got := FormatGroups(nil); got != "" {
		t.Errorf("nil: %q", got)
	}
}

// Crash, pause and resume of a node in the wrong state do nothing (no
// event); Restart of a running node crashes it first (one crash, one
// restart); a crash resumes nothing (a paused node that crashes is not
// paused after its restart).
func TestFaultsIdempotentOnWrongState(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2})
	count := func(k trace.Kind) int { return len(find(s.Trace(), kindIs(k))) }
	s.Resume(1) // not paused
	s.Pause(1)
	s.Pause(1) // paused already
	if count(trace.Pause) != 1 || count(trace.Resume) != 0 || !s.Paused(1) {
		t.Fatalf("pause twice / resume unpaused: %d pauses, %d resumes", count(trace.Pause), count(trace.Resume))
	}
	s.Crash(1)
	if s.Paused(1) {
		t.Fatal("a crashed node is still paused")
	}
	s.Crash(1) // down already
	s.Pause(1) // down: nothing
	s.Resume(1)
	if count(trace.Crash) != 1 || count(trace.Pause) != 1 || count(trace.Resume) != 0 {
		t.Fatalf("faults on a down node traced: %d crashes %d pauses %d resumes", count(trace.Crash), count(trace.Pause), count(trace.Resume))
	}
	if err := s.Restart(1); err != nil || !s.Up(1) || s.Paused(1) {
		t.Fatalf("restart: %v up %v paused %v", err, s.Up(1), s.Paused(1))
	}
	if err := s.Restart(2); err != nil { // running: crash, then boot
		t.Fatal(err)
	}
	if count(trace.Crash) != 2 || count(trace.Restart) != 2 || pr(s, 2).boots != 2 {
		t.Fatalf("restart of a running node: %d crashes %d restarts, boots %d", count(trace.Crash), count(trace.Restart), pr(s, 2).boots)
	}
}

// A clock jump on a running node is its own note; on a down node it is a
// fault of the run (the node cannot note anything); either way its clock
// moves.
func TestClockJumpTracedUpOrDown(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2})
	s.JumpClock(1, time.Second)
	s.Crash(2)
	s.JumpClock(2, -time.Second)
	notes := find(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Note && e.Name == "clock-jump" })
	faults := find(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Fault && e.Name == "clock-jump" })
	if len(notes) != 1 || notes[0].Node != 1 || len(faults) != 1 {
		t.Fatalf("notes %v faults %v", notes, faults)
	}
	if by, _ := notes[0].Attrs.Get("by").(string); by != "1s" {
		t.Errorf("note by %q", by)
	}
	if by, _ := faults[0].Attrs.Get("by").(string); by != "-1s" {
		t.Errorf("fault by %q", by)
	}
}

// Leave is graceful: the node goes, its peers get no PeerDown (no
// connection reset), and a later Join boots it afresh with its storage.
func TestLeaveThenJoinKeepsStorage(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3})
	s.Leave(3)
	if s.Up(3) || !s.Fallacies().Has(FallacyTopology) {
		t.Fatal("leave: node still up or fallacy 5 not counted")
	}
	if err := s.Restart(3); err == nil || !strings.Contains(err.Error(), "Join") {
		t.Fatalf("restart of a departed node: %v", err)
	}
	if err := s.Join(3); err != nil {
		t.Fatal(err)
	}
	if !s.Up(3) || pr(s, 3).boots != 2 {
		t.Fatalf("rejoined: up %v boots %d, want up with its storage (2 boots)", s.Up(3), pr(s, 3).boots)
	}
	if err := s.Join(3); err == nil {
		t.Fatal("joined a member twice")
	}
	joins := find(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Fault && (e.Name == "join" || e.Name == "leave") })
	if len(joins) != 2 {
		t.Fatalf("join/leave faults %v", joins)
	}
}

// Node 1 is a valid bridge and a valid link end (ids start at 1).
func TestFaultsAcceptNodeOne(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3})
	if err := s.Bridge(ids(2), ids(3), 1); err != nil {
		t.Errorf("bridge via 1: %v", err)
	}
	if got, want := linkMatrix(s, 3), ".oo/o.x/ox./"; got != want {
		t.Errorf("bridge 2/3 via 1: %s, want %s", got, want)
	}
	if err := s.SetLink(2, 1, Link{}); err != nil {
		t.Errorf("link 2->1: %v", err)
	}
	if err := s.SetLink(1, 3, Link{}); err != nil {
		t.Errorf("link 1->3: %v", err)
	}
}

// A Join whose boot fails (the protocol's New refuses) is an error, and
// the node stays down.
func TestJoinBootFailureIsAnError(t *testing.T) {
	fail := false
	p := &ordo.Protocol{Name: "picky", New: func(ordo.Config) (ordo.Node, error) {
		if fail {
			return nil, errNewRefused
		}
		return &probe{}, nil
	}}
	s, err := New(Config{Protocol: p, Nodes: 3, Seed: 1, Trace: true, Absent: ids(3)})
	if err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := s.Join(3); err == nil {
		t.Fatal("a join whose New failed returned no error")
	}
	if s.Up(3) {
		t.Fatal("a node whose New failed is up")
	}
}

var errNewRefused = errorString("new refused")

type errorString string

func (e errorString) Error() string { return string(e) }
