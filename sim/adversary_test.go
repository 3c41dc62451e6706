package sim_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/agreement/naive"
	"ordo/sim"
	"ordo/trace"
)

// naiveConfig is section 5's figure: three naive-agreement nodes proposing
// 5, 5, 7, node 1 Byzantine with b.
func naiveConfig(b sim.Behaviour, wire, auth bool) sim.Config {
	cfg := sim.Config{Protocol: naive.Protocol, Nodes: 3, Seed: 1, Trace: true, Wire: wire,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}, FIFO: true, Authenticated: auth}}
	if b != "" {
		cfg.Byzantine = []sim.Byzantine{{Node: 1, Behaviour: b, After: 50 * time.Millisecond}}
	}
	return cfg
}

// runTwice runs cfg twice for 500ms: the traces must be byte-identical
// (the adversary draws from the seed only).
func runTwice(t *testing.T, cfg sim.Config) *sim.Sim {
	t.Helper()
	s, a := runTrace(t, cfg, 500*time.Millisecond)
	_, b := runTrace(t, cfg, 500*time.Millisecond)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	if err := s.Trace().Validate(); err != nil {
		t.Fatalf("trace unsound: %v", err)
	}
	return s
}

func heard(s *sim.Sim, id ordo.NodeID) []string {
	return s.Node(id).(ordo.StateReporter).State().(naive.State).Heard
}

func lies(tr *trace.Trace) []trace.Event {
	var out []trace.Event
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == sim.NoteByzantine {
			out = append(out, e)
		}
	}
	return out
}

// decisions maps each node to the value it noted deciding.
func decisions(t *testing.T, tr *trace.Trace) map[ordo.NodeID]int64 {
	t.Helper()
	out := map[ordo.NodeID]int64{}
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == "decide" {
			v, _ := e.Attrs.Int("value")
			out[e.Node] = v
		}
	}
	return out
}

// The meta names the liars, so a checker can judge the correct nodes only.
func TestByzantineMeta(t *testing.T) {
	s := runTwice(t, naiveConfig(sim.Equivocate, true, true))
	if m := s.Trace().Meta; len(m.Byzantine) != 1 || m.Byzantine[0] != (trace.Liar{Node: 1, Behaviour: "equivocate"}) || !m.IsByzantine(1) || m.IsByzantine(2) {
		t.Fatalf("meta byzantine %+v", m.Byzantine)
	}
	s = runTwice(t, naiveConfig("", true, true))
	if m := s.Trace().Meta; len(m.Byzantine) != 0 || s.Stats().Byzantine != 0 || len(lies(s.Trace())) != 0 {
		t.Fatalf("an honest run has liars: %+v", m.Byzantine)
	}
}

// Equivocate (section 5's figure): node 1 tells node 2 "5" and node 3 "7"
// through Proposal.Equivocate, in wire mode and without it; one note per
// lie, none for the recipient told the truth; B and C decide differently.
func TestByzantineEquivocateSendsDifferentValues(t *testing.T) {
	for _, wire := range []bool{true, false} {
		s := runTwice(t, naiveConfig(sim.Equivocate, wire, true))
		if h2, h3 := heard(s, 2), heard(s, 3); !slices.Contains(h2, "n1=5") || !slices.Contains(h3, "n1=7") {
			t.Fatalf("wire %v: node 2 heard %v, node 3 heard %v; want n1=5 and n1=7", wire, h2, h3)
		}
		ls := lies(s.Trace())
		if len(ls) != 1 || s.Stats().Byzantine != 1 || s.Stats().ByzantineBy[sim.Equivocate] != 1 {
			t.Fatalf("wire %v: %d lie notes, stats %d %v; want 1", wire, len(ls), s.Stats().Byzantine, s.Stats().ByzantineBy)
		}
		l := ls[0]
		if to, _ := l.Attrs.Int("to"); to != 3 || l.Node != 1 || l.Attrs.Get("behaviour") != "equivocate" || !strings.Contains(l.Attrs.Get("sent").(string), "7") {
			t.Fatalf("wire %v: lie note %+v", wire, l)
		}
		// The note names the message it precedes.
		id, _ := l.Attrs.Int("msg")
		next := s.Trace().Events[l.ID+1]
		if next.Kind != trace.Send || next.Msg != uint64(id) || next.Peer != 3 {
			t.Fatalf("wire %v: the note names msg %d, the next event is %+v", wire, id, next)
		}
		if d := decisions(t, s.Trace()); d[2] != 5 || d[3] != 7 {
			t.Fatalf("wire %v: decisions %v, want node 2: 5, node 3: 7", wire, d)
		}
	}
}

// Equivocating about a message that does not implement Equivocator flips
// its bytes per recipient in wire mode: what each peer hears differs, and
// the MAC of an authenticated link passes (the liar seals its own lie).
func TestByzantineEquivocateFlipsBytes(t *testing.T) {
	p, _ := ordo.Lookup("broadcast")
	o, _ := p.Resolve(map[string]string{"messages": "20", "payload": "0"})
	cfg := sim.Config{Protocol: p, Options: o, Nodes: 3, Seed: 3, Trace: true, Wire: true,
		Network:   sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}, Authenticated: true},
		Byzantine: []sim.Byzantine{{Node: 1, Behaviour: sim.Equivocate}}}
	s := runTwice(t, cfg)
	st := s.Stats()
	if st.AuthFailed != 0 {
		t.Fatalf("%d lies failed authentication: a liar's own messages are authentic", st.AuthFailed)
	}
	if st.ByzantineBy[sim.Equivocate] != st.Kinds["value"].Sent {
		t.Fatalf("%d equivocations for %d values sent", st.ByzantineBy[sim.Equivocate], st.Kinds["value"].Sent)
	}
	altered := 0
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Note && e.Name == "deliver" && e.Node != 1 {
			seq, _ := e.Attrs.Int("seq")
			val, _ := e.Attrs.Int("value")
			if val != 1000+seq {
				altered++
			}
		}
	}
	if altered == 0 && st.Malformed == 0 {
		t.Fatal("no flipped message was delivered altered nor refused as malformed")
	}
}

// Silent: every message node 1 sends is dropped at the sender, named, and
// counted; the others decide at the timeout.
func TestByzantineSilentDropsEverything(t *testing.T) {
	s := runTwice(t, naiveConfig(sim.Silent, true, true))
	sent, dropped := 0, 0
	for _, e := range s.Trace().Events {
		switch {
		case e.Kind == trace.Send && e.Node == 1:
			sent++
		case e.Kind == trace.Drop && e.Node == 1 && e.Name == sim.DropSilent:
			dropped++
		case e.Kind == trace.Recv && e.Peer == 1:
			t.Fatalf("a silent node's message arrived: %+v", e)
		}
	}
	if sent != 2 || dropped != 2 || s.Stats().ByzantineBy[sim.Silent] != 2 {
		t.Fatalf("%d sent, %d dropped silent, stats %v; want 2, 2, 2", sent, dropped, s.Stats().ByzantineBy)
	}
	if d := decisions(t, s.Trace()); d[2] != 5 || d[3] != 5 {
		t.Fatalf("decisions %v: the tie breaks to 5 at both correct nodes", d)
	}
}

// Replay: each message is sent again After later, to the same recipient,
// as a new send that the note ties to the original; the receivers get it
// (a node's own old message is authentic) and the protocol ignores it.
func TestByzantineReplayResends(t *testing.T) {
	for _, wire := range []bool{true, false} {
		s := runTwice(t, naiveConfig(sim.Replay, wire, true))
		tr := s.Trace()
		ls := lies(tr)
		if len(ls) != 2 || s.Stats().ByzantineBy[sim.Replay] != 2 {
			t.Fatalf("wire %v: %d replay notes, stats %v; want 2", wire, len(ls), s.Stats().ByzantineBy)
		}
		for _, l := range ls {
			of, _ := l.Attrs.Int("of")
			orig := tr.Events[slices.IndexFunc(tr.Events, func(e trace.Event) bool { return e.Kind == trace.Send && e.Msg == uint64(of) })]
			again := tr.Events[l.ID+1]
			if again.Kind != trace.Send || again.Peer != orig.Peer || again.Msg == orig.Msg || again.Bytes != orig.Bytes || again.T-orig.T != int64(50*time.Millisecond) {
				t.Fatalf("wire %v: original %+v, replay %+v", wire, orig, again)
			}
			if !slices.ContainsFunc(tr.Events, func(e trace.Event) bool { return e.Kind == trace.Recv && e.Msg == again.Msg }) {
				t.Fatalf("wire %v: replayed message %d never arrived", wire, again.Msg)
			}
		}
		if s.Stats().AuthFailed != 0 || s.Stats().Kinds["proposal"].Sent != 8 {
			t.Fatalf("wire %v: %d auth failures, %d proposals sent (want 0, 6+2)", wire, s.Stats().AuthFailed, s.Stats().Kinds["proposal"].Sent)
		}
		if d := decisions(t, tr); d[2] != 5 || d[3] != 5 {
			t.Fatalf("wire %v: decisions %v", wire, d)
		}
	}
}

// Garbage: random bytes of the message's kind, which the receiver's
// decoder refuses and counts; the MAC passes (the liar sealed them).
func TestByzantineGarbageIsRefusedByTheDecoder(t *testing.T) {
	s := runTwice(t, naiveConfig(sim.Garbage, true, true))
	st := s.Stats()
	if st.Malformed != 2 || st.ByzantineBy[sim.Garbage] != 2 || st.AuthFailed != 0 {
		t.Fatalf("%d malformed, %d auth failures, lies %v; want 2 malformed", st.Malformed, st.AuthFailed, st.ByzantineBy)
	}
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Recv && e.Peer == 1 {
			t.Fatalf("garbage was delivered: %+v", e)
		}
	}
	if _, err := sim.New(naiveConfig(sim.Garbage, false, false)); err == nil || !strings.Contains(err.Error(), "wire mode") {
		t.Fatalf("garbage outside wire mode: %v", err)
	}
}

// Forge: node 1 claims to be another node. An authenticated link refuses
// it (the MAC is checked as from the claimed sender, whose key node 1 does
// not have; without wire mode the link refuses the claim at once); an
// unauthenticated one believes it, and the trace says who really sent it.
func TestByzantineForgedSenderRejectedOnAuthenticatedLinks(t *testing.T) {
	for _, wire := range []bool{true, false} {
		s := runTwice(t, naiveConfig(sim.Forge, wire, true))
		st := s.Stats()
		if st.AuthFailed != 2 || st.ByzantineBy[sim.Forge] != 2 {
			t.Fatalf("wire %v authenticated: %d auth failures, lies %v; want 2", wire, st.AuthFailed, st.ByzantineBy)
		}
		for _, e := range s.Trace().Events {
			if e.Kind == trace.Recv && e.Peer == 1 {
				t.Fatalf("wire %v: a forged message was delivered on an authenticated link: %+v", wire, e)
			}
		}
	}
	s := runTwice(t, naiveConfig(sim.Forge, true, false))
	if s.Stats().AuthFailed != 0 {
		t.Fatal("an unauthenticated link has no MAC to fail")
	}
	// Node 1 told node 3 it was node 2 (and node 2 it was node 3): each
	// believed it, and the real word of the impersonated node came second.
	if h := heard(s, 3); len(h) != 1 || h[0] != "n2=5" {
		t.Fatalf("node 3 heard %v, want the forged n2=5 only (node 1's own word never arrived as its own)", h)
	}
	found := false
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Recv && e.Node == 3 && e.Peer == 1 {
			c, _ := e.Attrs.Int("claimed_from")
			found = c == 2
		}
	}
	if !found {
		t.Fatal("the receive of the forged message does not record the sender it claimed")
	}
}

// Rate draws from the adversary's own source: some messages are lied
// about, not all, the same ones from the same seed; As names the claimed
// sender.
func TestByzantineRateAndConfig(t *testing.T) {
	p, _ := ordo.Lookup("broadcast")
	o, _ := p.Resolve(map[string]string{"messages": "40", "payload": "0"})
	cfg := sim.Config{Protocol: p, Options: o, Nodes: 3, Seed: 5, Trace: true, Wire: true,
		Network:   sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}},
		Byzantine: []sim.Byzantine{{Node: 1, Behaviour: sim.Silent, Rate: 0.5}}}
	s := runTwice(t, cfg)
	if n, sent := s.Stats().ByzantineBy[sim.Silent], s.Stats().Kinds["value"].Sent; n == 0 || n >= sent {
		t.Fatalf("rate 0.5: %d of %d values silenced", n, sent)
	}
	bad := []struct {
		b    []sim.Byzantine
		want string
	}{
		{[]sim.Byzantine{{Node: 4, Behaviour: sim.Silent}}, "out of range"},
		{[]sim.Byzantine{{Node: 1, Behaviour: "lie"}}, "unknown behaviour"},
		{[]sim.Byzantine{{Node: 1, Behaviour: sim.Silent}, {Node: 1, Behaviour: sim.Replay}}, "twice"},
		{[]sim.Byzantine{{Node: 1, Behaviour: sim.Silent, Rate: 2}}, "rate"},
		{[]sim.Byzantine{{Node: 1, Behaviour: sim.Forge, As: 1}}, "another node"},
	}
	for _, c := range bad {
		cfg := naiveConfig("", true, false)
		cfg.Byzantine = c.b
		if _, err := sim.New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.b, err, c.want)
		}
	}
}

// Stepping a run with liars one item at a time gives RunFor's trace: the
// replays are queue items like any other (the browser viewer steps runs).
func TestByzantineStepIsRunFor(t *testing.T) {
	cfg := naiveConfig("", true, false)
	cfg.Nodes = 4
	cfg.Byzantine = []sim.Byzantine{{Node: 1, Behaviour: sim.Replay, After: 30 * time.Millisecond}, {Node: 2, Behaviour: sim.Forge}, {Node: 3, Behaviour: sim.Equivocate, Rate: 0.5}}
	a, _ := runTrace(t, cfg, 500*time.Millisecond)
	b, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for {
		at, ok := b.Pending()
		if !ok || at > 500*time.Millisecond {
			break
		}
		if _, ok, err := b.Step(); !ok || err != nil {
			t.Fatalf("step: %v %v", ok, err)
		}
	}
	if traceJSON(t, a.Trace()) != traceJSON(t, b.Trace()) {
		t.Fatal("the stepped run differs from RunFor's")
	}
	if a.Stats().ByzantineBy[sim.Replay] == 0 || a.Stats().ByzantineBy[sim.Forge] == 0 {
		t.Fatalf("lies %v", a.Stats().ByzantineBy)
	}
}

// ballot is a vote for Value; a vote-for-everything node answers one with
// a ballot for Value and for Value+1 (sim.Voter).
type ballot struct{ Value int64 }

func (ballot) Kind() string { return "ballot" }
func (b ballot) VotesFor(*rand.Rand) []ordo.Message {
	return []ordo.Message{ballot{b.Value}, ballot{b.Value + 1}}
}

// ballotBox: node 1 sends ballot 5 to every peer twice; each node keeps
// what it got, by sender.
type ballotBox struct{ got map[ordo.NodeID][]int64 }

func (n *ballotBox) Start(env ordo.Env) {
	if env.ID() == 1 {
		for range 2 {
			for _, p := range env.Peers() {
				env.Send(p, ballot{5})
			}
		}
	}
}
func (n *ballotBox) Receive(_ ordo.Env, from ordo.NodeID, m ordo.Message) {
	n.got[from] = append(n.got[from], m.(ballot).Value)
}
func (*ballotBox) Fire(ordo.Env, ordo.Timer) {}

// vote-for-everything: node 2 runs the honest protocol (it sends nothing
// of its own) and answers the ballot it hears with the votes VotesFor
// names, 5 and 6, to every other server, once each although it heard the
// ballot twice; each vote is a "byzantine" note. In and out of wire mode,
// twice byte for byte. A message without VotesFor makes it cast nothing.
func TestByzantineVoteForEverything(t *testing.T) {
	for _, wire := range []bool{false, true} {
		boxes := map[ordo.NodeID]*ballotBox{}
		p := &ordo.Protocol{Name: "ballots", Messages: []ordo.Message{ballot{}},
			New: func(cfg ordo.Config) (ordo.Node, error) {
				b := &ballotBox{got: map[ordo.NodeID][]int64{}}
				boxes[cfg.ID] = b
				return b, nil
			}}
		cfg := sim.Config{Protocol: p, Nodes: 3, Seed: 1, Trace: true, Wire: wire,
			Network:   sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}, FIFO: true},
			Byzantine: []sim.Byzantine{{Node: 2, Behaviour: sim.VoteForEverything}}}
		s := runTwice(t, cfg)
		for _, to := range []ordo.NodeID{1, 3} {
			if got := boxes[to].got[2]; !slices.Equal(got, []int64{5, 6}) {
				t.Fatalf("wire %v: n%d got %v from the liar, want [5 6]", wire, to, got)
			}
		}
		if got := boxes[3].got[1]; !slices.Equal(got, []int64{5, 5}) {
			t.Fatalf("wire %v: n3 got %v from n1", wire, got)
		}
		if n := len(lies(s.Trace())); n != 4 || s.Stats().ByzantineBy[sim.VoteForEverything] != 4 {
			t.Fatalf("wire %v: %d lies noted, %d counted; want 4", wire, n, s.Stats().ByzantineBy[sim.VoteForEverything])
		}
	}
	// naive-agreement's proposals cast no votes: the liar is honest.
	s := runTwice(t, naiveConfig(sim.VoteForEverything, true, true))
	if n := len(lies(s.Trace())); n != 0 {
		t.Fatalf("%d lies about messages without VotesFor", n)
	}
}
