package etcdsvc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"ordo"
	"ordo/coord"
	"ordo/coord/coordtest"
	"ordo/live"
)

// inbox collects what an adapter delivers.
type inbox struct {
	mu     sync.Mutex
	msgs   []ordo.Message
	closed atomic.Bool // deliveries after Close returned
	after  atomic.Int64
}

func (in *inbox) deliver(m ordo.Message) bool {
	if in.closed.Load() {
		in.after.Add(1)
	}
	in.mu.Lock()
	in.msgs = append(in.msgs, m)
	in.mu.Unlock()
	return true
}

// waitFor waits (up to 20 s) until n messages arrived and returns them.
func (in *inbox) waitFor(t *testing.T, n int) []ordo.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		in.mu.Lock()
		got := append([]ordo.Message(nil), in.msgs...)
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages delivered, want %d: %v", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dialTest(t *testing.T, proto *ordo.Protocol, opts map[string]string, in *inbox) live.ServiceConn {
	t.Helper()
	o, err := proto.Resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	dial, err := live.LookupService(proto.Name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dial(context.Background(), 1, 4, o, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Options are checked at dial: no endpoints, a timeout out of range and a
// fencing flag that is not a bool are errors, not a connection that
// fails later.
func TestDialRefusesBadOptions(t *testing.T) {
	for _, c := range []struct {
		dial live.ServiceDial
		opts ordo.Options
	}{
		{DialCoord, ordo.Options{"endpoints": "", "timeout": "1s"}},
		{DialCoord, ordo.Options{"endpoints": " , ", "timeout": "1s"}},
		{DialCoord, ordo.Options{"endpoints": "http://127.0.0.1:1", "timeout": "0s"}},
		{DialCoord, ordo.Options{"endpoints": "http://127.0.0.1:1", "timeout": "2h"}},
		{DialFenced, ordo.Options{"endpoints": "http://127.0.0.1:1", "fencing": "maybe"}},
		{DialFenced, ordo.Options{"endpoints": "http://127.0.0.1:1", "key_prefix": ""}},
	} {
		if conn, err := c.dial(context.Background(), 1, 4, c.opts, func(ordo.Message) bool { return true }); err == nil {
			conn.Close()
			t.Errorf("options %v accepted", c.opts)
		}
	}
	many := ""
	for range MaxEndpoints + 1 {
		many += "http://127.0.0.1:1,"
	}
	if _, err := Endpoints(many); err == nil {
		t.Errorf("%d endpoints accepted", MaxEndpoints+1)
	}
}

// A service that does not answer within the timeout gives ErrUnavailable
// (outcome unknown, section 5's timeout ambiguity) — for a call and for a
// watch's first read — and a request the malformed checks refuse never
// reaches etcd.
func TestUnansweredCallsAreUnavailable(t *testing.T) {
	in := &inbox{}
	c := dialTest(t, coord.Protocol, map[string]string{"endpoints": coordtest.SilentEndpoint(t), "timeout": "100ms"}, in)
	defer c.Close()
	c.Send(coord.Grant{Req: 1, TTL: 2})
	c.Send(coord.Watch{Req: 2, Key: "/k"})
	c.Send(coord.Grant{Req: 3, TTL: 1})   // below etcd's minimum: refused here
	c.Send(coord.Write{Req: 4, Token: 1}) // not the coordination service's
	got := map[uint64]uint8{}
	for _, m := range in.waitFor(t, 4) {
		r, ok := m.(coord.Reply)
		if !ok {
			t.Fatalf("delivered %#v, want replies", m)
		}
		got[r.Req] = r.Err
	}
	want := map[uint64]uint8{1: coord.ErrUnavailable, 2: coord.ErrUnavailable, 3: coord.ErrBadRequest, 4: coord.ErrBadRequest}
	for req, e := range want {
		if got[req] != e {
			t.Errorf("request %d: %s, want %s", req, coord.ErrName(got[req]), coord.ErrName(e))
		}
	}
}

// An etcd that answers no call is said in the node's log: once WarnAfter
// calls in a row went unanswered, then at most once per WarnEvery of the
// same outage, and its end once etcd answers; a refusal (an answer) or a
// shorter run of failures says nothing. Driven with explicit instants.
func TestUnreachableWarningIsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	h := newHealth(&buf, 1, 4, []string{"http://127.0.0.1:1"})
	t0 := time.Unix(1_000_000, 0)
	lost := errors.New("connection refused")
	for i := range WarnAfter - 1 {
		h.failed(lost, t0.Add(time.Duration(i)*time.Second))
	}
	h.ok(t0.Add(5 * time.Second)) // an answer ends the run: no warning yet
	if h.warnings() != 0 || buf.Len() != 0 {
		t.Fatalf("%d failures then an answer logged:\n%s", WarnAfter-1, buf.String())
	}
	at := t0.Add(10 * time.Second)
	for i := range 3 * WarnAfter {
		h.failed(lost, at.Add(time.Duration(i)*time.Second)) // all within WarnEvery
	}
	if h.warnings() != 1 {
		t.Fatalf("%d warnings for one outage within WarnEvery, want 1:\n%s", h.warnings(), buf.String())
	}
	h.failed(lost, at.Add(time.Duration(WarnAfter-1)*time.Second+WarnEvery)) // WarnEvery after the first warning
	if h.warnings() != 2 {
		t.Fatalf("%d warnings once WarnEvery passed, want 2:\n%s", h.warnings(), buf.String())
	}
	h.ok(at.Add(time.Duration(WarnAfter)*time.Second + WarnEvery))
	out := buf.String()
	for _, want := range []string{"level=WARN", "cannot reach etcd", "endpoints=http://127.0.0.1:1", "node=1", "service=4", "connection refused", "etcd answers again"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

// A connection counts its unanswered calls: WarnAfter calls to an etcd
// that never answers log one warning.
func TestUnansweredCallsWarn(t *testing.T) {
	in := &inbox{}
	c := dialTest(t, coord.Protocol, map[string]string{"endpoints": coordtest.SilentEndpoint(t), "timeout": "50ms"}, in)
	defer c.Close()
	var buf syncBuffer
	h := newHealth(&buf, 1, 4, []string{"blackhole"})
	c.(*conn).health = h // before the first call: Send orders it before every worker's read
	for i := range WarnAfter {
		c.Send(coord.Get{Req: uint64(i + 1), Key: "/k"})
	}
	in.waitFor(t, WarnAfter)
	if h.warnings() != 1 || !strings.Contains(buf.String(), "cannot reach etcd") {
		t.Fatalf("%d calls unanswered: %d warnings, want 1:\n%s", WarnAfter, h.warnings(), buf.String())
	}
}

// syncBuffer is a bytes.Buffer for a logger written from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The queue is bounded: with every worker stuck on a call and the queue
// full, a further request is answered ErrUnavailable at once, and Close
// then cancels the stuck calls and pending watches: nothing is delivered
// after it returns.
func TestQueueBoundAndClose(t *testing.T) {
	in := &inbox{}
	c := dialTest(t, coord.Protocol, map[string]string{"endpoints": coordtest.SilentEndpoint(t), "timeout": "1h"}, in)
	c.Send(coord.Watch{Req: 1, Key: "/w"})
	for i := range Workers {
		c.Send(coord.Get{Req: uint64(100 + i), Key: "/k"})
	}
	for len(c.(*conn).queue) > 0 { // every worker has taken its call
		time.Sleep(time.Millisecond)
	}
	for i := range MaxQueue {
		c.Send(coord.Get{Req: uint64(1000 + i), Key: "/k"})
	}
	const extra = 5
	for i := range extra {
		c.Send(coord.Get{Req: uint64(10_000 + i), Key: "/k"})
	}
	for _, m := range in.waitFor(t, extra) {
		if r, ok := m.(coord.Reply); !ok || r.Err != coord.ErrUnavailable || r.Req < 10_000 {
			t.Errorf("delivered %#v, want ErrUnavailable for a request beyond the queue", m)
		}
	}
	if err := c.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	in.closed.Store(true)
	time.Sleep(50 * time.Millisecond)
	if n := in.after.Load(); n != 0 {
		t.Errorf("%d messages delivered after Close returned", n)
	}
	c.Send(coord.Get{Req: 1, Key: "/k"}) // after Close: ignored, no panic
}

// Watches are bounded per connection.
func TestWatchBound(t *testing.T) {
	in := &inbox{}
	c := dialTest(t, coord.Protocol, map[string]string{"endpoints": coordtest.SilentEndpoint(t), "timeout": "1h"}, in)
	defer c.Close()
	for i := range MaxWatches + 1 {
		c.Send(coord.Watch{Req: uint64(i + 1), Key: "/w"})
	}
	got := in.waitFor(t, 1)
	if r, ok := got[0].(coord.Reply); !ok || r.Err != coord.ErrBadRequest || r.Req != MaxWatches+1 {
		t.Fatalf("delivered %#v, want bad-request for watch %d", got[0], MaxWatches+1)
	}
}

// etcd's errors map to the API's: a missing lease, a compacted revision,
// an invalid request; anything else is unavailable (outcome unknown).
func TestCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want uint8
	}{
		{nil, coord.OK},
		{rpctypes.ErrLeaseNotFound, coord.ErrNoLease},
		{rpctypes.ErrCompacted, coord.ErrCompacted},
		{rpctypes.ErrEmptyKey, coord.ErrBadRequest},
		{rpctypes.ErrNoLeader, coord.ErrUnavailable},
		{context.DeadlineExceeded, coord.ErrUnavailable},
		{errors.New("connection refused"), coord.ErrUnavailable},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %s, want %s", c.err, coord.ErrName(got), coord.ErrName(c.want))
		}
	}
}

// A stored value's token is read only from its 19 leading digits.
func FuzzStoredToken(f *testing.F) {
	f.Add([]byte(pad(7) + " 2 value"))
	f.Add([]byte("garbage"))
	f.Add([]byte(pad(1<<62) + " 1 x"))
	f.Fuzz(func(t *testing.T, v []byte) {
		tok := storedToken(v)
		if tok < -1 || tok > ordo.MaxIndex {
			t.Fatalf("storedToken(%q) = %d", v, tok)
		}
		if tok >= 0 && pad(tok) != string(v[:tokenDigits]) {
			t.Fatalf("storedToken(%q) = %d, which pads to %q", v, tok, pad(tok))
		}
	})
}

// What the adapter answers itself (an Unwatch, a bad request) is no sign
// that etcd answers: it does not end an outage; etcd's own answer does.
func TestLocalAnswersAreNotEtcds(t *testing.T) {
	var buf syncBuffer
	c := &conn{health: newHealth(&buf, 1, 4, []string{"x"})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer c.cancel()
	for range WarnAfter {
		c.code(context.DeadlineExceeded)
	}
	c.answered(coord.Unwatch{Req: 1}, coord.Reply{Req: 1})
	c.answered(coord.Get{Req: 2}, coord.Reply{Req: 2, Err: coord.ErrBadRequest})
	if strings.Contains(buf.String(), "answers again") {
		t.Fatalf("a local answer ended the outage:\n%s", buf.String())
	}
	c.answered(coord.Get{Req: 3}, coord.Reply{Req: 3})
	if !strings.Contains(buf.String(), "answers again") {
		t.Fatalf("etcd's answer did not end the outage:\n%s", buf.String())
	}
}
