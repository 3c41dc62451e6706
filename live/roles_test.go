package live

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// A test pair for roles: echo servers answer requests; a client sends one
// to every server every 20 ms and notes each reply. Both note the peers
// their Env gives them.

type echoReq struct{ Seq int }

func (echoReq) Kind() string { return "echo-req" }

type echoReply struct{ Seq int }

func (echoReply) Kind() string { return "echo-reply" }

type echoServer struct{}

func (echoServer) Start(env ordo.Env) {
	env.Note("peers", "peers", fmt.Sprint(env.Peers()), "servers", len(env.Roster().Servers))
}
func (echoServer) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(echoReq); ok {
		env.Send(from, echoReply(r))
	}
}
func (echoServer) Fire(ordo.Env, ordo.Timer) {}

type echoClient struct{ seq int }

func (c *echoClient) Start(env ordo.Env) {
	env.Note("peers", "peers", fmt.Sprint(env.Peers()), "servers", len(env.Roster().Servers))
	env.After(20*time.Millisecond, ordo.Timer{Name: "tick"})
}
func (c *echoClient) Fire(env ordo.Env, _ ordo.Timer) {
	c.seq++
	for _, p := range env.Peers() {
		env.Send(p, echoReq{Seq: c.seq})
	}
	env.After(20*time.Millisecond, ordo.Timer{Name: "tick"})
}
func (c *echoClient) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(echoReply); ok {
		env.Note("reply", "from", from, "seq", r.Seq)
	}
}

func init() {
	msgs := []ordo.Message{echoReq{}, echoReply{}}
	ordo.Register(&ordo.Protocol{Name: "live-test-echo", Doc: "answers echo-req (tests)", Client: "live-test-client", Messages: msgs,
		New: func(ordo.Config) (ordo.Node, error) { return echoServer{}, nil }})
	ordo.Register(&ordo.Protocol{Name: "live-test-client", Doc: "sends echo-req (tests)", Role: ordo.Client, Messages: msgs,
		New: func(ordo.Config) (ordo.Node, error) { return &echoClient{}, nil }})
}

// nodeEnv makes this test binary act as `ordo node` when a test's cluster
// spawns it: the spawned processes then know the test protocols above.
const nodeEnv = "ORDO_LIVE_TEST_NODE"

// runAsNode runs this process as one node and exits, when spawned so.
func runAsNode() {
	if os.Getenv(nodeEnv) != "1" || len(os.Args) < 2 || os.Args[1] != "node" {
		return
	}
	fs := flag.NewFlagSet("node", flag.ExitOnError)
	config := fs.String("config", "", "")
	id := fs.Int("id", 0, "")
	fs.Parse(os.Args[2:])
	cfg, err := LoadConfig(*config)
	if err == nil {
		var rt *Runtime
		if rt, err = Start(cfg, ordo.NodeID(*id), Options{}); err == nil {
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			select {
			case <-sig:
				err = rt.Stop()
			case <-rt.Done():
				rt.Stop()
				err = fmt.Errorf("node %d stopped", *id)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Three real server processes and one real client process: the client's
// Env.Peers is every server, a server's the other servers; the client
// survives a partition it is not named in (connected to both sides) and a
// SIGKILL; the merged trace counts servers and clients apart.
func TestLiveClusterWithClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(nodeEnv, "1")
	c, err := Up(UpOptions{N: 3, Clients: 1, Protocol: "live-test-echo", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn", DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	if c.N() != 4 || !slices.Equal(c.Servers(), []ordo.NodeID{1, 2, 3}) {
		t.Fatalf("N %d servers %v", c.N(), c.Servers())
	}
	s4, err := c.Status(4)
	if err != nil {
		t.Fatal(err)
	}
	if s4.Protocol != "live-test-client" {
		t.Errorf("node 4 runs %q, want the client protocol", s4.Protocol)
	}
	var kinds []string
	for _, nv := range c.View() {
		kinds = append(kinds, nv.Kind)
	}
	if !slices.Equal(kinds, []string{"server", "server", "server", "client"}) {
		t.Errorf("kinds %v", kinds)
	}
	var view bytes.Buffer
	FormatView(&view, c.View(), "")
	if !strings.Contains(view.String(), "KIND") || !strings.Contains(view.String(), "n4    client") {
		t.Errorf("status table without kinds:\n%s", view.String())
	}

	time.Sleep(300 * time.Millisecond)
	groups, err := c.ParseGroups("1/2,3")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("groups %v: the unnamed client must be in none", groups)
	}
	cutAt := c.now()
	if err := c.Partition(groups); err != nil {
		t.Fatal(err)
	}
	s1, _ := c.Status(1)
	s4, _ = c.Status(4)
	if !slices.Equal(s1.Faults.BlockOut, []ordo.NodeID{2, 3}) || !s4.Faults.Healthy() {
		t.Errorf("faults: node 1 %+v, client 4 %+v", s1.Faults, s4.Faults)
	}
	time.Sleep(300 * time.Millisecond)
	if err := c.Kill(4); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(4); err != nil {
		t.Fatal(err)
	}
	if s4, err = c.Status(4); err != nil || s4.Boot != 2 {
		t.Fatalf("restarted client: %+v %v", s4, err)
	}
	restartAt := c.now()
	// Long enough for every server's link to the new client process to
	// come back on a loaded host (-race beside other suites: 300 ms was
	// not, once in a CI run).
	time.Sleep(1500 * time.Millisecond)
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	m := tr.Meta
	if m.Nodes != 4 || !slices.Equal(m.Servers, []int{1, 2, 3}) || !slices.Equal(m.Clients, []int{4}) || m.ClientProtocol != "live-test-client" || m.ServerCount() != 3 {
		t.Fatalf("merged meta %+v", m)
	}
	peers := map[ordo.NodeID]string{}
	replies := map[string]map[ordo.NodeID]int{"cut": {}, "restarted": {}}
	for _, e := range tr.Events {
		if e.Kind.Stamped() && len(e.Vector) != 4 {
			t.Fatalf("event %s has %d vector entries, want 4", e.Describe(), len(e.Vector))
		}
		if e.Kind != trace.Note {
			continue
		}
		switch e.Name {
		case "peers":
			peers[e.Node] = fmt.Sprint(e.Attrs.Get("peers"))
		case "reply":
			from, _ := e.Attrs.Int("from")
			if e.Node != 4 {
				t.Errorf("server %v noted a reply", e.Node)
			}
			if e.T > cutAt {
				replies["cut"][ordo.NodeID(from)]++
			}
			if e.T > restartAt {
				replies["restarted"][ordo.NodeID(from)]++
			}
		}
	}
	want := map[ordo.NodeID]string{1: "[n2 n3]", 2: "[n1 n3]", 3: "[n1 n2]", 4: "[n1 n2 n3]"}
	for id, w := range want {
		if peers[id] != w {
			t.Errorf("node %v's peers %q, want %q", id, peers[id], w)
		}
	}
	for phase, byServer := range replies {
		for _, sv := range []ordo.NodeID{1, 2, 3} {
			if byServer[sv] == 0 {
				t.Errorf("%s: no reply from server %v to the client (%v)", phase, sv, byServer)
			}
		}
	}
}

func TestConfigRoles(t *testing.T) {
	head := "protocol: %s\nepoch: 2026-01-01T00:00:00Z\n%snodes:\n"
	node := func(id int, extra string) string {
		return fmt.Sprintf("  - {id: %d, addr: 127.0.0.1:%d, admin: 127.0.0.1:%d, dir: n%d%s}\n", id, 7000+id, 8000+id, id, extra)
	}
	three := node(1, "") + node(2, "") + node(3, "")
	for _, tc := range []struct {
		name, src, want string
	}{
		{"server after client", fmt.Sprintf(head, "live-test-echo", "") + node(1, "") + node(2, ", role: client") + node(3, ""), "nodes[2]: a server after a client"},
		{"unknown role", fmt.Sprintf(head, "live-test-echo", "") + three + node(4, ", role: observer"), `nodes[3].role: unknown role "observer"`},
		{"no server", fmt.Sprintf(head, "live-test-echo", "") + node(1, ", role: client"), "nodes: no server"},
		{"service with an address", fmt.Sprintf(head, "live-test-echo", "") + three + node(4, ", role: service"), "nodes[3].addr: a service node has no addr"},
		{"options without protocol", fmt.Sprintf(head, "live-test-echo", "") + three + node(4, ", role: client, options: {a: b}"), "nodes[3].options: given without"},
	} {
		if _, err := ParseConfig([]byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"no client protocol", fmt.Sprintf(head, "broadcast-none", "") + three + node(4, ", role: client"), `protocol: unknown protocol "broadcast-none"`},
		{"server protocol on a client", fmt.Sprintf(head, "live-test-echo", "clients: {protocol: live-test-echo}\n") + three + node(4, ", role: client"), "clients.protocol: live-test-echo is a server protocol, and node 4 is a client"},
		{"client protocol on servers", fmt.Sprintf(head, "live-test-client", "") + three, "protocol: live-test-client is a client protocol, and node 1 is a server"},
		{"bad client option", fmt.Sprintf(head, "live-test-echo", "clients: {options: {rate: 3}}\n") + three + node(4, ", role: client"), `clients.options: protocol live-test-client has no option "rate"`},
		{"server without a client", fmt.Sprintf(head, "live-test-elect", "") + three + node(4, ", role: client"), "protocol live-test-elect names no client protocol"},
	} {
		cfg, err := ParseConfig([]byte(tc.src))
		if err == nil {
			err = cfg.CheckProtocols()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	cfg, err := ParseConfig([]byte(fmt.Sprintf(head, "live-test-echo", "") + three + node(4, ", role: client") + node(5, ", role: client, protocol: live-test-client")))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckProtocols(); err != nil {
		t.Fatal(err)
	}
	r := cfg.Roster()
	if !slices.Equal(r.Servers, []ordo.NodeID{1, 2, 3}) || !slices.Equal(r.Clients, []ordo.NodeID{4, 5}) || cfg.RoleOf(5) != ordo.Client {
		t.Errorf("roster %+v", r)
	}
	p, _, role, err := cfg.ProtocolOf(4)
	if err != nil || p.Name != "live-test-client" || role != ordo.Client {
		t.Errorf("node 4 runs %v as %v (%v), want the server protocol's client", p, role, err)
	}
	if !slices.Equal(r.PeersOf(2), []ordo.NodeID{1, 3}) || !slices.Equal(r.PeersOf(4), []ordo.NodeID{1, 2, 3}) {
		t.Errorf("peers of 2 %v, of 4 %v", r.PeersOf(2), r.PeersOf(4))
	}
}

// Client groups (a scenario's clients:) and the single-group flags are one
// or the other; an empty group is refused before anything is written.
func TestUpClientGroupsRefusals(t *testing.T) {
	for _, c := range []struct {
		o    UpOptions
		want string
	}{
		{UpOptions{N: 3, Protocol: "raft", Clients: 1, ClientGroups: []UpClientGroup{{Count: 1}}}, "one or the other"},
		{UpOptions{N: 3, Protocol: "raft", ClientGroups: []UpClientGroup{{Count: 0}}}, "want 1.."},
		{UpOptions{N: 3, Protocol: "raft", ClientGroups: []UpClientGroup{{Count: 40}, {Count: 40}}}, "--clients"},
	} {
		c.o.Dir = t.TempDir()
		if _, err := Up(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want one naming %q", c.o.ClientGroups, err, c.want)
		}
	}
}
