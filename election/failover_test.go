package election_test

import (
	"testing"

	"ordo"
	"ordo/election"
	"ordo/trace"
)

const ms = int64(1e6)

func note(node ordo.NodeID, at int64, name string, attrs ...any) trace.Event {
	return trace.Event{Kind: trace.Note, Node: node, T: at, Name: name, Attrs: trace.MakeAttrs(attrs)}
}

// Exercise 3 ("리더 장애 시 자동 복구"): a failover ends when a new leader
// of a newer term is known to a majority (itself and two followers of 5);
// its election part starts at the winner's last candidacy.
func TestFailoverMsNeedsMajorityOfNewTerm(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 5}, Events: []trace.Event{
		note(2, 150*ms, election.NoteCandidate, "term", 2), // a failed attempt
		note(2, 160*ms, election.NoteFollower, "term", 2, "leader", 0),
		note(3, 200*ms, election.NotePreCandidate, "term", 2),
		note(3, 210*ms, election.NoteCandidate, "term", 3),
		note(3, 220*ms, election.NoteLeader, "term", 3, "token", 3),
		note(4, 221*ms, election.NoteFollower, "term", 3, "leader", 3),
		note(1, 230*ms, election.NoteFollower, "term", 2, "leader", 3), // an older term
		note(5, 240*ms, election.NoteFollower, "term", 3, "leader", 3),
	}}
	from := 100 * ms
	f := election.FailoverMs(tr, from, 2, 5, nil)
	if f != 140 {
		t.Fatalf("failover %v ms, want 140 (the third of 5 to know leader 3 in term 3)", f)
	}
	if e := election.ElectionMs(tr, from, 2, f); e != 40 {
		t.Errorf("election part %v ms, want 40 (from n3's pre-candidacy at 200ms)", e)
	}
	if f := election.FailoverMs(tr, from, 2, 3, nil); f != -1 {
		t.Errorf("with n3 the killed node: %v, want -1", f)
	}
	if f := election.FailoverMs(tr, from, 3, 5, nil); f != -1 {
		t.Errorf("no term above 3: %v, want -1", f)
	}
	if e := election.ElectionMs(tr, from, 2, -1); e != -1 {
		t.Errorf("no failover: election part %v", e)
	}
}
