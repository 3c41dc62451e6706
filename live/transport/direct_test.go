package transport

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ordo/clock"
)

// Send writes a frame itself when its peer's queue is empty (sendDirect)
// and queues it otherwise. Two goroutines send at once (as a node's event
// loop and its store's syncer do) to a peer that has stopped reading:
// the socket fills, direct writes go short, and the rest of a frame must
// leave before any other. No Send may wait for the peer, every frame
// arrives whole and in each sender's order once the peer reads again,
// and what did not arrive was dropped with a reason. The same over TLS,
// where every frame goes through the queue.
func TestSendNeverWaitsAndKeepsOrderOnAFullSocket(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			dir := ""
			if tlsOn {
				dir = t.TempDir()
				if err := GenerateDevCA(dir, 2); err != nil {
					t.Fatal(err)
				}
			}
			p := newPairQueue(t, dir, 32)
			t.Cleanup(func() {
				// A failure leaves the receiver blocked in Deliver: read
				// while the transports close.
				done := make(chan struct{})
				go func() { p.a.Close(); p.b.Close(); close(done) }()
				for {
					select {
					case <-p.got:
					case <-done:
						return
					}
				}
			})
			waitConnected(t, p.a)
			const senders, each = 2, 300
			note := strings.Repeat("x", 48<<10) // 29 MB in all: more than a loopback socket and the queue hold
			var wg sync.WaitGroup
			var slowest time.Duration
			var mu sync.Mutex
			for s := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						payload, err := p.codec.Encode(ping{Term: s*each + i, Note: note})
						if err != nil {
							t.Error(err)
							return
						}
						start := time.Now()
						err = p.a.Send(Envelope{From: 1, To: 2, Msg: uint64(s*each + i + 1), Kind: "ping", Vector: clock.Vector{1, 0}, Payload: payload})
						took := time.Since(start)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						slowest = max(slowest, took)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			// The writer's write deadline is writeTimeout: a Send that
			// waited for the stopped peer would take at least that.
			if slowest >= writeTimeout {
				t.Fatalf("a Send took %v: it waited for a peer that does not read", slowest)
			}
			dropped := func() int {
				p.mu.Lock()
				defer p.mu.Unlock()
				return len(p.drops)
			}
			if dropped() == 0 {
				t.Fatal("nothing was dropped: the peer's socket and queue never filled, the test proves nothing")
			}
			// The peer reads again: drain until every frame is accounted for.
			next := make([]int, senders)
			got := 0
			deadline := time.After(30 * time.Second)
			for got+dropped() < senders*each {
				select {
				case m := <-p.got:
					pm := m.(ping)
					s, i := pm.Term/each, pm.Term%each
					if i < next[s] {
						t.Fatalf("sender %d: message %d after %d", s, i, next[s]-1)
					}
					if len(pm.Note) != len(note) {
						t.Fatalf("message %d of sender %d has a note of %d bytes, sent %d", i, s, len(pm.Note), len(note))
					}
					next[s] = i + 1
					got++
				case <-deadline:
					t.Fatalf("%d delivered + %d dropped of %d sent after 30s", got, dropped(), senders*each)
				}
			}
			if n := p.refuse.Load(); n != 0 {
				t.Fatalf("the receiver refused %d connections or frames: a frame was cut or interleaved", n)
			}
			p.mu.Lock()
			for _, d := range p.drops {
				if d.Reason != ReasonQueueFull && d.Reason != ReasonConnLost {
					t.Errorf("drop for %q", d.Reason)
				}
			}
			p.mu.Unlock()
			if got == 0 {
				t.Fatal("nothing arrived")
			}
			// And the connection still carries frames (direct again).
			p.send(t, 1<<20)
			for {
				select {
				case m := <-p.got:
					if m.(ping).Term == 1<<20 {
						return
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a message after the flood did not arrive")
				}
			}
		})
	}
}

// A frame held back by a delay fault when its connection breaks is lost
// with it: reported dropped, and no longer counted as queued (a count
// left behind would turn direct sends off for that peer for good).
func TestHeldFrameLostWithItsConnection(t *testing.T) {
	p := newPair(t, "")
	waitConnected(t, p.a)
	if err := p.a.SetFaults(Faults{Delay: Duration(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	p.send(t, 1)
	pe := p.a.peers[2]
	waitFor(t, "the writer to hold the frame", func() bool { return len(pe.q) == 0 && pe.queued.Load() == 1 })
	p.b.Close() // the connection breaks while the writer waits out the delay
	waitFor(t, "the held frame's drop", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.drops) == 1 && p.drops[0].Reason == ReasonConnLost && p.drops[0].Msg == 1
	})
	waitFor(t, "the queued count to return to 0", func() bool { return pe.queued.Load() == 0 })
}
