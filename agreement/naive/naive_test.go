package naive_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"ordo"
	"ordo/agreement/naive"
	"ordo/ordotest"
)

// The conformance kit (ordotest.Protocol): registration, codec round trips,
// fresh nodes, determinism in wire mode, no runtime imports.
func TestConformance(t *testing.T) { ordotest.Protocol(t, naive.Protocol) }

func node(t *testing.T, id ordo.NodeID, opts map[string]string) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env := ordotest.ForProtocol(naive.Protocol, id, ordo.NewRoster(3, 0, 0), 1)
	return env, env.NewNode(t, naive.Protocol, opts)
}

// Start proposes: one Proposal of the node's own value to every peer, and
// a timeout.
func TestStartProposesToEveryPeer(t *testing.T) {
	env, n := node(t, 3, nil)
	env.Start(n)
	env.WantSent(t, "proposal→n1", "proposal→n2")
	for _, to := range []ordo.NodeID{1, 2} {
		if m := env.SentTo(to); len(m) != 1 || m[0] != (naive.Proposal{Value: 7}) {
			t.Fatalf("sent to %v: %v, want node 3's value 7", to, m)
		}
	}
	if a := env.OneTimer(t, "timeout"); a.After != 100*time.Millisecond {
		t.Fatalf("timeout armed for %v", a.After)
	}
}

// Section 5's figure at C (node 3): it proposes 7 and hears 7 from the
// liar and 5 from B, so the majority of what it heard is 7. It decides as
// soon as every peer was heard, durably, once.
func TestDecidesTheMajorityOfWhatItHeard(t *testing.T) {
	env, n := node(t, 3, nil)
	env.Start(n)
	env.Receive(n, 1, naive.Proposal{Value: 7})
	if len(env.NotesOf("decide")) != 0 {
		t.Fatal("decided before hearing every peer")
	}
	env.Receive(n, 2, naive.Proposal{Value: 5})
	d := env.NotesOf("decide")
	if len(d) != 1 {
		t.Fatalf("notes %v", env.NoteKinds())
	}
	if v, _ := d[0].Int("value"); v != 7 {
		t.Fatalf("decided %d, want 7", v)
	}
	if !env.Wrote("naive/decided") {
		t.Fatal("the decision is not durable")
	}
	// A replay or a later word changes nothing.
	env.Receive(n, 2, naive.Proposal{Value: 9})
	if len(env.NotesOf("decide")) != 0 || len(env.Sent) != 0 {
		t.Fatal("a replayed word made the node decide or speak again")
	}
	env.Fire(n, ordo.Timer{Name: "timeout"})
	if len(env.NotesOf("decide")) != 0 {
		t.Fatal("decided twice")
	}
	// A restarted node keeps its decision and does not decide again.
	n2 := env.NewNode(t, naive.Protocol, nil)
	env.Start(n2)
	if len(env.TimersNamed("timeout")) != 0 || !n2.(ordo.StateReporter).State().(naive.State).Decided {
		t.Fatal("a restarted node forgot its decision")
	}
}

// The timeout decides with what was heard: a silent peer is a crash.
func TestTimeoutDecidesWithWhatWasHeard(t *testing.T) {
	env, n := node(t, 2, nil)
	env.Start(n)
	env.Receive(n, 3, naive.Proposal{Value: 7})
	env.Fire(n, ordo.Timer{Name: "timeout"})
	d := env.NotesOf("decide")
	if len(d) != 1 {
		t.Fatalf("notes %v", env.NoteKinds())
	}
	if v, _ := d[0].Int("value"); v != 5 {
		t.Fatalf("decided %d from {5, 7}, want 5 (a tie goes to the smaller)", v)
	}
}

func TestMajority(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want int64
	}{{[]int64{5}, 5}, {[]int64{5, 5, 7}, 5}, {[]int64{7, 7, 5}, 7}, {[]int64{7, 5}, 5}, {[]int64{9, 1, 9, 1, 3}, 1}, {[]int64{-2, 4, 4}, 4}} {
		if got := naive.Majority(c.in); got != c.want {
			t.Errorf("Majority(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// Equivocate is the chapter's lie: the truth to even-numbered nodes, the
// value plus 2 to odd ones, never modifying the message.
func TestEquivocate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := naive.Proposal{Value: 5}
	if p.Equivocate(2, r) != (naive.Proposal{Value: 5}) || p.Equivocate(3, r) != (naive.Proposal{Value: 7}) || p.Value != 5 {
		t.Fatal("want 5 to node 2 and 7 to node 3")
	}
}

func TestOptions(t *testing.T) {
	for _, bad := range []map[string]string{{"values": "5,x"}, {"values": ""}, {"timeout": "0s"}} {
		if _, err := naive.Protocol.New(ordo.Config{ID: 1, N: 3, Opts: resolve(t, bad), Proto: naive.Protocol}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// Nodes past the list repeat it.
	env := ordotest.ForProtocol(naive.Protocol, 4, ordo.NewRoster(4, 0, 0), 1)
	n := env.NewNode(t, naive.Protocol, map[string]string{"values": "1,2"})
	env.Start(n)
	if st := n.(ordo.StateReporter).State().(naive.State); st.Proposes != 2 {
		t.Fatalf("node 4 of values 1,2 proposes %d, want 2", st.Proposes)
	}
}

func resolve(t *testing.T, given map[string]string) ordo.Options {
	o, err := naive.Protocol.Resolve(given)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// FuzzDecode feeds arbitrary bytes to the protocol's decoder: refused or
// decoded without a panic, and what decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	c := naive.Protocol.Codec
	for _, v := range []int64{0, 5, 7, -1, 1 << 62} {
		b, err := c.Encode(naive.Proposal{Value: v})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := c.Decode("proposal", b)
		if err != nil {
			return
		}
		again, err := c.Encode(m)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x (%v)", b, m, again, err)
		}
	})
}
