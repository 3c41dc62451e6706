package dynamo_test

import (
	"fmt"
	"strings"
	"testing"

	"ordo"
	"ordo/check"
	"ordo/dynamo"
	"ordo/ordotest"
	"ordo/scenario"
	"ordo/trace"
)

// A delete is a tombstone over what its context covers: a get then finds
// nothing, yet answers a context, and a put with that context supersedes
// the tombstone.
func TestDeleteTombstone(t *testing.T) {
	e1, s1 := server(t, 1, nil)
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	reply(t, e1)
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	ctx := reply(t, e1).Context
	e1.Receive(s1, 3, dynamo.Request{ID: 3, Op: dynamo.OpDelete, Key: "X", Context: ctx})
	if r := reply(t, e1); r.Status != dynamo.StatusOK || r.Vecs[0] != "[2,0]" {
		t.Fatalf("delete: %+v, want ok at [2,0]", r)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 4, Op: dynamo.OpGet, Key: "X"})
	r := reply(t, e1)
	if r.Found() || len(r.Values) != 1 || !r.Deleted[0] || len(r.Context) == 0 {
		t.Fatalf("get after delete: %+v, want one tombstone and a context", r)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 5, Op: dynamo.OpPut, Key: "X", Value: "B", Context: r.Context})
	reply(t, e1)
	if o, _ := s1.Object("X"); o.Count() != 1 || o.Siblings()[0].Value != "B" || o.Siblings()[0].Deleted {
		t.Fatalf("a put with the tombstone's context: %v, want B alone", &o)
	}
}

// A delete concurrent with a put (both from the same stale context)
// leaves two siblings, one of them a tombstone: the put is not lost, and
// the key is found.
func TestDeleteConcurrentWithPut(t *testing.T) {
	e1, s1 := server(t, 1, nil)
	e2, s2 := server(t, 2, nil)
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	e2.Receive(s2, 1, replicateTo(t, e1, 2))
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	ctx := reply(t, e1).Context
	e1.Receive(s1, 3, dynamo.Request{ID: 3, Op: dynamo.OpPut, Key: "X", Value: "B", Context: ctx})
	reply(t, e1)
	e2.Receive(s2, 3, dynamo.Request{ID: 4, Op: dynamo.OpDelete, Key: "X", Context: ctx})
	reply(t, e2)
	e1.Receive(s1, 2, replicateTo(t, e2, 1))
	if c := e1.NotesOf(dynamo.NoteConcurrent); len(c) != 1 || !strings.Contains(fmt.Sprint(c[0].Get("values")), "(deleted)") {
		t.Errorf("concurrent notes %v, want the tombstone shown", e1.Notes)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 5, Op: dynamo.OpGet, Key: "X"})
	r := reply(t, e1)
	if !r.Found() || strings.Join(r.Values, ",") != "B," || fmt.Sprint(r.Deleted) != "[false true]" {
		t.Fatalf("get: %+v, want B and a tombstone", r)
	}
	// Resolving with the merged context removes both.
	e1.Receive(s1, 3, dynamo.Request{ID: 6, Op: dynamo.OpDelete, Key: "X", Context: r.Context})
	reply(t, e1)
	if o, _ := s1.Object("X"); o.Count() != 1 || !o.Siblings()[0].Deleted {
		t.Fatalf("after the resolving delete: %v, want one tombstone", &o)
	}
}

// A delete waits for W acknowledgements as a put does.
func TestDeleteQuorum(t *testing.T) {
	e1, s1 := server(t, 1, map[string]string{"w": "2"})
	e2, s2 := server(t, 2, map[string]string{"w": "2"})
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpGet, Key: "X"}) // R=1
	g := reply(t, e1)
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpDelete, Key: "X", Context: g.Context})
	if len(e1.SentTo(3)) != 0 {
		t.Fatalf("delete answered before W=2: %v", e1.SentSummary())
	}
	rep := replicateTo(t, e1, 2)
	e2.Receive(s2, 1, rep)
	e1.Receive(s1, 2, e2.SentTo(1)[0])
	if r := reply(t, e1); r.Status != dynamo.StatusOK {
		t.Fatalf("delete after W acks: %+v", r)
	}
}

// A delete without a context or with a value is refused and changes
// nothing; so is one with a forged context.
func TestDeleteRefused(t *testing.T) {
	e1, s1 := server(t, 1, nil)
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	reply(t, e1)
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	ctx := reply(t, e1).Context
	forged := append([]byte(nil), ctx...)
	forged[len(forged)-1] ^= 1
	for name, c := range map[string]struct {
		r    dynamo.Request
		want string
	}{
		"no context": {dynamo.Request{ID: 3, Op: dynamo.OpDelete, Key: "X"}, "needs the context"},
		"a value":    {dynamo.Request{ID: 4, Op: dynamo.OpDelete, Key: "X", Value: "v", Context: ctx}, "no value"},
		"forged":     {dynamo.Request{ID: 5, Op: dynamo.OpDelete, Key: "X", Context: forged}, "forged"},
	} {
		e1.Receive(s1, 3, c.r)
		if r := reply(t, e1); r.Status != dynamo.StatusBadRequest || !strings.Contains(r.Err, c.want) {
			t.Errorf("%s: %+v, want a refusal saying %q", name, r, c.want)
		}
	}
	if o, _ := s1.Object("X"); o.Count() != 1 || o.Siblings()[0].Deleted {
		t.Fatalf("a refused delete changed the object: %v", &o)
	}
}

// Last-write-wins: a tombstone is a write like another; the later stamp
// wins, and a get of a tombstone finds nothing.
func TestDeleteLWW(t *testing.T) {
	e1, s1 := server(t, 1, map[string]string{"resolution": "lww"})
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "X", Value: "A"})
	reply(t, e1)
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "X"})
	ctx := reply(t, e1).Context
	e1.Advance(10e6)
	e1.Receive(s1, 3, dynamo.Request{ID: 3, Op: dynamo.OpDelete, Key: "X", Context: ctx})
	reply(t, e1)
	e1.Receive(s1, 3, dynamo.Request{ID: 4, Op: dynamo.OpGet, Key: "X"})
	if r := reply(t, e1); r.Found() {
		t.Fatalf("get after an LWW delete: %+v, want not found", r)
	}
}

// A merging bucket: a get names its cart, and a deleted cart is not
// found; a cart added to concurrently with the delete keeps the add.
func TestDeleteCart(t *testing.T) {
	e1, s1 := server(t, 1, map[string]string{"resolution": "merge", "merge": "orset"})
	e2, s2 := server(t, 2, map[string]string{"resolution": "merge", "merge": "orset"})
	e1.Receive(s1, 3, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: "C", Value: "+apple#t1"})
	e2.Receive(s2, 1, replicateTo(t, e1, 2))
	e1.Receive(s1, 3, dynamo.Request{ID: 2, Op: dynamo.OpGet, Key: "C"})
	r := reply(t, e1)
	if r.Merge != "orset" || r.Values[0] != "+apple#t1" {
		t.Fatalf("cart get: %+v", r)
	}
	e1.Receive(s1, 3, dynamo.Request{ID: 3, Op: dynamo.OpDelete, Key: "C", Context: r.Context})
	reply(t, e1)
	e1.Receive(s1, 3, dynamo.Request{ID: 4, Op: dynamo.OpGet, Key: "C"})
	if g := reply(t, e1); g.Found() {
		t.Fatalf("deleted cart: %+v, want not found", g)
	}
	e2.Receive(s2, 3, dynamo.Request{ID: 5, Op: dynamo.OpPut, Key: "C", Value: "+apple#t1;+pear#t2", Context: r.Context})
	reply(t, e2)
	e1.Receive(s1, 2, replicateTo(t, e2, 1))
	e1.Receive(s1, 3, dynamo.Request{ID: 6, Op: dynamo.OpGet, Key: "C"})
	if g := reply(t, e1); !g.Found() || g.Values[0] != "+apple#t1;+pear#t2" {
		t.Fatalf("cart after a concurrent add: %+v", g)
	}
}

// Relay: a server outside the preference list forwards a Relay request
// in its own name and passes the member's answer back under the
// client's id; unanswered, the client hears "unavailable".
func TestRelayForwarding(t *testing.T) {
	r := ordo.NewRoster(3, 1, 0)
	opts := map[string]string{"n_replicas": "1", "r": "1", "w": "1", "sync_every": "0s"}
	env := ordotest.ForProtocol(dynamo.Protocol, 1, r, 1)
	n := env.NewNode(t, dynamo.Protocol, opts).(*dynamo.Server)
	env.Start(n)
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("k%d", i); n.Preference(k)[0] != 1 {
			key = k
		}
	}
	to := n.Preference(key)[0]
	env.Receive(n, 4, dynamo.Request{ID: 9, Op: dynamo.OpGet, Key: key, Relay: true})
	f := env.SentTo(to)[0].(dynamo.Request)
	if !f.Forwarded || f.Client != 1 || f.ID == 9 {
		t.Fatalf("forward %+v, want one in the forwarder's name", f)
	}
	env.Receive(n, to, dynamo.Reply{ID: f.ID, Status: dynamo.StatusOK, Values: []string{"v"}})
	if s := env.SentTo(4); len(s) != 1 || s[0].(dynamo.Reply).ID != 9 || s[0].(dynamo.Reply).Values[0] != "v" {
		t.Fatalf("relayed %v, want the answer under id 9", env.SentSummary())
	}
	env.Receive(n, 4, dynamo.Request{ID: 10, Op: dynamo.OpPut, Key: key, Value: "w", Relay: true})
	f = env.SentTo(to)[0].(dynamo.Request)
	env.Fire(n, env.OneTimer(t, "relay").Timer)
	if s := env.SentTo(4); len(s) != 1 || s[0].(dynamo.Reply).Status != dynamo.StatusUnavailable || s[0].(dynamo.Reply).ID != 10 {
		t.Fatalf("unanswered relay: %v, want unavailable under id 10", env.SentSummary())
	}
	// A late answer is dropped.
	env.Receive(n, to, dynamo.Reply{ID: f.ID, Status: dynamo.StatusOK})
	if len(env.Sent) != 0 {
		t.Fatalf("late answer relayed: %v", env.SentSummary())
	}
}

func runScenario(t *testing.T, text string, seed uint64) (map[string]check.Result, *trace.Trace) {
	t.Helper()
	sc, err := scenario.Parse("delete", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Run(scenario.RunOptions{Seed: &seed, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]check.Result{}
	for _, c := range res.Checks {
		out[c.Check] = c
	}
	return out, res.Trace
}

// The chapter's example with a delete: X = A; a client deletes with A's
// context while another writes B from the same context: both survive as
// siblings (B and a tombstone); a resolving write supersedes them; a
// delete with the latest context leaves the key not found. The
// checkers judge deletes: no-lost-write and no-lost-sibling pass.
func TestDeleteScenario(t *testing.T) {
	text := `name: delete
protocol: dynamo
options: {n_replicas: 2, r: 1, w: 1, resolution: client, sync_every: 100ms}
nodes: 2
clients:
  - count: 1
    options:
      script: >-
        100ms put X A @1, 200ms get X @1 as c1, 300ms put X B @1 ctx c1,
        300ms del X @2 ctx c1, 600ms get X @1, 700ms resolve X @1,
        900ms get X @2 as c2, 1s del X @2 ctx c2, 1200ms get X @1
duration: 2s
checks: [no-lost-write, no-lost-sibling, convergence]
`
	res, tr := runScenario(t, text, 1)
	for _, name := range []string{"no-lost-write", "no-lost-sibling", "convergence"} {
		if r := res[name]; r.Verdict != check.Pass {
			t.Errorf("%s: %s (%s) %v", name, r.Verdict, r.Summary, r.Violations)
		}
	}
	// The gets saw, in turn: B beside a tombstone; the resolution;
	// nothing (a tombstone alone).
	var gets []string
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == dynamo.NoteGet {
			gets = append(gets, fmt.Sprintf("%v/%v", e.Attrs.Get("values"), e.Attrs.Get("deleted")))
		}
	}
	if strings.Join(gets, " ") != "A/0 B|/1 B|/1 B/0 /1" {
		t.Errorf("gets %q, want A, then B beside a tombstone, then the resolution B, then a tombstone", gets)
	}
}

// A seeded workload with deletes under a partition and a crash, DVV and
// client resolution: no acknowledged put or delete is lost (each seed
// prints its replay).
func TestDeleteWorkloadSeeds(t *testing.T) {
	seeds := 8
	if testing.Short() {
		seeds = 2
	}
	text := `name: delete
protocol: dynamo
options: {n_replicas: 3, r: 2, w: 2, resolution: client}
nodes: 5
clients: {count: 3, options: {ops: 0, for: 4s, concurrency: 2, keys: 3, reads: 40, deletes: 20, think: 40ms, timeout: 400ms}}
duration: 6s
network: {latency: lan}
faults:
  - {at: 1s, partition: "1,2/3,4,5"}
  - {at: 2s, heal: true}
  - {at: 2500ms, crash: 5}
  - {at: 3s, restart: 5}
checks: [no-lost-write, no-lost-sibling, convergence]
`
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		res, tr := runScenario(t, text, seed)
		tombs := 0
		for _, e := range tr.Events {
			if e.Kind == trace.Note && e.Name == dynamo.NotePut && e.Attrs.Get("deleted") == true {
				tombs++
			}
		}
		if tombs == 0 {
			t.Errorf("seed %d: no delete was coordinated", seed)
		}
		for _, name := range []string{"no-lost-write", "no-lost-sibling", "convergence"} {
			if r := res[name]; r.Verdict != check.Pass {
				t.Errorf("seed %d: %s: %s (%s) %v\nreplay: the scenario text of TestDeleteWorkloadSeeds with ordo sim FILE --seed %d", seed, name, r.Verdict, r.Summary, r.Violations, seed)
			}
		}
		if d := res["no-lost-write"].Summary; seed == 1 {
			t.Logf("seed 1: no-lost-write: %s", d)
		}
	}
}

// Section 2's danger with a delete: under last-write-wins, node 2's slow
// clock stamps the delete before the write it follows, so the
// acknowledged delete is thrown away and a later get finds X = 1 again.
// no-lost-write reports it; with vector clocks the delete holds.
func TestDeleteLostUnderLWW(t *testing.T) {
	text := `name: delete-lww
protocol: dynamo
options: {n_replicas: 2, r: 1, w: 1, resolution: RES}
nodes: 2
clients:
  - count: 1
    options:
      script: 80ms put X 1 @1, 100ms get X @1 as c, 120ms del X @2 ctx c, 400ms get X @1
network: {latency: lan}
clocks:
  "1": {offset: 20ms}
  "2": {offset: -21ms}
duration: 1s
checks: [no-lost-write, no-lost-sibling]
`
	res, _ := runScenario(t, strings.Replace(text, "RES", "lww", 1), 1)
	if r := res["no-lost-write"]; r.Verdict != check.Fail || !strings.Contains(fmt.Sprint(r.Violations), "delete") {
		t.Errorf("lww: no-lost-write %s (%s) %v, want the lost delete found", r.Verdict, r.Summary, r.Violations)
	}
	res, _ = runScenario(t, strings.Replace(text, "RES", "client", 1), 1)
	for _, name := range []string{"no-lost-write", "no-lost-sibling"} {
		if r := res[name]; r.Verdict != check.Pass {
			t.Errorf("vectors: %s %s (%s) %v", name, r.Verdict, r.Summary, r.Violations)
		}
	}
}
