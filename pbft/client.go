package pbft

import (
	"fmt"
	"time"

	"ordo"
	"ordo/agreement"
)

// ClientProtocol is "pbft-client": a closed-loop workload with one request
// outstanding, as in the paper's clients.
var ClientProtocol = &ordo.Protocol{
	Name: "pbft-client",
	Doc:  "PBFT client: one request at a time to the primary (to every replica after a timeout), accepted on f+1 matching replies",
	Options: []ordo.Option{
		{Name: "ops", Default: "20", Help: "requests this client issues in all"},
		{Name: "f", Default: "-1", Help: "faulty replicas assumed: a result is accepted from f+1 matching replies (-1: (n-1)/3); not given, the replicas' f", FromServers: true},
		{Name: "timeout", Default: "200ms", Help: "resend to every replica after this long without f+1 matching replies"},
		{Name: "think", Default: "5ms", Help: "pause between an accepted reply and the next request"},
		{Name: "start", Default: "50ms", Help: "wait this long after boot before the first request"},
	},
	New:      NewClient,
	Messages: Messages,
	Role:     ordo.Client,
}

// MaxOps bounds the ops option.
const MaxOps = 1 << 20

// The client's notes: NotePropose (agreement's vocabulary) when it issues a
// request, with its digest as "value"; NoteAccept when f+1 replies agree.
const NoteAccept = agreement.NoteAccept

// NewClient builds one client.
func NewClient(cfg ordo.Config) (ordo.Node, error) {
	c := &Client{ops: cfg.Opts.Int("ops"), f: cfg.Opts.Int("f"), timeout: cfg.Opts.Duration("timeout"),
		think: cfg.Opts.Duration("think"), start: cfg.Opts.Duration("start")}
	switch {
	case c.ops < 0 || c.ops > MaxOps:
		return nil, fmt.Errorf("pbft-client: ops=%d out of range 0..%d", c.ops, MaxOps)
	case c.f < -1 || c.f > MaxReplicas:
		return nil, fmt.Errorf("pbft-client: f=%d out of range -1..%d", c.f, MaxReplicas)
	case c.timeout <= 0 || c.timeout > time.Hour:
		return nil, fmt.Errorf("pbft-client: timeout %v out of range (0, 1h]", c.timeout)
	}
	return c, nil
}

// Client issues requests one at a time.
type Client struct {
	ops, f                int
	timeout, think, start time.Duration
	boot                  uint64
	issued, accepted      int
	view                  int64
	out                   *Request // the request outstanding
	digest                string
	replies               map[ordo.NodeID]string // results for out, by replica
}

const clientBootKey = "pbft-client/boot"

// timestamps of one boot: boot<<32 | count, so they grow across restarts.
const perBoot = 1 << 32

// Start implements ordo.Node.
func (c *Client) Start(env ordo.Env) {
	c.boot = ordo.NextBoot(env, clientBootKey, 1<<20)
	c.out, c.replies = nil, map[ordo.NodeID]string{}
	env.After(c.start, ordo.Timer{Name: "next"})
}

func (c *Client) faults(env ordo.Env) int {
	if c.f >= 0 {
		return c.f
	}
	return defaultF(len(env.Roster().Servers))
}

// Fire implements ordo.Node.
func (c *Client) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case "next":
		if c.out != nil || c.issued >= c.ops || len(env.Roster().Servers) == 0 {
			return
		}
		c.issued++
		r := Request{Timestamp: int64(c.boot)*perBoot + int64(c.issued), Client: env.ID(), Op: fmt.Sprintf("op %d of %v", c.issued, env.ID())}
		c.out, c.digest = &r, Digest(r)
		clear(c.replies)
		env.Note(agreement.NotePropose, "value", c.digest, "ts", r.Timestamp)
		// To every replica, not only the primary: a backup prepares only
		// a request it heard from its client (Replica.authentic).
		for _, srv := range env.Roster().Servers {
			env.Send(srv, r)
		}
		env.After(c.timeout, ordo.Timer{Name: "timeout", Arg: r.Timestamp})
	case "timeout":
		if c.out == nil || t.Arg != c.out.Timestamp {
			return
		}
		for _, s := range env.Roster().Servers {
			env.Send(s, *c.out)
		}
		env.After(c.timeout, t)
	}
}

// Receive implements ordo.Node: f+1 replicas with one result accept it.
func (c *Client) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	rep, ok := m.(Reply)
	if !ok || c.out == nil || !env.Roster().IsServer(from) || rep.Client != env.ID() || rep.Timestamp != c.out.Timestamp {
		return
	}
	if _, dup := c.replies[from]; dup {
		return
	}
	c.replies[from] = rep.Result
	if count(c.replies, rep.Result) < c.faults(env)+1 {
		return
	}
	env.Note(NoteAccept, "value", c.digest, "ts", c.out.Timestamp, "result", rep.Result)
	c.accepted++
	c.view = rep.View
	c.out = nil
	env.After(c.think, ordo.Timer{Name: "next"})
}

// ClientState is a client's state as data (ordo.StateReporter).
type ClientState struct {
	Issued      int    `json:"issued"`
	Accepted    int    `json:"accepted"`
	Outstanding string `json:"outstanding,omitempty"` // the digest of the request waiting
}

// State implements ordo.StateReporter.
func (c *Client) State() any {
	st := ClientState{Issued: c.issued, Accepted: c.accepted}
	if c.out != nil {
		st.Outstanding = c.digest
	}
	return st
}
