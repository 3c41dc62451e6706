package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"ordo/coord/coordtest"
)

// A paused server is given up when its TLS handshake does not come
// within ConnectTimeout, not after the whole AttemptTimeout: a put whose
// first server is paused goes to the next (ordo kv put took 2 s when the
// paused leader came first). And a write no server received is
// unavailable, not of unknown outcome: a failed handshake sent nothing.
func TestPausedServerGivenUpAtConnect(t *testing.T) {
	f := newFake(t, 0, "").started(true)
	pool := x509.NewCertPool()
	pool.AddCert(f.srv.Certificate())
	// Accepts connections and never says a word: a paused server, whose
	// kernel still completes the TCP handshake.
	hung := strings.TrimPrefix(coordtest.SilentEndpoint(t), "http://")
	cfg := Config{
		Endpoints:      []string{hung, f.addr()},
		TLS:            &tls.Config{RootCAs: pool},
		Timeout:        30 * time.Second,
		AttemptTimeout: 10 * time.Second,
		ConnectTimeout: 200 * time.Millisecond,
	}
	cl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	start := time.Now()
	if _, err := cl.Put(context.Background(), "k", "v"); err != nil {
		t.Fatalf("put with the first server paused: %v", err)
	}
	// Not a timing claim: 10 s is the attempt bound the connect bound
	// must have cut short (it takes ConnectTimeout, give or take).
	if took := time.Since(start); took >= cfg.AttemptTimeout {
		t.Fatalf("put took %v: the paused server held the attempt for its whole AttemptTimeout", took)
	}

	// Unbatched: a batched write whose deadline ends while its batch is
	// out cannot know whether the batch was written, and says unknown.
	cfg.Endpoints, cfg.Timeout, cfg.Unbatched = []string{hung}, 2*time.Second, true
	only, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer only.Close()
	_, err = only.Put(context.Background(), "k", "v")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("put to a paused server alone: %v, want ErrUnavailable (no handshake, nothing sent)", err)
	}
}
