package viz

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/sim"
	"ordo/trace"
)

type ping struct{ Seq int }

func (ping) Kind() string { return "ping" }

type pinger struct{ seq int }

func (p *pinger) Start(env ordo.Env) { env.After(100*time.Millisecond, ordo.Timer{Name: "tick"}) }

// WantsPeerDown: the crash of simTrace then carries peer-down hints (a
// receive without a send), which every renderer must draw sanely.
func (p *pinger) WantsPeerDown() bool { return true }

func (p *pinger) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if _, ok := m.(ordo.PeerDown); ok {
		return
	}
	if m.(ping).Seq%3 == 0 {
		env.Note("third", "from", from)
	}
}
func (p *pinger) Fire(env ordo.Env, t ordo.Timer) {
	p.seq++
	for _, q := range env.Peers() {
		env.Send(q, ping{p.seq})
	}
	env.After(100*time.Millisecond, ordo.Timer{Name: "tick"})
}

var pingProto = &ordo.Protocol{Name: "pinger", New: func(ordo.Config) (ordo.Node, error) { return &pinger{}, nil }}

// simTrace runs three pinging nodes for 1s with a crash, a restart and a
// partition (seed 1; deterministic).
func simTrace(t testing.TB) *trace.Trace {
	s, err := sim.New(sim.Config{Protocol: pingProto, Nodes: 3, Seed: 1, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.1}}})
	if err != nil {
		t.Fatal(err)
	}
	s.At(250*time.Millisecond, func(s *sim.Sim) { s.Crash(3) })
	s.At(450*time.Millisecond, func(s *sim.Sim) { s.Restart(3) })
	s.At(550*time.Millisecond, func(s *sim.Sim) { s.Partition([]ordo.NodeID{1}, []ordo.NodeID{2, 3}) })
	s.At(750*time.Millisecond, func(s *sim.Sim) { s.Heal() })
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	return s.Trace()
}

func TestASCIITrace(t *testing.T) {
	tr := simTrace(t)
	for _, st := range []string{"lamport", "vector", "both", "none"} {
		var b bytes.Buffer
		if err := ASCII(&b, tr, Options{Stamps: st, Width: 100, MaxEvents: 80}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if testing.Verbose() && st == "both" {
			t.Log("\n" + out)
		}
		for _, want := range []string{"n1:", "n2:", "n3:"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: missing %q", st, want)
			}
		}
		for i, line := range strings.Split(out, "\n") {
			if n := len([]rune(line)); n > 100 {
				t.Errorf("%s: line %d is %d wide, limit 100", st, i+1, n)
			}
		}
	}
	var b bytes.Buffer
	if err := ASCII(&b, tr, Options{Stamps: "both", From: 0, MaxEvents: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"✖", "crash", "restart", "partition", "heal", "┆", "peer-down←3"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("full drawing lacks %q", want)
		}
	}
	if err := ASCII(&b, tr, Options{Stamps: "bogus"}); err == nil {
		t.Error("bad stamps option accepted")
	}
}

// The window flags (--from, --max) reject what names no events instead of
// drawing a nonexistent range or silently using the default.
func TestASCIIWindowErrors(t *testing.T) {
	tr := simTrace(t)
	n := len(tr.Events)
	for _, c := range []struct {
		opts Options
		want string // substring of the error; "" = accepted
	}{
		{Options{From: n}, fmt.Sprintf("the trace has %d events (e0..e%d)", n, n-1)},
		{Options{From: n + 100}, "from event"},
		{Options{From: -1}, "from event -1"},
		{Options{MaxEvents: -5}, "max events -5"},
		{Options{From: n - 1}, ""},
		{Options{MaxEvents: 0}, ""},
		{Options{MaxEvents: 1 << 62, From: 1}, ""},
	} {
		var b bytes.Buffer
		err := ASCII(&b, tr, c.opts)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.opts, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one containing %q (drew %q)", c.opts, err, c.want, firstLine(b.String()))
		}
		if err == nil && c.opts.From == n-1 && !strings.Contains(b.String(), fmt.Sprintf("e%d..e%d of %d", n-1, n-1, n)) {
			t.Errorf("last event window: %q", firstLine(b.String()))
		}
		var s bytes.Buffer
		if serr := SVG(&s, tr, c.opts); (serr == nil) != (err == nil) {
			t.Errorf("%+v: SVG error %v, ASCII error %v", c.opts, serr, err)
		}
	}
	// An empty trace still draws (nothing) from 0.
	var b bytes.Buffer
	if err := ASCII(&b, &trace.Trace{Meta: trace.Meta{Nodes: 2}}, Options{}); err != nil {
		t.Errorf("empty trace: %v", err)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
