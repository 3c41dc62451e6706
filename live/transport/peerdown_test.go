package transport

import (
	"strings"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/clock"
	"ordo/internal/poll"
)

// downs records OnPeerDown calls, deliveries and drops of one node.
type downs struct {
	mu        sync.Mutex
	ids       []ordo.NodeID
	delivered int
	drops     map[string]int // by reason
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

func (d *downs) deliveries() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delivered
}

func (d *downs) dropped(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drops[reason]
}

func listenNode(t *testing.T, id ordo.NodeID, listen string, peers map[ordo.NodeID]string, d *downs) *Transport {
	t.Helper()
	codec, _ := ordo.NewCodec([]ordo.Message{ping{}})
	cfg := Config{ID: id, N: 2, Listen: listen, Peers: peers, Codec: codec,
		Deliver: func(Envelope, ordo.Message) {}}
	if d != nil {
		cfg.OnPeerDown = d.add
		cfg.Deliver = func(Envelope, ordo.Message) {
			d.mu.Lock()
			d.delivered++
			d.mu.Unlock()
		}
		cfg.OnDrop = func(x Dropped) {
			d.mu.Lock()
			if d.drops == nil {
				d.drops = map[string]int{}
			}
			d.drops[x.Reason]++
			d.mu.Unlock()
		}
	}
	tr, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// sendPing sends one ping from tr (node from) to its only peer.
func sendPing(t *testing.T, tr *Transport, from, to ordo.NodeID, n int) {
	t.Helper()
	v := clock.Vector{0, 0}
	v[from-1] = uint64(n)
	if err := tr.Send(Envelope{From: from, To: to, Msg: uint64(n), Kind: "ping", Vector: v, Payload: []byte{2, 0}}); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits for a condition, never for a fixed time (package poll).
var waitFor = poll.Until

// Reference: section 5, partial failure. A peer whose process is gone (its
// listener closed, the host up) is reported once per loss; a partition of
// the fault layer closes no connection and is never reported: only a
// timeout can find it.
func TestPeerDownOncePerLossNotOnPartition(t *testing.T) {
	a1, a2 := freeAddr(t), freeAddr(t)
	var d, db downs
	a := listenNode(t, 1, a1, map[ordo.NodeID]string{2: a2}, &d)
	defer a.Close()
	b := listenNode(t, 2, a2, map[ordo.NodeID]string{1: a1}, &db)
	waitFor(t, "connected", func() bool { return a.Peers()[0].Out && a.Peers()[0].In == 1 })

	// A partition both ways, at both ends: messages drop, nothing closes.
	// Settled when each side has seen its own ping dropped by the fault
	// layer, and after the heal a ping each way arrives on the
	// connections the partition left open.
	a.SetFaults(Faults{BlockOut: []ordo.NodeID{2}, BlockIn: []ordo.NodeID{2}})
	b.SetFaults(Faults{BlockOut: []ordo.NodeID{1}, BlockIn: []ordo.NodeID{1}})
	sendPing(t, a, 1, 2, 1)
	sendPing(t, b, 2, 1, 1)
	waitFor(t, "pings dropped by the partition", func() bool {
		return d.dropped(ReasonPartitionOut) == 1 && db.dropped(ReasonPartitionOut) == 1
	})
	a.SetFaults(Faults{})
	b.SetFaults(Faults{})
	if p := a.Peers()[0]; !p.Out || p.In != 1 {
		t.Fatalf("the partition closed a connection: %+v", p)
	}
	sendPing(t, a, 1, 2, 2)
	sendPing(t, b, 2, 1, 2)
	waitFor(t, "pings after the heal", func() bool { return d.deliveries() == 1 && db.deliveries() == 1 })
	if n := d.count(); n != 0 {
		t.Fatalf("%d PeerDown for a partition, want 0", n)
	}

	// The peer's process goes: listener and connections close. a redials
	// with backoff and is refused again and again; only the peer's return
	// (a new connection) settles that, and until then one hint in all.
	start := time.Now()
	b.Close()
	waitFor(t, "PeerDown after the peer closed", func() bool { return d.count() == 1 })
	t.Logf("PeerDown %v after the close", time.Since(start))
	waitFor(t, "a refused redial", func() bool { return strings.Contains(a.Peers()[0].LastError, "refused") })
	b = listenNode(t, 2, a2, map[ordo.NodeID]string{1: a1}, nil)
	waitFor(t, "reconnected", func() bool { return a.Peers()[0].Out })
	if n := d.count(); n != 1 {
		t.Fatalf("%d PeerDown for one loss, want 1", n)
	}

	// The hint was re-armed by the new connection and fires on the next
	// loss, once again.
	b.Close()
	waitFor(t, "second PeerDown", func() bool { return d.count() == 2 })
	b = listenNode(t, 2, a2, map[ordo.NodeID]string{1: a1}, nil)
	defer b.Close()
	waitFor(t, "reconnected again", func() bool { return a.Peers()[0].Out })
	if n := d.count(); n != 2 {
		t.Fatalf("%d PeerDown for two losses, want 2", n)
	}
}

// A peer that never answered gives no evidence of a process that died:
// refused dials to a node not started yet report nothing.
func TestNoPeerDownForAPeerNeverSeen(t *testing.T) {
	a1, a2 := freeAddr(t), freeAddr(t)
	var d downs
	a := listenNode(t, 1, a1, map[ordo.NodeID]string{2: a2}, &d)
	defer a.Close()
	// Settled once a dial has been refused: that is when a hint would fire.
	waitFor(t, "a refused dial", func() bool { return strings.Contains(a.Peers()[0].LastError, "refused") })
	if n := d.count(); n != 0 {
		t.Fatalf("%d PeerDown for a peer never connected", n)
	}
}
