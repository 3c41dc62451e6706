package sim_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ordo/sim"
	"ordo/trace"
)

// withAuth is cfg with its links authenticated by mode.
func withAuth(cfg sim.Config, mode string) sim.Config {
	cfg.Network.Authenticated = true
	cfg.Network.Auth = mode
	return cfg
}

// drops counts the trace's drops named why.
func drops(tr *trace.Trace, why string) int {
	n := 0
	for _, e := range tr.Events {
		if e.Kind == trace.Drop && e.Name == why {
			n++
		}
	}
	return n
}

// A forged sender fails the check under both variants: the per-pair MAC
// (the forger lacks the claimed sender's pair key) and the signature (it
// lacks the claimed sender's private key); counted and named alike, and
// nothing forged is delivered.
func TestAuthForgeRejectedUnderBothVariants(t *testing.T) {
	for _, mode := range sim.AuthModes {
		s := runTwice(t, withAuth(naiveConfig(sim.Forge, true, true), mode))
		st := s.Stats()
		if st.AuthFailed != 2 || st.ByzantineBy[sim.Forge] != 2 || st.Malformed != 0 {
			t.Fatalf("%s: %d auth failures, %d malformed, lies %v; want 2 auth failures", mode, st.AuthFailed, st.Malformed, st.ByzantineBy)
		}
		if n := drops(s.Trace(), sim.DropAuthFailed); n != 2 {
			t.Fatalf("%s: %d drops %q in the trace, want 2", mode, n, sim.DropAuthFailed)
		}
		for _, e := range s.Trace().Events {
			if e.Kind == trace.Recv && e.Peer == 1 {
				t.Fatalf("%s: a forged message was delivered: %+v", mode, e)
			}
		}
	}
}

// Garbage passes the check under both variants (the liar authenticated
// its garbage as itself) and fails the decoder: counted as malformed.
func TestAuthGarbageRefusedUnderBothVariants(t *testing.T) {
	for _, mode := range sim.AuthModes {
		s := runTwice(t, withAuth(naiveConfig(sim.Garbage, true, true), mode))
		st := s.Stats()
		if st.Malformed != 2 || st.AuthFailed != 0 || st.ByzantineBy[sim.Garbage] != 2 {
			t.Fatalf("%s: %d malformed, %d auth failures, lies %v; want 2 malformed", mode, st.Malformed, st.AuthFailed, st.ByzantineBy)
		}
		if n := drops(s.Trace(), sim.DropMalformed); n != 2 {
			t.Fatalf("%s: %d drops %q in the trace, want 2", mode, n, sim.DropMalformed)
		}
	}
}

// Bytes flipped in flight fail the signature as they fail the MAC.
func TestAuthTamperingCaughtBySignatures(t *testing.T) {
	cfg := tamperedBroadcast(true)
	cfg.Network.Auth = sim.AuthEd25519
	s, _ := runTrace(t, cfg, 5*time.Second)
	st := s.Stats()
	if st.Tampered == 0 || st.AuthFailed < st.Tampered*9/10 || st.AuthFailed > st.Tampered || st.Malformed != 0 {
		t.Fatalf("%d tampered, %d failed the signature, %d malformed; want every tampered message caught", st.Tampered, st.AuthFailed, st.Malformed)
	}
	if n := drops(s.Trace(), sim.DropAuthFailed); n != st.AuthFailed {
		t.Fatalf("%d drops in the trace, %d counted", n, st.AuthFailed)
	}
}

// The variant changes how a message is authenticated, never what happens:
// the tag draws no randomness and is not counted in a message's size, so a
// run under signatures is the run under MACs, byte for byte in the trace,
// with every behaviour of the adversary (the honest run included), and
// replays byte for byte from its seed.
func TestAuthVariantsGiveTheSameRun(t *testing.T) {
	for _, b := range append([]sim.Behaviour{""}, sim.Behaviours...) {
		cfg := naiveConfig(b, true, true)
		cfg.Nodes = 4
		sig := runTwice(t, withAuth(cfg, sim.AuthEd25519)) // 500ms, twice
		var got bytes.Buffer
		if err := sig.Trace().Write(&got); err != nil {
			t.Fatal(err)
		}
		_, mac := runTrace(t, withAuth(cfg, sim.AuthMAC), 500*time.Millisecond)
		if !bytes.Equal(mac, got.Bytes()) {
			t.Fatalf("behaviour %q: the ed25519 run's trace differs from the MAC run's", b)
		}
	}
	// A longer run, with tampering, loss and duplicates on a lossy Raft
	// cluster: still the same run.
	for _, seed := range []uint64{1, 2} {
		cfg := raftConfig(seed, true)
		cfg.Network.Default.Tamper = 0.05
		_, mac := runTrace(t, withAuth(cfg, sim.AuthMAC), 3*time.Second)
		_, sig := runTrace(t, withAuth(cfg, sim.AuthEd25519), 3*time.Second)
		_, again := runTrace(t, withAuth(cfg, sim.AuthEd25519), 3*time.Second)
		if !bytes.Equal(mac, sig) || !bytes.Equal(sig, again) {
			t.Fatalf("raft seed %d: mac/ed25519 equal %v, ed25519 twice equal %v; want both", seed, bytes.Equal(mac, sig), bytes.Equal(sig, again))
		}
	}
}

// A bad Auth is refused with the reason.
func TestAuthConfigErrors(t *testing.T) {
	cases := []struct {
		mode         string
		wire, authed bool
		want         string
	}{
		{"rsa", true, true, `auth "rsa": want mac`},
		{sim.AuthEd25519, false, true, "needs wire mode"},
		{sim.AuthEd25519, true, false, "needs authenticated links"},
		{sim.AuthMAC, true, false, "needs authenticated links"},
	}
	for _, c := range cases {
		cfg := naiveConfig("", c.wire, c.authed)
		cfg.Network.Auth = c.mode
		if _, err := sim.New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("auth %q wire %v authenticated %v: error %v, want %q", c.mode, c.wire, c.authed, err, c.want)
		}
	}
	// MACs outside wire mode stay the abstract link check they were.
	cfg := naiveConfig(sim.Forge, false, true)
	cfg.Network.Auth = sim.AuthMAC
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s.Stats().AuthFailed != 2 {
		t.Fatalf("mac outside wire mode: %d auth failures, want 2", s.Stats().AuthFailed)
	}
}
