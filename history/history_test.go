package history

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"ordo"
	"ordo/trace"
)

// rec builds a trace of note events by hand.
// Events are stamped, so the trace also passes trace.Read's validation.
type rec struct {
	t  trace.Trace
	st map[ordo.NodeID]*trace.Stamper
}

const recNodes = 6

func (r *rec) add(e trace.Event) {
	if r.st == nil {
		r.st = map[ordo.NodeID]*trace.Stamper{}
		r.t.Meta.Nodes = recNodes
	}
	s := r.st[e.Node]
	if s == nil {
		st := trace.NewStamper(int(e.Node), recNodes)
		s = &st
		r.st[e.Node] = s
	}
	s.Tick()
	e.Lamport, e.Vector = s.Lamport, s.Vector.Clone()
	r.t.Append(e)
}

func (r *rec) note(node ordo.NodeID, at int64, kind string, kv ...any) {
	r.add(trace.Event{Kind: trace.Note, Node: node, T: at, Name: kind, Attrs: trace.MakeAttrs(kv)})
}

// noteEnv is an ordo.Env that records only notes (the helpers use nothing
// else), stamping them with a time the test sets.
type noteEnv struct {
	ordo.Env
	r  *rec
	id ordo.NodeID
	at int64
}

func (e *noteEnv) Note(kind string, kv ...any) { e.r.note(e.id, e.at, kind, kv...) }

func TestHelpersRoundTrip(t *testing.T) {
	r := &rec{}
	c := &noteEnv{r: r, id: 4}
	w := Op{ID: 1, Process: 0, F: Put, Key: "x", Value: "a"}
	g := Op{ID: 2, Process: 1, F: Get, Key: "x"}
	s := Op{ID: 3, Process: 0, F: CAS, Key: "y", Expect: "a", Value: "b"}
	c.at = 10
	Invoke(c, w)
	c.at = 12
	Invoke(c, g)
	c.at = 20
	OK(c, w, "")
	c.at = 25
	OK(c, g, "a")
	c.at = 30
	Invoke(c, s)
	c.at = 31
	Fail(c, s, "expected a, found b")
	c.at = 40
	Invoke(c, Op{ID: 4, Process: 0, F: Put, Key: "x", Value: "z"})
	c.at = 41
	Info(c, Op{ID: 4}, "timeout")
	c.at = 50
	Invoke(c, Op{ID: 5, Process: 0, F: Get, Key: "x"}) // pending at the end

	// Through the file format too, where numbers come back as float64.
	var buf bytes.Buffer
	if err := r.t.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []*trace.Trace{&r.t, tr} {
		ops, err := FromTrace(tt)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 5 {
			t.Fatalf("got %d ops, want 5: %v", len(ops), ops)
		}
		want := []struct {
			out          Outcome
			call, ret    int64
			result       string
			value, expct string
		}{
			{OutcomeOK, 10, 20, "", "a", ""},
			{OutcomeOK, 12, 25, "a", "", ""},
			{OutcomeFail, 30, 31, "", "b", "a"},
			{OutcomeInfo, 40, Open, "", "z", ""},
			{OutcomeInfo, 50, Open, "", "", ""},
		}
		for i, w := range want {
			o := ops[i]
			if o.Outcome != w.out || o.Call != w.call || o.Return != w.ret || o.Result != w.result || o.Value != w.value || o.Expect != w.expct || o.Client != 4 {
				t.Errorf("op %d = %+v, want %+v", i, o, w)
			}
		}
		if ops[1].Process != 1 || ops[2].F != CAS || ops[2].Key != "y" {
			t.Errorf("inputs lost: %+v %+v", ops[1], ops[2])
		}
	}
}

func TestCrashLeavesOpsOpen(t *testing.T) {
	r := &rec{}
	r.note(5, 1, NoteInvoke, "id", 1, "proc", 0, "f", "put", "key", "k", "value", "v")
	r.note(6, 2, NoteInvoke, "id", 1, "proc", 0, "f", "get", "key", "k")
	r.add(trace.Event{Kind: trace.Crash, Node: 5, T: 3})
	r.note(6, 4, NoteOK, "id", 1, "result", "v")
	// After the restart process 0 is free again.
	r.note(5, 5, NoteInvoke, "id", 2, "proc", 0, "f", "get", "key", "k")
	r.note(5, 6, NoteOK, "id", 2, "result", "v")
	ops, err := FromTrace(&r.t)
	if err != nil {
		t.Fatal(err)
	}
	if ops[0].Outcome != OutcomeInfo || ops[0].Return != Open || ops[0].ReturnEvent != -1 {
		t.Errorf("crashed op: %+v", ops[0])
	}
	if ops[1].Outcome != OutcomeOK || ops[1].Result != "v" || ops[2].Outcome != OutcomeOK {
		t.Errorf("other ops: %+v", ops[1:])
	}
	// A completion for the crashed op is refused.
	r.note(5, 7, NoteOK, "id", 1)
	if _, err := FromTrace(&r.t); err == nil || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("late ok after crash: %v", err)
	}
}

func TestBadHistoriesAreRefused(t *testing.T) {
	inv := func(id, proc int, f string) []any {
		return []any{"id", id, "proc", proc, "f", f, "key", "k", "value", "v", "expect", "e"}
	}
	type note struct {
		node ordo.NodeID
		at   int64
		kind string
		kv   []any
	}
	cases := []struct {
		name  string
		notes []note
		want  string
		event int
	}{
		{"ok without invoke", []note{{5, 1, NoteOK, []any{"id", 7}}}, "without an invoke", 0},
		{"two invokes", []note{{5, 1, NoteInvoke, inv(1, 0, "put")}, {5, 2, NoteOK, []any{"id", 1}}, {5, 3, NoteInvoke, inv(1, 0, "put")}}, "invoked twice", 2},
		{"two in flight", []note{{5, 1, NoteInvoke, inv(1, 0, "put")}, {5, 2, NoteInvoke, inv(2, 0, "get")}}, "while op 1 is in flight", 1},
		{"twice completed", []note{{5, 1, NoteInvoke, inv(1, 0, "put")}, {5, 2, NoteOK, []any{"id", 1}}, {5, 3, NoteInfo, []any{"id", 1}}}, "already completed", 2},
		{"bad function", []note{{5, 1, NoteInvoke, inv(1, 0, "append")}}, "not get, put or cas", 0},
		{"no id", []note{{5, 1, NoteInvoke, []any{"proc", 0, "f", "get", "key", "k"}}}, `no "id"`, 0},
		{"fractional id", []note{{5, 1, NoteInvoke, []any{"id", 1.5, "proc", 0, "f", "get", "key", "k"}}}, "not an integer", 0},
		{"negative process", []note{{5, 1, NoteInvoke, inv(1, -1, "get")}}, "out of range", 0},
		{"key not a string", []note{{5, 1, NoteInvoke, []any{"id", 1, "proc", 0, "f", "get", "key", 3}}}, "not a string", 0},
		{"long key", []note{{5, 1, NoteInvoke, []any{"id", 1, "proc", 0, "f", "get", "key", strings.Repeat("k", MaxKeyLen+1)}}}, "exceeds", 0},
		{"put without value", []note{{5, 1, NoteInvoke, []any{"id", 1, "proc", 0, "f", "put", "key", "k"}}}, `no "value"`, 0},
		{"get ok without result", []note{{5, 1, NoteInvoke, inv(1, 0, "get")}, {5, 2, NoteOK, []any{"id", 1}}}, `no "result"`, 1},
		{"completes before invoke", []note{{5, 5, NoteInvoke, inv(1, 0, "put")}, {5, 4, NoteOK, []any{"id", 1}}}, "before its invoke", 1},
		{"other client's op", []note{{5, 1, NoteInvoke, inv(1, 0, "put")}, {6, 2, NoteOK, []any{"id", 1}}}, "without an invoke", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &rec{}
			for _, n := range c.notes {
				r.note(n.node, n.at, n.kind, n.kv...)
			}
			_, err := FromTrace(&r.t)
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want a *history.Error", err)
			}
			if !strings.Contains(err.Error(), c.want) || he.Event != c.event {
				t.Errorf("err = %v (event %d), want %q at event %d", err, he.Event, c.want, c.event)
			}
		})
	}
}

func TestByKey(t *testing.T) {
	ops := []Operation{{Op: Op{ID: 1, Key: "b"}}, {Op: Op{ID: 2, Key: "a"}}, {Op: Op{ID: 3, Key: "b"}}}
	keys, parts := ByKey(ops)
	if strings.Join(keys, ",") != "a,b" || len(parts[0]) != 1 || parts[1][0].ID != 1 || parts[1][1].ID != 3 {
		t.Errorf("ByKey = %v %v", keys, parts)
	}
}
