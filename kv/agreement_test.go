package kv

import (
	"strings"
	"testing"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

func appliedNote(node ordo.NodeID, name string, index int, hash any) trace.Event {
	return trace.Event{Kind: trace.Note, Node: node, Name: name, Attrs: trace.MakeAttrs([]any{"index", index, "hash", hash})}
}

func judge(t *testing.T, events ...trace.Event) check.Result {
	t.Helper()
	j, err := Agreement{}.Start(&trace.Meta{Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		events[i].ID = i
		j.Observe(&events[i])
	}
	return j.Result()
}

// Replicas agree when every index two of them applied has one hash; the
// first disagreement names both replicas and events; a run without
// applied notes is not judged.
func TestAgreementVerdicts(t *testing.T) {
	if r := judge(t, appliedNote(1, "applied", 1, uint64(7)), appliedNote(2, "applied", 1, uint64(7)), appliedNote(2, "raft/applied", 2, "ff"), appliedNote(3, "applied", 2, float64(255))); r.Verdict != check.Pass {
		t.Errorf("equal hashes (one layered note, a hex string and a JSON number): %s %s", r.Verdict, r.Summary)
	}
	r := judge(t, appliedNote(1, "applied", 1, uint64(7)), appliedNote(3, "applied", 1, uint64(8)))
	if r.Verdict != check.Fail || len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "index 1: n1") || len(r.Violations[0].Events) != 2 {
		t.Errorf("diverged replicas: %s %v", r.Verdict, r.Violations)
	}
	if r := judge(t, appliedNote(1, "applied", 0, uint64(7))); r.Verdict != check.Fail {
		t.Errorf("an applied note without a valid index: %s", r.Verdict)
	}
	if r := judge(t, trace.Event{Kind: trace.Note, Node: 1, Name: "leader"}); r.Verdict != check.NotApplicable {
		t.Errorf("no applied notes: %s", r.Verdict)
	}
}
