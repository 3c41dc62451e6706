package dynamo_test

import (
	"strings"
	"testing"

	"ordo"
	"ordo/check"
	"ordo/dynamo"
	"ordo/history"
	"ordo/ordotest"
	"ordo/trace"
	"ordo/workload"
)

func TestScriptErrors(t *testing.T) {
	for s, want := range map[string]string{
		"100ms get X":                    "want",
		"100ms fly X @1":                 "op",
		"100ms put X @1":                 "@SERVER",
		"1x get X @1":                    "time",
		"100ms get X @0":                 "server",
		"100ms get X @1 ctx c":           "unexpected",
		"100ms add X Apple @1":           "item",
		"200ms get X @1, 100ms get X @1": "before",
	} {
		if _, err := dynamo.ParseScript(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error about %s", s, err, want)
		}
	}
	st, err := dynamo.ParseScript("100ms get X @1 as c1, 200ms put X B @2 ctx c1, 300ms resolve X @1, 400ms remove X a @3")
	if err != nil || len(st) != 4 || st[0].Save != "c1" || st[1].Ctx != "c1" || st[1].Server != 2 || st[3].Arg != "a" {
		t.Fatalf("%+v, %v", st, err)
	}
}

// A get that returns siblings is not a register read: the client
// records it as info with every sibling, so no-lost-write never judges
// it by one of them.
func TestClientRecordsSiblingsAsInfo(t *testing.T) {
	r := ordo.NewRoster(2, 1, 0)
	env := ordotest.ForProtocol(dynamo.ClientProtocol, 3, r, 1)
	c := env.NewNode(t, dynamo.ClientProtocol, map[string]string{"script": "100ms get X @1"})
	env.Start(c)
	env.Fire(c, env.OneTimer(t, "step").Timer)
	req := env.SentTo(1)[0].(dynamo.Request)
	env.Receive(c, 1, dynamo.Reply{ID: req.ID, Status: dynamo.StatusOK, Values: []string{"B", "C"}, Vecs: []string{"[2,0]", "[1,1]"}})
	info := env.NotesOf(history.NoteInfo)
	if len(info) != 1 {
		t.Fatalf("notes %v, want one %s", env.Notes, history.NoteInfo)
	}
	if why, _ := info[0].Get("reason"); !strings.Contains(why.(string), "B|C") {
		t.Errorf("reason %v, want the siblings", why)
	}
}

func note(id, node int, t int64, name string, attrs ...any) trace.Event {
	e := trace.Event{ID: id, Kind: trace.Note, Node: ordo.NodeID(node), T: t, Name: name}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs = append(e.Attrs, trace.Attr{Key: attrs[i].(string), Value: attrs[i+1]})
	}
	return e
}

func judge(t *testing.T, name string, evs []trace.Event) check.Result {
	t.Helper()
	c, err := check.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.(check.Online).Start(&trace.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		j.Observe(&evs[i])
	}
	return j.Result()
}

func TestConvergenceChecker(t *testing.T) {
	v := func(id, node int, d string) trace.Event {
		return note(id, node, int64(id), dynamo.NoteVersion, "key", "X", "digest", d, "siblings", 1, "replicas", "1,2")
	}
	if r := judge(t, "convergence", []trace.Event{v(0, 1, "a"), v(1, 2, "b")}); r.OK || len(r.Violations) != 1 {
		t.Errorf("replicas holding a and b: %+v, want a failure", r)
	}
	if r := judge(t, "convergence", []trace.Event{v(0, 1, "a")}); r.OK {
		t.Errorf("replica 2 holding nothing: %+v, want a failure", r)
	}
	if r := judge(t, "convergence", []trace.Event{v(0, 1, "a"), v(1, 2, "b"), v(2, 2, "a")}); !r.OK {
		t.Errorf("converged: %+v", r)
	}
	if r := judge(t, "convergence", nil); r.Verdict != check.NotApplicable {
		t.Errorf("no notes: %+v, want not-applicable", r)
	}
}

func TestNoResurrectionChecker(t *testing.T) {
	cart := func(id, node int, at int64, phase, f, item, items string) trace.Event {
		return note(id, node, at, dynamo.NoteCart, "id", int64(id/2), "phase", phase, "f", f, "key", "X", "item", item, "items", items)
	}
	evs := []trace.Event{
		cart(0, 6, 10, "invoke", "add", "apple", ""), cart(1, 6, 11, "ok", "add", "apple", ""),
		cart(2, 6, 20, "invoke", "remove", "apple", ""), cart(3, 6, 21, "ok", "remove", "apple", ""),
		cart(4, 6, 30, "invoke", "get", "", ""), cart(5, 6, 31, "ok", "get", "", "apple"),
	}
	if r := judge(t, "no-resurrection", evs); r.OK || len(r.Violations) != 1 {
		t.Errorf("apple back after its remove: %+v, want a violation", r)
	}
	evs[5] = cart(5, 6, 31, "ok", "get", "", "")
	if r := judge(t, "no-resurrection", evs); !r.OK {
		t.Errorf("apple gone: %+v", r)
	}
	if r := judge(t, "no-lost-add", evs[:2]); r.Verdict != check.NotApplicable {
		t.Errorf("no get: %+v, want not-applicable", r)
	}
}

// no-lost-sibling: a read of siblings that holds the later write keeps it;
// a single value from before it (last-write-wins) loses it.
func TestNoLostSiblingChecker(t *testing.T) {
	hist := func(got ...string) []trace.Event {
		evs := []trace.Event{
			note(0, 3, 10, history.NoteInvoke, "id", int64(1), "proc", int64(0), "f", "put", "key", "X", "value", "1"),
			note(1, 3, 11, history.NoteOK, "id", int64(1)),
			note(2, 3, 20, history.NoteInvoke, "id", int64(2), "proc", int64(0), "f", "put", "key", "X", "value", "2"),
			note(3, 3, 21, history.NoteOK, "id", int64(2)),
			note(4, 3, 30, history.NoteInvoke, "id", int64(3), "proc", int64(0), "f", "get", "key", "X"),
			note(5, 3, 31, dynamo.NoteGet, "id", int64(3), "key", "X", "values", strings.Join(got, "|"), "n", int64(len(got))),
		}
		if len(got) == 1 {
			return append(evs, note(6, 3, 31, history.NoteOK, "id", int64(3), "result", got[0]))
		}
		return append(evs, note(6, 3, 31, history.NoteInfo, "id", int64(3), "reason", "siblings"))
	}
	if r := judge(t, "no-lost-sibling", hist("1", "2")); !r.OK {
		t.Errorf("both siblings read: %+v", r)
	}
	if r := judge(t, "no-lost-sibling", hist("1")); r.OK || len(r.Violations) != 1 {
		t.Errorf("2 lost to 1: %+v, want a violation", r)
	}
	if r := judge(t, "no-lost-sibling", hist("2")); !r.OK {
		t.Errorf("2 read: %+v", r)
	}
}

// A read-modify-write process (rmw: true) alternates: a get, then a put
// of the same key carrying that get's context; a get that fails is
// followed by another get, never by a put with an old context.
func TestClientReadModifyWrite(t *testing.T) {
	r := ordo.NewRoster(1, 1, 0)
	env := ordotest.ForProtocol(dynamo.ClientProtocol, 2, r, 1)
	c := env.NewNode(t, dynamo.ClientProtocol, map[string]string{"rmw": "true", "concurrency": "1", "retries": "0", "ops": "0"})
	env.Start(c)
	next := func() dynamo.Request {
		t.Helper()
		env.Fire(c, env.OneTimer(t, workload.TimerNext).Timer)
		sent := env.SentTo(1)
		if len(sent) != 1 {
			t.Fatalf("sent %v, want one request", env.SentSummary())
		}
		return sent[0].(dynamo.Request)
	}
	for round := range 3 {
		get := next()
		if get.Op != dynamo.OpGet {
			t.Fatalf("round %d: %v first, want a get", round, get.Op)
		}
		ctx := []byte{byte(round), 1, 2}
		env.Receive(c, 1, dynamo.Reply{ID: get.ID, Status: dynamo.StatusOK, Values: []string{"A"}, Vecs: []string{"[1]"}, Context: ctx})
		put := next()
		if put.Op != dynamo.OpPut || put.Key != get.Key || string(put.Context) != string(ctx) {
			t.Fatalf("round %d: after a get of %s, %v of %s with context %v", round, get.Key, put.Op, put.Key, put.Context)
		}
		env.Receive(c, 1, dynamo.Reply{ID: put.ID, Status: dynamo.StatusOK})
	}
	get := next()
	env.Receive(c, 1, dynamo.Reply{ID: get.ID, Status: dynamo.StatusBadRequest, Err: "no"})
	if again := next(); again.Op != dynamo.OpGet {
		t.Errorf("after a failed get: %v, want another get", again.Op)
	}
}
