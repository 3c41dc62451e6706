package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// A batcher writes on its own keep-alive connection (batchconn.go). When
// the server has closed it meanwhile (its idle timeout, a restart), the
// next write goes again on a fresh connection inside the same attempt:
// no error, no second batch, and each write applied once.
func TestOwnConnectionClosedByTheServerIsRedialled(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := "http"
		if tlsOn {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			f := newFake(t, 0, "")
			var conns atomic.Int64
			f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			f.started(tlsOn)
			cfg := Config{Endpoints: []string{f.addr()}}
			if tlsOn {
				cfg.Endpoints = []string{f.srv.URL}
				cfg.TLS = f.srv.Client().Transport.(*http.Transport).TLSClientConfig
			}
			cl, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			for i := range 3 {
				if _, err := cl.Put(ctx, "k", "v"); err != nil {
					t.Fatalf("put %d: %v", i, err)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("3 puts in a row opened %d connections, want 1 kept alive", n)
			}
			f.srv.CloseClientConnections()
			for i := range 3 {
				if _, err := cl.Put(ctx, "k", "v"); err != nil {
					t.Fatalf("put %d after the server closed the connection: %v", i, err)
				}
			}
			if got := cl.BatchStats().Requests; got != 6 {
				t.Errorf("the batcher sent %d requests for 6 puts: the stale connection cost a retry of the whole attempt", got)
			}
			if got := f.writes.Load(); got != 6 {
				t.Errorf("the server applied %d writes, want 6", got)
			}
			for k, times := range f.seen {
				if times != 1 {
					t.Errorf("session %d seq %d applied %d times", k[0], k[1], times)
				}
			}
		})
	}
}

// A server that takes the request and never answers: the write ends at
// the client's deadline as outcome unknown (the request left), and the
// connection it hung on is not used again.
func TestOwnConnectionHungServerIsUnknown(t *testing.T) {
	f := newFakeServer(t, time.Second, "")
	cl, err := New(Config{Endpoints: []string{f.addr()}, AttemptTimeout: 100 * time.Millisecond, Timeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = cl.Put(context.Background(), "k", "v")
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("put to a server that never answers: %v, want ErrUnknown", err)
	}
	b := cl.batcherOf(cl.endpoints[0])
	if bc := b.takeConn(); bc != nil {
		t.Fatal("the connection of a timed-out exchange was kept for the next batch")
	}
}

// Nothing listens: no connection could be made, so nothing was sent and
// the write is unavailable, not unknown.
func TestOwnConnectionRefusedIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cl, err := New(Config{Endpoints: []string{addr}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Put(context.Background(), "k", "v"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("put with nothing listening: %v, want ErrUnavailable", err)
	}
}

// A long-lived client whose server went away while its batch connection
// sat idle: nothing reaches any server, so a put is unavailable (nothing
// changed), not of unknown outcome.
func TestOwnConnectionToAServerGoneIsUnavailable(t *testing.T) {
	f := newFakeServer(t, 0, "")
	cl, err := New(Config{Endpoints: []string{f.addr()}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Put(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	f.srv.Close() // closes the idle connection and the listener
	if _, err := cl.Put(context.Background(), "k", "v"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("put after the server went away: %v, want ErrUnavailable", err)
	}
}

// Many idle connections (BatchInflight > 1), all closed by the server:
// the next put skips every one of them (none carries a request to a dead
// end) and succeeds on a fresh one, as one request.
func TestOwnConnectionsAllClosedAreSkipped(t *testing.T) {
	f := newFakeServer(t, 10*time.Millisecond, "")
	cl, err := New(Config{Endpoints: []string{f.addr()}, BatchInflight: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	putMany(t, cl, 64)
	b := cl.batcherOf(cl.endpoints[0])
	b.mu.Lock()
	idle := len(b.idle)
	b.mu.Unlock()
	if idle < 2 {
		t.Fatalf("%d idle connections after 64 concurrent puts with BatchInflight 8: the test needs several", idle)
	}
	f.srv.CloseClientConnections()
	before, reqs := cl.BatchStats().Requests, f.requests.Load()
	if _, err := cl.Put(context.Background(), "k", "v"); err != nil {
		t.Fatalf("put after the server closed %d idle connections: %v", idle, err)
	}
	if got := cl.BatchStats().Requests - before; got != 1 {
		t.Errorf("the put took %d batcher requests, want 1", got)
	}
	if got := f.requests.Load() - reqs; got != 1 {
		t.Errorf("the server saw %d requests for one put, want 1", got)
	}
}

func TestDialAddrAddsTheSchemesPort(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1":      "127.0.0.1:80",
		"https://node-1.ordo":   "node-1.ordo:443",
		"http://127.0.0.1:2379": "127.0.0.1:2379",
		"https://[::1]":         "[::1]:443",
		"http://[::1]:9":        "[::1]:9",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := dialAddr(u); got != want {
			t.Errorf("dialAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
