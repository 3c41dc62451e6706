package sim

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"ordo"
)

// gossipMsg carries a rumour a few hops.
type gossipMsg struct {
	Val  int64
	Hops int
}

func (gossipMsg) Kind() string { return "gossip" }

// gossip is a test protocol that makes random choices everywhere: random
// tick periods, random peers, random forwarding, occasional notes and
// durable writes. Every choice comes from Env.Rand, so a run depends on the
// seed alone.
type gossip struct{ n int64 }

func (g *gossip) Start(env ordo.Env) {
	env.After(time.Duration(env.Rand().Int64N(int64(50*time.Millisecond))), ordo.Timer{Name: "tick"})
}

// WantsPeerDown: gossip takes crash hints, so the chaos runs carry them.
func (g *gossip) WantsPeerDown() bool { return true }

func (g *gossip) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if _, ok := m.(ordo.PeerDown); ok {
		env.Note("heard-down", "peer", int(from))
		return
	}
	msg := m.(gossipMsg)
	if msg.Val > g.n {
		g.n = msg.Val
	}
	if msg.Hops < 3 && env.Rand().IntN(2) == 0 {
		peers := env.Peers()
		env.Send(peers[env.Rand().IntN(len(peers))], gossipMsg{Val: g.n, Hops: msg.Hops + 1})
	}
}

func (g *gossip) Fire(env ordo.Env, t ordo.Timer) {
	g.n++
	peers := env.Peers()
	env.Send(peers[env.Rand().IntN(len(peers))], gossipMsg{Val: g.n})
	if env.Rand().IntN(10) == 0 {
		env.Note("rumour", "n", g.n, "local", env.Now().UnixNano())
		env.Store().Put("n", []byte{byte(g.n)})
	}
	env.After(time.Duration(20+env.Rand().IntN(60))*time.Millisecond, ordo.Timer{Name: "tick", Arg: g.n})
}

var gossipProto = &ordo.Protocol{Name: "gossip", New: func(ordo.Config) (ordo.Node, error) { return &gossip{}, nil }}

// chaosSim is a 5-node gossip cluster under every fault kind at once:
// jittery, lossy, duplicating, reordering links; drifting, NTP-synced
// clocks; a slow node; a crash, a pause, a partition, a clock jump, and the
// random nemesis on top.
func chaosSim(t testing.TB, seed uint64, tracing bool) *Sim {
	s, err := New(Config{
		Protocol: gossipProto, Nodes: 5, Seed: seed, Trace: tracing, Name: "chaos",
		Network: Network{Default: Link{Latency: Dist{Kind: Exponential, A: time.Millisecond, B: 3 * time.Millisecond}, Loss: 0.05, Duplicate: 0.05}},
		Clock:   ClockModel{DriftPPM: 50, NTPEvery: 500 * time.Millisecond, NTPError: 5 * time.Millisecond},
		ClockOf: map[ordo.NodeID]ClockModel{3: {Offset: 200 * time.Millisecond, DriftPPM: -100}},
		SpeedOf: map[ordo.NodeID]time.Duration{4: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.At(300*time.Millisecond, func(s *Sim) { s.Crash(2) })
	s.At(700*time.Millisecond, func(s *Sim) { _ = s.Restart(2) })
	s.At(400*time.Millisecond, func(s *Sim) { s.Pause(5) })
	s.At(650*time.Millisecond, func(s *Sim) { s.Resume(5) })
	s.At(800*time.Millisecond, func(s *Sim) { _ = s.Partition(ids(1, 2), ids(3, 4, 5)) })
	s.At(1100*time.Millisecond, func(s *Sim) { s.Heal() })
	s.At(900*time.Millisecond, func(s *Sim) { s.JumpClock(1, -300*time.Millisecond) })
	if err := s.StartNemesis(Nemesis{Start: 1200 * time.Millisecond, Stop: 2500 * time.Millisecond,
		Crash: 2, Partition: 2, Pause: 2, ClockJump: 2, Loss: 2, MeanDowntime: 150 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return s
}

func chaosTrace(t *testing.T, seed uint64) []byte {
	s := chaosSim(t, seed, true)
	if err := s.RunFor(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Trace().Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The determinism guarantee: same scenario and seed ⇒ byte-identical trace
// JSONL; another seed ⇒ a different run.
func TestDeterminismByteIdenticalTraces(t *testing.T) {
	a, b := chaosTrace(t, 1), chaosTrace(t, 1)
	if !bytes.Equal(a, b) {
		la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
		for i := range min(len(la), len(lb)) {
			if !bytes.Equal(la[i], lb[i]) {
				t.Fatalf("seed 1 run twice differs first at line %d:\n%s\n%s", i+1, la[i], lb[i])
			}
		}
		t.Fatalf("seed 1 run twice: %d vs %d bytes", len(a), len(b))
	}
	if c := chaosTrace(t, 2); bytes.Equal(a, c) {
		t.Fatal("seeds 1 and 2 gave the same trace")
	}
	if n := bytes.Count(a, []byte("\n")); n < 500 {
		t.Fatalf("only %d trace lines: the scenario exercises too little", n)
	}
	for _, want := range []string{`"kind":"crash"`, `"kind":"restart"`, `"kind":"pause"`, `"name":"partition"`, `"name":"clock-jump"`, `"name":"loss-burst"`, `"name":"loss"`, `"msg_kind":"peer-down"`} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("the chaos trace has no %s", want)
		}
	}
}

// stampSeed replays a randomized test: go test ./sim -run TestStampRules -sim.seed=N
var stampSeed = flag.Uint64("sim.seed", 0, "seed for the randomized simulator tests (0: the built-in seeds)")
