package client

import (
	"context"
	"errors"
	"net"
	"net/http"
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
