package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ordo/sim"

	_ "ordo/broadcast"
	_ "ordo/election/raft"
)

const full = `name: every-field
doc: one of everything
protocol: broadcast
options: {messages: 5, interval: 50ms}
nodes: 6
seed: 42
duration: 5s
network:
  latency: {dist: uniform, min: 1ms, max: 5ms}
  loss: 0.01
  duplicate: 0.02
  tamper: 0.0
  bandwidth: 1MB/s
  fifo: true
  authenticated: true
  price_per_gb: 0.12
  links: {"1->2": {latency: intercontinental, loss: 0.2}, "3<->4": {bandwidth: 10KB/s}}
clocks:
  default: {offset: 0s, drift: 50ppm, ntp_every: 1m, ntp_error: 10ms}
  "3": {offset: 200ms, drift: -100ppm}
speed: {default: 0s, "4": 2ms}
absent: [6]
faults:
  - {at: 2s, crash: 5}
  - {at: 4s, restart: 5}
  - {at: 3s, partition: "1,2/3,4,5,6"}
  - {at: 3s, cut: "1,2->3"}
  - {at: 3s, bridge: "1,2/4,5,6", via: 3}
  - {at: 5s, heal: true}
  - {at: 1s, pause: 3, for: 500ms}
  - {at: 1s, clock_jump: 2, by: -2s}
  - {at: 1s, join: 6}
  - {at: 1s, leave: 2}
  - {at: 1s, link: "1->2", latency: intercontinental, loss: 0.5}
nemesis: {start: 1s, stop: 4s, crash: 0.2, partition: 0.1, pause: 0.1, clock_jump: 0.05, mean_downtime: 1s}
checks: [all-delivered]
expect: {all-delivered: pass}
`

func TestParseEveryField(t *testing.T) {
	sc, err := Parse("full.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "every-field" || sc.Nodes != 6 || sc.Seed != 42 || sc.Duration != 5*time.Second {
		t.Fatalf("header: %+v", sc)
	}
	if sc.Options.Int("messages") != 5 || sc.Options.Duration("interval") != 50*time.Millisecond || sc.Options.Int("sender") != 1 {
		t.Fatalf("options %v", sc.Options)
	}
	d := sc.Network.Default
	if d.Latency != (sim.Dist{Kind: sim.Uniform, A: time.Millisecond, B: 5 * time.Millisecond}) || d.Loss != 0.01 || d.Duplicate != 0.02 || d.Bandwidth != 1_000_000 {
		t.Fatalf("default link %+v", d)
	}
	if !sc.Network.FIFO || !sc.Network.Authenticated || sc.PricePerGB != 0.12 {
		t.Fatal("network flags")
	}
	l12 := sc.Network.Links[sim.LinkKey{From: 1, To: 2}]
	if l12.Latency != sim.Presets["intercontinental"] || l12.Loss != 0.2 || l12.Bandwidth != 1_000_000 {
		t.Fatalf("1->2 %+v", l12)
	}
	if _, ok := sc.Network.Links[sim.LinkKey{From: 2, To: 1}]; ok {
		t.Fatal("1->2 is one direction only")
	}
	for _, k := range []sim.LinkKey{{From: 3, To: 4}, {From: 4, To: 3}} {
		if sc.Network.Links[k].Bandwidth != 10_000 {
			t.Fatalf("%v: %+v", k, sc.Network.Links[k])
		}
	}
	if sc.Clock.DriftPPM != 50 || sc.Clock.NTPEvery != time.Minute || sc.Clock.NTPError != 10*time.Millisecond {
		t.Fatalf("default clock %+v", sc.Clock)
	}
	// A node's clock overrides the default field by field.
	c3 := sc.ClockOf[3]
	if c3.Offset != 200*time.Millisecond || c3.DriftPPM != -100 || c3.NTPEvery != time.Minute {
		t.Fatalf("clock 3 %+v", c3)
	}
	if sc.SpeedOf[4] != 2*time.Millisecond || sc.Speed != 0 {
		t.Fatal("speed")
	}
	if len(sc.Absent) != 1 || sc.Absent[0] != 6 {
		t.Fatal("absent")
	}
	if len(sc.Faults) != 11 {
		t.Fatalf("%d faults", len(sc.Faults))
	}
	for i := 1; i < len(sc.Faults); i++ {
		if sc.Faults[i].At < sc.Faults[i-1].At {
			t.Fatal("faults not sorted by time")
		}
	}
	if sc.Faults[0].Desc != "pause 3 for 500ms" {
		t.Fatalf("first fault %q (equal times keep file order)", sc.Faults[0].Desc)
	}
	n := sc.Nemesis
	if n == nil || n.Start != time.Second || n.Stop != 4*time.Second || n.Crash != 0.2 || n.ClockJump != 0.05 || n.MeanDowntime != time.Second {
		t.Fatalf("nemesis %+v", n)
	}
	if len(sc.Expect) != 1 || !sc.Expect[0].Pass {
		t.Fatal("expect")
	}
	r, err := sc.Run(RunOptions{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(r.Unmet) > 0 {
		t.Fatalf("unmet: %v", r.Unmet)
	}
}

func TestLatencyForms(t *testing.T) {
	for src, want := range map[string]sim.Dist{
		"lan":                          sim.Presets["lan"],
		"{dist: constant, value: 1ms}": {Kind: sim.Constant, A: time.Millisecond},
		"{dist: normal, mean: 1ms, stddev: 200us}": {Kind: sim.Normal, A: time.Millisecond, B: 200 * time.Microsecond},
		"{dist: exponential, min: 1ms, mean: 3ms}": {Kind: sim.Exponential, A: time.Millisecond, B: 2 * time.Millisecond},
	} {
		sc, err := Parse("l.yaml", []byte("name: l\nprotocol: broadcast\nnodes: 2\nduration: 1s\nnetwork: {latency: "+src+"}\n"))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if sc.Network.Default.Latency != want {
			t.Fatalf("%s: got %+v want %+v", src, sc.Network.Default.Latency, want)
		}
		if want.Kind == sim.Exponential && want.Mean() != 3*time.Millisecond {
			t.Fatal("exponential's mean is the mean written")
		}
	}
}

// Every mistake names its line and column, the field, and what is valid.
func TestParseErrors(t *testing.T) {
	base := "name: x\nprotocol: broadcast\nnodes: 5\nduration: 10s\n"
	cases := []struct {
		src, want string
		line      int
	}{
		{"name: x\nprotocl: broadcast\n", `protocl: unknown field (valid: absent, byzantine, checks,`, 2},
		{"name: x\nprotocol: gossip\nnodes: 5\nduration: 1s\n", `protocol: unknown protocol "gossip" (valid: `, 2},
		{"name: x\nprotocol: broadcast\noptions: {mesages: 3}\nnodes: 5\nduration: 1s\n", `options.mesages: protocol broadcast has no option "mesages" (valid: interval, messages, payload, retransmit, sender)`, 3},
		{"name: x\nprotocol: broadcast\noptions: {messages: many}\nnodes: 5\nduration: 1s\n", `options.messages: option messages of protocol broadcast: "many" is not an integer`, 3},
		{"name: x\nprotocol: broadcast\nnodes: five\nduration: 1s\n", `nodes: want an integer, got "five"`, 3},
		{"name: x\nprotocol: broadcast\nnodes: 5\nduration: 10 s\n", `duration: bad duration "10 s"`, 4},
		{"name: x\nprotocol: broadcast\nnodes: 5\n", `missing required field "duration"`, 1},
		{"name: X Y\nprotocol: broadcast\nnodes: 5\nduration: 1s\n", `name: "X Y": use lower-case`, 1},
		{base + "network: {latency: moon}\n", `network.latency: unknown latency preset "moon" (valid: datacenter, intercontinental, lan, loopback, zero)`, 5},
		{base + "network: {latency: {dist: uniform, min: 5ms, max: 1ms}}\n", `network.latency.max: max 1ms is below min 5ms`, 5},
		{base + "network: {latency: {dist: uniform, mean: 5ms}}\n", `network.latency.mean: unknown field (valid: dist, max, min)`, 5},
		{base + "network: {loss: 1.5}\n", `network.loss: a probability must be in [0, 1], got 1.5`, 5},
		{base + "network: {loss: lots}\n", `network.loss: want a number, got "lots"`, 5},
		{base + "network: {bandwidth: 1 MB}\n", `network.bandwidth: bad bandwidth "1 MB"`, 5},
		{base + "network: {fifo: yes please}\n", `network.fifo: want true or false`, 5},
		{base + "network: {authenticated: true, auth: rsa}\n", `network.auth: unknown authentication "rsa" (valid: mac, ed25519)`, 5},
		{base + "network: {auth: ed25519}\n", `network.auth: ed25519 is how authenticated links authenticate, and this file does not say authenticated: true`, 5},
		{base + "wire: false\nnetwork: {authenticated: true, auth: ed25519}\n", `network.auth: ed25519 signs the encoded bytes, and this file says wire: false`, 6},
		{base + "network:\n  links: {\"1->9\": {loss: 0.1}}\n", `network.links.1->9: node 9 out of range: the cluster is nodes 1..5`, 6},
		{base + "network:\n  links: {\"1-2\": {loss: 0.1}}\n", `is not a link: write "1->2"`, 6},
		{base + "network:\n  links: {\"1->2\": {jitter: 0.1}}\n", `network.links.1->2.jitter: unknown field (valid: bandwidth, duplicate, latency, loss, tamper)`, 6},
		{base + "clocks: {\"7\": {drift: 5ppm}}\n", `clocks.7: node 7 out of range`, 5},
		{base + "clocks: {default: {drift: fast}}\n", `clocks.default.drift: bad drift "fast"`, 5},
		{base + "speed: {\"x\": 1ms}\n", `speed.x: "x" is neither "default" nor a node number`, 5},
		{base + "absent: [2, 2]\n", `absent[1]: node 2 is listed twice`, 5},
		{base + "faults:\n  - {at: 1s, explode: 3}\n", `faults[0].explode: unknown fault kind or field (valid kinds: bridge, clock_jump, corrupt_read, crash, crash_torn, cut, disk_full, fail_sync, heal, join, leave, link, partition, pause, restart, resume`, 6},
		{base + "faults:\n  - {at: 1s, crash: 6}\n", `faults[0].crash: node 6 out of range: the cluster is nodes 1..5`, 6},
		{base + "faults:\n  - {at: 1s, partition: \"1,2/2,3\"}\n", `faults[0].partition: partition "1,2/2,3": group 2: node 2 is named twice`, 6},
		{base + "faults:\n  - {at: 1s, crash: 1, restart: 1}\n", `one fault per entry`, 6},
		{base + "faults:\n  - {crash: 1}\n", `fault needs at`, 6},
		{base + "faults:\n  - {at: 1s, crash: 1, by: 2s}\n", `a crash fault has no field by (valid: at, crash)`, 6},
		{base + "faults:\n  - {at: 20s, crash: 1}\n", `at 20s is after the scenario's end`, 6},
		{base + "faults:\n  - {at: 1s, bridge: \"1,2/4,5\", via: 2}\n", `node 2 is the bridge, so it cannot also be on a side`, 6},
		{base + "faults:\n  - {at: 1s, clock_jump: 2}\n", `a clock_jump needs by`, 6},
		{base + "faults:\n  - {at: 1s, link: \"1->2\"}\n", `a link fault changes at least one of`, 6},
		{base + "faults:\n  - {at: 1s, heal: false}\n", `write heal: true`, 6},
		{base + "faults:\n  - {at: 1s, cut: \"1,2\"}\n", `is not a one-way cut`, 6},
		{base + "nemesis: {crash: -1}\n", `nemesis.crash: a rate (events per second) must be in [0, 1000]`, 5},
		{base + "nemesis: {chaos: 1}\n", `nemesis.chaos: unknown field (valid: clock_jump, crash, loss, mean_downtime, partition, pause, start, stop)`, 5},
		{base + "checks: [no-such-check]\n", `checks[0]: unknown check "no-such-check" (valid: `, 5},
		{base + "checks: [all-delivered]\nexpect: {single-leader: pass}\n", `expect.single-leader: expects check "single-leader", which is not in checks (checks: all-delivered)`, 6},
		{base + "checks: [all-delivered]\nexpect: {all-delivered: maybe}\n", `expect.all-delivered: want pass or fail, got "maybe"`, 6},
		{base + "nodes: 3\n", `nodes: given twice`, 5},
		{base + "faults: &a [1]\n", `anchors and aliases`, 5},
		{"name: x\n  protocol: [\n", `YAML syntax`, 2},
		{"", `empty scenario`, 1},
		{"name: x\x01\n", `control character`, 1},
		{"- 1\n- 2\n", `a scenario is a mapping (key: value, e.g. name: ..., protocol: ...), got a sequence`, 1},
		{"# a list of scenarios is not one\n\n- name: x\n  protocol: raft\n", `got a sequence`, 3},
		{"[]\n", `got a sequence`, 1},
		{"~\n", `empty scenario`, 1},
		{"name: x\nprotocol: broadcast\noptions: {sender: 7}\nnodes: 5\nduration: 1s\n", `options: broadcast: sender 7 is not a node of 1..5`, 3},
		{"name: x\nprotocol: raft\nnodes: 5\noptions: {heartbeat: 1ns}\nduration: 1s\n", `options: raft: option heartbeat=1ns is below its floor of 1ms`, 4},
		{"name: x\nprotocol: raft\noptions:\n  heartbeat: 100ms\nnodes: 5\nduration: 1s\n", `options: raft: option heartbeat=100ms must be at most half of election_timeout_min=150ms`, 3},
	}
	for _, c := range cases {
		_, err := Parse("bad.yaml", []byte(c.src))
		if err == nil {
			t.Errorf("%q: no error, want %q", c.src, c.want)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v is not a *scenario.Error", c.src, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got  %v\n want %q", c.src, err, c.want)
		}
		if pe.Line != c.line {
			t.Errorf("%q: line %d, want %d (%v)", c.src, pe.Line, c.line, err)
		}
		if !strings.HasPrefix(err.Error(), "bad.yaml:") {
			t.Errorf("%q: error does not name the file: %v", c.src, err)
		}
	}
}

func TestRunSeedOverrideAndCost(t *testing.T) {
	src := "name: x\nprotocol: broadcast\nnodes: 3\nduration: 3s\nnetwork: {price_per_gb: 1000, loss: 0.2}\n"
	sc, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(9)
	r, err := sc.Run(RunOptions{Seed: &seed, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seed != 9 || r.Trace.Meta.Seed != 9 {
		t.Fatal("seed override ignored")
	}
	if r.Stats.Bytes == 0 || r.CostUSD != float64(r.Stats.Bytes)/1e9*1000 {
		t.Fatalf("cost %v for %d bytes", r.CostUSD, r.Stats.Bytes)
	}
	if !r.Fallacies.Has(sim.FallacyReliable) || !r.Fallacies.Has(sim.FallacyTransportCost) {
		t.Fatalf("fallacies %v", r.Fallacies.List())
	}
	r2, err := sc.Run(RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Trace != nil {
		t.Fatal("trace kept without Trace")
	}
	if sc.PricePerGB != 1000 {
		t.Fatal("price")
	}
	sc2, _ := Parse("y.yaml", []byte("name: y\nprotocol: broadcast\nnodes: 2\nduration: 1s\n"))
	if sc2.PricePerGB != DefaultPricePerGB || sc2.Seed != 1 {
		t.Fatal("defaults")
	}
}

// A fault the cluster refuses at run time names the file's line.
func TestRunFaultError(t *testing.T) {
	sc, err := Parse("r.yaml", []byte("name: r\nprotocol: broadcast\nnodes: 3\nduration: 2s\nfaults:\n  - {at: 1s, join: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.Run(RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "r.yaml:6:") {
		t.Fatalf("got %v", err)
	}
}

// A link fault changes only the fields it names, on top of the link as it
// stands at its time (earlier link faults included), not as the file lists it.
func TestLinkFaultKeepsUnnamedFields(t *testing.T) {
	src := "name: l\nprotocol: broadcast\nnodes: 3\nduration: 5s\n" +
		"network:\n  loss: 0.1\n  links: {\"1->2\": {latency: intercontinental, loss: 0.2}}\n" +
		"faults:\n" +
		"  - {at: 2s, link: \"1<->2\", bandwidth: 10KB/s}\n" +
		"  - {at: 1s, link: \"1->2\", loss: 0.5}\n"
	sc, err := Parse("l.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sc.Config(1, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sc.Faults {
		if err := f.apply(s); err != nil {
			t.Fatal(err)
		}
	}
	links := s.Config().Network.Links
	want12 := sim.Link{Latency: sim.Presets["intercontinental"], Loss: 0.5, Bandwidth: 10_000}
	if got := links[sim.LinkKey{From: 1, To: 2}]; got != want12 {
		t.Errorf("1->2: got %+v, want %+v", got, want12)
	}
	want21 := sim.Link{Loss: 0.1, Bandwidth: 10_000}
	if got := links[sim.LinkKey{From: 2, To: 1}]; got != want21 {
		t.Errorf("2->1: got %+v, want %+v", got, want21)
	}
	// The scenario's own links are untouched by a run.
	if l := sc.Network.Links[sim.LinkKey{From: 1, To: 2}]; l.Loss != 0.2 || l.Bandwidth != 0 {
		t.Errorf("the scenario's link 1->2 changed: %+v", l)
	}
}

// The time a node spends per event is bounded in both forms of speed.
func TestSpeedBound(t *testing.T) {
	base := "name: s\nprotocol: broadcast\nnodes: 3\nduration: 5s\n"
	for _, src := range []string{"speed: 2m\n", "speed: {default: 2m}\n", "speed: {\"2\": 2m}\n"} {
		_, err := Parse("s.yaml", []byte(base+src))
		if err == nil || !strings.Contains(err.Error(), "too slow (at most 1m)") {
			t.Errorf("%q: got %v", src, err)
		}
	}
}

// network.auth picks the authentication of authenticated links; SetAuth
// (ordo sim --auth) overrides it with the same rules as the file.
func TestAuthField(t *testing.T) {
	base := "name: a\nprotocol: broadcast\nnodes: 3\nduration: 1s\n"
	sc, err := Parse("a.yaml", []byte(base+"network: {authenticated: true, auth: ed25519}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Network.Auth != sim.AuthEd25519 || sc.Config(1, false).Network.Auth != sim.AuthEd25519 {
		t.Fatalf("auth %q, want ed25519 in the scenario and its run", sc.Network.Auth)
	}
	if err := sc.SetAuth(sim.AuthMAC); err != nil || sc.Network.Auth != sim.AuthMAC {
		t.Fatalf("SetAuth(mac): %v, auth %q", err, sc.Network.Auth)
	}
	if err := sc.SetAuth("hmac"); err == nil || !strings.Contains(err.Error(), `unknown authentication "hmac"`) {
		t.Fatalf("SetAuth(hmac): %v", err)
	}
	plain, err := Parse("a.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.SetAuth(sim.AuthEd25519); err == nil || !strings.Contains(err.Error(), "authenticated: true") {
		t.Fatalf("SetAuth on unauthenticated links: %v", err)
	}
	unwired, err := Parse("a.yaml", []byte(base+"wire: false\nnetwork: {authenticated: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unwired.SetAuth(sim.AuthEd25519); err == nil || !strings.Contains(err.Error(), "wire: false") {
		t.Fatalf("SetAuth(ed25519) with wire: false: %v", err)
	}
	if err := unwired.SetAuth(sim.AuthMAC); err != nil {
		t.Fatalf("SetAuth(mac) with wire: false: %v", err)
	}
}
