package transport

import (
	"crypto/tls"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ordo"
	"ordo/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type pair struct {
	a, b   *Transport
	got    chan ordo.Message
	refuse atomic.Int32
	codec  *ordo.Codec
	mu     sync.Mutex
	drops  []Dropped
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newPair starts transports of nodes 1 and 2; messages 1→2 arrive on got.
func newPair(t *testing.T, tlsDir string) *pair { return newPairQueue(t, tlsDir, 0) }

// newPairQueue is newPair with each peer's send queue bounded by queueLen
// (0: the default).
func newPairQueue(t *testing.T, tlsDir string, queueLen int) *pair {
	t.Helper()
	codec, _ := ordo.NewCodec([]ordo.Message{ping{}})
	p := &pair{got: make(chan ordo.Message, 16), codec: codec}
	a1, a2 := freeAddr(t), freeAddr(t)
	mk := func(id ordo.NodeID, listen string, peers map[ordo.NodeID]string) *Transport {
		cfg := Config{ID: id, N: 2, Listen: listen, Peers: peers, Codec: codec, QueueLen: queueLen,
			Deliver:   func(e Envelope, m ordo.Message) { p.got <- m },
			OnRefused: func(string) { p.refuse.Add(1) },
			OnDrop: func(d Dropped) {
				p.mu.Lock()
				p.drops = append(p.drops, d)
				p.mu.Unlock()
			}}
		if tlsDir != "" {
			c, err := LoadTLS(TLSFilesIn(tlsDir, id))
			if err != nil {
				t.Fatal(err)
			}
			cfg.TLS = c
		}
		tr, err := Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	p.a = mk(1, a1, map[ordo.NodeID]string{2: a2})
	p.b = mk(2, a2, map[ordo.NodeID]string{1: a1})
	return p
}

func (p *pair) send(t *testing.T, term int) {
	t.Helper()
	payload, err := p.codec.Encode(ping{Term: term})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.a.Send(Envelope{From: 1, To: 2, Msg: uint64(term), Kind: "ping", Vector: clock.Vector{1, 0}, Payload: payload}); err != nil {
		t.Fatal(err)
	}
}

func waitConnected(t *testing.T, tr *Transport) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if tr.Peers()[0].Out {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("peers did not connect within 5s")
}

func expect(t *testing.T, p *pair, term int) {
	t.Helper()
	select {
	case m := <-p.got:
		if m.(ping).Term != term {
			t.Fatalf("got term %d, want %d", m.(ping).Term, term)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("message %d did not arrive", term)
	}
}

func TestDeliversAndPartitions(t *testing.T) {
	p := newPair(t, "")
	waitConnected(t, p.a)
	p.send(t, 1)
	expect(t, p, 1)

	// One-way partition at the sender: dropped there, counted with a reason.
	if err := p.a.SetFaults(Faults{BlockOut: []ordo.NodeID{2}}); err != nil {
		t.Fatal(err)
	}
	p.send(t, 2)
	// Inbound block at the receiver; settled once the receiver dropped it.
	p.a.SetFaults(Faults{})
	p.b.SetFaults(Faults{BlockIn: []ordo.NodeID{1}})
	p.send(t, 3)
	waitFor(t, "the inbound drop", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.drops) == 2
	})
	p.mu.Lock()
	if p.drops[0].Reason != ReasonPartitionOut || p.drops[1].Reason != ReasonPartitionIn {
		t.Fatalf("drops: %+v, want one blocked outbound then one blocked inbound", p.drops)
	}
	p.mu.Unlock()
	// Delay holds the sender's frames back.
	const delay = 30 * time.Millisecond
	p.b.SetFaults(Faults{})
	p.a.SetFaults(Faults{Delay: Duration(delay)})
	start := time.Now()
	p.send(t, 4)
	expect(t, p, 4)
	// Only the lower bound is behaviour (the fault held the frame back);
	// an upper bound would assert the machine's speed.
	if took := time.Since(start); took < delay {
		t.Fatalf("a message delayed by %v arrived after %v", delay, took)
	}
	if err := p.a.SetFaults(Faults{BlockOut: []ordo.NodeID{1}}); err == nil {
		t.Fatal("blocking oneself was accepted")
	}
	if err := p.a.SetFaults(Faults{Loss: 1.5}); err == nil {
		t.Fatal("loss 1.5 was accepted")
	}
}

func TestBadFrameClosesOnlyThatConnection(t *testing.T) {
	p := newPair(t, "")
	waitConnected(t, p.a)
	c, err := net.Dial("tcp", p.b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hello := Envelope{From: 1, To: 2, Kind: HelloKind}
	f, _ := hello.AppendFrame(nil)
	c.Write(f)
	c.Write([]byte{0, 0, 0, 5, 1, 0xff, 0xff, 0xff, 0xff}) // a broken varint
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection with an undecodable frame was not closed")
	}
	if p.refuse.Load() == 0 {
		t.Fatal("refusal not counted")
	}
	// The node is unharmed: its real peer still gets through.
	p.send(t, 7)
	expect(t, p, 7)
}

// TestMalformedPayloadIsRejectedAndCounted: a sound frame whose payload
// does not decode is dropped with its reason, never delivered, and the
// connection carries on.
func TestMalformedPayloadIsRejectedAndCounted(t *testing.T) {
	p := newPair(t, "")
	waitConnected(t, p.a)
	good, _ := p.codec.Encode(ping{Term: 8, Note: "n"})
	for _, bad := range [][]byte{good[:len(good)-1], append(append([]byte{}, good...), 0), {0x80, 0x00, 0}} {
		if err := p.a.Send(Envelope{From: 1, To: 2, Msg: 9, Kind: "ping", Vector: clock.Vector{1, 0}, Payload: bad}); err != nil {
			t.Fatal(err)
		}
	}
	p.send(t, 8)
	expect(t, p, 8) // the first thing delivered: nothing malformed got through
	p.mu.Lock()
	defer p.mu.Unlock()
	var reasons []string
	for _, d := range p.drops {
		reasons = append(reasons, d.Reason)
	}
	want := []string{ReasonRejected + ordo.ReasonTruncated, ReasonRejected + ordo.ReasonTrailing, ReasonRejected + ordo.ReasonInvalid}
	if !slices.Equal(reasons, want) {
		t.Fatalf("drops %q, want %q", reasons, want)
	}
}

func TestTLSRefusesPeersWithoutValidCertificate(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDevCA(dir, 3); err != nil {
		t.Fatal(err)
	}
	p := newPair(t, dir)
	waitConnected(t, p.a)
	p.send(t, 1)
	expect(t, p, 1)
	addr := p.b.Addr().String()

	// 1. Plain TCP, no TLS at all: the handshake fails, nothing is read.
	before := p.refuse.Load()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hello := Envelope{From: 1, To: 2, Kind: HelloKind}
	f, _ := hello.AppendFrame(nil)
	c.Write(f)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	c.Read(make([]byte, 64))
	c.Close()
	waitRefused(t, p, before)

	// 2. TLS without a client certificate.
	before = p.refuse.Load()
	ca, _ := LoadTLS(TLSFilesIn(dir, 1))
	noCert := &tls.Config{RootCAs: ca.RootCAs, ServerName: NodeName(2), MinVersion: tls.VersionTLS13}
	if tc, err := tls.Dial("tcp", addr, noCert); err == nil {
		tc.Write(f)
		tc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Fatal("a client without a certificate was served")
		}
		tc.Close()
	}
	waitRefused(t, p, before)

	// 3. A certificate from another CA.
	other := t.TempDir()
	GenerateDevCA(other, 2)
	foreign, _ := LoadTLS(TLSFilesIn(other, 1))
	foreign.RootCAs = ca.RootCAs
	foreign.ServerName = NodeName(2)
	before = p.refuse.Load()
	if tc, err := tls.Dial("tcp", addr, foreign); err == nil {
		tc.Write(f)
		tc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Fatal("a client with a foreign certificate was served")
		}
		tc.Close()
	}
	waitRefused(t, p, before)

	// 4. A valid certificate of node 3 claiming to be node 1.
	n3, _ := LoadTLS(TLSFilesIn(dir, 3))
	n3.ServerName = NodeName(2)
	before = p.refuse.Load()
	tc, err := tls.Dial("tcp", addr, n3)
	if err != nil {
		t.Fatal(err)
	}
	tc.Write(f)
	tc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := tc.Read(make([]byte, 1)); err == nil {
		t.Fatal("an impostor was served")
	}
	tc.Close()
	waitRefused(t, p, before)

	// The real peer is unharmed.
	p.send(t, 2)
	expect(t, p, 2)
}

func waitRefused(t *testing.T, p *pair, before int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.refuse.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("connection was not refused")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
