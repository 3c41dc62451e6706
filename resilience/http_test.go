package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ordo"
	"ordo/live"
)

// bankHandler applies a transfer (non-idempotent: it adds to a balance)
// and answers the new balance.
type bankHandler struct {
	mu      sync.Mutex
	applied int
	gate    chan struct{} // if set, each request waits on it after applying
	entered chan struct{} // if set, signalled when a request has applied
}

func (b *bankHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.applied++
	n := b.applied
	b.mu.Unlock()
	if b.entered != nil {
		b.entered <- struct{}{}
	}
	if b.gate != nil {
		<-b.gate
	}
	w.Header().Set("X-Balance", fmt.Sprint(n))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "applied %s", body)
}

func (b *bankHandler) count() int { b.mu.Lock(); defer b.mu.Unlock(); return b.applied }

func newTable(t *testing.T, cfg TableConfig) *Table {
	t.Helper()
	tb, err := NewTable(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func post(t *testing.T, c *http.Client, url, key, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set(IdempotencyKeyHeader, `"`+key+`"`)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(r *http.Response) string { b, _ := io.ReadAll(r.Body); r.Body.Close(); return string(b) }

// The IETF draft's statuses on a real loopback server: 400 without a
// required key, 409 for a duplicate arriving while the first is in
// progress, the stored response replayed with Idempotent-Replayed, 422 for
// the key reused with another payload; the transfer applied once.
func TestIdempotencyHandlerStatuses(t *testing.T) {
	bank := &bankHandler{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	srv := httptest.NewServer(IdempotencyHandler(bank, newTable(t, TableConfig{}), HandlerOptions{Required: true}))
	defer srv.Close()
	c := srv.Client()

	if r := post(t, c, srv.URL, "", "10"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("no key: %d, want 400", r.StatusCode)
	}
	first := make(chan *http.Response)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("10"))
		req.Header.Set(IdempotencyKeyHeader, "k1")
		r, err := c.Do(req)
		if err != nil {
			t.Error(err)
		}
		first <- r
	}()
	<-bank.entered // the first has applied and waits before replying
	if r := post(t, c, srv.URL, "k1", "10"); r.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate in progress: %d, want 409", r.StatusCode)
	}
	close(bank.gate)
	r := <-first
	if r == nil || r.StatusCode != http.StatusCreated || r.Header.Get(ReplayedHeader) != "" {
		t.Fatalf("first: %+v", r)
	}
	readAll(r)
	r = post(t, c, srv.URL, "k1", "10")
	if body := readAll(r); r.StatusCode != http.StatusCreated || r.Header.Get(ReplayedHeader) != "true" || r.Header.Get("X-Balance") != "1" || body != "applied 10" {
		t.Fatalf("replay: %d %v %q", r.StatusCode, r.Header, body)
	}
	if r := post(t, c, srv.URL, "k1", "20"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reused key: %d, want 422", r.StatusCode)
	}
	if got := bank.count(); got != 1 {
		t.Fatalf("applied %d times, want 1", got)
	}
}

// replyLost lets the inner handler run to the end (apply and record),
// then, for the first request only, closes the connection instead of
// replying: section 5's cause 3, "요청은 처리됐지만 응답이 손실됨".
func replyLost(h http.Handler) http.Handler {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(&discard{h: http.Header{}}, r)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	})
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func retryClient(base http.RoundTripper, tr *Transport) *http.Client {
	tr.Base = base
	tr.Clock = SystemClock()
	if tr.Policy.Base == 0 {
		tr.Policy = RetryPolicy{Base: ms, Cap: 5 * ms, MaxAttempts: 4}
	}
	return &http.Client{Transport: tr}
}

// The reply is lost after the server applied the transfer. The Transport
// retries a POST only because it carries a key; the server replays the
// first response: applied once. Without the table, the same retry applies
// the transfer twice (the naive retry of the chapter's dilemma); without a
// key, the Transport does not retry and the client sees the ambiguity.
func TestTransportReplyLost(t *testing.T) {
	for _, tc := range []struct {
		name        string
		guarded     bool
		key         string
		wantApplied int
		wantErr     bool
	}{
		{"key+table", true, "k1", 1, false},
		{"key, no table (naive retry)", false, "k1", 2, false},
		{"no key: no retry", true, "", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bank := &bankHandler{}
			var h http.Handler = bank
			if tc.guarded {
				h = IdempotencyHandler(bank, newTable(t, TableConfig{}), HandlerOptions{})
			}
			srv := httptest.NewServer(replyLost(h))
			defer srv.Close()
			var retries int
			c := retryClient(srv.Client().Transport, &Transport{OnRetry: func(int, time.Duration, error) { retries++ }})
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("10"))
			if tc.key != "" {
				req.Header.Set(IdempotencyKeyHeader, tc.key)
			}
			resp, err := c.Do(req)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			if err == nil {
				readAll(resp)
				if tc.guarded && resp.Header.Get(ReplayedHeader) != "true" {
					t.Fatalf("the retry's answer was not a replay: %v", resp.Header)
				}
			} else if !errors.Is(err, ErrNotRetryable) {
				t.Fatalf("error %v, want ErrNotRetryable", err)
			}
			if got := bank.count(); got != tc.wantApplied {
				t.Fatalf("applied %d times, want %d (%d retries)", got, tc.wantApplied, retries)
			}
		})
	}
}

// The server is killed between applying a transfer and replying: the
// handler applies, the process dies (its connection closed, its table
// gone), and a new process starts on the same address over the same
// live.DiskStorage. With durable claims the key stays "in progress": the
// client's retries get 409 and the transfer is never applied twice; the
// outcome stays unknown, which is section 5's point. Without durable
// claims the restarted server forgets and applies it again.
func TestHandlerKilledBetweenApplyAndReply(t *testing.T) {
	for _, durable := range []bool{true, false} {
		t.Run(fmt.Sprintf("durable-claims=%v", durable), func(t *testing.T) {
			dir := t.TempDir()
			st, err := live.OpenDiskStorage(dir)
			if err != nil {
				t.Fatal(err)
			}
			cfg := TableConfig{Store: st, Prefix: "idem/", DurableClaims: durable, Sync: st.Commit}
			var applied atomic.Int32
			killed := make(chan struct{})
			// First process: applies, then dies before replying.
			h1 := IdempotencyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				applied.Add(1)
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				close(killed)
			}), newTable(t, cfg), HandlerOptions{})
			srv1 := httptest.NewServer(h1)
			addr := srv1.Listener.Addr().String()

			tr := &Transport{Policy: RetryPolicy{Base: 5 * ms, Cap: 20 * ms, MaxAttempts: 6}}
			var restarted sync.Once
			var srv2 *httptest.Server
			tr.OnRetry = func(int, time.Duration, error) {
				restarted.Do(func() {
					<-killed
					srv1.CloseClientConnections()
					srv1.Close()
					if err := st.Close(); err != nil {
						t.Error(err)
					}
					// Second process, same disk, same address.
					st2, err := live.OpenDiskStorage(dir)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { st2.Close() })
					cfg2 := cfg
					cfg2.Store, cfg2.Sync = st2, st2.Commit
					h2 := IdempotencyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						applied.Add(1)
						w.WriteHeader(http.StatusCreated)
					}), newTable(t, cfg2), HandlerOptions{})
					ln, err := net.Listen("tcp", addr)
					if err != nil {
						t.Fatal(err)
					}
					srv2 = &httptest.Server{Listener: ln, Config: &http.Server{Handler: h2}}
					srv2.Start()
				})
			}
			c := retryClient(http.DefaultTransport.(*http.Transport).Clone(), tr)
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr, strings.NewReader("10"))
			req.Header.Set(IdempotencyKeyHeader, "k1")
			resp, err := c.Do(req)
			if srv2 != nil {
				defer srv2.Close()
			}
			switch {
			case durable:
				if err != nil || resp.StatusCode != http.StatusConflict || applied.Load() != 1 {
					t.Fatalf("durable claims: %v %v, applied %d; want 409 and applied once", resp, err, applied.Load())
				}
			default:
				if err != nil || resp.StatusCode != http.StatusCreated || applied.Load() != 2 {
					t.Fatalf("volatile claims: %v %v, applied %d; want 201 and applied twice", resp, err, applied.Load())
				}
			}
			if resp != nil {
				readAll(resp)
			}
		})
	}
}

// The breaker stops calls to a failing server: after 3 consecutive 500s
// the 4th attempt fails fast with ErrOpen without reaching the server.
func TestTransportBreaker(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	var changes []Change
	b, _ := NewBreaker(BreakerConfig{ConsecutiveFailures: 3, OpenFor: time.Hour, OnChange: func(c Change) { changes = append(changes, c) }}, 0)
	c := retryClient(srv.Client().Transport, &Transport{Breaker: b, Policy: RetryPolicy{Base: ms, Cap: ms, MaxAttempts: 10}})
	_, err := c.Get(srv.URL)
	if !errors.Is(err, ErrOpen) || hits.Load() != 3 || len(changes) != 1 || changes[0].To != Open {
		t.Fatalf("err %v, %d hits, changes %v; want ErrOpen after 3 hits", err, hits.Load(), changes)
	}
}

// Retry-After is honoured (the wait is at least the hint), cancellation
// during the wait ends the call with the context's error, and the request
// carries its deadline, shrunk by the margin.
func TestTransportRetryAfterAndDeadline(t *testing.T) {
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := RequestDeadline(r, 0, 0)
		if err != nil || !d.IsSet() {
			t.Errorf("deadline header %q: %v", r.Header.Get(DeadlineHeader), err)
		}
		seen.Store(int64(d.Remaining(0)))
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var waited time.Duration
	c := retryClient(srv.Client().Transport, &Transport{DeadlineMargin: time.Second,
		Policy:  RetryPolicy{Base: ms, Cap: 5 * time.Second, MaxAttempts: 3},
		OnRetry: func(_ int, w time.Duration, _ error) { waited = w; cancel() }})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if waited < 2*time.Second {
		t.Fatalf("waited %v, want ≥ Retry-After 2s", waited)
	}
	if r := time.Duration(seen.Load()); r <= 0 || r > time.Minute-time.Second {
		t.Fatalf("server saw %v remaining, want in (0, 59s]", r)
	}
}

// A stored response decodes within its bounds or is refused.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(encodeResponse(nil, 201, http.Header{"X-A": {"1", "2"}}, []byte("body")))
	f.Add([]byte{0xc9, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResponse(b)
		if err != nil {
			return
		}
		if r.status < 100 || r.status > 999 || len(r.header) > maxStoredHeaders {
			t.Fatalf("decoded %d with %d headers", r.status, len(r.header))
		}
	})
}

var _ = ordo.MaxKeyLen
