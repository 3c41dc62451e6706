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
	// The operation's deadline (20 s) comes before the attempt's (1 min):
	// the put succeeds only if the paused server's attempt was given up
	// at the connect bound — no clock is read here.
	cfg := Config{
		Endpoints:      []string{hung, f.addr()},
		TLS:            &tls.Config{RootCAs: pool},
		Timeout:        20 * time.Second,
		AttemptTimeout: time.Minute,
		ConnectTimeout: 200 * time.Millisecond,
	}
	cl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Put(context.Background(), "k", "v"); err != nil {
		t.Fatalf("put with the first server paused: %v (the paused server held the attempt past the operation's deadline)", err)
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
