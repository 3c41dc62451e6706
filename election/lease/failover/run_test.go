package failover

import (
	"context"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/trace"
)

// The failover of a kill is read off the merged trace as the first
// "leader" note of a higher term by another node: not the killed node's
// own late note, not a note of the old term, not one before the kill.
func TestLeaderNoteMs(t *testing.T) {
	tr := &trace.Trace{}
	note := func(node int, at time.Duration, name string, term int64) {
		tr.Append(trace.Event{Kind: trace.Note, Node: ordo.NodeID(node), T: int64(at), Name: name, Attrs: trace.Attrs{{Key: "term", Value: term}}})
	}
	note(2, 1*time.Second, election.NoteLeader, 9)         // before the kill
	note(1, 3*time.Second, election.NoteLeader, 12)        // the killed node
	note(3, 3500*time.Millisecond, election.NoteLeader, 5) // an old term
	note(3, 4*time.Second, election.NoteFollower, 12)      // not a leader note
	note(2, 4200*time.Millisecond, election.NoteLeader, 12)
	note(3, 5*time.Second, election.NoteLeader, 13)
	if got := LeaderNoteMs(tr, int64(2*time.Second), 10, 1); got != 2200 {
		t.Fatalf("LeaderNoteMs = %v, want 2200 (n2's leader note of term 12 at 4.2s, 2.2s after the kill)", got)
	}
	if got := LeaderNoteMs(tr, int64(2*time.Second), 13, 1); got != -1 {
		t.Fatalf("LeaderNoteMs with no higher term = %v, want -1", got)
	}
}

func TestPercentileMsIgnoresUnmeasured(t *testing.T) {
	xs := []float64{-1, 300, 100, 200, -1}
	if p50, max := PercentileMs(xs, 50), PercentileMs(xs, 100); p50 != 200 || max != 300 {
		t.Fatalf("p50 %v, max %v; want 200 and 300 (nearest rank over the measured rounds)", p50, max)
	}
	if got := PercentileMs([]float64{-1}, 50); got != 0 {
		t.Fatalf("no measured round: %v, want 0", got)
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{
		{},
		{Dir: dir, TTLs: []time.Duration{time.Second}},
		{Dir: dir, TTLs: []time.Duration{2500 * time.Millisecond}},
		{Dir: dir, TTLs: []time.Duration{2 * time.Second, 2 * time.Second}},
		{Dir: dir, TTLs: []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second, 6 * time.Second}},
		{Dir: dir, Rounds: MaxRounds + 1},
		{Dir: dir, Candidates: 1},
		{Dir: dir, Candidates: MaxCandidates + 1},
		{Dir: dir, Systems: []string{"zookeeper"}},
		{Dir: dir, EtcdMembers: 10},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) accepted", o)
		} else if strings.Contains(err.Error(), "etcd:") {
			t.Errorf("Run(%+v) started something before refusing: %v", o, err)
		}
	}
}
