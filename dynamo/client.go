package dynamo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"ordo"
	"ordo/history"
	"ordo/workload"
)

// ClientOptions are the options of "dynamo-client".
var ClientOptions = []ordo.Option{
	{Name: "script", Default: "", Help: "scripted mode: steps \"TIME get|put|del|resolve|add|remove KEY [ARG] @SERVER [as|ctx NAME]\", comma-separated (at most 64); empty: the seeded workload"},
	{Name: "cart", Default: "", Help: "values are shopping carts: orset or union (as the servers' merge option); gets and cart ops are noted as cart-op, not put in the history"},
	{Name: "keys", Default: "3", Help: "workload: keys k0, k1, ..."},
	{Name: "ops", Default: "50", Help: "workload: operations in all (0: no limit)"},
	{Name: "for", Default: "0s", Help: "workload: no new operation this long after boot (0s: no limit)"},
	{Name: "concurrency", Default: "2", Help: "workload: operations in flight at once"},
	{Name: "reads", Default: "50", Help: "workload: percent of operations that are gets"},
	{Name: "deletes", Default: "0", Help: "workload: percent of operations that delete a key with the context of its last get (a put when none was read yet); reads + deletes <= 100"},
	{Name: "rmw", Default: "false", Help: "workload: read-modify-write: each process alternates a get and a put of the key it got, with that get's context (a failed get is followed by another get; reads does not apply)"},
	{Name: "resolve", Default: "true", Help: "workload: after a get with siblings, the process's next operation writes back a new value with that get's context"},
	{Name: "think", Default: "20ms", Help: "workload: pause between a reply and the process's next operation"},
	{Name: "timeout", Default: "500ms", Help: "an attempt without a reply in this long is retried at another server"},
	{Name: "retries", Default: "2", Help: "attempts after a timeout or an unavailable answer"},
	{Name: "start", Default: "50ms", Help: "workload: wait this long after boot"},
}

// ClientProtocol is "dynamo-client".
var ClientProtocol = &ordo.Protocol{
	Name:     "dynamo-client",
	Doc:      "dynamo client: a seeded get/put workload writing with the contexts it read (history for no-lost-write), or a script of the chapter's exact steps",
	Options:  ClientOptions,
	New:      NewClient,
	Messages: Messages,
	Role:     ordo.Client,
}

func init() { ordo.Register(ClientProtocol) }

// Note kinds of the client.
const (
	// NoteGet is every get's answer: id (of the history op, if any), key,
	// values ("|"-joined), n (how many), vecs, server.
	NoteGet = "dynamo-get"
	// NoteCart is a cart operation: id, phase (invoke, ok, fail, info),
	// f (add, remove, get), key, item; a get's ok has items.
	NoteCart = "cart-op"
)

// Read is what a get returned, kept to write with.
type Read struct {
	Values []string
	Ctx    []byte
}

// Client is a dynamo client: scripted or a workload.
type Client struct {
	steps            []Step
	cart             string
	keys, ops, reads int
	deletes          int
	retries          int
	resolve, rmw     bool
	think, timeout   time.Duration
	start, stopAt    time.Duration
	tasks            []task
	inflight         map[uint64]int // request id → task
	saved            map[string]Read
	last             map[string]Read // workload: the last get of each key
	boot, next       uint64
	issued           int
	pace             workload.Pacer
}

type task struct {
	busy      bool
	step      Step
	writing   bool // the write phase of resolve, add, remove
	read      Read // resolve/add/remove: what the read phase got
	op        history.Op
	inHistory bool
	cartID    int64
	req       Request
	tries     int
	uncertain bool
	pending   bool // workload: the next op resolves siblings
}

// NewClient builds a client; errors name the option.
func NewClient(cfg ordo.Config) (ordo.Node, error) {
	o := cfg.Opts
	c := &Client{cart: o.String("cart"), keys: o.Int("keys"), ops: o.Int("ops"), reads: o.Int("reads"), deletes: o.Int("deletes"), retries: o.Int("retries"),
		resolve: o.Bool("resolve"), rmw: o.Bool("rmw"), think: o.Duration("think"), timeout: o.Duration("timeout"), start: o.Duration("start"), stopAt: o.Duration("for"),
		inflight: map[uint64]int{}, saved: map[string]Read{}, last: map[string]Read{}}
	steps, err := ParseScript(o.String("script"))
	if err != nil {
		return nil, err
	}
	c.steps = steps
	n := o.Int("concurrency")
	switch {
	case c.cart != "" && c.cart != "orset" && c.cart != "union":
		return nil, fmt.Errorf("dynamo-client: cart=%q (valid: orset, union, or empty)", c.cart)
	case c.cart != "" && len(steps) == 0:
		return nil, fmt.Errorf("dynamo-client: cart=%s needs a script (the workload writes plain values)", c.cart)
	case c.keys < 1 || c.keys > MaxKeys:
		return nil, fmt.Errorf("dynamo-client: keys=%d out of range 1..%d", c.keys, MaxKeys)
	case c.ops < 0:
		return nil, fmt.Errorf("dynamo-client: ops=%d is negative", c.ops)
	case n < 1 || n > 64:
		return nil, fmt.Errorf("dynamo-client: concurrency=%d out of range 1..64", n)
	case c.reads < 0 || c.reads > 100:
		return nil, fmt.Errorf("dynamo-client: reads=%d%% out of range 0..100", c.reads)
	case c.deletes < 0 || c.reads+c.deletes > 100:
		return nil, fmt.Errorf("dynamo-client: deletes=%d%% out of range 0..%d (100 - reads)", c.deletes, 100-c.reads)
	case c.retries < 0 || c.retries > 16:
		return nil, fmt.Errorf("dynamo-client: retries=%d out of range 0..16", c.retries)
	case c.timeout <= 0:
		return nil, fmt.Errorf("dynamo-client: timeout must be more than 0s")
	}
	if len(steps) > 0 {
		c.tasks = make([]task, len(steps))
	} else {
		c.tasks = make([]task, n)
	}
	return c, nil
}

const (
	timerStep    = "step"    // Arg = step
	timerTimeout = "timeout" // Arg = request id
)

// Start implements ordo.Node. A restarted scripted client does not replay
// its script.
func (c *Client) Start(env ordo.Env) {
	c.boot = ordo.NextBoot(env, "dynamo-client/boot", 1<<20-1)
	if len(c.steps) > 0 {
		if c.boot > 1 {
			return
		}
		for i, s := range c.steps {
			env.After(s.At, ordo.Timer{Name: timerStep, Arg: int64(i)})
		}
		return
	}
	if c.stopAt > 0 {
		c.stopAt += env.Monotonic()
	}
	c.pace = workload.Pacer{Think: c.think}
	c.pace.Start(env, len(c.tasks), c.start)
}

func (c *Client) id() uint64 {
	c.next++
	return c.boot<<32 | c.next
}

// Fire implements ordo.Node.
func (c *Client) Fire(env ordo.Env, t ordo.Timer) {
	if len(c.steps) == 0 && c.pace.Fire(env, t, (*paced)(c)) {
		return
	}
	switch t.Name {
	case timerStep:
		if i := int(t.Arg); i >= 0 && i < len(c.steps) && !c.tasks[i].busy {
			c.tasks[i] = task{busy: true, step: c.steps[i], tries: c.retries}
			c.begin(env, i)
		}
	case timerTimeout:
		i, ok := c.inflight[uint64(t.Arg)]
		if !ok {
			return
		}
		delete(c.inflight, uint64(t.Arg))
		c.retry(env, i, "timeout")
	}
}

func (c *Client) isCart() bool { return c.cart != "" }

// begin starts task i: a read first, unless it writes with a saved read.
func (c *Client) begin(env ordo.Env, i int) {
	tk := &c.tasks[i]
	st := tk.step
	switch {
	case st.Op == "put":
		tk.read = c.saved[st.Ctx]
		c.write(env, i, st.Arg)
	case (st.Op == "add" || st.Op == "remove") && st.Ctx != "":
		tk.read = c.saved[st.Ctx]
		c.cartWrite(env, i)
	case st.Op == "del" && st.Ctx != "":
		tk.read = c.saved[st.Ctx]
		c.del(env, i)
	default:
		if st.Op == "get" {
			if c.isCart() {
				tk.cartID = int64(c.id())
				env.Note(NoteCart, "id", tk.cartID, "phase", "invoke", "f", "get", "key", st.Key)
			} else {
				tk.op = history.Op{ID: int64(c.id()), Process: i, F: history.Get, Key: st.Key}
				tk.inHistory = true
				history.Invoke(env, tk.op)
			}
		}
		c.send(env, i, Request{Op: OpGet, Key: st.Key})
	}
}

// write sends task i's put of value with its read's context.
func (c *Client) write(env ordo.Env, i int, value string) {
	tk := &c.tasks[i]
	tk.writing, tk.tries, tk.uncertain = true, c.retries, false
	tk.op = history.Op{ID: int64(c.id()), Process: i, F: history.Put, Key: tk.step.Key, Value: value}
	if value == "" {
		// Unique values let the checkers tell the writes apart.
		tk.op.Value = fmt.Sprintf("%v-%d", env.ID(), tk.op.ID)
		value = tk.op.Value
	}
	tk.inHistory = true
	history.Invoke(env, tk.op)
	c.send(env, i, Request{Op: OpPut, Key: tk.step.Key, Value: value, Context: tk.read.Ctx})
}

// del sends task i's delete with its read's context: a tombstone over
// what that read saw.
func (c *Client) del(env ordo.Env, i int) {
	tk := &c.tasks[i]
	tk.writing, tk.tries, tk.uncertain = true, c.retries, false
	tk.op = history.Op{ID: int64(c.id()), Process: i, F: history.Delete, Key: tk.step.Key}
	tk.inHistory = true
	history.Invoke(env, tk.op)
	c.send(env, i, Request{Op: OpDelete, Key: tk.step.Key, Context: tk.read.Ctx})
}

// cartWrite applies task i's add or remove to the cart it read and writes.
func (c *Client) cartWrite(env ordo.Env, i int) {
	tk := &c.tasks[i]
	or := c.cart != "union"
	cart := NewCart(or)
	for _, v := range tk.read.Values {
		if p, err := ParseCart(or, v); err == nil {
			cart.Merge(p)
		}
	}
	tk.cartID = int64(c.id())
	if tk.step.Op == "add" {
		cart.Add(tk.step.Arg, fmt.Sprintf("n%d.%d", int(env.ID()), tk.cartID))
	} else {
		cart.Remove(tk.step.Arg)
	}
	env.Note(NoteCart, "id", tk.cartID, "phase", "invoke", "f", tk.step.Op, "key", tk.step.Key, "item", tk.step.Arg)
	tk.writing, tk.tries, tk.uncertain = true, c.retries, false
	c.send(env, i, Request{Op: OpPut, Key: tk.step.Key, Value: cart.String(), Context: tk.read.Ctx})
}

func (c *Client) server(env ordo.Env, i int) ordo.NodeID {
	tk := &c.tasks[i]
	servers := env.Roster().Servers
	if tk.step.Server != ordo.None && tk.tries == c.retries {
		return tk.step.Server
	}
	return servers[env.Rand().IntN(len(servers))]
}

func (c *Client) send(env ordo.Env, i int, r Request) {
	tk := &c.tasks[i]
	r.ID = c.id()
	r.Attempt = uint8(c.retries - tk.tries)
	tk.req = r
	c.inflight[r.ID] = i
	env.Send(c.server(env, i), r)
	env.After(c.timeout, ordo.Timer{Name: timerTimeout, Arg: int64(r.ID)})
}

func (c *Client) retry(env ordo.Env, i int, why string) {
	tk := &c.tasks[i]
	if tk.req.Op != OpGet {
		tk.uncertain = true
	}
	if tk.tries == 0 {
		c.finish(env, i, history.OutcomeInfo, why, nil)
		return
	}
	tk.tries--
	r := tk.req
	c.send(env, i, r)
}

// finish records task i's outcome and frees it.
func (c *Client) finish(env ordo.Env, i int, out history.Outcome, why string, values []string) {
	tk := &c.tasks[i]
	if tk.uncertain && out == history.OutcomeFail {
		out, why = history.OutcomeInfo, why+" (after an attempt of unknown outcome)"
	}
	switch {
	case tk.cartID != 0:
		phase := map[history.Outcome]string{history.OutcomeOK: "ok", history.OutcomeFail: "fail", history.OutcomeInfo: "info"}[out]
		if tk.step.Op == "get" && out == history.OutcomeOK {
			or := c.cart != "union"
			cart := NewCart(or)
			for _, v := range values {
				if p, err := ParseCart(or, v); err == nil {
					cart.Merge(p)
				}
			}
			env.Note(NoteCart, "id", tk.cartID, "phase", phase, "f", "get", "key", tk.step.Key, "items", strings.Join(cart.Items(), ","))
		} else {
			env.Note(NoteCart, "id", tk.cartID, "phase", phase, "f", tk.step.Op, "key", tk.step.Key, "item", tk.step.Arg, "reason", why)
		}
	case tk.inHistory:
		switch {
		case out == history.OutcomeOK && tk.op.F == history.Get && len(values) > 1:
			// The register model has one value per read: a read of
			// siblings is recorded as info (no single result) and noted
			// in full (NoteGet).
			history.Info(env, tk.op, fmt.Sprintf("%d siblings: %s", len(values), strings.Join(values, "|")))
		case out == history.OutcomeOK && tk.op.F == history.Get:
			v := ""
			if len(values) == 1 {
				v = values[0]
			}
			history.OK(env, tk.op, v)
		case out == history.OutcomeOK:
			history.OK(env, tk.op, "")
		case out == history.OutcomeFail:
			history.Fail(env, tk.op, why)
		default:
			history.Info(env, tk.op, why)
		}
	}
	tk.busy = false
	if len(c.steps) == 0 {
		c.pace.Done(env, i)
	}
}

// Receive implements ordo.Node.
func (c *Client) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r, ok := m.(Reply)
	if !ok {
		return
	}
	i, ok := c.inflight[r.ID]
	if !ok {
		return
	}
	delete(c.inflight, r.ID)
	tk := &c.tasks[i]
	switch r.Status {
	case StatusOK:
	case StatusBadRequest:
		c.finish(env, i, history.OutcomeFail, r.Err, nil)
		return
	default:
		c.retry(env, i, r.Status.String()+": "+r.Err)
		return
	}
	if tk.req.Op != OpGet {
		c.finish(env, i, history.OutcomeOK, "", nil)
		return
	}
	// A tombstone sibling is noted (and judged) as the value "" that a
	// delete writes; every sibling a tombstone is "not found".
	vals, dels := slices.Clone(r.Values), 0
	for j := range r.Deleted {
		if r.Deleted[j] && j < len(vals) {
			vals[j], dels = "", dels+1
		}
	}
	if !r.Found() {
		vals = nil
	}
	if tk.inHistory {
		env.Note(NoteGet, "id", tk.op.ID, "key", tk.step.Key, "values", strings.Join(r.Values, "|"), "n", len(r.Values), "deleted", dels, "vecs", strings.Join(r.Vecs, " ∥ "), "server", int(from))
	} else {
		env.Note(NoteGet, "key", tk.step.Key, "values", strings.Join(r.Values, "|"), "n", len(r.Values), "deleted", dels, "vecs", strings.Join(r.Vecs, " ∥ "), "server", int(from))
	}
	rd := Read{Values: vals, Ctx: r.Context}
	if tk.step.Save != "" {
		c.saved[tk.step.Save] = rd
	}
	c.last[tk.step.Key] = rd
	tk.read = rd
	switch tk.step.Op {
	case "resolve":
		if len(r.Values) < 2 {
			env.Note("dynamo-resolve", "key", tk.step.Key, "siblings", len(r.Values))
			tk.busy = false
			return
		}
		var live []string
		for j, v := range r.Values {
			if j >= len(r.Deleted) || !r.Deleted[j] {
				live = append(live, v)
			}
		}
		if len(live) == 0 {
			c.del(env, i) // tombstones only: resolve to one
			return
		}
		slices.Sort(live)
		c.write(env, i, strings.Join(live, "+"))
	case "add", "remove":
		c.cartWrite(env, i)
	case "del":
		c.del(env, i)
	default:
		c.finish(env, i, history.OutcomeOK, "", vals)
		if len(c.steps) == 0 && (c.rmw || c.resolve && len(vals) > 1) {
			tk.pending = true
		}
	}
}

// issue starts workload process p's next operation.
func (c *Client) issue(env ordo.Env, p int) {
	if (*paced)(c).Finished(env) {
		return
	}
	c.issued++
	tk := &c.tasks[p]
	key := fmt.Sprintf("k%d", env.Rand().IntN(c.keys))
	resolving := tk.pending
	if resolving {
		key = tk.step.Key
	}
	*tk = task{busy: true, tries: c.retries, step: Step{Key: key, Op: "get"}}
	// One draw, as before deletes and rmw existed, and none when resolving
	// or in a read-modify-write process (it writes only right after its
	// get): a seed replays the same workload when deletes=0 and rmw is off.
	roll := 100
	if !resolving && !c.rmw {
		roll = env.Rand().IntN(100)
	}
	if resolving || !c.rmw && roll >= c.reads {
		tk.step.Op = "put"
		tk.read = c.last[key]
		if !resolving && roll < c.reads+c.deletes && len(tk.read.Ctx) > 0 {
			tk.step.Op = "del"
			c.del(env, p)
			return
		}
		c.write(env, p, "")
		return
	}
	c.begin(env, p)
}

// paced is the workload client as its pacer sees it.
type paced Client

func (c *paced) Procs() int      { return len(c.tasks) }
func (c *paced) Busy(p int) bool { return c.tasks[p].busy }
func (c *paced) Finished(env ordo.Env) bool {
	return c.ops > 0 && c.issued >= c.ops || c.stopAt > 0 && env.Monotonic() >= c.stopAt
}
func (c *paced) Issue(env ordo.Env, p int) { (*Client)(c).issue(env, p) }
