package consistency

import (
	"strings"
	"testing"

	"ordo"
	"ordo/check"
	"ordo/history"
	"ordo/trace"
)

func TestNoLostWriteRealTime(t *testing.T) {
	c := &NoLostWrite{}
	for _, tc := range []struct {
		name string
		ops  []history.Operation
		lost bool
		want string
	}{
		{"read of the write", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 1, history.Get, "x", "", "a", ok, 20, 30),
		}, false, ""},
		{"initial value after an ack", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 1, history.Get, "x", "", "", ok, 20, 30),
		}, true, "returned the initial value"},
		{"rolled back to an older write", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 0, history.Put, "x", "b", "", ok, 20, 30),
			op(3, 1, history.Get, "x", "", "b", ok, 40, 50),
			op(4, 1, history.Get, "x", "", "a", ok, 60, 70),
		}, true, `acknowledged n10#2 put("x", "b") ok is lost`},
		{"a concurrent write may replace it", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 2, history.Put, "x", "b", "", ok, 5, 30),
			op(3, 1, history.Get, "x", "", "b", ok, 40, 50),
		}, false, ""},
		{"an info write may replace it", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 2, history.Put, "x", "b", "", info, 0, open),
			op(3, 1, history.Get, "x", "", "b", ok, 40, 50),
		}, false, ""},
		{"a read concurrent with the write is not judged", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 1, history.Get, "x", "", "", ok, 5, 30),
		}, false, ""},
		{"an invented value", []history.Operation{
			op(2, 1, history.Get, "x", "", "zz", ok, 5, 30),
		}, true, "no client wrote"},
		{"a failed write cannot explain a read", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 2, history.Put, "x", "b", "", fail, 12, 14),
			op(3, 1, history.Get, "x", "", "b", ok, 40, 50),
		}, true, "no client wrote"},
	} {
		r := c.CheckHistory(tc.ops, nil)
		if r.OK == tc.lost {
			t.Errorf("%s: OK=%v, want %v: %s %v", tc.name, r.OK, !tc.lost, r.Summary, r.Violations)
			continue
		}
		if tc.lost && !strings.Contains(r.Violations[0].Message, tc.want) {
			t.Errorf("%s: violation %q does not say %q", tc.name, r.Violations[0].Message, tc.want)
		}
	}
	if r := c.CheckHistory([]history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10)}, nil); r.OK || r.Verdict != check.NotApplicable {
		t.Errorf("no reads: %+v", r)
	}
}

// The causal variant on a real trace: client n2 writes a and then reads,
// client n3 writes b concurrently (no message links them). In real time b
// began after a was acknowledged, so a read of b is fine there; causally
// b is concurrent with a, so n2's read of b (which follows its own ack of
// a in program order) shows a discarded: lost.
func TestNoLostWriteCausal(t *testing.T) {
	tr := &trace.Trace{Meta: trace.Meta{Nodes: 3}}
	st := map[ordo.NodeID]*trace.Stamper{}
	note := func(node ordo.NodeID, at int64, kind string, kv ...any) {
		s := st[node]
		if s == nil {
			x := trace.NewStamper(int(node), 3)
			s = &x
			st[node] = s
		}
		s.Tick()
		tr.Append(trace.Event{Kind: trace.Note, Node: node, T: at, Lamport: s.Lamport, Vector: s.Vector.Clone(), Name: kind, Attrs: trace.MakeAttrs(kv)})
	}
	note(2, 0, history.NoteInvoke, "id", 1, "proc", 0, "f", "put", "key", "x", "value", "a")
	note(2, 10, history.NoteOK, "id", 1)
	note(3, 20, history.NoteInvoke, "id", 1, "proc", 0, "f", "put", "key", "x", "value", "b")
	note(3, 30, history.NoteOK, "id", 1)
	note(2, 40, history.NoteInvoke, "id", 2, "proc", 0, "f", "get", "key", "x")
	note(2, 50, history.NoteOK, "id", 2, "result", "b")
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := (&NoLostWrite{}).Check(tr); !r.OK {
		t.Errorf("real time: %s %v", r.Summary, r.Violations)
	}
	r := (&NoLostWrite{Causal: true}).Check(tr)
	if r.OK || len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, `n2#1 put("x", "a") ok is lost`) {
		t.Errorf("causal: %s %v", r.Summary, r.Violations)
	}
	// The linearizable checker agrees with the real-time order.
	if r := (&Linearizable{Dir: t.TempDir()}).Check(tr); !r.OK {
		t.Errorf("linearizable: %s", r.Summary)
	}
}
