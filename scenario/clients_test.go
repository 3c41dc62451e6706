package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// A test pair for `clients:`: servers answer requests; a client sends one
// to a server in turn every interval and notes each reply.

type scReq struct{ Seq int }

func (scReq) Kind() string { return "sc-req" }

type scReply struct{ Seq int }

func (scReply) Kind() string { return "sc-reply" }

type scServer struct{}

func (scServer) Start(ordo.Env) {}
func (scServer) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(scReq); ok {
		env.Send(from, scReply(r))
	}
}
func (scServer) Fire(ordo.Env, ordo.Timer) {}

type scClient struct {
	every time.Duration
	seq   int
}

func (c *scClient) Start(env ordo.Env) { env.After(c.every, ordo.Timer{Name: "tick"}) }
func (c *scClient) Fire(env ordo.Env, _ ordo.Timer) {
	c.seq++
	peers := env.Peers()
	env.Send(peers[c.seq%len(peers)], scReq{Seq: c.seq})
	env.After(c.every, ordo.Timer{Name: "tick"})
}
func (c *scClient) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(scReply); ok {
		env.Note("reply", "from", from, "seq", r.Seq)
	}
}

func init() {
	msgs := []ordo.Message{scReq{}, scReply{}}
	ordo.Register(&ordo.Protocol{Name: "scenario-test-server", Doc: "answers sc-req (tests)", Client: "scenario-test-client", Messages: msgs,
		New: func(ordo.Config) (ordo.Node, error) { return scServer{}, nil }})
	ordo.Register(&ordo.Protocol{Name: "scenario-test-client", Doc: "sends sc-req (tests)", Role: ordo.Client, Messages: msgs,
		Options: []ordo.Option{{Name: "interval", Default: "10ms", Help: "time between requests"}},
		New: func(c ordo.Config) (ordo.Node, error) {
			d := c.Opts.Duration("interval")
			if d <= 0 {
				return nil, fmt.Errorf("scenario-test-client: interval must be more than 0s")
			}
			return &scClient{every: d}, nil
		}})
}

const withClients = `name: with-clients
protocol: scenario-test-server
nodes: 3
clients: {count: 2, options: {interval: 20ms}}
duration: 2s
network: {latency: lan, links: {"4->1": {loss: 1}}}
faults:
  - {at: 500ms, partition: "1/2,3"}
  - {at: 1s, crash: 5}
  - {at: 1200ms, restart: 5}
  - {at: 1500ms, heal: true}
nemesis: {crash: 2, pause: 2, mean_downtime: 100ms}
`

func TestClientsParseAndRun(t *testing.T) {
	sc, err := Parse("c.yaml", []byte(withClients))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Clients) != 1 || sc.ClientCount() != 2 || sc.Clients[0].Protocol.Name != "scenario-test-client" ||
		sc.Clients[0].Options.Duration("interval") != 20*time.Millisecond || sc.Clients[0].Given["interval"] != "20ms" {
		t.Fatalf("clients %+v", sc.Clients)
	}
	run := func() (*Result, []byte) {
		r, err := sc.Run(RunOptions{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := r.Trace.Write(&b); err != nil {
			t.Fatal(err)
		}
		return r, b.Bytes()
	}
	r, a := run()
	m := r.Trace.Meta
	if m.Nodes != 5 || !slices.Equal(m.Servers, []int{1, 2, 3}) || !slices.Equal(m.Clients, []int{4, 5}) || m.ClientProtocol != "scenario-test-client" {
		t.Fatalf("meta %+v", m)
	}
	replies := map[ordo.NodeID]map[ordo.NodeID]int{4: {}, 5: {}}
	for _, e := range r.Trace.Events {
		if (e.Kind == trace.Crash || e.Kind == trace.Pause) && e.Node > 3 && e.T != int64(time.Second) {
			t.Errorf("the nemesis struck client %v: %s", e.Node, e.Describe())
		}
		if e.Kind == trace.Note && e.Name == "reply" {
			from, _ := e.Attrs.Int("from")
			replies[e.Node][ordo.NodeID(from)]++
		}
	}
	// 4->1 loses everything: client 4 hears from 2 and 3 only; client 5
	// from every server (the partition leaves unnamed clients connected).
	if replies[4][1] != 0 || replies[4][2] == 0 || replies[4][3] == 0 {
		t.Errorf("client 4 replies by server %v, want none from 1", replies[4])
	}
	if replies[5][1] == 0 || replies[5][2] == 0 || replies[5][3] == 0 {
		t.Errorf("client 5 replies by server %v, want some from each", replies[5])
	}
	if _, b := run(); !bytes.Equal(a, b) {
		t.Fatalf("two runs of seed %d differ (%d and %d bytes); replay: go test ./scenario -run TestClientsParseAndRun", sc.Seed, len(a), len(b))
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "3 servers + 2 clients (scenario-test-client)") {
		t.Errorf("report head: %s", strings.SplitN(out.String(), "\n", 2)[0])
	}
	if s := r.Summary(); s.Nodes != 3 || s.Clients != 2 || s.ClientProtocol != "scenario-test-client" {
		t.Errorf("summary nodes %d clients %d %q", s.Nodes, s.Clients, s.ClientProtocol)
	}
}

func TestClientsForms(t *testing.T) {
	base := "name: x\nprotocol: scenario-test-server\nnodes: 3\nduration: 1s\n"
	sc, err := Parse("c.yaml", []byte(base+"clients:\n  - {count: 2, protocol: scenario-test-client}\n  - {count: 0}\n  - {count: 1, options: {interval: 5ms}}\nfaults:\n  - {at: 1s, crash: 6}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.ClientCount() != 3 || len(sc.Clients) != 3 || sc.Clients[2].Options.Duration("interval") != 5*time.Millisecond {
		t.Fatalf("groups %+v", sc.Clients)
	}
	// No clients section: nothing changes.
	sc, err = Parse("c.yaml", []byte(base))
	if err != nil || sc.Clients != nil || sc.ClientCount() != 0 {
		t.Fatalf("no clients: %+v %v", sc, err)
	}
}

func TestClientsParseErrors(t *testing.T) {
	base := "name: x\nprotocol: scenario-test-server\nnodes: 3\nduration: 1s\n"
	cases := []struct {
		src, want string
		line      int
	}{
		{base + "clients: {count: -1}\n", `clients.count: -1 clients out of range 0..1024`, 5},
		{base + "clients: {count: 5000}\n", `clients.count: 5000 clients out of range 0..1024`, 5},
		{base + "clients: {count: two}\n", `clients.count: want an integer, got "two"`, 5},
		{base + "clients: {protocol: scenario-test-client}\n", `clients: missing count`, 5},
		{base + "clients: {count: 1, protocol: nosuch}\n", `clients.protocol: unknown protocol "nosuch" (valid: `, 5},
		{base + "clients: {count: 1, protocol: broadcast}\n", `clients.protocol: broadcast is a server protocol, not a client protocol (client protocols: scenario-test-client)`, 5},
		{base + "clients: {count: 1, options: {rate: 3}}\n", `clients.options.rate: protocol scenario-test-client has no option "rate" (valid: interval)`, 5},
		{base + "clients: {count: 1, options: {interval: soon}}\n", `clients.options.interval: option interval of protocol scenario-test-client: "soon" is not a non-negative duration`, 5},
		{base + "clients: {count: 1, options: {interval: 0s}}\n", `clients.options: scenario-test-client: interval must be more than 0s`, 5},
		{base + "clients: {count: 1, workers: 3}\n", `clients.workers: unknown field (valid: count, options, protocol)`, 5},
		{base + "clients: 3\n", `clients: want {count: N, protocol: NAME, options: {...}} or a list of them, got "3"`, 5},
		{base + "clients:\n  - {count: 1}\n  - 2\n", `clients[1]: want {count: N`, 7},
		{base + "clients:\n  - {count: 1000}\n  - {count: 1000}\n", `clients[1]: 3 servers and 2000 clients`, 7},
		{"name: x\nprotocol: broadcast\nnodes: 3\nduration: 1s\nclients: {count: 1}\n", `clients: protocol broadcast names no client protocol: give one with protocol: NAME`, 5},
		{"name: x\nprotocol: scenario-test-client\nnodes: 3\nduration: 1s\n", `protocol: scenario-test-client is a client protocol`, 2},
		{base + "clients: {count: 2}\nfaults:\n  - {at: 1s, crash: 6}\n", `faults[0].crash: node 6 out of range: the cluster is nodes 1..5 (servers 1..3, clients 4..5)`, 7},
	}
	for _, c := range cases {
		_, err := Parse("bad.yaml", []byte(c.src))
		var pe *Error
		if err == nil || !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want a *scenario.Error %q", c.src, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got  %v\n want %q", c.src, err, c.want)
		}
		if pe.Line != c.line {
			t.Errorf("%q: line %d, want %d (%v)", c.src, pe.Line, c.line, err)
		}
	}
}

func TestSetClients(t *testing.T) {
	base := "name: x\nprotocol: scenario-test-server\nnodes: 3\nduration: 200ms\n"
	sc, err := Parse("c.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.SetClients(2); err != nil {
		t.Fatal(err)
	}
	r, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Trace.Meta; m.Nodes != 5 || !slices.Equal(m.Clients, []int{4, 5}) || m.ClientProtocol != "scenario-test-client" {
		t.Errorf("meta %+v", m)
	}
	if err := sc.SetClients(0); err != nil || sc.ClientCount() != 0 {
		t.Errorf("SetClients(0): %v, %d clients", err, sc.ClientCount())
	}
	for _, tc := range []struct {
		src  string
		n    int
		want string
	}{
		{base, -1, "-1 clients out of range"},
		{"name: x\nprotocol: broadcast\nnodes: 3\nduration: 1s\n", 1, "protocol broadcast names no client protocol"},
		{base + "clients: [{count: 1}, {count: 1}]\n", 3, "2 client groups"},
	} {
		sc, err := Parse("c.yaml", []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.SetClients(tc.n); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetClients(%d): %v, want %q", tc.n, err, tc.want)
		}
	}
}

// An election among 3 servers is unchanged by 2 clients beside them: the
// servers' majority is 2 of 3 (Config.N and Peers count servers only), so
// a leader is elected and a 1|2 partition of the servers leaves the
// majority side, not the clients, deciding.
func TestClientsLeaveElectionsAlone(t *testing.T) {
	src := `name: raft-with-clients
protocol: raft
nodes: 3
clients: {count: 2, protocol: scenario-test-client, options: {interval: 1h}}
duration: 4s
network: {latency: lan}
faults:
  - {at: 1s, partition: "1/2,3"}
  - {at: 2500ms, heal: true}
checks: [single-leader, one-leader-per-term, eventual-leader]
expect: {single-leader: pass, one-leader-per-term: pass, eventual-leader: pass}
`
	sc, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unmet) > 0 {
		t.Errorf("seed %d: %v; replay: go test ./scenario -run TestClientsLeaveElectionsAlone", sc.Seed, r.Unmet)
	}
	for _, c := range r.Checks {
		t.Logf("%s: %s", c.Check, c.Summary)
	}
	leaders := 0
	for _, e := range r.Trace.Events {
		if e.Kind == trace.Note && e.Name == "leader" {
			leaders++
			if e.Node > 3 {
				t.Errorf("client %v noted leader", e.Node)
			}
		}
	}
	if leaders == 0 {
		t.Error("no leader elected among 3 servers beside 2 clients")
	}
}
