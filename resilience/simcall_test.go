package resilience_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/resilience"
	"ordo/sim"
	"ordo/trace"
)

type call struct{ ID int64 }

func (call) Kind() string { return "call" }

type reply struct{ ID int64 }

func (reply) Kind() string { return "reply" }

// echo is node 1: it answers every call.
type echo struct{}

func (echo) Start(ordo.Env) {}
func (echo) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	env.Send(from, reply{ID: m.(call).ID})
}
func (echo) Fire(ordo.Env, ordo.Timer) {}

// Caller's settings, which the test's checks read too.
const (
	callTimeout = 20 * time.Millisecond
	callBudget  = 150 * time.Millisecond
	maxAttempts = 4
	probeCap    = 2
	budgetMax   = 6
	budgetRatio = 0.2
)

// caller (nodes 2..) makes calls one after another, each under a Retry
// (full jitter, deadline callBudget, a shared Budget) and a Breaker, and
// notes every attempt, grant and state change for the checks.
type caller struct {
	b      *resilience.Breaker
	budget *resilience.Budget
	r      *resilience.Retry
	tk     resilience.Ticket
	id     int64 // current attempt; timers and replies of others are stale
}

func (c *caller) Start(env ordo.Env) {
	env.Note("start") // a restart is a fresh budget and breaker
	c.budget, _ = resilience.NewBudget(budgetMax, budgetRatio)
	c.b, _ = resilience.NewBreaker(resilience.BreakerConfig{ConsecutiveFailures: 3, OpenFor: 40 * time.Millisecond, HalfOpenProbes: probeCap,
		OnChange: func(ch resilience.Change) { env.Note("breaker", "to", ch.To.String(), "why", ch.Why) }}, env.Monotonic())
	c.newCall(env)
}

func (c *caller) newCall(env ordo.Env) {
	now := env.Monotonic()
	c.r = resilience.NewRetry(resilience.RetryPolicy{Base: 5 * time.Millisecond, Cap: 60 * time.Millisecond, MaxAttempts: maxAttempts,
		Deadline: resilience.DeadlineIn(now, callBudget), Budget: c.budget}, now)
	env.Note("call", "deadline", int64(now+callBudget))
	c.attempt(env)
}

func (c *caller) attempt(env ordo.Env) {
	c.id++
	tk, err := c.b.Allow(env.Monotonic())
	if err != nil {
		env.Note("fast-fail")
		env.After(10*time.Millisecond, ordo.Timer{Name: "next", Arg: c.id})
		return
	}
	c.tk = tk
	env.Note("attempt", "probe", tk.Probe(), "n", int64(c.r.Attempts()), "at", int64(env.Monotonic()))
	env.Send(1, call{ID: c.id})
	env.After(callTimeout, ordo.Timer{Name: "timeout", Arg: c.id})
}

func (c *caller) Receive(env ordo.Env, _ ordo.NodeID, m ordo.Message) {
	if m.(reply).ID != c.id {
		return
	}
	c.id++ // the attempt is over: its timeout is stale now
	c.b.Record(env.Monotonic(), c.tk, resilience.Succeeded)
	c.r.Succeeded()
	env.Note("ok")
	c.newCall(env)
}

func (c *caller) Fire(env ordo.Env, t ordo.Timer) {
	if t.Arg != c.id {
		return
	}
	switch t.Name {
	case "next":
		c.newCall(env)
	case "retry":
		c.attempt(env)
	case "timeout":
		c.b.Record(env.Monotonic(), c.tk, resilience.Failed)
		wait, err := c.r.Next(env.Monotonic(), env.Rand(), resilience.Outcome{Kind: resilience.Failed})
		if err != nil {
			env.Note("give-up", "why", err.Error())
			env.After(10*time.Millisecond, ordo.Timer{Name: "next", Arg: c.id})
			return
		}
		env.Note("retry", "wait", int64(wait))
		env.After(wait, ordo.Timer{Name: "retry", Arg: c.id})
	}
}

var callProto = &ordo.Protocol{
	Name:     "resilience-caller",
	Messages: []ordo.Message{call{}, reply{}},
	New: func(cfg ordo.Config) (ordo.Node, error) {
		if cfg.ID == 1 {
			return echo{}, nil
		}
		return &caller{}, nil
	},
}

// In the simulator, against a server that crashes, pauses and loses
// messages at random, every caller's breaker admits at most probeCap
// probes per half-open period, no attempt starts at or after its call's
// deadline or past maxAttempts, and retries stay within the budget
// (retries < MaxTokens/2 + Ratio × successes).
func TestSimRetryAndBreakerProperties(t *testing.T) {
	var attempts, probes, retries, opens, fastFails int
	for seed := uint64(1); seed <= 20; seed++ {
		cfg := sim.Config{Protocol: callProto, Nodes: 4, Seed: seed, Trace: true}
		cfg.Network.Default = sim.Link{Latency: sim.Dist{Kind: sim.Exponential, A: 6 * time.Millisecond}, Loss: 0.1}
		s, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StartNemesis(sim.Nemesis{Start: 100 * time.Millisecond, Stop: 2 * time.Second, Crash: 2, Pause: 2, MeanDowntime: 150 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if err := s.RunFor(2500 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		type st struct {
			halfOpen             bool
			probes               int
			deadline             int64
			retriesN, successesN int
		}
		per := map[ordo.NodeID]*st{}
		for _, e := range s.Trace().Events {
			if e.Kind != trace.Note || e.Node == 1 {
				continue
			}
			c := per[e.Node]
			if c == nil {
				c = &st{}
				per[e.Node] = c
			}
			fail := func(format string, args ...any) {
				t.Fatalf("seed %d node %v event %d: "+format+" (replay: go test ./resilience -run TestSimRetryAndBreakerProperties)", append([]any{seed, e.Node, e.ID}, args...)...)
			}
			switch e.Name {
			case "start":
				*c = st{}
			case "breaker":
				c.halfOpen, c.probes = e.Attrs.Get("to") == "half-open", 0
				if e.Attrs.Get("to") == "open" {
					opens++
				}
			case "call":
				c.deadline, _ = e.Attrs.Int("deadline")
			case "attempt":
				attempts++
				at, _ := e.Attrs.Int("at")
				n, _ := e.Attrs.Int("n")
				if at >= c.deadline {
					fail("attempt at %v, deadline %v", time.Duration(at), time.Duration(c.deadline))
				}
				if n > maxAttempts {
					fail("attempt %d of %d", n, maxAttempts)
				}
				if e.Attrs.Get("probe") == true {
					probes++
					c.probes++
					if !c.halfOpen || c.probes > probeCap {
						fail("probe %d (half-open %v), cap %d", c.probes, c.halfOpen, probeCap)
					}
				}
			case "retry":
				retries++
				c.retriesN++
				if float64(c.retriesN) >= budgetMax/2+budgetRatio*float64(c.successesN) {
					fail("%d retries with %d successes exceed the budget", c.retriesN, c.successesN)
				}
			case "ok":
				c.successesN++
			case "fast-fail":
				fastFails++
			}
		}
	}
	t.Logf("20 seeds: %d attempts, %d retries, %d breaker opens, %d probes, %d fast failures", attempts, retries, opens, probes, fastFails)
	if retries == 0 || opens == 0 || probes == 0 || fastFails == 0 {
		t.Fatal("vacuous run: the faults did not exercise retries, the breaker and its probes")
	}
}
