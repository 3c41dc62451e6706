package kv

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"ordo"
	"ordo/history"
	"ordo/workload"
)

// ClientOptions are the options of "kv-client".
var ClientOptions = []ordo.Option{
	{Name: "keys", Default: "3", Help: "how many keys (k0, k1, ...) the workload reads and writes"},
	{Name: "ops", Default: "100", Help: "operations this client issues in all (retries not counted; 0: no limit)"},
	{Name: "for", Default: "0s", Help: "stop issuing new operations this long after boot (0s: no limit)"},
	{Name: "concurrency", Default: "2", Help: "operations in flight at once (logical processes, each with its own session)"},
	{Name: "rate", Default: "0", Help: "open loop: operations per second, issued whether or not earlier ones returned (0: closed loop)"},
	{Name: "think", Default: "20ms", Help: "closed loop: pause of a process between a reply and its next operation"},
	{Name: "reads", Default: "50", Help: "percent of operations that are gets"},
	{Name: "cas", Default: "20", Help: "percent of writes that are compare-and-swap (expecting the value this client saw last)"},
	{Name: "deletes", Default: "10", Help: "percent of writes that are deletes"},
	{Name: "read", Default: "index", Help: "read level of gets: index (ReadIndex), lease (leader lease) or serializable (any replica, possibly stale; labelled stale in the history)"},
	{Name: "read_any", Default: "0", Help: "percent of gets sent to a random server rather than the leader heard of (a load balancer in front of the database); a follower answers not-leader, or serves a serializable get"},
	{Name: "value_size", Default: "0", Help: "pad every written value to this many bytes (0: just the unique value; the history records the unique part)"},
	{Name: "timeout", Default: "500ms", Help: "an attempt without a reply in this long is retried, or the operation recorded as info (outcome unknown)"},
	{Name: "sessions", Default: "true", Help: "writes carry the process's session and seq (false: none, so a retry may apply twice; for the test that shows why sessions exist)"},
	{Name: "retries", Default: "4", Help: "attempts after a timeout or an unknown outcome (a write retried keeps its session and seq, so it applies once)"},
	{Name: "start", Default: "50ms", Help: "wait this long after boot before the first operation"},
	{Name: "admin_every", Default: "0s", Help: "also, this often, transfer leadership or remove (then re-add) a random server (0s: never)"},
	{Name: "admin_readd", Default: "50ms", Help: "re-add a removed server this long after its removal was acknowledged (then retry every admin_every until it is back)"},
}

// ClientProtocol is "kv-client", the database's simulated workload.
var ClientProtocol = &ordo.Protocol{
	Name:     "kv-client",
	Doc:      "kv workload: seeded gets, puts, cas and deletes over a few keys with sessions (a retried write applies once), following leader hints, recorded as a client history; optional admin ops",
	Options:  ClientOptions,
	New:      NewClient,
	Messages: []ordo.Message{Request{}, Response{}},
	Role:     ordo.Client,
}

// Bounds of the client's options.
const (
	MaxClientKeys  = 1 << 10
	MaxConcurrency = history.MaxProcesses
	MaxRate        = 100_000
	MaxRetries     = 16
	// maxRedirects bounds the not-leader and busy answers one attempt
	// follows before it counts as a failed attempt.
	maxRedirects = 8
)

const (
	timerTimeout = "timeout" // Arg = request id
	timerAdmin   = "admin"
	timerResend  = "resend" // Arg = process: after busy, try again
	timerReadd   = "readd"  // re-add the server removed
)

const clientBootKey = "kv-client/boot"

// idsPerBoot bounds the ids (ops and requests) of one incarnation.
const idsPerBoot = 1 << 24

// padByte pads values to value_size; the unique part never contains it.
const padByte = '_'

// Client is the workload generator: each process runs one operation at a
// time, with its own session (Session = client, boot, process), and
// records it (package history).
type Client struct {
	keys, ops, reads, cas, deletes, retries, rate, valueSize int
	readAny                                                  int
	sessions                                                 bool
	level                                                    Read
	think, timeout, start, adminEvery, adminReadd            time.Duration
	stopAt                                                   time.Duration
	procs                                                    []proc
	inflight                                                 map[uint64]int // request id → process (-1: admin)
	boot, nextID                                             uint64
	issued                                                   int
	leader                                                   ordo.NodeID                   // the last leader heard of
	downUntil                                                map[ordo.NodeID]time.Duration // monotonic: a server reported gone is skipped until then
	scratch                                                  []ordo.NodeID
	seen                                                     map[string]string
	admin                                                    adminOp
	pace                                                     workload.Pacer
}

type proc struct {
	busy      bool
	op        history.Op
	req       Request
	server    ordo.NodeID
	tries     int  // attempts left after this one
	redirects int  // not-leader/busy answers of this attempt
	uncertain bool // an attempt may have taken effect
	seq       uint64
}

type adminOp struct {
	busy      bool
	req       Request
	server    ordo.NodeID
	redirects int
	removed   ordo.NodeID // a server removed (or maybe removed) and not re-added yet
	avoid     ordo.NodeID // the server the last attempt failed at
}

// NewClient builds one kv client.
func NewClient(cfg ordo.Config) (ordo.Node, error) {
	c := &Client{
		keys: cfg.Opts.Int("keys"), ops: cfg.Opts.Int("ops"), reads: cfg.Opts.Int("reads"),
		cas: cfg.Opts.Int("cas"), deletes: cfg.Opts.Int("deletes"), retries: cfg.Opts.Int("retries"),
		rate: cfg.Opts.Int("rate"), valueSize: cfg.Opts.Int("value_size"), readAny: cfg.Opts.Int("read_any"), sessions: cfg.Opts.Bool("sessions"),
		think: cfg.Opts.Duration("think"), timeout: cfg.Opts.Duration("timeout"), start: cfg.Opts.Duration("start"),
		adminEvery: cfg.Opts.Duration("admin_every"), adminReadd: cfg.Opts.Duration("admin_readd"), stopAt: cfg.Opts.Duration("for"),
		inflight: map[uint64]int{}, seen: map[string]string{},
	}
	n := cfg.Opts.Int("concurrency")
	switch cfg.Opts.String("read") {
	case "index":
		c.level = ReadIndex
	case "lease":
		c.level = ReadLease
	case "serializable":
		c.level = ReadSerializable
	default:
		return nil, fmt.Errorf("kv-client: read=%q (valid: index, lease, serializable)", cfg.Opts.String("read"))
	}
	switch {
	case c.keys < 1 || c.keys > MaxClientKeys:
		return nil, fmt.Errorf("kv-client: keys=%d out of range 1..%d", c.keys, MaxClientKeys)
	case c.ops < 0:
		return nil, fmt.Errorf("kv-client: ops=%d is negative", c.ops)
	case n < 1 || n > MaxConcurrency:
		return nil, fmt.Errorf("kv-client: concurrency=%d out of range 1..%d", n, MaxConcurrency)
	case c.rate < 0 || c.rate > MaxRate:
		return nil, fmt.Errorf("kv-client: rate=%d out of range 0..%d", c.rate, MaxRate)
	case c.readAny < 0 || c.readAny > 100:
		return nil, fmt.Errorf("kv-client: read_any=%d%% out of range 0..100", c.readAny)
	case c.reads < 0 || c.reads > 100, c.cas < 0 || c.cas > 100, c.deletes < 0 || c.deletes > 100 || c.cas+c.deletes > 100:
		return nil, fmt.Errorf("kv-client: reads=%d%%, cas=%d%%, deletes=%d%%: each 0..100, cas+deletes at most 100", c.reads, c.cas, c.deletes)
	case c.valueSize < 0 || c.valueSize > MaxValue:
		return nil, fmt.Errorf("kv-client: value_size=%d out of range 0..%d", c.valueSize, MaxValue)
	case c.timeout <= 0:
		return nil, fmt.Errorf("kv-client: timeout must be more than 0s")
	case c.retries < 0 || c.retries > MaxRetries:
		return nil, fmt.Errorf("kv-client: retries=%d out of range 0..%d", c.retries, MaxRetries)
	}
	c.procs = make([]proc, n)
	return c, nil
}

// Start implements ordo.Node.
func (c *Client) Start(env ordo.Env) {
	c.boot = clientBoot(env)
	if c.stopAt > 0 {
		c.stopAt += env.Monotonic()
	}
	if c.adminEvery > 0 {
		env.After(c.start+c.adminEvery, ordo.Timer{Name: timerAdmin})
	}
	c.pace = workload.Pacer{Rate: c.rate, Think: c.think}
	c.pace.Start(env, len(c.procs), c.start)
}

// clientBoot counts this boot (op ids and sessions must differ across
// restarts); a count that cannot be believed stops the client.
func clientBoot(env ordo.Env) uint64 { return ordo.NextBoot(env, clientBootKey, 1<<20-1) }

func (c *Client) id() uint64 {
	c.nextID++
	if c.nextID >= idsPerBoot {
		panic("kv-client: more than 2^24 ids in one boot")
	}
	return (c.boot-1)*idsPerBoot + c.nextID
}

// session names process p's session in this boot: unique per client,
// boot and process.
func (c *Client) session(env ordo.Env, p int) uint64 {
	return uint64(env.ID())<<40 | c.boot<<12 | uint64(p)
}

func (c *Client) finished(env ordo.Env) bool {
	return c.ops > 0 && c.issued >= c.ops ||
		c.stopAt > 0 && env.Monotonic() >= c.stopAt ||
		c.nextID+uint64(MaxRetries*maxRedirects+16) >= idsPerBoot
}

// Fire implements ordo.Node.
func (c *Client) Fire(env ordo.Env, t ordo.Timer) {
	if c.pace.Fire(env, t, (*paced)(c)) {
		return
	}
	switch t.Name {
	case timerResend:
		if p := int(t.Arg); p >= 0 && p < len(c.procs) && c.procs[p].busy {
			c.send(env, p, c.target(env, ordo.None))
		}
	case timerTimeout:
		p, ok := c.inflight[uint64(t.Arg)]
		if !ok {
			return // answered in time
		}
		delete(c.inflight, uint64(t.Arg))
		if p < 0 {
			c.adminFailed(env)
			c.leader = ordo.None
			return
		}
		// The attempt may have taken effect: only a retry with the same
		// session and seq can still tell.
		c.leader = ordo.None
		c.retry(env, p, "timeout")
	case timerReadd:
		c.adminStep(env, true)
	case timerAdmin:
		// After the workload ends only a removed server is re-added: the
		// client leaves the configuration as it found it.
		if fin := c.finished(env); !fin || c.admin.removed != ordo.None {
			env.After(c.adminEvery, ordo.Timer{Name: timerAdmin})
			c.adminStep(env, fin)
		}
	}
}

// target picks a server: the leader heard of, else a random one other
// than avoid.
func (c *Client) target(env ordo.Env, avoid ordo.NodeID) ordo.NodeID {
	servers := env.Roster().Servers
	if c.leader != ordo.None && c.leader != avoid {
		return c.leader
	}
	// A server whose process was reported gone (a peer-down hint) is
	// skipped for a while: a request sent there only waits out its
	// timeout. Unless every other one is down too.
	now := env.Monotonic()
	up := c.scratch[:0]
	for _, s := range servers {
		if s != avoid && c.downUntil[s] <= now {
			up = append(up, s)
		}
	}
	c.scratch = up
	if len(up) > 0 {
		return up[env.Rand().IntN(len(up))]
	}
	s := servers[env.Rand().IntN(len(servers))]
	if s == avoid && len(servers) > 1 {
		s = servers[(env.Rand().IntN(len(servers)-1)+indexOf(servers, s)+1)%len(servers)]
	}
	return s
}

// isDown reports whether server s was reported gone (a peer-down hint)
// and has not answered since, within the hint's period (serverDown).
func (c *Client) isDown(env ordo.Env, s ordo.NodeID) bool {
	return s != ordo.None && c.downUntil[s] > env.Monotonic()
}

// leaderHint is a server's word on who leads: ordo.None when it names
// none, or names a server reported gone. A follower that has not yet
// noticed its leader's crash still names it for an election timeout; a
// write sent there would only wait out the client's timeout. Every hint
// goes through it and serverDown forgets a leader reported gone, so
// c.leader never names a server reported gone.
func (c *Client) leaderHint(env ordo.Env, named ordo.NodeID) ordo.NodeID {
	if c.isDown(env, named) {
		return ordo.None
	}
	return named
}

func indexOf(l []ordo.NodeID, id ordo.NodeID) int {
	for i, x := range l {
		if x == id {
			return i
		}
	}
	return 0
}

// issue starts a new operation on process p.
func (c *Client) issue(env ordo.Env, p int) {
	if c.finished(env) {
		return
	}
	c.issued++
	r := env.Rand()
	key := fmt.Sprintf("k%d", r.IntN(c.keys))
	op := history.Op{ID: int64(c.id()), Process: p, Key: key}
	req := Request{Key: key}
	if r.IntN(100) < c.reads {
		op.F, req.Op, req.Read = history.Get, OpGet, c.level
		op.Stale = c.level == ReadSerializable
	} else {
		pr := &c.procs[p]
		if c.sessions {
			pr.seq++
			req.Session, req.Seq = c.session(env, p), pr.seq
		}
		switch x := r.IntN(100); {
		case x < c.cas:
			op.F, req.Op = history.CAS, OpCAS
			op.Expect = c.seen[key]
			req.Expect, req.Exists = op.Expect, op.Expect != ""
		case x < c.cas+c.deletes:
			op.F, req.Op = history.Delete, OpDelete
		default:
			op.F, req.Op = history.Put, OpPut
		}
		if op.F != history.Delete {
			// Unique values let the checkers tell the writes apart.
			op.Value = fmt.Sprintf("%v-%d", env.ID(), op.ID)
			req.Value = op.Value
			if n := c.valueSize - len(op.Value); n > 0 {
				req.Value += strings.Repeat(string(rune(padByte)), n)
			}
		}
	}
	c.procs[p] = proc{busy: true, op: op, req: req, tries: c.retries, seq: c.procs[p].seq}
	history.Invoke(env, op)
	server := c.target(env, ordo.None)
	if op.F == history.Get && c.readAny > 0 && r.IntN(100) < c.readAny {
		servers := env.Roster().Servers
		server = servers[r.IntN(len(servers))]
	}
	c.send(env, p, server)
}

// send makes one attempt of p's operation at server.
func (c *Client) send(env ordo.Env, p int, server ordo.NodeID) {
	pr := &c.procs[p]
	pr.server = server
	pr.req.ID = c.id()
	c.inflight[pr.req.ID] = p
	env.Send(server, pr.req)
	env.After(c.timeout, ordo.Timer{Name: timerTimeout, Arg: int64(pr.req.ID)})
}

// retry makes another attempt after one whose outcome is unknown, or
// records the operation as info when none is left.
func (c *Client) retry(env ordo.Env, p int, why string) {
	pr := &c.procs[p]
	if pr.op.F != history.Get {
		pr.uncertain = true
	}
	if pr.tries == 0 {
		history.Info(env, pr.op, why)
		c.done(env, p)
		return
	}
	pr.tries--
	pr.redirects = 0
	c.send(env, p, c.target(env, pr.server))
}

// end records a refusal that changed nothing: fail, unless an earlier
// attempt may have taken effect (then info).
func (c *Client) end(env ordo.Env, p int, why string) {
	pr := &c.procs[p]
	if pr.uncertain {
		history.Info(env, pr.op, why+" (after an attempt of unknown outcome)")
	} else {
		history.Fail(env, pr.op, why)
	}
	c.done(env, p)
}

func (c *Client) done(env ordo.Env, p int) {
	c.procs[p].busy = false
	c.pace.Done(env, p)
}

func unpad(v string) string {
	if i := strings.IndexByte(v, padByte); i >= 0 {
		return v[:i]
	}
	return v
}

// Receive implements ordo.Node.
func (c *Client) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if _, down := m.(ordo.PeerDown); down {
		c.serverDown(env, from)
		return
	}
	r, ok := m.(Response)
	if !ok {
		return
	}
	delete(c.downUntil, from) // it answers: it is up
	p, ok := c.inflight[r.ID]
	if !ok {
		return // late (after a timeout) or duplicated
	}
	if p < 0 {
		if c.admin.server == from {
			delete(c.inflight, r.ID)
			c.adminReply(env, from, r)
		}
		return
	}
	pr := &c.procs[p]
	if pr.server != from {
		return
	}
	delete(c.inflight, r.ID)
	switch r.Status {
	case StatusOK, StatusNotFound:
		if pr.req.Read != ReadSerializable || pr.op.F != history.Get {
			c.leader = from // a follower may answer a serializable get
		}
		switch pr.op.F {
		case history.Get:
			v := ""
			if r.Status == StatusOK {
				v = unpad(r.Value)
			}
			c.seen[pr.op.Key] = v
			history.OK(env, pr.op, v)
		case history.Delete:
			c.seen[pr.op.Key] = ""
			history.OK(env, pr.op, "")
		default:
			c.seen[pr.op.Key] = pr.op.Value
			history.OK(env, pr.op, "")
		}
		c.done(env, p)
	case StatusMismatch:
		c.leader = from
		if r.Value != "" || pr.op.Expect == "" {
			c.seen[pr.op.Key] = unpad(r.Value)
		}
		history.Fail(env, pr.op, "cas mismatch")
		c.done(env, p)
	case StatusNotLeader, StatusBusy, StatusUnavailable:
		// Nothing changed at this server: ask the leader named, or
		// another server (after a pause when busy).
		if hint := c.leaderHint(env, r.Leader); r.Status == StatusNotLeader && hint != ordo.None && hint != from {
			c.leader = hint
		} else if c.leader == from {
			c.leader = ordo.None
		}
		pr.redirects++
		if pr.redirects > maxRedirects {
			if pr.tries == 0 {
				c.end(env, p, r.Status.String())
				return
			}
			pr.tries--
			pr.redirects = 0
		}
		if r.Status == StatusNotLeader && c.leader != ordo.None {
			c.send(env, p, c.leader)
			return
		}
		wait := c.think + time.Duration(env.Rand().Int64N(int64(c.timeout/4)+1))
		if r.Status == StatusNotLeader {
			// An election is under way (no leader known): one takes a
			// few heartbeats after a crash, so ask again soon, jittered so
			// the processes do not ask together.
			wait = time.Duration(env.Rand().Int64N(int64(c.timeout/10) + 1))
		}
		env.After(wait, ordo.Timer{Name: timerResend, Arg: int64(p)})
	case StatusUnknown:
		c.leader = c.leaderHint(env, r.Leader)
		c.retry(env, p, "unknown outcome")
	default: // bad request, a watch's timeout (never asked for)
		c.end(env, p, r.Status.String()+": "+r.Err)
	}
}

// adminStep issues one admin operation: re-add the server removed
// earlier, else (at random) transfer leadership to, or remove, a random
// server other than the leader heard of.
func (c *Client) adminStep(env ordo.Env, readdOnly bool) {
	if c.admin.busy || len(env.Roster().Servers) < 3 || readdOnly && c.admin.removed == ordo.None {
		return
	}
	servers := env.Roster().Servers
	var req Request
	switch {
	case c.admin.removed != ordo.None:
		req = Request{Op: OpMember, Value: "add", Node: c.admin.removed}
	default:
		node := c.target(env, c.leader)
		if c.leader == ordo.None {
			node = servers[env.Rand().IntN(len(servers))]
		}
		if env.Rand().IntN(2) == 0 {
			req = Request{Op: OpMove, Node: node}
		} else {
			req = Request{Op: OpMember, Value: "remove", Node: node}
			c.admin.removed = node // maybe removed until a re-add succeeds
		}
	}
	c.admin.req, c.admin.redirects, c.admin.busy = req, 0, true
	c.adminSend(env, c.target(env, c.admin.avoid))
}

func (c *Client) adminSend(env ordo.Env, server ordo.NodeID) {
	c.admin.server = server
	c.admin.req.ID = c.id()
	c.inflight[c.admin.req.ID] = -1
	env.Note("kv-admin", "op", c.admin.req.Op.String(), "value", c.admin.req.Value, "node", int(c.admin.req.Node), "to", int(server))
	env.Send(server, c.admin.req)
	env.After(c.timeout, ordo.Timer{Name: timerTimeout, Arg: int64(c.admin.req.ID)})
}

func (c *Client) adminReply(env ordo.Env, from ordo.NodeID, r Response) {
	req := c.admin.req
	switch {
	case r.Status == StatusNotLeader && c.leaderHint(env, r.Leader) != ordo.None && r.Leader != from && c.admin.redirects < maxRedirects:
		c.leader = r.Leader
		c.admin.redirects++
		c.adminSend(env, r.Leader)
		return
	case r.Status == StatusOK && req.Op == OpMember && req.Value == "remove":
		env.After(c.adminReadd, ordo.Timer{Name: timerReadd})
	case r.Status == StatusOK && req.Op == OpMember && req.Value == "add":
		c.admin.removed = ordo.None
	case r.Status == StatusBadRequest && req.Op == OpMember && req.Value == "add":
		// Raft refused the add (the server is a voter already): the
		// remove never took effect.
		c.admin.removed = ordo.None
	case req.Op == OpMember && req.Value == "remove" && r.Status != StatusOK && r.Status != StatusUnknown:
		c.admin.removed = ordo.None // refused: nothing changed
	case r.Status == StatusOK && req.Op == OpMove:
		c.leader = c.leaderHint(env, req.Node)
	case r.Status != StatusOK:
		c.adminFailed(env)
		return
	}
	c.admin.busy, c.admin.avoid = false, ordo.None
}

// adminFailed ends an admin attempt that failed (no answer, or a refusal
// without a leader to follow): a pending re-add is tried again soon at
// another server, so the cluster is not left a voter short for long.
func (c *Client) adminFailed(env ordo.Env) {
	c.admin.busy, c.admin.avoid = false, c.admin.server
	if c.admin.removed != ordo.None {
		env.After(c.adminReadd+c.think, ordo.Timer{Name: timerReadd})
	}
}

// WantsPeerDown implements ordo.PeerDownListener: a client told that a
// server's process is gone retries what it had in flight there at once,
// rather than waiting out its timeout (the write failover a user sees).
func (c *Client) WantsPeerDown() bool { return true }

// serverDown retries every attempt in flight at server elsewhere, as a
// timeout would: an attempt may have taken effect before the process
// died, so a write keeps its session and seq (it applies once).
func (c *Client) serverDown(env ordo.Env, server ordo.NodeID) {
	if c.leader == server {
		c.leader = ordo.None
	}
	if c.downUntil == nil {
		c.downUntil = map[ordo.NodeID]time.Duration{}
	}
	// Twice the timeout: long enough for a restart, short enough that a
	// server back sooner is soon used again (its answers clear it).
	c.downUntil[server] = env.Monotonic() + 2*c.timeout
	// In request-id order: the retries' order must not depend on map
	// iteration (the simulator replays bit for bit).
	var ids []uint64
	for id, p := range c.inflight {
		if p >= 0 && c.procs[p].server == server || p < 0 && c.admin.server == server {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := c.inflight[id]
		delete(c.inflight, id)
		if p < 0 {
			c.adminFailed(env)
			continue
		}
		c.retry(env, p, "server down")
	}
}

// paced is the client as its pacer sees it (workload.Client).
type paced Client

func (c *paced) Procs() int                 { return len(c.procs) }
func (c *paced) Busy(p int) bool            { return c.procs[p].busy }
func (c *paced) Finished(env ordo.Env) bool { return (*Client)(c).finished(env) }
func (c *paced) Issue(env ordo.Env, p int)  { (*Client)(c).issue(env, p) }
