package agreement_test

import (
	"encoding/json"
	"strings"
	"testing"

	"ordo"
	"ordo/agreement"
	"ordo/check"
	"ordo/trace"
)

// vote is a Slotted message of a test protocol: one per (Round, 0).
type vote struct {
	Round int64
	Value string
}

func (vote) Kind() string                                 { return "vote" }
func (v vote) Slot() (view, seq int64)                    { return v.Round, 0 }
func (hello) Kind() string                                { return "hello" } // not Slotted: never judged
func (vote) Validate() error                              { return nil }
func (hello) Validate() error                             { return nil }
func (hello) Start(ordo.Env)                              {}
func (hello) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (hello) Fire(ordo.Env, ordo.Timer)                   {}

type hello struct{ Text string }

var votingProto = &ordo.Protocol{Name: "equivocation-test-voting", Messages: []ordo.Message{vote{}, hello{}},
	New: func(ordo.Config) (ordo.Node, error) { return hello{}, nil }}

func init() { ordo.Register(votingProto) }

type send struct {
	from, to ordo.NodeID
	m        ordo.Message
	nobody   bool // no body kept
	lost     bool // never received
}

// sends is a trace of send events of votingProto, with their bodies, each
// but a lost one received at once (event ids: send 2i, its receive 2i+1).
func sends(liars []trace.Liar, ss ...send) *trace.Trace {
	tr := &trace.Trace{Meta: trace.Meta{Format: trace.FormatVersion, Runtime: "sim", Nodes: 4, Protocol: votingProto.Name, Byzantine: liars}}
	for i, s := range ss {
		e := trace.Event{Kind: trace.Send, Node: s.from, Peer: s.to, T: int64(i + 1), Lamport: uint64(i + 1), Msg: uint64(i + 1), MsgKind: s.m.Kind()}
		if !s.nobody {
			b, _ := json.Marshal(s.m)
			r := json.RawMessage(b)
			e.Body = &r
		}
		tr.Append(e)
		if !s.lost {
			tr.Append(trace.Event{Kind: trace.Recv, Node: s.to, Peer: s.from, T: int64(i + 1), Msg: uint64(i + 1), MsgKind: s.m.Kind()})
		}
	}
	return tr
}

func equivocation(t *testing.T, tr *trace.Trace) check.Result {
	t.Helper()
	rs, err := check.Run(tr, []string{agreement.EquivocationName})
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

// Two different votes from one node for one round are a finding naming
// the node and both sends, whether it is listed Byzantine or not; the
// same vote again (a retransmission, to the same or another node) is not;
// different rounds, nodes or unslotted kinds are not compared.
func TestEquivocationEvidence(t *testing.T) {
	liar := []trace.Liar{{Node: 2, Behaviour: "equivocate"}}
	r := equivocation(t, sends(liar,
		send{from: 2, to: 1, m: vote{1, "a"}},
		send{from: 2, to: 3, m: vote{1, "a"}}, // the same: no evidence
		send{from: 1, to: 3, m: vote{1, "b"}}, // another node
		send{from: 2, to: 1, m: vote{2, "b"}}, // another round
		send{from: 2, to: 4, m: vote{1, "b"}}, // the lie: e8 against e0
		send{from: 2, to: 3, m: vote{1, "c"}}, // the same slot again: one finding a slot
		send{from: 3, to: 1, m: hello{"x"}}, send{from: 3, to: 2, m: hello{"y"}},
	))
	if r.Verdict != check.Fail || len(r.Violations) != 1 || !strings.Contains(r.Summary, "by n2;") {
		t.Fatalf("%v: %s %v", r.Verdict, r.Summary, r.Violations)
	}
	v := r.Violations[0]
	if v.Events[0] != 0 || v.Events[1] != 8 || !strings.HasPrefix(v.Message, "n2 sent two different vote messages for view 1, sequence number 0: e0 (to n1) and e8 (to n4); Byzantine: n2 (equivocate)") {
		t.Fatalf("%+v", v)
	}
	// A correct node caught lying is named too, as a bug.
	r = equivocation(t, sends(nil, send{from: 1, to: 2, m: vote{1, "a"}}, send{from: 1, to: 3, m: vote{1, "b"}}))
	if r.Verdict != check.Fail || !strings.Contains(r.Violations[0].Message, "a correct node") {
		t.Fatalf("%v: %v", r.Verdict, r.Violations)
	}
	// Retransmissions only: pass.
	r = equivocation(t, sends(liar, send{from: 2, to: 1, m: vote{1, "a"}}, send{from: 2, to: 1, m: vote{1, "a"}}))
	if r.Verdict != check.Pass {
		t.Fatalf("%v: %s", r.Verdict, r.Summary)
	}
}

// A message no node received is no evidence: a send held for its
// sender's fsync and lost when it was killed never left (live, the trace
// has its send event and no drop: a restarted primary, correct, was
// called a liar for the pre-prepare it sent after its restart for a slot
// whose first pre-prepare never left), nor did one the network lost.
// Received, the same two are evidence.
func TestEquivocationOnlyFromReceivedMessages(t *testing.T) {
	r := equivocation(t, sends(nil,
		send{from: 1, to: 2, m: vote{1, "a"}, lost: true},
		send{from: 1, to: 2, m: vote{1, "b"}},
		send{from: 1, to: 3, m: vote{1, "b"}}))
	if r.Verdict != check.Pass {
		t.Fatalf("a lost send judged: %v: %s %v", r.Verdict, r.Summary, r.Violations)
	}
	r = equivocation(t, sends(nil,
		send{from: 1, to: 2, m: vote{1, "a"}},
		send{from: 1, to: 2, m: vote{1, "b"}}))
	if r.Verdict != check.Fail {
		t.Fatalf("received: %v: %s", r.Verdict, r.Summary)
	}
}

// Without bodies nothing can be read: not applicable; with some missing
// and no evidence, unknown; a protocol without Slotted messages (or
// none named) is not applicable.
func TestEquivocationNeedsBodies(t *testing.T) {
	r := equivocation(t, sends(nil, send{from: 2, to: 1, m: vote{1, "a"}, nobody: true}))
	if r.Verdict != check.NotApplicable || !strings.Contains(r.Summary, "KeepMessages") {
		t.Fatalf("%v: %s", r.Verdict, r.Summary)
	}
	r = equivocation(t, sends(nil, send{from: 2, to: 1, m: vote{1, "a"}}, send{from: 2, to: 3, m: vote{1, "b"}, nobody: true}))
	if r.Verdict != check.Unknown {
		t.Fatalf("%v: %s", r.Verdict, r.Summary)
	}
	tr := sends(nil, send{from: 2, to: 1, m: vote{1, "a"}})
	tr.Meta.Protocol = "naive-agreement"
	if r := equivocation(t, tr); r.Verdict != check.NotApplicable {
		t.Fatalf("naive-agreement: %v: %s", r.Verdict, r.Summary)
	}
	if (agreement.Equivocation{}).NeedsMessageBodies() != true {
		t.Fatal("the checker does not ask for bodies")
	}
}
