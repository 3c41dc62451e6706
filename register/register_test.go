package register

import (
	"testing"
	"time"

	"ordo"
	"ordo/history"
	"ordo/ordotest"
	"ordo/workload"
)

// Five servers 1..5 and one client 6.
var roster = ordo.NewRoster(5, 1, 0)

func server(t *testing.T, p *ordo.Protocol, id ordo.NodeID) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env := ordotest.ForProtocol(p, id, roster, 1)
	n := env.NewNode(t, p, nil)
	env.Start(n)
	return env, n
}

func TestConformance(t *testing.T) {
	t.Run("register", func(t *testing.T) { ordotest.Protocol(t, Protocol, ordotest.Nodes(5)) })
	t.Run("register-stale", func(t *testing.T) { ordotest.Protocol(t, StaleProtocol, ordotest.Nodes(5)) })
	t.Run("register-client", func(t *testing.T) { ordotest.Protocol(t, ClientProtocol, ordotest.ServedBy(Protocol)) })
}

// ABD's replica rule: adopt a (timestamp, value) only if it is newer, and
// acknowledge either way (the replica holds that or newer), durably.
func TestReplicaAdoptsOnlyNewer(t *testing.T) {
	env, n := server(t, Protocol, 2)
	newer := Timestamp{Counter: 2, Writer: 1, Round: 9}
	env.Receive(n, 1, Update{Round: 7, Key: "x", TS: newer, Value: "b"})
	if !env.Wrote(valuePrefix+"x") || len(env.SentTo(1)) != 1 || env.SentTo(1)[0] != (UpdateAck{Round: 7}) {
		t.Fatalf("update: writes %v, sent %v", env.Writes, env.Sent)
	}
	env.Receive(n, 3, Update{Round: 8, Key: "x", TS: Timestamp{Counter: 1, Writer: 5}, Value: "old"})
	if len(env.Writes) != 0 || env.SentTo(3)[0] != (UpdateAck{Round: 8}) {
		t.Fatalf("an older update was stored: %v", env.Writes)
	}
	env.Receive(n, 4, Query{Round: 3, Key: "x"})
	if got := env.SentTo(4); len(got) != 1 || got[0] != (QueryAck{Round: 3, TS: newer, Value: "b"}) {
		t.Fatalf("query: %v", got)
	}
}

// A write: query every other server; with a majority of answers (itself
// and two more of five) store (max counter + 1, self) at every other
// server; with a majority of acks, reply to the client.
func TestWriteTwoPhases(t *testing.T) {
	env, n := server(t, Protocol, 1)
	env.Receive(n, 6, Request{Op: 1, Write: true, Key: "x", Value: "v"})
	qs := env.SentKind("abd-query")
	if len(qs) != 4 {
		t.Fatalf("phase 1 sent %v", env.Sent)
	}
	round := qs[0].Msg.(Query).Round
	env.Receive(n, 2, QueryAck{Round: round, TS: Timestamp{Counter: 4, Writer: 3}, Value: "old"})
	if len(env.Sent) != 0 {
		t.Fatalf("phase 2 began with 2 of 5 answers: %v", env.Sent)
	}
	env.Receive(n, 2, QueryAck{Round: round}) // a duplicate counts once
	if len(env.Sent) != 0 {
		t.Fatalf("a duplicate answer counted: %v", env.Sent)
	}
	env.Receive(n, 3, QueryAck{Round: round, TS: Timestamp{Counter: 2, Writer: 2}})
	ups := env.SentKind("abd-update")
	want := Timestamp{Counter: 5, Writer: 1, Round: round}
	if len(ups) != 4 || ups[0].Msg.(Update).TS != want || ups[0].Msg.(Update).Value != "v" || !env.Wrote(valuePrefix+"x") {
		t.Fatalf("phase 2: sent %v writes %v", env.Sent, env.Writes)
	}
	env.Receive(n, 4, UpdateAck{Round: round})
	if len(env.Sent) != 0 {
		t.Fatalf("replied with 2 of 5 acks: %v", env.Sent)
	}
	env.Receive(n, 5, UpdateAck{Round: round})
	if got := env.SentTo(6); len(got) != 1 || got[0] != (Reply{Op: 1}) {
		t.Fatalf("reply: %v", env.Sent)
	}
}

// A read writes back what it returns before returning it: the step that
// makes ABD atomic (a later read's majority meets this one's).
func TestReadWritesBack(t *testing.T) {
	env, n := server(t, Protocol, 1)
	env.Receive(n, 6, Request{Op: 2, Key: "x"})
	round := env.SentKind("abd-query")[0].Msg.(Query).Round
	ts := Timestamp{Counter: 3, Writer: 4, Round: 77}
	env.Receive(n, 2, QueryAck{Round: round, TS: ts, Value: "new"})
	env.Receive(n, 3, QueryAck{Round: round})
	ups := env.SentKind("abd-update")
	if len(ups) != 4 || ups[0].Msg.(Update).TS != ts || ups[0].Msg.(Update).Value != "new" || len(env.SentTo(6)) != 0 {
		t.Fatalf("the read did not write back before replying: %v", env.Sent)
	}
	env.Receive(n, 2, UpdateAck{Round: round})
	env.Receive(n, 4, UpdateAck{Round: round})
	if got := env.SentTo(6); len(got) != 1 || got[0] != (Reply{Op: 2, Value: "new"}) {
		t.Fatalf("reply: %v", env.Sent)
	}
}

// Two writes coordinated at once by one server see the same maximum:
// their timestamps must still differ (the bug the linearizable checker
// found in this package's first ABD: replicas kept different values
// under one timestamp).
func TestConcurrentWritesGetDistinctTimestamps(t *testing.T) {
	env, n := server(t, Protocol, 1)
	env.Receive(n, 6, Request{Op: 1, Write: true, Key: "x", Value: "a"})
	r1 := env.SentKind("abd-query")[0].Msg.(Query).Round
	env.Receive(n, 6, Request{Op: 2, Write: true, Key: "x", Value: "b"})
	r2 := env.SentKind("abd-query")[0].Msg.(Query).Round
	var ts []Timestamp
	for _, r := range []uint64{r1, r2} {
		env.Receive(n, 2, QueryAck{Round: r})
		env.Receive(n, 3, QueryAck{Round: r})
		ts = append(ts, env.SentKind("abd-update")[0].Msg.(Update).TS)
	}
	if ts[0] == ts[1] || ts[0].Counter != ts[1].Counter {
		t.Fatalf("timestamps %v and %v", ts[0], ts[1])
	}
}

// Lost messages: the retry timer resends a phase to the servers that have
// not answered, and only to them.
func TestRetryResendsToSilentServers(t *testing.T) {
	env, n := server(t, Protocol, 1)
	env.Receive(n, 6, Request{Op: 1, Key: "x"})
	if len(env.TimersNamed(timerRetry)) != 1 {
		t.Fatalf("no retry timer: %v", env.Timers)
	}
	round := env.SentKind("abd-query")[0].Msg.(Query).Round
	env.Receive(n, 2, QueryAck{Round: round})
	env.Advance(100 * time.Millisecond)
	env.Fire(n, ordo.Timer{Name: timerRetry})
	if got := env.SentKind("abd-query"); len(got) != 3 || got[0].To != 3 {
		t.Fatalf("resent %v", got)
	}
	// After expire the coordinator gives up (the client has timed out).
	env.Advance(5 * time.Second)
	env.Fire(n, ordo.Timer{Name: timerRetry})
	if len(env.Sent) != 0 || len(env.Timers) != 0 {
		t.Fatalf("an expired operation is still served: %v %v", env.Sent, env.Timers)
	}
}

// A duplicated request is served once.
func TestDuplicateRequestServedOnce(t *testing.T) {
	env, n := server(t, Protocol, 1)
	env.Receive(n, 6, Request{Op: 1, Write: true, Key: "x", Value: "a"})
	env.Receive(n, 6, Request{Op: 1, Write: true, Key: "x", Value: "a"})
	if len(env.Sent) != 0 {
		t.Fatalf("a duplicate started a second write: %v", env.Sent)
	}
}

// The stale variant answers a read from its own copy at once.
func TestStaleReadAnswersAlone(t *testing.T) {
	env, n := server(t, StaleProtocol, 1)
	env.Receive(n, 2, Update{Round: 1, Key: "x", TS: Timestamp{Counter: 1, Writer: 2}, Value: "mine"})
	env.Receive(n, 6, Request{Op: 5, Key: "x"})
	if len(env.Sent) != 1 || env.Sent[0].Msg != (Reply{Op: 5, Value: "mine"}) {
		t.Fatalf("stale read: %v", env.Sent)
	}
}

// The client: each process runs one operation at a time, records invoke
// and completion, and on a timeout records info and retries elsewhere.
func TestClientRecordsHistory(t *testing.T) {
	env := ordotest.ForProtocol(ClientProtocol, 6, roster, 1)
	n := env.NewNode(t, ClientProtocol, map[string]string{"concurrency": "1", "reads": "0", "retries": "1"})
	env.Start(n)
	if got := env.TimersNamed(workload.TimerNext); len(got) != 1 {
		t.Fatalf("start timers %v", env.Timers)
	}
	env.Fire(n, ordo.Timer{Name: workload.TimerNext, Arg: 0})
	if len(env.Sent) != 1 || len(env.NotesOf(history.NoteInvoke)) != 1 {
		t.Fatalf("issue: sent %v notes %v", env.Sent, env.Notes)
	}
	req := env.Sent[0].Msg.(Request)
	first := env.Sent[0].To
	if !req.Write || req.Op != 1 || req.Value != "n6-1" {
		t.Fatalf("request %+v", req)
	}
	// Timeout: info, then the same write as op 2 at another server.
	env.Fire(n, ordo.Timer{Name: timerTimeout, Arg: 1})
	if len(env.NotesOf(history.NoteInfo)) != 1 || len(env.Sent) != 1 || env.Sent[0].To == first {
		t.Fatalf("retry: sent %v notes %v", env.Sent, env.Notes)
	}
	retry, second := env.Sent[0].Msg.(Request), env.Sent[0].To
	if retry.Op != 2 || retry.Value != req.Value {
		t.Fatalf("retry %+v", retry)
	}
	// A late reply to op 1 is ignored; the reply to op 2 completes it.
	env.Receive(n, first, Reply{Op: 1})
	if len(env.Notes) != 0 {
		t.Fatalf("late reply recorded: %v", env.Notes)
	}
	env.Receive(n, second, Reply{Op: 2})
	if ok := env.NotesOf(history.NoteOK); len(ok) != 1 || len(env.TimersNamed(workload.TimerNext)) != 1 {
		t.Fatalf("completion: notes %v timers %v", env.Notes, env.Timers)
	}
}

// The workload ends at its operation count or its time, whichever first.
func TestClientStops(t *testing.T) {
	env := ordotest.ForProtocol(ClientProtocol, 6, roster, 1)
	n := env.NewNode(t, ClientProtocol, map[string]string{"concurrency": "1", "ops": "0", "for": "1s"})
	env.Start(n)
	env.Advance(900 * time.Millisecond)
	env.Fire(n, ordo.Timer{Name: workload.TimerNext, Arg: 0})
	if len(env.Sent) != 1 {
		t.Fatalf("no operation within its time: %v", env.Sent)
	}
	op := env.Sent[0].Msg.(Request).Op
	env.Receive(n, env.Sent[0].To, Reply{Op: op})
	env.Advance(200 * time.Millisecond)
	env.Fire(n, ordo.Timer{Name: workload.TimerNext, Arg: 0})
	if len(env.Sent) != 0 {
		t.Fatalf("an operation after its time: %v", env.Sent)
	}

	env = ordotest.ForProtocol(ClientProtocol, 6, roster, 1)
	n = env.NewNode(t, ClientProtocol, map[string]string{"concurrency": "1", "ops": "1"})
	env.Start(n)
	env.Fire(n, ordo.Timer{Name: workload.TimerNext, Arg: 0})
	op = env.Sent[0].Msg.(Request).Op
	env.Receive(n, env.Sent[0].To, Reply{Op: op})
	env.Fire(n, ordo.Timer{Name: workload.TimerNext, Arg: 0})
	if len(env.Sent) != 0 {
		t.Fatalf("a second operation of ops=1: %v", env.Sent)
	}
}
