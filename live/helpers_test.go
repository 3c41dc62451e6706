package live

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"ordo"
)

// testElect is a small Raft-style election (terms, one vote per term kept
// on disk, randomized timeouts, heartbeats) used to exercise the runtime
// without depending on the protocol packages.
type testElect struct {
	id     ordo.NodeID
	n      int
	term   int64
	vote   ordo.NodeID
	role   string
	votes  int
	gen    int64
	minT   time.Duration
	maxT   time.Duration
	hb     time.Duration
	leader ordo.NodeID
}

type teVote struct{ Term int64 }
type teVoteResp struct {
	Term    int64
	Granted bool
}
type teBeat struct{ Term int64 }

func (teVote) Kind() string     { return "te-vote" }
func (teVoteResp) Kind() string { return "te-vote-resp" }
func (teBeat) Kind() string     { return "te-beat" }

// testElectOptions and testElectMessages are those of live-test-elect and
// of its variants.
var (
	testElectOptions = []ordo.Option{
		{Name: "election_timeout_min", Default: "150ms"},
		{Name: "election_timeout_max", Default: "300ms"},
		{Name: "heartbeat", Default: "40ms"},
	}
	testElectMessages = []ordo.Message{teVote{}, teVoteResp{}, teBeat{}}
)

func newTestElect(c ordo.Config) testElect {
	return testElect{id: c.ID, n: c.N, minT: c.Opts.Duration("election_timeout_min"), maxT: c.Opts.Duration("election_timeout_max"), hb: c.Opts.Duration("heartbeat")}
}

func init() {
	ordo.Register(&ordo.Protocol{
		Name:     "live-test-elect",
		Doc:      "a small election for the live runtime's tests",
		Options:  testElectOptions,
		Messages: testElectMessages,
		New: func(c ordo.Config) (ordo.Node, error) {
			p := newTestElect(c)
			return &p, nil
		},
	})
}

func (p *testElect) Start(env ordo.Env) {
	if b, ok := env.Store().Get("term"); ok {
		p.term = int64(binary.BigEndian.Uint64(b))
	}
	if b, ok := env.Store().Get("vote"); ok {
		p.vote = ordo.NodeID(binary.BigEndian.Uint64(b))
	}
	p.follow(env, p.term, 0)
}

func (p *testElect) persist(env ordo.Env) {
	env.Store().Put("term", binary.BigEndian.AppendUint64(nil, uint64(p.term)))
	env.Store().Put("vote", binary.BigEndian.AppendUint64(nil, uint64(p.vote)))
}

func (p *testElect) arm(env ordo.Env) {
	p.gen++
	d := p.minT + time.Duration(env.Rand().Int64N(int64(p.maxT-p.minT)+1))
	env.After(d, ordo.Timer{Name: "election", Arg: p.gen})
}

func (p *testElect) follow(env ordo.Env, term int64, leader ordo.NodeID) {
	if term > p.term {
		p.term, p.vote = term, 0
		p.persist(env)
	}
	if p.role != "follower" || p.leader != leader {
		p.role, p.leader = "follower", leader
		env.Note("follower", "term", p.term, "leader", leader)
	}
	p.arm(env)
}

func (p *testElect) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case "election":
		if t.Arg != p.gen || p.role == "leader" {
			return
		}
		p.term++
		p.vote, p.votes, p.role, p.leader = p.id, 1, "candidate", 0
		p.persist(env)
		env.Note("candidate", "term", p.term)
		for _, q := range env.Peers() {
			env.Send(q, teVote{p.term})
		}
		p.arm(env)
	case "heartbeat":
		if p.role != "leader" || t.Arg != p.term {
			return
		}
		for _, q := range env.Peers() {
			env.Send(q, teBeat{p.term})
		}
		env.After(p.hb, t)
	}
}

func (p *testElect) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case teVote:
		if m.Term > p.term {
			p.follow(env, m.Term, 0)
		}
		grant := m.Term == p.term && (p.vote == 0 || p.vote == from)
		if grant {
			p.vote = from
			p.persist(env)
			p.arm(env)
		}
		env.Send(from, teVoteResp{p.term, grant})
	case teVoteResp:
		if m.Term > p.term {
			p.follow(env, m.Term, 0)
			return
		}
		if p.role == "candidate" && m.Term == p.term && m.Granted {
			p.votes++
			if p.votes > p.n/2 {
				p.role, p.leader = "leader", p.id
				p.gen++
				env.Note("leader", "term", p.term)
				for _, q := range env.Peers() {
					env.Send(q, teBeat{p.term})
				}
				env.After(p.hb, ordo.Timer{Name: "heartbeat", Arg: p.term})
			}
		}
	case teBeat:
		if m.Term < p.term {
			return
		}
		if m.Term == p.term && p.role == "leader" {
			panic(fmt.Sprintf("two leaders in term %d", m.Term))
		}
		p.follow(env, m.Term, from)
	}
}

// freeAddrs returns n loopback addresses that were free a moment ago.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// testConfig builds an n-node cluster file in dir for protocol.
func testConfig(t testing.TB, dir, protocol string, n int, opts map[string]string) *Config {
	t.Helper()
	addrs := freeAddrs(t, 2*n)
	c := &Config{Name: "test", Protocol: protocol, Options: opts, Seed: 1, Epoch: time.Now().UTC().Format(time.RFC3339Nano)}
	for i := 1; i <= n; i++ {
		c.Nodes = append(c.Nodes, NodeConfig{ID: i, Addr: addrs[2*(i-1)], Admin: addrs[2*(i-1)+1], Dir: fmt.Sprintf("node%d", i)})
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(filepath.Join(dir, "cluster.yaml")); err != nil {
		t.Fatal(err)
	}
	c.SetDir(dir)
	return c
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
