// Package pingpong is a tiny protocol for ordotest's own tests: a sound
// one that the conformance kit must pass. Each node pings its peers every
// 100ms; a ping is answered with a pong, counted durably, and echoed by a
// timer.
package pingpong

import (
	"strconv"
	"time"

	"ordo"
)

// Ping asks for a Pong carrying N.
type Ping struct{ N uint64 }

// Pong answers a Ping.
type Pong struct{ N uint64 }

// Kind implements ordo.Message.
func (Ping) Kind() string { return "ping" }

// Kind implements ordo.Message.
func (Pong) Kind() string { return "pong" }

// CountKey is the storage key of the durable ping count.
const CountKey = "count"

type node struct{ count uint64 }

func (p *node) Start(env ordo.Env) {
	if b, ok := env.Store().Get(CountKey); ok {
		p.count, _ = strconv.ParseUint(string(b), 10, 64)
	}
	env.After(100*time.Millisecond, ordo.Timer{Name: "tick"})
	env.Note("started", "count", p.count)
}

func (p *node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if m, ok := m.(Ping); ok {
		p.count++
		env.Store().Put(CountKey, strconv.AppendUint(nil, p.count, 10))
		env.Send(from, Pong{N: m.N})
		env.After(time.Duration(m.N%1000)*time.Millisecond, ordo.Timer{Name: "echo", Arg: int64(m.N % 1000)})
	}
}

func (p *node) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name == "tick" {
		for _, q := range env.Peers() {
			env.Send(q, Ping{N: uint64(env.Rand().IntN(1000))})
		}
		env.After(100*time.Millisecond, t)
		env.Note("tick", "at", env.Monotonic())
	}
}

// Protocol is the registered "ordotest-pingpong".
var Protocol = &ordo.Protocol{
	Name: "ordotest-pingpong", Doc: "ping-pong, for ordotest's own tests",
	Options:  []ordo.Option{{Name: "x", Default: "1", Help: "unused"}},
	New:      func(ordo.Config) (ordo.Node, error) { return &node{}, nil },
	Messages: []ordo.Message{Ping{}, Pong{}},
}

func init() { ordo.Register(Protocol) }
