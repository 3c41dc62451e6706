package agreement_test

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

type note struct {
	node  ordo.NodeID
	name  string
	attrs []any
}

func notes(meta trace.Meta, ns ...note) *trace.Trace {
	meta.Format, meta.Runtime = trace.FormatVersion, "sim"
	tr := &trace.Trace{Meta: meta}
	for i, n := range ns {
		tr.Append(trace.Event{Kind: trace.Note, Node: n.node, T: int64(i+1) * int64(time.Millisecond), Lamport: 1, Name: n.name, Attrs: trace.MakeAttrs(n.attrs)})
	}
	return tr
}

func result(t *testing.T, tr *trace.Trace, name string) check.Result {
	t.Helper()
	rs, err := check.Run(tr, []string{name})
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

// validity: a correct node's decision must be a proposed value; a liar's
// decision and a no-op are not judged.
func TestValidity(t *testing.T) {
	meta := trace.Meta{Nodes: 5, Clients: []int{5}, Byzantine: []trace.Liar{{Node: 1, Behaviour: "equivocate"}}}
	prop := note{5, "propose", []any{"value", "a"}}
	ok := notes(meta, prop, note{2, "decide", []any{"slot", 1, "value", "a"}}, note{1, "decide", []any{"slot", 2, "value", "zz"}}, note{3, "decide", []any{"slot", 2, "value", "null", "noop", true}})
	// The null request is counted apart, so that the summary says why
	// byzantine-agreement counts one decision more (a fresh user's trial).
	if r := result(t, ok, "validity"); r.Verdict != check.Pass || !strings.Contains(r.Summary, "every one of 1 decisions") || !strings.Contains(r.Summary, "1 null request not judged") {
		t.Fatalf("%+v", r)
	}
	bad := notes(meta, prop, note{2, "decide", []any{"slot", 1, "value", "a"}}, note{3, "decide", []any{"slot", 1, "value", "b"}})
	r := result(t, bad, "validity")
	if r.Verdict != check.Fail || len(r.Violations) != 1 || r.Violations[0].Events[0] != 2 || !strings.Contains(r.Violations[0].Message, "n3 decided b (e2) for slot 1, which no node proposed") {
		t.Fatalf("%+v", r)
	}
	if r := result(t, notes(meta, prop), "validity"); r.Verdict != check.NotApplicable {
		t.Fatalf("%+v", r)
	}
	// A Byzantine client's request is legitimate though it noted another:
	// the value is counted, not judged.
	liarClient := trace.Meta{Nodes: 5, Clients: []int{5}, Byzantine: []trace.Liar{{Node: 5, Behaviour: "equivocate"}}}
	r = result(t, notes(liarClient, prop, note{2, "decide", []any{"slot", 1, "value", "b"}}), "validity")
	if r.Verdict != check.Pass || !strings.Contains(r.Summary, "a Byzantine client may have sent") {
		t.Fatalf("%+v", r)
	}
}

// bft-liveness: every request a correct client proposed is accepted.
func TestBFTLiveness(t *testing.T) {
	meta := trace.Meta{Nodes: 6, Clients: []int{5, 6}, Byzantine: []trace.Liar{{Node: 6, Behaviour: "silent"}}}
	done := notes(meta, note{5, "propose", []any{"value", "a"}}, note{6, "propose", []any{"value", "x"}}, note{5, "accept", []any{"value", "a"}}, note{2, "propose", []any{"value", "s"}})
	if r := result(t, done, "bft-liveness"); r.Verdict != check.Pass || !strings.Contains(r.Summary, "all 1 client") {
		t.Fatalf("%+v", r)
	}
	open := notes(meta, note{5, "propose", []any{"value", "a"}}, note{5, "accept", []any{"value", "a"}}, note{5, "propose", []any{"value", "b"}})
	r := result(t, open, "bft-liveness")
	if r.Verdict != check.Fail || len(r.Violations) != 1 || r.Violations[0].Events[0] != 2 {
		t.Fatalf("%+v", r)
	}
	if r := result(t, notes(meta), "bft-liveness"); r.Verdict != check.NotApplicable {
		t.Fatalf("%+v", r)
	}
}
