package sim_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/broadcast"
	_ "ordo/detect"
	_ "ordo/election/raft"
	"ordo/sim"
	"ordo/trace"
)

func runTrace(t *testing.T, cfg sim.Config, d time.Duration) (*sim.Sim, []byte) {
	t.Helper()
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(d); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Trace().Write(&b); err != nil {
		t.Fatal(err)
	}
	return s, b.Bytes()
}

func raftConfig(seed uint64, wire bool) sim.Config {
	p, _ := ordo.Lookup("raft")
	return sim.Config{Protocol: p, Nodes: 5, Seed: seed, Trace: true, Wire: wire,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.05, Duplicate: 0.05}}}
}

// TestWireModeMatchesPlainRun: sizes come from the codec in both modes and
// encoding draws no randomness, so without tampering a wire-mode run is the
// very run of the plain mode, event for event, byte for byte; and a
// wire-mode run replays byte for byte from its seed.
func TestWireModeMatchesPlainRun(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		_, plain := runTrace(t, raftConfig(seed, false), 5*time.Second)
		s, wire := runTrace(t, raftConfig(seed, true), 5*time.Second)
		_, again := runTrace(t, raftConfig(seed, true), 5*time.Second)
		if !bytes.Equal(plain, wire) {
			t.Fatalf("seed %d: wire-mode trace differs from the plain run's (replay: go test ./sim -run TestWireModeMatchesPlainRun)", seed)
		}
		if !bytes.Equal(wire, again) {
			t.Fatalf("seed %d: two wire-mode runs differ", seed)
		}
		if s.Stats().Bytes == 0 || s.Stats().Malformed != 0 {
			t.Fatalf("seed %d: %d bytes, %d malformed", seed, s.Stats().Bytes, s.Stats().Malformed)
		}
	}
}

func tamperedBroadcast(auth bool) sim.Config {
	p, _ := ordo.Lookup("broadcast")
	o, _ := p.Resolve(map[string]string{"messages": "30", "payload": "0"})
	return sim.Config{Protocol: p, Options: o, Nodes: 4, Seed: 9, Trace: true, Wire: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Tamper: 0.3}, Authenticated: auth}}
}

// TestWireTamperingFlipsBytes: without authentication, flipped bits are
// delivered as other values or dropped as malformed; with it, the MAC
// catches every tampered message and nothing altered is delivered
// (section 1, fallacy 4).
func TestWireTamperingFlipsBytes(t *testing.T) {
	s, _ := runTrace(t, tamperedBroadcast(false), 5*time.Second)
	st := s.Stats()
	if st.Tampered == 0 || st.Malformed == 0 || st.Malformed >= st.Tampered {
		t.Fatalf("unauthenticated: %d tampered, %d malformed; want some of the tampered to decode and some not", st.Tampered, st.Malformed)
	}
	altered := 0
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Note && e.Name == "deliver" {
			seq, val := e.Attrs[0].Value, e.Attrs[1].Value
			if broadcast.ValueOf(int(toInt(seq))) != toInt(val) {
				altered++
			}
		}
	}
	if altered == 0 {
		t.Fatal("no altered value was delivered over unauthenticated links")
	}

	s, _ = runTrace(t, tamperedBroadcast(true), 5*time.Second)
	st = s.Stats()
	// Tampered messages still in flight when the run stops are not
	// counted yet: the MAC catches the others, and nothing is malformed.
	if st.Tampered == 0 || st.AuthFailed < st.Tampered*9/10 || st.AuthFailed > st.Tampered || st.Malformed != 0 {
		t.Fatalf("authenticated: %d tampered, %d failed the MAC, %d malformed; want every tampered message caught by the MAC", st.Tampered, st.AuthFailed, st.Malformed)
	}
	drops := 0
	for _, e := range s.Trace().Events {
		if e.Name == sim.DropAuthFailed {
			drops++
		}
		if e.Kind == trace.Note && e.Name == "deliver" && broadcast.ValueOf(int(toInt(e.Attrs[0].Value))) != toInt(e.Attrs[1].Value) {
			t.Fatalf("an altered value was delivered over authenticated links: %+v", e)
		}
	}
	if drops != st.AuthFailed {
		t.Fatalf("%d MAC drops in the trace, %d counted", drops, st.AuthFailed)
	}
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	case ordo.NodeID:
		return int64(x)
	}
	return -1
}

type unlisted struct{}

func (unlisted) Kind() string { return "unlisted" }

type sender struct{ send ordo.Message }

func (n sender) Start(env ordo.Env) {
	if env.ID() == 1 {
		env.Send(2, n.send)
	}
}
func (sender) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (sender) Fire(ordo.Env, ordo.Timer)                   {}

// TestWireModeCatchesWhatLiveWould: a protocol without Messages cannot run
// in wire mode, and a message missing from Messages panics at send (in
// both modes), naming the fix.
func TestWireModeCatchesWhatLiveWould(t *testing.T) {
	bare := &ordo.Protocol{Name: "bare", New: func(ordo.Config) (ordo.Node, error) { return sender{ping{}}, nil }}
	if _, err := sim.New(sim.Config{Protocol: bare, Nodes: 2, Wire: true}); err == nil || !strings.Contains(err.Error(), "lists no Messages") {
		t.Fatalf("wire mode without Messages: %v", err)
	}
	for _, wire := range []bool{false, true} {
		p := &ordo.Protocol{Name: "forgetful", Messages: []ordo.Message{ping{}},
			New: func(ordo.Config) (ordo.Node, error) { return sender{unlisted{}}, nil }}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "Protocol.Messages") {
					t.Fatalf("wire=%v: an unlisted message was sent (%v)", wire, r)
				}
			}()
			sim.New(sim.Config{Protocol: p, Nodes: 2, Wire: wire})
		}()
	}
}

type ping struct{ N int }

func (ping) Kind() string { return "ping" }

// BenchmarkHeartbeat5Wire is BenchmarkHeartbeat5 in wire mode: ns/op
// against that benchmark's is the cost of the bytes per event.
func BenchmarkHeartbeat5Wire(b *testing.B) {
	p, _ := ordo.Lookup("heartbeat")
	o, _ := p.Resolve(map[string]string{"interval": "100ms"})
	s, err := sim.New(sim.Config{Protocol: p, Options: o, Nodes: 5, Seed: 1, Wire: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}, MaxEvents: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.RunFor(time.Second); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	target := s.Stats().Events + int64(b.N)
	for s.Stats().Events < target {
		if err := s.RunFor(10 * time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRaftWire runs Raft elections (a crash every 4 s) plain and in
// wire mode: the ratio of the two is wire mode's cost on messages with
// fields.
func BenchmarkRaftWire(b *testing.B) {
	for _, wire := range []bool{false, true} {
		name := "plain"
		if wire {
			name = "wire"
		}
		b.Run(name, func(b *testing.B) {
			cfg := raftConfig(1, wire)
			cfg.Trace = false
			cfg.MaxEvents = 1 << 62
			s, err := sim.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			target := int64(b.N)
			for t := time.Duration(0); s.Stats().Events < target; t += 4 * time.Second {
				id := ordo.NodeID(1 + int(t/time.Second)%5)
				s.At(s.Now()+2*time.Second, func(s *sim.Sim) { s.Crash(id) })
				s.At(s.Now()+3*time.Second, func(s *sim.Sim) { s.Restart(id) })
				if err := s.RunFor(4 * time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
