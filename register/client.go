package register

import (
	"fmt"
	"slices"
	"time"

	"ordo"
	"ordo/history"
	"ordo/workload"
)

// ClientOptions are the options of "register-client".
var ClientOptions = []ordo.Option{
	{Name: "keys", Default: "3", Help: "how many keys (k0, k1, ...) the workload reads and writes"},
	{Name: "ops", Default: "100", Help: "operations this client issues in all (retries not counted; 0: no limit)"},
	{Name: "for", Default: "0s", Help: "stop issuing new operations this long after boot (0s: no limit)"},
	{Name: "concurrency", Default: "2", Help: "operations in flight at once (logical processes)"},
	{Name: "rate", Default: "0", Help: "open loop: operations per second, issued whether or not earlier ones returned (0: closed loop)"},
	{Name: "think", Default: "20ms", Help: "closed loop: pause of a process between a reply and its next operation"},
	{Name: "reads", Default: "50", Help: "percent of operations that are reads"},
	{Name: "timeout", Default: "500ms", Help: "an operation without a reply in this long is recorded as info (outcome unknown)"},
	{Name: "retries", Default: "1", Help: "after a timeout, try the operation again at another server this many times"},
	{Name: "start", Default: "50ms", Help: "wait this long after boot before the first operation"},
}

// ClientProtocol is "register-client", the register's workload.
var ClientProtocol = &ordo.Protocol{
	Name:     "register-client",
	Doc:      "register workload: seeded reads and unique writes over a few keys, closed loop or at a rate, recorded as a client history",
	Options:  ClientOptions,
	New:      NewClient,
	Messages: Messages,
	Role:     ordo.Client,
}

// Bounds of the client's options.
const (
	MaxKeys        = 1 << 10
	MaxConcurrency = history.MaxProcesses
	MaxRate        = 100_000 // ops/s
)

// Timer names of the client.
const (
	timerTimeout = "timeout" // Arg = op id
)

// clientBootKey holds the client's boot count: op ids are
// (boot-1)·idsPerBoot + seq, unique across restarts without a write per
// operation, and small in the first boot (1, 2, 3, ...).
const clientBootKey = "register-client/boot"

// idsPerBoot bounds the operations (retries included) of one incarnation.
const idsPerBoot = 1_000_000

// Client is a workload generator: each of its processes issues one
// operation at a time to one server and records it (package history).
type Client struct {
	keys, ops, reads, retries int
	rate                      int
	think, timeout, start     time.Duration
	stopAt                    time.Duration // monotonic; 0: never
	procs                     []proc
	inflight                  map[int64]int // op id → process
	boot, seq                 uint64
	issued                    int // operations started (retries not counted)
	pace                      workload.Pacer
}

// proc is one logical process.
type proc struct {
	busy   bool
	op     history.Op
	server ordo.NodeID
	left   int // retries left
}

// NewClient builds one register client.
func NewClient(cfg ordo.Config) (ordo.Node, error) {
	c := &Client{
		keys:     cfg.Opts.Int("keys"),
		ops:      cfg.Opts.Int("ops"),
		reads:    cfg.Opts.Int("reads"),
		retries:  cfg.Opts.Int("retries"),
		rate:     cfg.Opts.Int("rate"),
		think:    cfg.Opts.Duration("think"),
		timeout:  cfg.Opts.Duration("timeout"),
		start:    cfg.Opts.Duration("start"),
		stopAt:   cfg.Opts.Duration("for"),
		inflight: map[int64]int{},
	}
	n := cfg.Opts.Int("concurrency")
	switch {
	case c.keys < 1 || c.keys > MaxKeys:
		return nil, fmt.Errorf("register-client: keys=%d out of range 1..%d", c.keys, MaxKeys)
	case c.ops < 0:
		return nil, fmt.Errorf("register-client: ops=%d is negative", c.ops)
	case n < 1 || n > MaxConcurrency:
		return nil, fmt.Errorf("register-client: concurrency=%d out of range 1..%d", n, MaxConcurrency)
	case c.rate < 0 || c.rate > MaxRate:
		return nil, fmt.Errorf("register-client: rate=%d out of range 0..%d", c.rate, MaxRate)
	case c.reads < 0 || c.reads > 100:
		return nil, fmt.Errorf("register-client: reads=%d%% out of range 0..100", c.reads)
	case c.timeout <= 0:
		return nil, fmt.Errorf("register-client: timeout must be more than 0s")
	case c.retries < 0 || c.retries > 16:
		return nil, fmt.Errorf("register-client: retries=%d out of range 0..16", c.retries)
	}
	c.procs = make([]proc, n)
	return c, nil
}

// Start boots the client: a fresh count of operations, every process idle.
func (c *Client) Start(env ordo.Env) {
	// Fewer than 2^30 boots, so op ids stay JSON's exact integers.
	c.boot = ordo.NextBoot(env, clientBootKey, 1<<30-1)
	if c.stopAt > 0 {
		c.stopAt += env.Monotonic() // "for" counts from this boot
	}
	c.pace = workload.Pacer{Rate: c.rate, Think: c.think}
	c.pace.Start(env, len(c.procs), c.start)
}

// Fire implements ordo.Node.
func (c *Client) Fire(env ordo.Env, t ordo.Timer) {
	if c.pace.Fire(env, t, (*paced)(c)) {
		return
	}
	switch t.Name {
	case timerTimeout:
		p, ok := c.inflight[t.Arg]
		if !ok {
			return // answered in time
		}
		pr := &c.procs[p]
		delete(c.inflight, t.Arg)
		history.Info(env, pr.op, "timeout")
		if pr.left > 0 {
			// The same operation again, as a new op, at another server.
			pr.left--
			servers := env.Roster().Servers
			next := servers[env.Rand().IntN(len(servers))]
			if next == pr.server && len(servers) > 1 {
				next = servers[(slices.Index(servers, pr.server)+1)%len(servers)]
			}
			op := pr.op
			op.ID = c.nextID()
			c.send(env, p, op, next)
			return
		}
		c.done(env, p)
	}
}

func (c *Client) nextID() int64 {
	c.seq++
	if c.seq >= idsPerBoot {
		panic("register-client: more than a million operations in one boot")
	}
	return int64((c.boot-1)*idsPerBoot + c.seq)
}

// finished reports whether the workload is over: its operation count or
// its time is used up (or the op ids of this boot).
func (c *Client) finished(env ordo.Env) bool {
	return c.ops > 0 && c.issued >= c.ops ||
		c.stopAt > 0 && env.Monotonic() >= c.stopAt ||
		c.seq+uint64(c.retries)+1 >= idsPerBoot
}

// issue starts a new operation on process p.
func (c *Client) issue(env ordo.Env, p int) {
	if c.finished(env) {
		return
	}
	c.issued++
	r := env.Rand()
	op := history.Op{ID: c.nextID(), Process: p, F: history.Put, Key: fmt.Sprintf("k%d", r.IntN(c.keys))}
	if r.IntN(100) < c.reads {
		op.F = history.Get
	} else {
		// Unique values let the checkers tell the writes apart.
		op.Value = fmt.Sprintf("%v-%d", env.ID(), op.ID)
	}
	servers := env.Roster().Servers
	c.procs[p].left = c.retries
	c.send(env, p, op, servers[r.IntN(len(servers))])
}

func (c *Client) send(env ordo.Env, p int, op history.Op, server ordo.NodeID) {
	c.procs[p] = proc{busy: true, op: op, server: server, left: c.procs[p].left}
	c.inflight[op.ID] = p
	history.Invoke(env, op)
	env.Send(server, Request{Op: op.ID, Write: op.F == history.Put, Key: op.Key, Value: op.Value})
	env.After(c.timeout, ordo.Timer{Name: timerTimeout, Arg: op.ID})
}

// done frees process p and, in a closed loop, schedules its next
// operation.
func (c *Client) done(env ordo.Env, p int) {
	c.procs[p].busy = false
	c.pace.Done(env, p)
}

// Receive implements ordo.Node.
func (c *Client) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r, ok := m.(Reply)
	if !ok {
		return
	}
	p, ok := c.inflight[r.Op]
	if !ok || c.procs[p].server != from {
		return // late (after a timeout), duplicated, or not from the server asked
	}
	delete(c.inflight, r.Op)
	op := c.procs[p].op
	switch {
	case r.Busy:
		history.Fail(env, op, "server busy")
	case op.F == history.Get:
		history.OK(env, op, r.Value)
	default:
		history.OK(env, op, "")
	}
	c.done(env, p)
}

// paced is the client as its pacer sees it (workload.Client).
type paced Client

func (c *paced) Procs() int                 { return len(c.procs) }
func (c *paced) Busy(p int) bool            { return c.procs[p].busy }
func (c *paced) Finished(env ordo.Env) bool { return (*Client)(c).finished(env) }
func (c *paced) Issue(env ordo.Env, p int)  { (*Client)(c).issue(env, p) }
