package partial

import (
	"fmt"
	"time"

	"ordo"
	"ordo/resilience"
)

// Backoff under contention (section 5, and section 1's answer to fallacy
// 1, "재시도"): N clients each want one write to a single resource guarded
// by optimistic concurrency — a write names the version it read and fails
// if another write happened since. A failed client learns the new version
// from the failure and tries again after its backoff. Without jitter the
// losers of one round retry together and collide again; jitter spreads
// them. The experiment is the one behind the AWS architecture blog's
// "Exponential Backoff and Jitter" (Brooker, 2015), run here in the
// simulator.

// CAS is a conditional write: applied only if the resource is still at
// version Expect.
type CAS struct {
	Op     int64
	Expect int64
}

// Kind implements ordo.Message.
func (CAS) Kind() string { return "cas" }

// CASReply answers a CAS: OK, or the current Version to try again with.
type CASReply struct {
	Op      int64
	OK      bool
	Version int64
}

// Kind implements ordo.Message.
func (CASReply) Kind() string { return "cas-reply" }

// CASMessages are the contention scene's message types.
var CASMessages = []ordo.Message{CAS{}, CASReply{}}

// Resource is the contended server: one versioned value.
type Resource struct{ version int64 }

// Start implements ordo.Node (the version is volatile: no crash here).
func (r *Resource) Start(env ordo.Env) {}

// Fire implements ordo.Node.
func (r *Resource) Fire(env ordo.Env, t ordo.Timer) {}

// Receive implements ordo.Node.
func (r *Resource) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	c, ok := m.(CAS)
	if !ok {
		return
	}
	if c.Expect == r.version {
		r.version++
		env.Send(from, CASReply{Op: c.Op, OK: true, Version: r.version})
		return
	}
	env.Send(from, CASReply{Op: c.Op, Version: r.version})
}

// Backoff names a client's waiting rule between CAS attempts.
type Backoff string

// The backoffs of the table, in its order.
const (
	NoBackoff    Backoff = "no backoff"
	Exponential  Backoff = "exponential"  // no jitter
	Full         Backoff = "full jitter"  // resilience.FullJitter
	Equal        Backoff = "equal jitter" // resilience.EqualJitter
	Decorrelated Backoff = "decorrelated jitter"
)

// Backoffs lists the backoffs in the table's order.
var Backoffs = []Backoff{NoBackoff, Exponential, Full, Equal, Decorrelated}

var backoffJitter = map[Backoff]resilience.Jitter{
	Exponential:  resilience.NoJitter,
	Full:         resilience.FullJitter,
	Equal:        resilience.EqualJitter,
	Decorrelated: resilience.DecorrelatedJitter,
}

func parseBackoff(s string) (Backoff, error) {
	for _, b := range Backoffs {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("partial: unknown backoff %q (valid: no backoff, exponential, full jitter, equal jitter, decorrelated jitter)", s)
}

// Contender is one client of the contention scene: it writes once.
type Contender struct {
	backoff Backoff
	policy  resilience.RetryPolicy
	retry   *resilience.Retry
	version int64
	Calls   int           // CAS requests sent
	Done    bool          // its write succeeded
	Took    time.Duration // from boot to success (monotonic)
	GaveUp  bool          // attempts ran out
	began   time.Duration
	op      int64
}

// MaxContenderAttempts bounds one contender's attempts.
const MaxContenderAttempts = resilience.MaxAttemptsLimit

const timerCAS = "cas"

// Start implements ordo.Node: every contender writes at boot, together.
func (c *Contender) Start(env ordo.Env) {
	c.retry = resilience.NewRetry(c.policy, env.Monotonic())
	c.began = env.Monotonic()
	c.send(env)
}

func (c *Contender) send(env ordo.Env) {
	c.Calls++
	c.op++
	env.Send(env.Roster().Servers[0], CAS{Op: c.op, Expect: c.version})
}

// Receive implements ordo.Node.
func (c *Contender) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r, ok := m.(CASReply)
	if !ok || r.Op != c.op || c.Done || c.GaveUp {
		return
	}
	if r.OK {
		c.Done = true
		c.Took = env.Monotonic() - c.began
		c.retry.Succeeded()
		return
	}
	c.version = r.Version
	if c.backoff == NoBackoff {
		if c.Calls >= MaxContenderAttempts {
			c.GaveUp = true
			return
		}
		c.send(env)
		return
	}
	wait, err := c.retry.Next(env.Monotonic(), env.Rand(), resilience.Outcome{Kind: resilience.Failed})
	if err != nil {
		c.GaveUp = true
		return
	}
	env.After(wait, ordo.Timer{Name: timerCAS})
}

// Fire implements ordo.Node.
func (c *Contender) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name == timerCAS && !c.Done && !c.GaveUp {
		c.send(env)
	}
}

// ResourceProtocol is "occ-resource", the contended server.
var ResourceProtocol = &ordo.Protocol{
	Name:     "occ-resource",
	Doc:      "one versioned value written by compare-and-set (section 5: backoff under contention)",
	New:      func(ordo.Config) (ordo.Node, error) { return &Resource{}, nil },
	Messages: CASMessages,
	Client:   "occ-client",
}

// ContenderProtocol is "occ-client": one write, retried with a backoff.
var ContenderProtocol = &ordo.Protocol{
	Name: "occ-client",
	Doc:  "writes once by compare-and-set, retrying on conflict with a backoff (section 5)",
	Options: []ordo.Option{
		{Name: "backoff", Default: string(Full), Help: "no backoff, exponential, full jitter, equal jitter or decorrelated jitter"},
		{Name: "base", Default: "1ms", Help: "the first ceiling of the backoff"},
		{Name: "cap", Default: "1s", Help: "the largest wait"},
	},
	New: func(cfg ordo.Config) (ordo.Node, error) {
		b, err := parseBackoff(cfg.Opts.String("backoff"))
		if err != nil {
			return nil, err
		}
		p := resilience.RetryPolicy{Base: cfg.Opts.Duration("base"), Cap: cfg.Opts.Duration("cap"),
			MaxAttempts: MaxContenderAttempts, Jitter: backoffJitter[b]}
		if p.Base <= 0 || p.Cap < p.Base {
			return nil, fmt.Errorf("occ-client: need 0 < base ≤ cap, got base=%v cap=%v", p.Base, p.Cap)
		}
		return &Contender{backoff: b, policy: p}, nil
	},
	Messages: CASMessages,
	Role:     ordo.Client,
}

func init() {
	ordo.Register(ResourceProtocol)
	ordo.Register(ContenderProtocol)
}
