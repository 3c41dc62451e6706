package sim

import (
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// probeMsg is the test protocol's message; Pad sets its size in bytes.
type probeMsg struct {
	Seq  int
	Text string
	Pad  int
}

func (probeMsg) Kind() string { return "probe" }
func (m probeMsg) Size() int {
	if m.Pad > 0 {
		return m.Pad
	}
	return ordo.DefaultMessageSize
}

// probe is a node that does what the test tells it: it keeps its Env so a
// test's At action can make it send, counts what it receives (volatile
// state) and its boots (in Storage).
type probe struct {
	env   ordo.Env
	got   []probeMsg
	fired []string
	boots int
}

func (p *probe) Start(env ordo.Env) {
	p.env = env
	b, _ := env.Store().Get("boots")
	p.boots = len(b) + 1
	env.Store().Put("boots", append(b, 'x'))
	if probeOnStart != nil {
		probeOnStart(p, env)
	}
}
func (p *probe) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	p.got = append(p.got, m.(probeMsg))
}
func (p *probe) Fire(env ordo.Env, t ordo.Timer) { p.fired = append(p.fired, t.Name) }

// probeOnStart lets a test arm timers at Start. Tests using it do not run
// in parallel.
var probeOnStart func(p *probe, env ordo.Env)

var probeNews int

var probeProto = &ordo.Protocol{Name: "probe", New: func(ordo.Config) (ordo.Node, error) {
	probeNews++
	return &probe{}, nil
}}

func newProbeSim(t *testing.T, cfg Config) *Sim {
	t.Helper()
	t.Cleanup(func() { probeOnStart = nil })
	cfg.Protocol = probeProto
	cfg.Trace = true
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pr(s *Sim, id ordo.NodeID) *probe { return s.Node(id).(*probe) }

// sendAt makes from send m to to at true time at.
func sendAt(s *Sim, at time.Duration, from, to ordo.NodeID, m probeMsg) {
	s.At(at, func(s *Sim) { pr(s, from).env.Send(to, m) })
}

func run(t *testing.T, s *Sim, d time.Duration) *trace.Trace {
	t.Helper()
	if err := s.RunFor(d); err != nil {
		t.Fatal(err)
	}
	return s.Trace()
}

func find(tr *trace.Trace, ok func(*trace.Event) bool) []*trace.Event {
	var out []*trace.Event
	for i := range tr.Events {
		if ok(&tr.Events[i]) {
			out = append(out, &tr.Events[i])
		}
	}
	return out
}

func kindIs(k trace.Kind) func(*trace.Event) bool {
	return func(e *trace.Event) bool { return e.Kind == k }
}

// fate reports what became of the message(s) from → to: "recv", "drop:<why>"
// or "" (still nothing), for the first message on that link.
func fate(tr *trace.Trace, from, to ordo.NodeID) string {
	var id uint64
	for _, e := range tr.Events {
		if e.Kind == trace.Send && e.Node == from && e.Peer == to {
			id = e.Msg
			break
		}
	}
	if id == 0 {
		return "unsent"
	}
	for _, e := range tr.Events {
		if e.Msg != id {
			continue
		}
		switch e.Kind {
		case trace.Recv:
			return "recv"
		case trace.Drop:
			return "drop:" + e.Name
		}
	}
	return ""
}

func ids(xs ...int) []ordo.NodeID {
	out := make([]ordo.NodeID, len(xs))
	for i, x := range xs {
		out[i] = ordo.NodeID(x)
	}
	return out
}

// allToAll makes every node send one message to every other at time at.
func allToAll(s *Sim, at time.Duration, n int) {
	for a := 1; a <= n; a++ {
		for b := 1; b <= n; b++ {
			if a != b {
				sendAt(s, at, ordo.NodeID(a), ordo.NodeID(b), probeMsg{Seq: a*10 + b})
			}
		}
	}
}

// fates returns the fate of each link's first message among the events
// after mark (a round of allToAll that has run).
func fates(tr *trace.Trace, mark int, n int) map[[2]int]string {
	sub := &trace.Trace{Meta: tr.Meta, Events: tr.Events[mark:]}
	out := map[[2]int]string{}
	for a := 1; a <= n; a++ {
		for b := 1; b <= n; b++ {
			if a != b {
				out[[2]int{a, b}] = fate(sub, ordo.NodeID(a), ordo.NodeID(b))
			}
		}
	}
	return out
}
