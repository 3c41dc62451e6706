package transport

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"ordo"
)

// A process with no certificate that holds idle connections to a node's
// peer port — more than the node's inbound slots, reconnecting each one
// the node closes — does not keep a restarted peer out: a new connection
// closes the oldest one that has sent nothing (a peer's TLS client hello
// leaves at once). Before, the slots were full, a restarted replica was
// refused ("too many connections") for as long as the flood lasted, and
// the cluster could not make a quorum (a fresh user's trial: 64 idle
// connections a port).
func TestIdleConnectionFloodDoesNotKeepAPeerOut(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDevCA(dir, 2); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, dir)
	waitConnected(t, p.a)
	p.send(t, 1)
	expect(t, p, 1)
	target := p.b.Addr().String()
	a1 := p.a.ln.Addr().String()

	// The flood: 40 idle connections (node 2 has 4·2+8 = 16 slots), each
	// dialled again at once when the node closes it, until the test ends.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.DialTimeout("tcp", target, time.Second)
				if err != nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				done := make(chan struct{})
				go func() { c.Read(make([]byte, 1)); close(done) }() // returns when the node closes it
				select {
				case <-stop:
				case <-done:
				}
				c.Close()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(200 * time.Millisecond) // the slots are full

	// Node 1 restarts: a new transport on the same address.
	p.a.Close()
	cfg := Config{ID: 1, N: 2, Listen: a1, Peers: map[ordo.NodeID]string{2: target}, Codec: p.codec,
		Deliver: func(Envelope, ordo.Message) {}}
	c, err := LoadTLS(TLSFilesIn(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = c
	again, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	p.a = again
	waitConnected(t, again)
	p.send(t, 2)
	expect(t, p, 2)
}

// A peer with a certificate (a Byzantine replica has one) cannot fill the
// slots either: it keeps at most maxInboundPerPeer authenticated inbound
// connections, a newer one closing its oldest, and its messages still
// arrive.
func TestOnePeersConnectionsAreBounded(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDevCA(dir, 2); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, dir)
	waitConnected(t, p.a)
	addr := p.b.Addr().String()
	n1, err := LoadTLS(TLSFilesIn(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	n1.ServerName = NodeName(2)
	h := Envelope{From: 1, To: 2, Kind: HelloKind}
	hello, _ := h.AppendFrame(nil)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 20 { // more than the 16 slots
		c, err := tls.Dial("tcp", addr, n1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(hello); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		in := p.b.Peers()[0].In
		if in <= maxInboundPerPeer {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 1 holds %d inbound connections at node 2, want at most %d", in, maxInboundPerPeer)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Node 1's own connection was one of them (the same identity): it
	// dials again, and its messages arrive (those sent on a connection
	// being closed are lost, as on any lost connection).
	for term := 1; ; term++ {
		if term > 50 {
			t.Fatal("no message of node 1 arrived at node 2")
		}
		p.send(t, term)
		select {
		case <-p.got:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
