package sim

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// The roles test pair: servers answer every request; a client sends one
// request to a server in turn every 10 ms and notes each reply. Enough to
// prove clients are nodes with their own protocol, peers and roster.

type rolesReq struct{ Seq int }

func (rolesReq) Kind() string { return "roles-req" }

type rolesReply struct{ Seq int }

func (rolesReply) Kind() string { return "roles-reply" }

// rolesServer records what its Config and Env said about the cluster.
type rolesServer struct {
	cfg    ordo.Config
	peers  []ordo.NodeID
	roster *ordo.Roster
	served int
}

func (s *rolesServer) Start(env ordo.Env) {
	s.peers, s.roster = env.Peers(), env.Roster()
}
func (s *rolesServer) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(rolesReq); ok {
		s.served++
		env.Send(from, rolesReply(r))
	}
}
func (s *rolesServer) Fire(ordo.Env, ordo.Timer) {}

type rolesClient struct {
	cfg     ordo.Config
	peers   []ordo.NodeID
	seq     int
	replies int
}

func (c *rolesClient) Start(env ordo.Env) {
	c.peers = env.Peers()
	env.After(10*time.Millisecond, ordo.Timer{Name: "tick"})
}
func (c *rolesClient) Fire(env ordo.Env, t ordo.Timer) {
	c.seq++
	to := c.peers[c.seq%len(c.peers)]
	env.Note("request", "to", to, "seq", c.seq)
	env.Send(to, rolesReq{Seq: c.seq})
	env.After(10*time.Millisecond, ordo.Timer{Name: "tick"})
}
func (c *rolesClient) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(rolesReply); ok {
		c.replies++
		env.Note("reply", "from", from, "seq", r.Seq)
	}
}

var (
	rolesServerProto = &ordo.Protocol{Name: "roles-server", Client: "roles-client",
		Messages: []ordo.Message{rolesReq{}, rolesReply{}},
		New:      func(c ordo.Config) (ordo.Node, error) { return &rolesServer{cfg: c}, nil }}
	rolesClientProto = &ordo.Protocol{Name: "roles-client", Role: ordo.Client,
		Messages: []ordo.Message{rolesReq{}, rolesReply{}},
		New:      func(c ordo.Config) (ordo.Node, error) { return &rolesClient{cfg: c}, nil }}
)

func newRolesSim(t *testing.T, seed uint64, clients int) *Sim {
	t.Helper()
	s, err := New(Config{Protocol: rolesServerProto, Nodes: 3, Seed: seed, Trace: true,
		Network: Network{Default: Link{Latency: Presets["lan"]}},
		Clients: []ClientGroup{{Protocol: rolesClientProto, Count: clients}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRolesPeersRosterQuorum(t *testing.T) {
	s := newRolesSim(t, 1, 2)
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if s.Size() != 5 || !slices.Equal(s.Roster().Servers, []ordo.NodeID{1, 2, 3}) || !slices.Equal(s.Roster().Clients, []ordo.NodeID{4, 5}) {
		t.Fatalf("size %d roster %+v, want 3 servers then clients 4,5", s.Size(), s.Roster())
	}
	if q := s.Roster().Quorum(); q != 2 {
		t.Errorf("quorum %d over 3 servers and 2 clients, want 2 (servers only)", q)
	}
	for id := ordo.NodeID(1); id <= 3; id++ {
		sv := s.Node(id).(*rolesServer)
		want := slices.DeleteFunc([]ordo.NodeID{1, 2, 3}, func(p ordo.NodeID) bool { return p == id })
		if !slices.Equal(sv.peers, want) {
			t.Errorf("server %v peers %v, want %v (the other servers only)", id, sv.peers, want)
		}
		if sv.cfg.N != 3 || sv.cfg.Role != ordo.Server || sv.cfg.Proto != rolesServerProto || sv.roster != s.Roster() {
			t.Errorf("server %v config N=%d role=%v proto=%s", id, sv.cfg.N, sv.cfg.Role, sv.cfg.Proto.Name)
		}
		if s.Role(id) != ordo.Server || sv.served == 0 {
			t.Errorf("server %v: role %v, served %d requests", id, s.Role(id), sv.served)
		}
	}
	for id := ordo.NodeID(4); id <= 5; id++ {
		c := s.Node(id).(*rolesClient)
		if !slices.Equal(c.peers, []ordo.NodeID{1, 2, 3}) {
			t.Errorf("client %v peers %v, want every server", id, c.peers)
		}
		if c.cfg.N != 3 || c.cfg.Role != ordo.Client || c.cfg.Proto != rolesClientProto || s.Role(id) != ordo.Client {
			t.Errorf("client %v config N=%d role=%v", id, c.cfg.N, c.cfg.Role)
		}
		// 99 ticks in 1 s; a LAN round trip is ~0.5 ms, so all but the
		// last request or so are answered.
		if c.replies < 95 || c.replies > c.seq {
			t.Errorf("client %v: %d replies to %d requests", id, c.replies, c.seq)
		}
	}
}

func TestRolesTraceMeta(t *testing.T) {
	s := newRolesSim(t, 1, 2)
	if err := s.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	m := s.Trace().Meta
	if m.Nodes != 5 || !slices.Equal(m.Servers, []int{1, 2, 3}) || !slices.Equal(m.Clients, []int{4, 5}) || m.ClientProtocol != "roles-client" {
		t.Fatalf("meta %+v", m)
	}
	if m.ServerCount() != 3 || m.IsServer(4) || !m.IsServer(3) {
		t.Errorf("meta counts %d servers, IsServer(4)=%v", m.ServerCount(), m.IsServer(4))
	}
	// A client's reply has happened after the server's receipt of its
	// request: vectors carry an entry per node of every role.
	seen := map[ordo.NodeID]bool{}
	for _, e := range s.Trace().Events {
		if e.Kind.Stamped() && len(e.Vector) != 5 {
			t.Fatalf("event %+v has a vector of %d entries, want 5", e, len(e.Vector))
		}
		if e.Kind == trace.Note && e.Name == "reply" {
			seen[e.Node] = true
			if e.Vector[e.Node-1] == 0 {
				t.Errorf("client %v's own entry is 0 in %v", e.Node, e.Vector)
			}
		}
	}
	if !seen[4] || !seen[5] {
		t.Errorf("replies noted by clients %v, want 4 and 5", seen)
	}
	// Without clients the meta is what it was before roles existed.
	s0 := newRolesSim(t, 1, 0)
	if m := s0.Trace().Meta; m.Nodes != 3 || m.Servers != nil || m.Clients != nil || m.ClientProtocol != "" {
		t.Errorf("meta without clients %+v", m)
	}
}

func TestRolesDeterministic(t *testing.T) {
	run := func() []byte {
		s := newRolesSim(t, 7, 2)
		if err := s.StartNemesis(Nemesis{Start: 0, Stop: 2 * time.Second, Crash: 3, Partition: 2, Pause: 2, ClockJump: 2, Loss: 1, MeanDowntime: 200 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if err := s.RunFor(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.Trace().Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Fatalf("seed 7 ran twice gave different traces (%d and %d bytes); replay: go test ./sim -run TestRolesDeterministic", len(a), len(b))
	}
}

func TestRolesNemesisStrikesServersOnly(t *testing.T) {
	const seed = 11
	s := newRolesSim(t, seed, 2)
	if err := s.StartNemesis(Nemesis{Start: 0, Stop: 5 * time.Second, Crash: 5, Pause: 5, ClockJump: 5, MeanDowntime: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	faults := 0
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Crash || e.Kind == trace.Pause || (e.Kind == trace.Note && e.Name == "clock-jump") {
			faults++
			if e.Node > 3 {
				t.Errorf("seed %d: the nemesis struck client %v: %s", seed, e.Node, e.Describe())
			}
		}
	}
	if faults < 10 {
		t.Errorf("seed %d: only %d faults in 5 s at 15/s", seed, faults)
	}
}

func TestRolesPartitionKeepsUnnamedClientsConnected(t *testing.T) {
	s := newRolesSim(t, 1, 2)
	if err := s.Partition([]ordo.NodeID{1}, []ordo.NodeID{2, 3}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []ordo.NodeID{4, 5} {
		for _, sv := range []ordo.NodeID{1, 2, 3} {
			if s.Blocked(c, sv) || s.Blocked(sv, c) {
				t.Errorf("unnamed client %v is cut from server %v", c, sv)
			}
		}
	}
	if !s.Blocked(1, 2) || s.Blocked(2, 3) {
		t.Errorf("servers: 1->2 blocked %v, 2->3 blocked %v", s.Blocked(1, 2), s.Blocked(2, 3))
	}
	// A group may name a client: it is cut off with its group.
	if err := s.Partition([]ordo.NodeID{1, 4}, []ordo.NodeID{2, 3}); err != nil {
		t.Fatal(err)
	}
	if !s.Blocked(4, 2) || s.Blocked(4, 1) || s.Blocked(5, 1) || s.Blocked(5, 2) {
		t.Errorf("named client 4: 4->2 %v 4->1 %v; unnamed 5: 5->1 %v 5->2 %v", s.Blocked(4, 2), s.Blocked(4, 1), s.Blocked(5, 1), s.Blocked(5, 2))
	}
	if err := s.Partition([]ordo.NodeID{6}); err == nil || !strings.Contains(err.Error(), "1..5") {
		t.Errorf("partition naming node 6 of 5: %v", err)
	}
	// A crashed client restarts like any node, with its own protocol.
	s.Crash(4)
	if err := s.Restart(4); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Node(4).(*rolesClient); !ok {
		t.Errorf("restarted client runs %T", s.Node(4))
	}
}

func TestRolesConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"server protocol as client", Config{Protocol: rolesServerProto, Nodes: 3, Clients: []ClientGroup{{Protocol: rolesServerProto, Count: 1}}}, "not a client protocol"},
		{"client protocol as server", Config{Protocol: rolesClientProto, Nodes: 3}, "servers need a server protocol"},
		{"negative count", Config{Protocol: rolesServerProto, Nodes: 3, Clients: []ClientGroup{{Protocol: rolesClientProto, Count: -1}}}, "-1 clients"},
		{"too many", Config{Protocol: rolesServerProto, Nodes: 3, Clients: []ClientGroup{{Protocol: rolesClientProto, Count: MaxClients + 1}}}, "clients, need 0.."},
		{"no protocol", Config{Protocol: rolesServerProto, Nodes: 3, Clients: []ClientGroup{{Count: 1}}}, "no protocol"},
		{"absent out of range", Config{Protocol: rolesServerProto, Nodes: 3, Absent: []ordo.NodeID{6}, Clients: []ClientGroup{{Protocol: rolesClientProto, Count: 2}}}, "out of range 1..5"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
