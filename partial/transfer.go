package partial

import (
	"encoding/binary"
	"fmt"
	"time"

	"ordo"
	"ordo/resilience"
)

// Transfer asks the bank server to move Amount from account A to account
// B: a non-idempotent operation (applied twice, it moves twice the money).
// Op names the client's operation, Attempt counts its sends (1, 2, ...).
// Key is the idempotency key ("" for none): the server applies one key at
// most once and replays its first reply to every retry.
type Transfer struct {
	Op      int64
	Attempt int
	Key     string
	Amount  int64
}

// Kind implements ordo.Message.
func (Transfer) Kind() string { return "transfer" }

// TransferReply answers a Transfer. Replayed is set when the reply is the
// stored first reply of an idempotency key (the transfer was not applied
// again). Balance is account A's balance after the transfer.
type TransferReply struct {
	Op       int64
	Attempt  int
	Replayed bool
	Balance  int64
}

// Kind implements ordo.Message.
func (TransferReply) Kind() string { return "transfer-reply" }

// Messages are the bank's message types.
var Messages = []ordo.Message{Transfer{}, TransferReply{}}

// Storage keys of the bank server. The balances and the idempotency table
// live in the node's durable Storage, written in the same event, so a
// crash keeps a transfer and its key together or neither.
const (
	keyA       = "bank/a"
	keyB       = "bank/b"
	keyApplied = "bank/applied" // transfers applied, for the scene's count
	idemPrefix = "bank/idem/"
)

// InitialBalance is account A's balance at the first boot.
const InitialBalance = 1000

// MaxAmount bounds one transfer (a bound on every number from the network).
const MaxAmount = 1 << 20

// Bank is the server of the scene: two accounts, one non-idempotent
// operation. Each request is handled in two events: Receive queues it,
// a "work" timer applies it and replies. At speed 0 both happen at the
// same instant; on a slow node (sim.Config.SpeedOf) the work waits for the
// node, so a reply can come after the client's timeout although the
// transfer was applied (cause 4, "server slow").
type Bank struct {
	queue []queued
	idem  *resilience.Table
}

type queued struct {
	from ordo.NodeID
	req  Transfer
}

// MaxQueue bounds the requests a bank holds (TIGER_STYLE); more are
// dropped, as a full socket buffer drops packets.
const MaxQueue = 1 << 12

const timerWork = "work"

// NewBank builds a bank server.
func NewBank(cfg ordo.Config) (ordo.Node, error) { return &Bank{}, nil }

// Start implements ordo.Node: the first boot opens the accounts.
func (b *Bank) Start(env ordo.Env) {
	st := env.Store()
	if _, ok := st.Get(keyA); !ok {
		put(st, keyA, InitialBalance)
		put(st, keyB, 0)
		put(st, keyApplied, 0)
	}
	b.queue = b.queue[:0]
	b.idem = openTable(env)
}

// Receive implements ordo.Node.
func (b *Bank) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	req, ok := m.(Transfer)
	if !ok || req.Amount <= 0 || req.Amount > MaxAmount || len(req.Key) > MaxKeyLen {
		return
	}
	if len(b.queue) >= MaxQueue {
		return
	}
	b.queue = append(b.queue, queued{from: from, req: req})
	env.After(0, ordo.Timer{Name: timerWork})
}

// MaxKeyLen bounds an idempotency key, in bytes.
const MaxKeyLen = 128

// Fire implements ordo.Node: apply the oldest queued request and reply.
func (b *Bank) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name != timerWork || len(b.queue) == 0 {
		return
	}
	q := b.queue[0]
	b.queue = b.queue[1:]
	reply := TransferReply{Op: q.req.Op, Attempt: q.req.Attempt}
	if q.req.Key == "" {
		reply.Balance = b.apply(env, q.req)
	} else if r, ok := b.keyed(env, q.from, q.req); ok {
		reply = r
	} else {
		return
	}
	env.Send(q.from, reply)
}

func (b *Bank) apply(env ordo.Env, req Transfer) int64 {
	st := env.Store()
	a, bb, n := get(st, keyA), get(st, keyB), get(st, keyApplied)
	if a+bb != InitialBalance {
		panic(fmt.Sprintf("partial: money created or destroyed: a=%d b=%d", a, bb))
	}
	a -= req.Amount
	bb += req.Amount
	put(st, keyA, a)
	put(st, keyB, bb)
	put(st, keyApplied, n+1)
	env.Note("apply", "op", req.Op, "attempt", req.Attempt, "a", a)
	return a
}

// Applied reads how many transfers a bank's storage has applied.
func Applied(st ordo.Storage) int64 { return get(st, keyApplied) }

func put(st ordo.Storage, k string, v int64) {
	st.Put(k, binary.BigEndian.AppendUint64(nil, uint64(v)))
}

func get(st ordo.Storage, k string) int64 {
	v, ok := st.Get(k)
	if !ok || len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// ClientOptions are the options of "bank-client".
var ClientOptions = []ordo.Option{
	{Name: "strategy", Default: "key", Help: "none, naive, key or breaker (see Strategy)"},
	{Name: "timeout", Default: "100ms", Help: "a send without a reply in this long is a timeout"},
	{Name: "attempts", Default: "6", Help: "sends of the transfer at most, the first included"},
	{Name: "base", Default: "50ms", Help: "backoff: the first ceiling (full jitter)"},
	{Name: "cap", Default: "400ms", Help: "backoff: the largest wait"},
	{Name: "failures", Default: "2", Help: "breaker: consecutive timeouts that open it"},
	{Name: "open-for", Default: "300ms", Help: "breaker: how long it stays open before one probe"},
	{Name: "start", Default: "10ms", Help: "send the transfer this long after boot"},
	{Name: "amount", Default: "10", Help: "the amount to transfer"},
}

var timeoutTimer = "timeout"

const (
	timerSend  = "send"
	timerRetry = "retry"
)

// BankClientProtocol is "bank-client": one transfer, sent under a Strategy.
var BankClientProtocol = &ordo.Protocol{
	Name:     "bank-client",
	Doc:      "sends one non-idempotent transfer with no retry, naive retry, an idempotency key, or a key and a circuit breaker (section 5)",
	Options:  ClientOptions,
	New:      NewBankClient,
	Messages: Messages,
	Role:     ordo.Client,
}

// BankProtocol is "bank": the server of the partial-failure scene.
var BankProtocol = &ordo.Protocol{
	Name:     "bank",
	Doc:      "two accounts and one non-idempotent transfer, deduplicated by idempotency key (section 5, partial failure)",
	New:      NewBank,
	Messages: Messages,
	Client:   "bank-client",
}

func init() {
	ordo.Register(BankProtocol)
	ordo.Register(BankClientProtocol)
}

// Strategy is how a client calls a non-idempotent operation (section 5).
type Strategy string

// The four strategies of the scene.
const (
	NoRetry    Strategy = "none"    // one send; a timeout is the answer
	NaiveRetry Strategy = "naive"   // resend the same transfer after a timeout
	WithKey    Strategy = "key"     // resend with an idempotency key
	KeyBreaker Strategy = "breaker" // a key, and a circuit breaker that fails fast
)

// Strategies lists the strategies in the table's order.
var Strategies = []Strategy{NoRetry, NaiveRetry, WithKey, KeyBreaker}

// ParseStrategy reads a Strategy's name.
func ParseStrategy(s string) (Strategy, error) {
	for _, st := range Strategies {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("partial: unknown strategy %q (valid: none, naive, key, breaker)", s)
}

// BankClient sends one transfer to the first server and retries it by its
// Strategy. What it saw is in View.
type BankClient struct {
	strategy       Strategy
	timeout, start time.Duration
	amount         int64
	policy         resilience.RetryPolicy
	breakerCfg     resilience.BreakerConfig
	retry          *resilience.Retry
	breaker        *resilience.Breaker
	ticket         resilience.Ticket
	openedAt       time.Duration // when the breaker last opened
	attempt        int
	view           View
}

// View is what the client saw: the only evidence it has.
type View struct {
	Done     bool          // it has its answer (a reply, or gave up)
	OK       bool          // the answer is a reply
	Replayed bool          // the reply was a replay of the key's first reply
	Sends    int           // transfers sent
	Timeouts int           // sends without a reply in time
	Open     int           // tries the breaker refused (failing fast)
	Err      string        // why it gave up
	Took     time.Duration // from the first send to the answer
	began    time.Duration
}

// NewBankClient builds a bank client.
func NewBankClient(cfg ordo.Config) (ordo.Node, error) {
	st, err := ParseStrategy(cfg.Opts.String("strategy"))
	if err != nil {
		return nil, err
	}
	c := &BankClient{
		strategy: st,
		timeout:  cfg.Opts.Duration("timeout"),
		start:    cfg.Opts.Duration("start"),
		amount:   int64(cfg.Opts.Int("amount")),
		policy: resilience.RetryPolicy{
			Base:        cfg.Opts.Duration("base"),
			Cap:         cfg.Opts.Duration("cap"),
			MaxAttempts: cfg.Opts.Int("attempts"),
		},
	}
	if st == NoRetry {
		c.policy.MaxAttempts = 1
	}
	failures := cfg.Opts.Int("failures")
	switch {
	case c.timeout <= 0:
		return nil, fmt.Errorf("bank-client: timeout must be more than 0s")
	case c.amount <= 0 || c.amount > MaxAmount:
		return nil, fmt.Errorf("bank-client: amount=%d out of range 1..%d", c.amount, MaxAmount)
	case c.policy.MaxAttempts < 1 || c.policy.MaxAttempts > 100:
		return nil, fmt.Errorf("bank-client: attempts=%d out of range 1..100", c.policy.MaxAttempts)
	case cfg.Opts.Duration("open-for") <= 0:
		return nil, fmt.Errorf("bank-client: open-for must be more than 0s")
	case failures < 1 || failures > 100:
		return nil, fmt.Errorf("bank-client: failures=%d out of range 1..100", failures)
	}
	c.breakerCfg = resilience.BreakerConfig{ConsecutiveFailures: failures, OpenFor: cfg.Opts.Duration("open-for")}
	return c, nil
}

// View returns what the client saw so far.
func (c *BankClient) View() View { return c.view }

// Start implements ordo.Node.
func (c *BankClient) Start(env ordo.Env) {
	c.retry = resilience.NewRetry(c.policy, env.Monotonic())
	if c.strategy == KeyBreaker {
		cfg := c.breakerCfg
		cfg.OnChange = func(ch resilience.Change) {
			if ch.To == resilience.Open {
				c.openedAt = ch.At
			}
			env.Note("breaker", "from", ch.From.String(), "to", ch.To.String())
		}
		b, err := resilience.NewBreaker(cfg, env.Monotonic())
		if err != nil {
			panic(fmt.Sprintf("bank-client: breaker: %v", err))
		}
		c.breaker = b
	}
	env.After(c.start, ordo.Timer{Name: timerSend})
}

// Fire implements ordo.Node.
func (c *BankClient) Fire(env ordo.Env, t ordo.Timer) {
	if c.view.Done {
		return
	}
	switch t.Name {
	case timerSend, timerRetry:
		c.send(env)
	case timeoutTimer:
		if int(t.Arg) != c.attempt {
			return // an earlier send's timer
		}
		c.view.Timeouts++
		env.Note("timeout", "attempt", c.attempt)
		if c.breaker != nil {
			c.breaker.Record(env.Monotonic(), c.ticket, resilience.Failed)
		}
		c.next(env)
	}
}

// send makes one attempt, unless the breaker fails it fast.
func (c *BankClient) send(env ordo.Env) {
	if c.view.Sends == 0 && c.view.Open == 0 {
		c.view.began = env.Monotonic()
	}
	if c.breaker != nil {
		tk, err := c.breaker.Allow(env.Monotonic())
		if err != nil {
			// Fail fast: no send, and no attempt spent; try again when
			// the breaker half-opens and lets one probe through.
			c.view.Open++
			env.Note("fail-fast", "err", err.Error())
			env.After(max(c.openedAt+c.breakerCfg.OpenFor-env.Monotonic(), 0), ordo.Timer{Name: timerRetry})
			return
		}
		c.ticket = tk
	}
	c.attempt++
	req := Transfer{Op: 1, Attempt: c.attempt, Amount: c.amount}
	if c.strategy == WithKey || c.strategy == KeyBreaker {
		req.Key = fmt.Sprintf("transfer-%d", req.Op)
	}
	c.view.Sends++
	env.Send(env.Roster().Servers[0], req)
	env.After(c.timeout, ordo.Timer{Name: timeoutTimer, Arg: int64(c.attempt)})
}

// next schedules the next attempt after a failure, or gives up.
func (c *BankClient) next(env ordo.Env) {
	wait, err := c.retry.Next(env.Monotonic(), env.Rand(), resilience.Outcome{Kind: resilience.Failed})
	if err != nil {
		c.view.Done = true
		c.view.Err = "gave up: timed out"
		c.view.Took = env.Monotonic() - c.view.began
		env.Note("give-up", "sends", c.view.Sends)
		return
	}
	env.After(wait, ordo.Timer{Name: timerRetry})
}

// Receive implements ordo.Node: any reply to the operation is the answer,
// even a late one to an earlier attempt (the naive client cannot tell them
// apart either).
func (c *BankClient) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r, ok := m.(TransferReply)
	if !ok || r.Op != 1 || c.view.Done {
		return
	}
	if c.breaker != nil && r.Attempt == c.attempt {
		c.breaker.Record(env.Monotonic(), c.ticket, resilience.Succeeded)
	}
	c.retry.Succeeded()
	c.view.Done, c.view.OK, c.view.Replayed = true, true, r.Replayed
	c.view.Took = env.Monotonic() - c.view.began
	env.Note("answer", "attempt", r.Attempt, "replayed", r.Replayed)
}
