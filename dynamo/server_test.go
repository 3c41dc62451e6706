package dynamo_test

import (
	"strings"
	"testing"

	"ordo"
	"ordo/dynamo"
	"ordo/ordotest"
)

func TestProtocolConformance(t *testing.T) {
	ordotest.Protocol(t, dynamo.Protocol, ordotest.Options(map[string]string{"n_replicas": "3"}))
}

var roster = ordo.NewRoster(2, 1, 0) // servers 1, 2; client 3

func server(t *testing.T, id ordo.NodeID, opts map[string]string) (*ordotest.Env, *dynamo.Server) {
	t.Helper()
	env := ordotest.ForProtocol(dynamo.Protocol, id, roster, 1)
	o := map[string]string{"n_replicas": "2", "r": "1", "w": "1", "sync_every": "0s"}
	for k, v := range opts {
		o[k] = v
	}
	n := env.NewNode(t, dynamo.Protocol, o).(*dynamo.Server)
	env.Start(n)
	return env, n
}

func reply(t *testing.T, env *ordotest.Env) dynamo.Reply {
	t.Helper()
	s := env.SentTo(3)
	if len(s) != 1 {
		t.Fatalf("sent to the client: %v (all: %v)", s, env.SentSummary())
	}
	return s[0].(dynamo.Reply)
}

func replicateTo(t *testing.T, env *ordotest.Env, to ordo.NodeID) dynamo.Replicate {
	t.Helper()
	for _, m := range env.SentTo(to) {
		if r, ok := m.(dynamo.Replicate); ok {
			return r
		}
	}
	t.Fatalf("no replicate to %v: %v", to, env.SentSummary())
	return dynamo.Replicate{}
}

// Section 3 step by step on two servers: A at [1,0], B at replica 1
// ([2,0]) and C at replica 2 ([1,1]) over A; replica 1 receives C's
// version and holds both, noting [2,0] ∥ [1,1]; a get returns both with
// one context; a put with it supersedes both.
func TestSection3ByHand(t *testing.T) {
	e1, s1 := server(t, 1, nil)
	e2, s2 := server(t, 2, nil)
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	if r := reply(t, e1); r.Status != dynamo.StatusOK || r.Vecs[0] != "[1,0]" {
		t.Fatalf("put A: %+v", r)
	}
	e2.Receive(s2, 1, replicateTo(t, e1, 2))
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	ctxA := reply(t, e1).Context
	e1.Receive(s1, 3, dynamo.Request{ID: 3, Op: dynamo.OpPut, Key: "X", Value: "B", Context: ctxA})
	if r := reply(t, e1); r.Vecs[0] != "[2,0]" {
		t.Fatalf("put B: %+v, want [2,0]", r)
	}
	e2.Receive(s2, 3, dynamo.Request{ID: 4, Op: dynamo.OpPut, Key: "X", Value: "C", Context: ctxA})
	if r := reply(t, e2); r.Vecs[0] != "[1,1]" {
		t.Fatalf("put C: %+v, want [1,1]", r)
	}
	e1.Receive(s1, 2, replicateTo(t, e2, 1))
	c := e1.NotesOf(dynamo.NoteConcurrent)
	if len(c) != 1 || c[0].Attrs[1] != "values" && false {
		t.Fatalf("notes %v, want one %s", e1.Notes, dynamo.NoteConcurrent)
	}
	if v, _ := c[0].Get("vecs"); v != "[2,0] ∥ [1,1]" {
		t.Errorf("concurrent vecs %v, want [2,0] ∥ [1,1]", v)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 5, Op: dynamo.OpGet, Key: "X"})
	r := reply(t, e1)
	if strings.Join(r.Values, ",") != "B,C" {
		t.Fatalf("get: %v, want siblings B and C", r.Values)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 6, Op: dynamo.OpPut, Key: "X", Value: "B+C", Context: r.Context})
	if r := reply(t, e1); r.Vecs[0] != "[3,1]" {
		t.Fatalf("resolving put: %+v, want [3,1]", r)
	}
	if o, _ := s1.Object("X"); o.Count() != 1 || o.Siblings()[0].Value != "B+C" {
		t.Fatalf("after resolving: %v", &o)
	}
}

// A forged or edited context is refused with a clear error and changes
// nothing.
func TestForgedContextRefused(t *testing.T) {
	e1, s1 := server(t, 1, nil)
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	ctx := reply(t, e1).Context
	bad := append([]byte(nil), ctx...)
	bad[4]++ // claim to have seen more of replica 1
	for name, c := range map[string][]byte{"edited": bad, "other key": dynamo.EncodeContext([]byte("ordo-dynamo"), "Y", 1, dynamo.Ctx{1: 5}), "garbage": []byte("hello, world")} {
		e1.Receive(s1, 3, dynamo.Request{ID: 3, Op: dynamo.OpPut, Key: "X", Value: "Z", Context: c})
		r := reply(t, e1)
		if r.Status != dynamo.StatusBadRequest || !strings.Contains(r.Err, "context") {
			t.Errorf("%s context: %+v, want a refusal naming the context", name, r)
		}
	}
	if o, _ := s1.Object("X"); o.Count() != 1 || o.Siblings()[0].Value != "A" {
		t.Fatalf("a refused put changed the object: %v", &o)
	}
}

// The sibling cap: a put that would leave more than max_siblings
// siblings is refused and reported, not truncated.
func TestSiblingCapReported(t *testing.T) {
	e1, s1 := server(t, 1, map[string]string{"max_siblings": "2"})
	for i, v := range []string{"a", "b", "c"} {
		e1.Receive(s1, 3, dynamo.Request{ID: uint64(i + 1), Op: dynamo.OpPut, Key: "X", Value: v})
	}
	r := reply(t, e1)
	if r.Status != dynamo.StatusBadRequest || !strings.Contains(r.Err, "max_siblings") {
		t.Fatalf("third blind write: %+v, want refused for max_siblings", r)
	}
	if len(e1.NotesOf(dynamo.NoteCap)) != 1 {
		t.Errorf("notes %v, want a %s note", e1.Notes, dynamo.NoteCap)
	}
	if o, _ := s1.Object("X"); o.Count() != 2 {
		t.Errorf("holding %v, want the two siblings", &o)
	}
}

// Last-write-wins on the coordinator's wall clock: a write from a slow
// clock after a fast one's is noted lost.
func TestLWWSlowClockLoses(t *testing.T) {
	e1, s1 := server(t, 1, map[string]string{"resolution": "lww"})
	e2, s2 := server(t, 2, map[string]string{"resolution": "lww"})
	e1.StepWall(20e6) // fast
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "1"})
	e2.Receive(s2, 1, replicateTo(t, e1, 2))
	e2.StepWall(-21e6) // slow
	e2.Receive(s2, 3, dynamo.Request{ID: 2, Op: dynamo.OpPut, Key: "X", Value: "2"})
	if r := reply(t, e2); r.Status != dynamo.StatusOK {
		t.Fatalf("put 2: %+v (last-write-wins acknowledges it)", r)
	}
	l := e2.NotesOf(dynamo.NoteLost)
	if len(l) != 1 {
		t.Fatalf("notes %v, want one lost-write", e2.Notes)
	}
	if v, _ := l[0].Get("value"); v != "2" {
		t.Errorf("lost %v, want 2", v)
	}
	if o, _ := s2.Object("X"); o.Siblings()[0].Value != "1" {
		t.Errorf("kept %v, want 1", &o)
	}
}

// With W=2 a put is acknowledged only after a replica's ack; a get with
// R=2 waits for a replica's version and merges it.
func TestQuorums(t *testing.T) {
	e1, s1 := server(t, 1, map[string]string{"r": "2", "w": "2"})
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	if len(e1.SentTo(3)) != 0 {
		t.Fatalf("acknowledged before W: %v", e1.SentSummary())
	}
	rep := replicateTo(t, e1, 2)
	e1.Receive(s1, 2, dynamo.Ack{ID: rep.ID})
	if r := reply(t, e1); r.Status != dynamo.StatusOK {
		t.Fatalf("after the ack: %+v", r)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	var f dynamo.Fetch
	for _, m := range e1.SentTo(2) {
		f = m.(dynamo.Fetch)
	}
	other := dynamo.Object{Entries: []dynamo.Entry{{Replica: 2, N: 1, Values: []dynamo.Sibling{{Value: "Q", Writer: 2}}}}}
	e1.Receive(s1, 2, dynamo.Fetched{ID: f.ID, Has: true, Obj: other})
	r := reply(t, e1)
	if strings.Join(r.Values, ",") != "A,Q" {
		t.Fatalf("get: %v, want A and Q merged", r.Values)
	}
	// read repair: replica 1 now holds Q too
	if o, _ := s1.Object("X"); o.Count() != 2 {
		t.Errorf("after read repair: %v", &o)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []map[string]string{
		{"n_replicas": "4"}, {"r": "4"}, {"w": "-1"}, {"versions": "lamport"},
		{"resolution": "first"}, {"merge": "max"}, {"max_siblings": "0"}, {"vnodes": "1000"},
	} {
		opts, err := dynamo.Protocol.Resolve(o)
		if err != nil {
			continue
		}
		if _, err := dynamo.Protocol.New(ordo.Config{ID: 1, N: 3, Opts: opts}); err == nil {
			t.Errorf("options %v accepted", o)
		} else if !strings.Contains(err.Error(), "dynamo:") {
			t.Errorf("options %v: error %q does not name the protocol", o, err)
		}
	}
}

// A server outside a key's preference list forwards the request to a
// member, which answers the client itself.
func TestForwarding(t *testing.T) {
	r := ordo.NewRoster(3, 1, 0)
	env := ordotest.ForProtocol(dynamo.Protocol, 1, r, 1)
	n := env.NewNode(t, dynamo.Protocol, map[string]string{"n_replicas": "1", "r": "1", "w": "1"}).(*dynamo.Server)
	env.Start(n)
	key := ""
	for i := 0; key == ""; i++ {
		if k := "k" + string(rune('a'+i)); n.Preference(k)[0] != 1 {
			key = k
		}
	}
	env.Receive(n, 4, dynamo.Request{ID: 9, Op: dynamo.OpGet, Key: key})
	to := n.Preference(key)[0]
	s := env.SentTo(to)
	if len(s) != 1 {
		t.Fatalf("sent %v, want a forward to %v", env.SentSummary(), to)
	}
	if f := s[0].(dynamo.Request); !f.Forwarded || f.Client != 4 {
		t.Fatalf("forward %+v", f)
	}
}

func TestClientConformance(t *testing.T) {
	ordotest.Protocol(t, dynamo.ClientProtocol, ordotest.ServedBy(dynamo.Protocol))
}

// A restarted server holds what it stored, byte for byte.
func TestRestartKeepsObjects(t *testing.T) {
	e1, s1 := server(t, 1, nil)
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "\xff not utf-8"})
	before, _ := s1.Object("X")
	n := e1.NewNode(t, dynamo.Protocol, map[string]string{"n_replicas": "2", "r": "1", "w": "1"}).(*dynamo.Server)
	e1.Start(n)
	after, ok := n.Object("X")
	if !ok || !after.Equal(&before) || after.Siblings()[0].Value != "\xff not utf-8" {
		t.Fatalf("after restart %v, want %v", &after, &before)
	}
}

// Hinted handoff, step by step: key X's preference list on four servers
// is 2, 3, 4; 4 is silent, so coordinator 2 hands 4's copy to server 1
// with a hint; 1 hands it off to 4 later and drops it once 4 acks.
func TestHintedHandoffByHand(t *testing.T) {
	r := ordo.NewRoster(4, 1, 0)
	opts := map[string]string{"n_replicas": "3", "r": "1", "w": "2", "sloppy": "true", "sync_every": "0s"}
	mk := func(id ordo.NodeID) (*ordotest.Env, *dynamo.Server) {
		env := ordotest.ForProtocol(dynamo.Protocol, id, r, 1)
		n := env.NewNode(t, dynamo.Protocol, opts).(*dynamo.Server)
		env.Start(n)
		return env, n
	}
	e2, s2 := mk(2)
	e1, s1 := mk(1)
	if p := s2.Preference("X"); p[0] != 2 || p[1] != 3 || p[2] != 4 {
		t.Fatalf("preference of X %v: the test assumes 2, 3, 4", p)
	}
	e2.Receive(s2, 5, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "v1"})
	rep := e2.SentTo(3)[0].(dynamo.Replicate)
	hintTimer := e2.OneTimer(t, "hint")
	e2.Receive(s2, 3, dynamo.Ack{ID: rep.ID})
	if rp := e2.SentTo(5); len(rp) != 1 || rp[0].(dynamo.Reply).Status != dynamo.StatusOK {
		t.Fatalf("after W acks: %v", e2.SentSummary())
	}
	e2.Fire(s2, hintTimer.Timer) // 4 never acked
	h := e2.SentTo(1)
	if len(h) != 1 || h[0].(dynamo.Replicate).Hint != 4 {
		t.Fatalf("stand-in: sent %v, want a hint for 4 to 1", e2.SentSummary())
	}
	e1.Receive(s1, 2, h[0])
	if s1.Hints() != 1 || len(e1.NotesOf(dynamo.NoteHint)) != 1 {
		t.Fatalf("stand-in holds %d hints, notes %v", s1.Hints(), e1.Notes)
	}
	if _, ok := s1.Object("X"); ok {
		t.Error("the stand-in serves the hinted key as its own")
	}
	e1.Fire(s1, ordo.Timer{Name: "handoff"})
	off := e1.SentTo(4)
	if len(off) != 1 {
		t.Fatalf("handoff: sent %v", e1.SentSummary())
	}
	e1.Receive(s1, 4, dynamo.Ack{ID: off[0].(dynamo.Replicate).ID})
	if s1.Hints() != 0 || len(e1.NotesOf(dynamo.NoteHandoff)) != 1 {
		t.Fatalf("after 4's ack: %d hints, notes %v", s1.Hints(), e1.Notes)
	}
}
