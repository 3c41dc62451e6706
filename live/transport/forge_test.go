package transport

import (
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/clock"
)

// A Byzantine node's forge (SendForged): node 2 sends node 1 a message
// claiming node 3 over a connection of its own; node 1 refuses the
// connection for the TLS identity and delivers nothing.
func TestSendForgedIsRefusedByMutualTLS(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDevCA(dir, 3); err != nil {
		t.Fatal(err)
	}
	codec, _ := ordo.NewCodec([]ordo.Message{ping{}})
	a1, a2, a3 := freeAddr(t), freeAddr(t), freeAddr(t)
	got := make(chan ordo.Message, 4)
	refused := make(chan string, 4)
	var mu sync.Mutex
	var drops []Dropped
	node := func(id ordo.NodeID, listen string, peers map[ordo.NodeID]string) *Transport {
		cfg := Config{ID: id, N: 3, Listen: listen, Peers: peers, Codec: codec,
			Deliver:   func(e Envelope, m ordo.Message) { got <- m },
			OnRefused: func(r string) { refused <- r },
			OnDrop: func(d Dropped) {
				mu.Lock()
				drops = append(drops, d)
				mu.Unlock()
			},
			OnTraffic: func(Direction, string, int) {}}
		var err error
		if cfg.TLS, err = LoadTLS(TLSFilesIn(dir, id)); err != nil {
			t.Fatal(err)
		}
		tr, err := Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	node(1, a1, map[ordo.NodeID]string{2: a2, 3: a3})
	t2 := node(2, a2, map[ordo.NodeID]string{1: a1, 3: a3})
	payload, _ := codec.Encode(ping{Term: 7})
	if err := t2.SendForged(Envelope{To: 1, Msg: 1, Kind: "ping", Vector: clock.Vector{0, 1, 0}, Payload: payload}, 3); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-refused:
		if r != "tls identity" {
			t.Fatalf("refused for %q, want tls identity", r)
		}
	case <-time.After(5 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the forged connection was not refused (drops %+v)", drops)
	}
	select {
	case m := <-got:
		t.Fatalf("the forged message was delivered: %+v", m)
	case <-time.After(200 * time.Millisecond):
	}

	// The liar's own network faults apply to its forgeries: cut from
	// node 1, node 2 forges to it nothing (dropped, partition), and node
	// 1 sees no connection to refuse.
	if err := t2.SetFaults(Faults{BlockOut: []ordo.NodeID{1}}); err != nil {
		t.Fatal(err)
	}
	if err := t2.SendForged(Envelope{To: 1, Msg: 2, Kind: "ping", Vector: clock.Vector{0, 2, 0}, Payload: payload}, 3); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	var last Dropped
	if len(drops) > 0 {
		last = drops[len(drops)-1]
	}
	mu.Unlock()
	if last.Msg != 2 || last.Reason != ReasonPartitionOut || last.From != 2 {
		t.Fatalf("a forgery across the liar's own cut: last drop %+v, want msg 2 dropped for the partition", last)
	}
	select {
	case r := <-refused:
		t.Fatalf("a forgery crossed the liar's cut and was refused (%s)", r)
	case <-time.After(200 * time.Millisecond):
	}
}
