package transport

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/clock"
)

// Section 1, fallacy 4 (the network is secure): a certificate proves which
// node speaks. Node 2's valid certificate, from the cluster's own CA,
// cannot speak as node 3: its hello is refused for the identity, and a
// message it sends after it never reaches the node. Node 3 itself, with
// its own certificate, is served.
func TestTLSPeerMustBeTheNodeItsCertificateNames(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDevCA(dir, 3); err != nil {
		t.Fatal(err)
	}
	codec, _ := ordo.NewCodec([]ordo.Message{ping{}})
	got := make(chan ordo.Message, 4)
	var mu sync.Mutex
	var reasons []string
	cfg := Config{ID: 1, N: 3, Listen: "127.0.0.1:0",
		// Peers that never answer: this test dials node 1 by hand.
		Peers: map[ordo.NodeID]string{2: freeAddr(t), 3: freeAddr(t)}, Codec: codec,
		Deliver: func(e Envelope, m ordo.Message) { got <- m },
		OnRefused: func(r string) {
			mu.Lock()
			reasons = append(reasons, r)
			mu.Unlock()
		}}
	var err error
	if cfg.TLS, err = LoadTLS(TLSFilesIn(dir, 1)); err != nil {
		t.Fatal(err)
	}
	tr, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	// speak dials node 1 with the certificate of node cert, says hello as
	// node claim and sends one ping of term.
	speak := func(cert, claim ordo.NodeID, term int) net.Conn {
		tc, err := LoadTLS(TLSFilesIn(dir, cert))
		if err != nil {
			t.Fatal(err)
		}
		tc.ServerName = NodeName(1)
		c, err := tls.Dial("tcp", tr.Addr().String(), tc)
		if err != nil {
			t.Fatal(err)
		}
		hello := Envelope{Version: Version, From: claim, To: 1, Kind: HelloKind}
		f, _ := hello.AppendFrame(nil)
		payload, _ := codec.Encode(ping{Term: term})
		msg := Envelope{Version: Version, From: claim, To: 1, Msg: 1, Kind: "ping", Vector: clock.Vector{0, 0, 1}, Payload: payload}
		f, _ = msg.AppendFrame(f)
		c.Write(f)
		return c
	}

	impostor := speak(2, 3, 66)
	defer impostor.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(reasons)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node 2's certificate claiming node 3 was not refused")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	if len(reasons) != 1 || reasons[0] != "tls identity" {
		t.Fatalf("refusals %q, want one for the tls identity", reasons)
	}
	mu.Unlock()

	// The real node 3 is served; the impostor's ping never arrived before
	// it (one connection's frames arrive in order, and the impostor's
	// connection was closed at its hello).
	real := speak(3, 3, 3)
	defer real.Close()
	select {
	case m := <-got:
		if m.(ping).Term != 3 {
			t.Fatalf("delivered %+v: the impostor's message got through", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the real node 3 was not served")
	}
	select {
	case m := <-got:
		t.Fatalf("delivered %+v after the real ping", m)
	default:
	}
}
