package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ordo"
	"ordo/kv"
	"ordo/kv/api"
)

// fakeServer is one server's client API (kv/api's real handler) over a
// fake node that answers every write ok after delay, counting HTTP
// requests and the writes it saw; with leader set it answers not-leader
// pointing there.
type fakeServer struct {
	srv      *httptest.Server
	requests atomic.Int64
	writes   atomic.Int64
	batches  atomic.Int64
	rev      atomic.Uint64
	leader   string // "" : it leads
	delay    time.Duration

	mu   sync.Mutex
	seen map[[2]uint64]int // (session, seq) → times applied
}

func newFakeServer(t *testing.T, delay time.Duration, leader string) *fakeServer {
	return newFake(t, delay, leader).started(false)
}

// newFake is newFakeServer, not started.
func newFake(t *testing.T, delay time.Duration, leader string) *fakeServer {
	f := &fakeServer{delay: delay, leader: leader, seen: map[[2]uint64]int{}}
	one := func(m ordo.Message) ordo.Message {
		q := m.(kv.Request)
		if f.leader != "" {
			return kv.Response{Status: kv.StatusNotLeader, Leader: 9}
		}
		f.writes.Add(1)
		f.mu.Lock()
		f.seen[[2]uint64{q.Session, q.Seq}]++
		f.mu.Unlock()
		return kv.Response{Status: kv.StatusOK, Rev: f.rev.Add(1)}
	}
	h := api.NewHandler(api.Config{
		Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
			time.Sleep(f.delay)
			return one(m), nil
		},
		CallMany: func(ctx context.Context, ms []ordo.Message) ([]ordo.Message, []error) {
			f.batches.Add(1)
			time.Sleep(f.delay)
			out := make([]ordo.Message, len(ms))
			for i, m := range ms {
				out[i] = one(m)
			}
			return out, make([]error, len(ms))
		},
		LeaderAddr: func(ordo.NodeID) string { return f.leader },
	})
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// started starts f's server, over TLS if asked (its addr is then
// https's, with the test certificate's pool for a client).
func (f *fakeServer) started(tls bool) *fakeServer {
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	return f
}

func (f *fakeServer) addr() string {
	return strings.TrimPrefix(strings.TrimPrefix(f.srv.URL, "http://"), "https://")
}

// putMany runs n concurrent puts through cl and fails on any error or a
// revision seen twice.
func putMany(t *testing.T, cl *Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	revs := make([]uint64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			revs[i], errs[i] = cl.Put(context.Background(), "k", "v")
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("put %d: %v", i, errs[i])
		}
		if revs[i] == 0 || seen[revs[i]] {
			t.Fatalf("put %d: revision %d (zero or given twice)", i, revs[i])
		}
		seen[revs[i]] = true
	}
}

// Concurrent puts through one client share HTTP requests; each still gets
// its own answer and applies once; a lone put is a plain request.
func TestConcurrentPutsShareRequests(t *testing.T) {
	f := newFakeServer(t, 20*time.Millisecond, "")
	cl, err := New(Config{Endpoints: []string{f.addr()}, BatchInflight: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 64
	putMany(t, cl, n)
	if got := f.writes.Load(); got != n {
		t.Fatalf("server applied %d writes, want %d", got, n)
	}
	if got := f.requests.Load(); got > n/4 {
		t.Errorf("%d HTTP requests for %d concurrent puts: they were not batched", got, n)
	}
	if f.batches.Load() == 0 {
		t.Errorf("no request went to /v1/kv/batch")
	}
	for k, times := range f.seen {
		if times != 1 {
			t.Errorf("session %d seq %d applied %d times", k[0], k[1], times)
		}
	}
	before := f.requests.Load()
	if _, err := cl.Put(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if f.requests.Load() != before+1 {
		t.Errorf("a lone put took %d requests", f.requests.Load()-before)
	}
}

// Unbatched: one request per put, none to the batch endpoint.
func TestUnbatchedClientSendsOneRequestPerPut(t *testing.T) {
	f := newFakeServer(t, 5*time.Millisecond, "")
	cl, err := New(Config{Endpoints: []string{f.addr()}, Unbatched: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	putMany(t, cl, 16)
	if got := f.requests.Load(); got != 16 || f.batches.Load() != 0 {
		t.Errorf("%d requests (%d batches) for 16 unbatched puts", got, f.batches.Load())
	}
}

// A batch sent to a follower: every write in it follows the not-leader
// hint to the leader and succeeds there.
func TestBatchFollowsLeaderHint(t *testing.T) {
	lead := newFakeServer(t, 10*time.Millisecond, "")
	follower := newFakeServer(t, 10*time.Millisecond, lead.addr())
	cl, err := New(Config{Endpoints: []string{follower.addr()}, BatchInflight: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	putMany(t, cl, 32)
	if follower.writes.Load() != 0 || lead.writes.Load() != 32 {
		t.Fatalf("follower applied %d, leader %d; want 0 and 32", follower.writes.Load(), lead.writes.Load())
	}
}

// A batch refused whole (wrong token: 401) fails each write in it as
// refused, at once.
func TestBatchRefusedWhole(t *testing.T) {
	f := newFakeServer(t, 10*time.Millisecond, "")
	inner := f.srv.Config.Handler
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer right" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"status":"bad-request","error":"wrong client token"}`))
			return
		}
		inner.ServeHTTP(w, r)
	})
	cl, err := New(Config{Endpoints: []string{f.addr()}, Token: "wrong", BatchInflight: 1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cl.Put(context.Background(), "k", "v"); errors.Is(err, ErrRefused) {
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if refused.Load() != 8 {
		t.Fatalf("%d of 8 puts refused, want all", refused.Load())
	}
}

// BatchInflight beyond its bound is refused.
func TestBatchInflightBound(t *testing.T) {
	if _, err := New(Config{Endpoints: []string{"127.0.0.1:1"}, BatchInflight: maxBatchInflight + 1}); err == nil {
		t.Fatal("BatchInflight above its bound accepted")
	}
}
