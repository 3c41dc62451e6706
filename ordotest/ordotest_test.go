package ordotest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/ordotest/internal/pingpong"
)

// ---- broken protocols, and a recorder to show that each check fails ----

var pingProto = pingpong.Protocol

type ping = pingpong.Ping
type pong = pingpong.Pong

func register(p *ordo.Protocol) *ordo.Protocol { ordo.Register(p); return p }

// recorder is a reporter that remembers failures; Fatalf ends the check
// like testing.T's does (by unwinding to run).
type recorder struct{ errs []string }

type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); panic(fatal{}) }
func (r *recorder) Fatal(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)); panic(fatal{}) }

func run(check func(reporter)) (errs []string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(fatal); !ok {
				panic(p)
			}
		}
		errs = r.errs
	}()
	check(r)
	return r.errs
}

// ---- the recording Env ----

func TestEnvRecordsOneStep(t *testing.T) {
	env := ForProtocol(pingProto, 2, nil, 7)
	n := env.NewNode(t, pingProto, nil)
	env.Start(n)
	if len(env.Timers) != 1 || env.Timers[0] != (Armed{After: 100 * time.Millisecond, Timer: ordo.Timer{Name: "tick"}}) {
		t.Fatalf("Start armed %v, want tick after 100ms", env.Timers)
	}
	if len(env.Notes) != 1 || env.Notes[0].Kind != "started" {
		t.Fatalf("Start noted %v", env.Notes)
	}
	if c, ok := env.Notes[0].Int("count"); !ok || c != 0 {
		t.Fatalf("started count = %d, %v", c, ok)
	}

	env.Receive(n, 3, ping{N: 42})
	if len(env.Sent) != 1 || env.Sent[0].To != 3 || env.Sent[0].Msg != (pong{N: 42}) {
		t.Fatalf("sent %v, want pong 42 to n3", env.Sent)
	}
	if len(env.Timers) != 1 || env.Timers[0].After != 42*time.Millisecond || len(env.Notes) != 0 {
		t.Fatalf("the step's record holds the previous step: timers %v notes %v", env.Timers, env.Notes)
	}
	if !env.Wrote("count") || len(env.Writes) != 1 || string(env.Writes[0].Value) != "1" {
		t.Fatalf("writes %v", env.Writes)
	}
	if v, _ := env.Storage().Get("count"); string(v) != "1" {
		t.Fatalf("storage count = %q", v)
	}

	// Clocks: Advance moves both, StepWall only the wall clock.
	env.Advance(time.Second)
	env.StepWall(10 * time.Second)
	if env.Monotonic() != time.Second || !env.Now().Equal(Epoch.Add(11*time.Second)) {
		t.Fatalf("monotonic %v, now %v", env.Monotonic(), env.Now())
	}
	env.Fire(n, ordo.Timer{Name: "tick"})
	if got := env.SentKind("ping"); len(got) != 2 || got[0].To != 1 || got[1].To != 3 {
		t.Fatalf("tick sent %v, want a ping to n1 and n3", got)
	}
	if len(env.SentTo(1)) != 1 || len(env.TimersNamed("tick")) != 1 || len(env.NotesOf("tick")) != 1 || len(env.Writes) != 0 {
		t.Fatalf("tick step: sent %v timers %v notes %v writes %v", env.Sent, env.Timers, env.Notes, env.Writes)
	}

	// Restart: a new node on the same storage reads it back.
	n = env.NewNode(t, pingProto, nil)
	env.Start(n)
	if c, _ := env.NotesOf("started")[0].Int("count"); c != 1 {
		t.Fatalf("restarted node read count %d, want 1", c)
	}
}

// The same seed gives the same draws; the Env panics on protocol bugs.
func TestEnvSeedAndBugs(t *testing.T) {
	a, b := NewEnv(1, nil, 5), NewEnv(1, nil, 5)
	if a.Rand().Uint64() != b.Rand().Uint64() {
		t.Fatal("two Envs with one seed draw differently")
	}
	for name, f := range map[string]func(e *Env){
		"send to self":     func(e *Env) { e.Send(1, ping{}) },
		"send to stranger": func(e *Env) { e.Send(9, ping{}) },
		"negative timer":   func(e *Env) { e.After(-1, ordo.Timer{Name: "x"}) },
		"odd note":         func(e *Env) { e.Note("x", "k") },
		"unregistered":     func(e *Env) { e.Codec = pingProto.Codec; e.Send(2, stranger{}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f(NewEnv(1, nil, 1))
		}()
	}
}

type stranger struct{}

func (stranger) Kind() string { return "stranger" }

// ---- the kit passes a sound protocol and fails broken ones ----

func TestKitPassesPing(t *testing.T) {
	Protocol(t, pingProto, RunFor(2*time.Second))
}

// flip's kind depends on a field, so some values cannot be encoded.
type flip struct{ X int }

func (f flip) Kind() string {
	if f.X%2 != 0 {
		return "flip-odd"
	}
	return "flip"
}

// shared is a node whose state lives in a package variable.
var sharedCount int

type sharedNode struct{}

func (sharedNode) Start(env ordo.Env) {
	sharedCount++
	env.After(time.Duration(sharedCount)*time.Millisecond, ordo.Timer{Name: "t"})
}
func (sharedNode) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (sharedNode) Fire(env ordo.Env, t ordo.Timer)             { sharedNode{}.Start(env) }

// globalRand draws from the global random source.
type globalRand struct{}

func (globalRand) Start(env ordo.Env) {
	env.After(time.Duration(1+rand.IntN(1000))*time.Millisecond, ordo.Timer{Name: "t"})
}
func (globalRand) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (globalRand) Fire(env ordo.Env, t ordo.Timer)             { globalRand{}.Start(env) }

var (
	flipProto = register(&ordo.Protocol{Name: "ordotest-flip", Doc: "broken", Messages: []ordo.Message{flip{}},
		New: pingProto.New})
	sharedProto = register(&ordo.Protocol{Name: "ordotest-shared", Doc: "broken", Messages: []ordo.Message{ping{}},
		New: func(ordo.Config) (ordo.Node, error) { return sharedNode{}, nil }})
	randProto = register(&ordo.Protocol{Name: "ordotest-rand", Doc: "broken", Messages: []ordo.Message{ping{}},
		New: func(ordo.Config) (ordo.Node, error) { return globalRand{}, nil }})
)

func TestKitFailsBrokenProtocols(t *testing.T) {
	k := kit{nodes: 3, seed: 1, duration: time.Second, wire: true, samples: 50}
	cases := []struct {
		name  string
		check func(reporter)
		want  string
	}{
		{"message that cannot be encoded", func(r reporter) { checkMessages(r, flipProto, k) }, "encode"},
		{"state shared between nodes", func(r reporter) { checkFresh(r, sharedProto, k) }, "differs"},
		{"global random source", func(r reporter) { checkDeterminism(r, randProto, k) }, "differ"},
		{"unregistered protocol", func(r reporter) {
			checkRegistration(r, &ordo.Protocol{Name: "ordotest-nowhere", New: pingProto.New})
		}, "not registered"},
		{"runtime among the imports", func(r reporter) { checkImports(r, flipProto) }, "imports a runtime"},
		{"repeated option", func(r reporter) {
			checkOptions(r, &ordo.Protocol{Name: "x", Options: []ordo.Option{{Name: "d", Default: "1s", Help: "h"}, {Name: "d", Default: "1s"}}, New: pingProto.New})
		}, "repeated"},
	}
	for _, c := range cases {
		errs := run(c.check)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), c.want) {
			t.Errorf("%s: errors %q, want one containing %q", c.name, errs, c.want)
		}
	}
}

// The import check finds a runtime where there is one: lab drives the
// simulator; this package's own protocol does not.
func TestRuntimeImports(t *testing.T) {
	bad, err := RuntimeImports("ordo/lab")
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) == 0 {
		t.Fatal("ordo/lab imports sim, but RuntimeImports found no runtime")
	}
	if bad, err := RuntimeImports("ordo/detect"); err != nil || len(bad) != 0 {
		t.Fatalf("ordo/detect: runtime imports %v, %v", bad, err)
	}
	if got := ProtocolPackages(pingProto); len(got) != 1 || got[0] != "ordo/ordotest/internal/pingpong" {
		t.Fatalf("ProtocolPackages(ping) = %v", got)
	}
	for name, want := range map[string]string{
		"ordo/election/raft.New":      "ordo/election/raft",
		"ordo/broadcast.init.0.func1": "ordo/broadcast",
		"ordo.(*Protocol).Resolve":    "ordo",
		"ordo/ordotest.glob..func1":   "ordo/ordotest",
		"example.com/a.b/c.New.func1": "example.com/a.b/c",
	} {
		if got := funcPackage(name); got != want {
			t.Errorf("funcPackage(%q) = %q, want %q", name, got, want)
		}
	}
}
