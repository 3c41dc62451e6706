package transport

import (
	"sync"
	"testing"
	"time"

	"ordo"
)

// downs records OnPeerDown calls.
type downs struct {
	mu  sync.Mutex
	ids []ordo.NodeID
}

func (d *downs) add(id ordo.NodeID) {
	d.mu.Lock()
	d.ids = append(d.ids, id)
	d.mu.Unlock()
}

func (d *downs) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.ids)
}

func listenNode(t *testing.T, id ordo.NodeID, listen string, peers map[ordo.NodeID]string, d *downs) *Transport {
	t.Helper()
	codec, _ := NewCodec([]ordo.Message{ping{}})
	cfg := Config{ID: id, N: 2, Listen: listen, Peers: peers, Codec: codec,
		Deliver: func(Envelope, ordo.Message) {}}
	if d != nil {
		cfg.OnPeerDown = d.add
	}
	tr, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Reference: section 5, partial failure. A peer whose process is gone (its
// listener closed, the host up) is reported once per loss; a partition of
// the fault layer closes no connection and is never reported: only a
// timeout can find it.
func TestPeerDownOncePerLossNotOnPartition(t *testing.T) {
	a1, a2 := freeAddr(t), freeAddr(t)
	var d downs
	a := listenNode(t, 1, a1, map[ordo.NodeID]string{2: a2}, &d)
	defer a.Close()
	b := listenNode(t, 2, a2, map[ordo.NodeID]string{1: a1}, nil)
	waitFor(t, "connected", func() bool { return a.Peers()[0].Out && a.Peers()[0].In == 1 })

	// A partition both ways, at both ends: messages drop, nothing closes.
	a.SetFaults(Faults{BlockOut: []ordo.NodeID{2}, BlockIn: []ordo.NodeID{2}})
	b.SetFaults(Faults{BlockOut: []ordo.NodeID{1}, BlockIn: []ordo.NodeID{1}})
	time.Sleep(300 * time.Millisecond)
	if n := d.count(); n != 0 {
		t.Fatalf("%d PeerDown during a partition, want 0", n)
	}
	a.SetFaults(Faults{})

	// The peer's process goes: listener and connections close.
	start := time.Now()
	b.Close()
	waitFor(t, "PeerDown after the peer closed", func() bool { return d.count() == 1 })
	t.Logf("PeerDown %v after the close", time.Since(start))
	time.Sleep(600 * time.Millisecond) // several refused redials with backoff
	if n := d.count(); n != 1 {
		t.Fatalf("%d PeerDown for one loss, want 1", n)
	}

	// It comes back: the hint is re-armed and fires again on the next loss.
	b = listenNode(t, 2, a2, map[ordo.NodeID]string{1: a1}, nil)
	waitFor(t, "reconnected", func() bool { return a.Peers()[0].Out })
	b.Close()
	waitFor(t, "second PeerDown", func() bool { return d.count() == 2 })
}

// A peer that never answered gives no evidence of a process that died:
// refused dials to a node not started yet report nothing.
func TestNoPeerDownForAPeerNeverSeen(t *testing.T) {
	a1, a2 := freeAddr(t), freeAddr(t)
	var d downs
	a := listenNode(t, 1, a1, map[ordo.NodeID]string{2: a2}, &d)
	time.Sleep(300 * time.Millisecond)
	a.Close()
	if n := d.count(); n != 0 {
		t.Fatalf("%d PeerDown for a peer never connected", n)
	}
}
