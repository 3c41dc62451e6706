package sim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// The services test pair (issue 15): a tiny echo service and a server
// protocol that declares it in Protocol.Services and asks it something
// every 10 ms. Enough to prove a service is a node laid out after the
// clients, defaulted from the protocol, never struck by the nemesis, and
// reachable by named faults.

type svcEcho struct{ Seq int }

func (svcEcho) Kind() string { return "sim-svc-echo" }

type svcEchoed struct{ Seq, By int }

func (svcEchoed) Kind() string { return "sim-svc-echoed" }

type echoService struct{ cfg ordo.Config }

func (*echoService) Start(ordo.Env)            {}
func (*echoService) Fire(ordo.Env, ordo.Timer) {}
func (s *echoService) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if e, ok := m.(svcEcho); ok {
		env.Send(from, svcEchoed{Seq: e.Seq, By: int(env.ID())})
	}
}

// svcUser asks the first service of its roster every 10 ms.
type svcUser struct {
	cfg     ordo.Config
	svc     []ordo.NodeID
	seq     int
	replies int
}

func (u *svcUser) Start(env ordo.Env) {
	u.svc = env.Roster().Services
	env.After(10*time.Millisecond, ordo.Timer{Name: "ask"})
}
func (u *svcUser) Fire(env ordo.Env, _ ordo.Timer) {
	u.seq++
	env.Send(u.svc[0], svcEcho{Seq: u.seq})
	env.After(10*time.Millisecond, ordo.Timer{Name: "ask"})
}
func (u *svcUser) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(svcEchoed); ok {
		u.replies++
		env.Note("echoed", "from", from, "seq", r.Seq)
	}
}

var (
	echoServiceProto = &ordo.Protocol{Name: "sim-test-echo", Role: ordo.Service,
		Options:  []ordo.Option{{Name: "tag", Default: "x"}},
		Messages: []ordo.Message{svcEcho{}, svcEchoed{}},
		New:      func(c ordo.Config) (ordo.Node, error) { return &echoService{cfg: c}, nil }}
	svcUserProto = &ordo.Protocol{Name: "sim-test-svc-user", Services: []string{"sim-test-echo"},
		Messages: []ordo.Message{svcEcho{}, svcEchoed{}},
		New:      func(c ordo.Config) (ordo.Node, error) { return &svcUser{cfg: c}, nil }}
)

// The service protocol is looked up by name: register it once for the
// package's tests.
func init() { ordo.Register(echoServiceProto) }

func newSvcSim(t *testing.T, seed uint64, clients int) *Sim {
	t.Helper()
	cfg := Config{Protocol: svcUserProto, Nodes: 3, Seed: seed, Trace: true, Wire: true,
		Network: Network{Default: Link{Latency: Presets["lan"]}}}
	if clients > 0 {
		cfg.Clients = []ClientGroup{{Protocol: rolesClientProto, Count: clients}}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServicesDefaultFromProtocol(t *testing.T) {
	s := newSvcSim(t, 1, 2)
	if err := s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	r := s.Roster()
	if s.Size() != 6 || !slices.Equal(r.Servers, []ordo.NodeID{1, 2, 3}) || !slices.Equal(r.Clients, []ordo.NodeID{4, 5}) || !slices.Equal(r.Services, []ordo.NodeID{6}) {
		t.Fatalf("size %d roster %+v, want servers 1-3, clients 4,5, service 6", s.Size(), r)
	}
	if s.Role(6) != ordo.Service || s.Protocol(6) != echoServiceProto {
		t.Fatalf("node 6: role %v protocol %s", s.Role(6), s.Protocol(6).Name)
	}
	svc := s.Node(6).(*echoService)
	if svc.cfg.Role != ordo.Service || svc.cfg.Opts["tag"] != "x" || svc.cfg.Roster != r {
		t.Errorf("service config %+v: want role service, default options, the run's roster", svc.cfg)
	}
	if q := r.Quorum(); q != 2 {
		t.Errorf("quorum %d, want 2 (services never count)", q)
	}
	for id := ordo.NodeID(1); id <= 3; id++ {
		u := s.Node(id).(*svcUser)
		if !slices.Equal(u.svc, []ordo.NodeID{6}) {
			t.Errorf("server %v sees services %v, want [6]", id, u.svc)
		}
		// 99 asks in 1 s; a LAN round trip is ~0.5 ms.
		if u.replies < 95 || u.replies > u.seq {
			t.Errorf("server %v: %d echoes for %d asks", id, u.replies, u.seq)
		}
	}
	m := s.Trace().Meta
	if !slices.Equal(m.Servers, []int{1, 2, 3}) || !slices.Equal(m.Clients, []int{4, 5}) || !slices.Equal(m.Services, []int{6}) || m.ServiceProtocol != "sim-test-echo" {
		t.Fatalf("meta %+v", m)
	}
	if m.IsServer(6) || m.ServerCount() != 3 {
		t.Errorf("meta: IsServer(6)=%v ServerCount=%d", m.IsServer(6), m.ServerCount())
	}
	if err := s.Trace().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestServicesWithoutClientsFillMeta(t *testing.T) {
	s := newSvcSim(t, 1, 0)
	m := s.Trace().Meta
	if m.Nodes != 4 || !slices.Equal(m.Servers, []int{1, 2, 3}) || m.Clients != nil || !slices.Equal(m.Services, []int{4}) {
		t.Fatalf("meta %+v: a service alone must still list the servers", m)
	}
	// A run with neither clients nor services writes the header it always
	// did: no roles keys at all.
	s0 := newRolesSim(t, 1, 0)
	b, err := json.Marshal(s0.Trace().Meta)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"servers", "clients", "services", "service_protocol"} {
		if strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("meta without roles has %q: %s", k, b)
		}
	}
}

func TestServicesExplicitAndErrors(t *testing.T) {
	// An empty non-nil list turns the protocol's services off.
	s, err := New(Config{Protocol: rolesServerProto, Nodes: 3, Services: []ServiceGroup{}})
	if err != nil || s.Size() != 3 {
		t.Fatalf("no services: size %v, err %v", s.Size(), err)
	}
	// Given explicitly, with options, on a protocol that declares none.
	s, err = New(Config{Protocol: rolesServerProto, Nodes: 2, Services: []ServiceGroup{{Protocol: echoServiceProto, Options: ordo.Options{"tag": "y"}}, {Protocol: echoServiceProto}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Roster().Services, []ordo.NodeID{3, 4}) || s.Node(3).(*echoService).cfg.Opts["tag"] != "y" || s.Node(4).(*echoService).cfg.Opts["tag"] != "x" {
		t.Errorf("explicit services: roster %+v", s.Roster())
	}
	missing := &ordo.Protocol{Name: "sim-test-needs-missing", Services: []string{"sim-test-no-such-service"},
		New: func(c ordo.Config) (ordo.Node, error) { return &svcUser{cfg: c}, nil }}
	many := make([]ServiceGroup, MaxServices+1)
	for i := range many {
		many[i].Protocol = echoServiceProto
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown default", Config{Protocol: missing, Nodes: 3}, `unknown protocol "sim-test-no-such-service"`},
		{"server protocol as service", Config{Protocol: rolesServerProto, Nodes: 3, Services: []ServiceGroup{{Protocol: rolesServerProto}}}, "not a service protocol"},
		{"service protocol as server", Config{Protocol: echoServiceProto, Nodes: 3}, "servers need a server protocol"},
		{"no protocol", Config{Protocol: rolesServerProto, Nodes: 3, Services: []ServiceGroup{{}}}, "service 1 has no protocol"},
		{"too many", Config{Protocol: rolesServerProto, Nodes: 3, Services: many}, "need at most 16"},
		{"absent counts services", Config{Protocol: rolesServerProto, Nodes: 3, Services: []ServiceGroup{{Protocol: echoServiceProto}}, Absent: []ordo.NodeID{5}}, "out of range 1..4"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestServicesNemesisNeverStrikesThem(t *testing.T) {
	const seed = 11
	s := newSvcSim(t, seed, 1) // service is node 5
	if err := s.StartNemesis(Nemesis{Start: 0, Stop: 5 * time.Second, Crash: 5, Partition: 5, Pause: 5, ClockJump: 5, MeanDowntime: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	partitions := 0
	s.Observe(func(e *trace.Event) {
		if e.Kind == trace.Fault && e.Name == "partition" {
			partitions++
			if strings.Contains(e.Attrs.Get("groups").(string), "5") {
				t.Errorf("seed %d: a nemesis partition names the service: %s", seed, e.Describe())
			}
			for id := ordo.NodeID(1); id <= 3; id++ {
				if s.Blocked(id, 5) || s.Blocked(5, id) {
					t.Errorf("seed %d: a nemesis partition cut server %v from the service", seed, id)
				}
			}
		}
	})
	if err := s.RunFor(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	faults := 0
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Crash || e.Kind == trace.Pause || (e.Kind == trace.Note && e.Name == "clock-jump") {
			faults++
			if e.Node > 3 {
				t.Errorf("seed %d: the nemesis struck non-server %v: %s", seed, e.Node, e.Describe())
			}
		}
	}
	if faults < 10 || partitions < 5 {
		t.Errorf("seed %d: only %d node faults and %d partitions in 5 s at 5/s each", seed, faults, partitions)
	}
}

func TestServicesNamedFaults(t *testing.T) {
	s := newSvcSim(t, 3, 0) // service is node 4
	// Partition 1/4: server 1 and the service in groups of their own,
	// servers 2 and 3 together in a third.
	if err := s.Partition([]ordo.NodeID{1}, []ordo.NodeID{4}); err != nil {
		t.Fatal(err)
	}
	if !s.Blocked(1, 4) || !s.Blocked(4, 1) || !s.Blocked(2, 4) {
		t.Errorf("partition 1/4: 1->4 %v 4->1 %v 2->4 %v", s.Blocked(1, 4), s.Blocked(4, 1), s.Blocked(2, 4))
	}
	// Cutting one candidate from the service only: 1/2,3,4.
	if err := s.Partition([]ordo.NodeID{1}, []ordo.NodeID{2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	u1, u2 := s.Node(1).(*svcUser), s.Node(2).(*svcUser)
	if u1.replies != 0 || u2.replies < 45 {
		t.Errorf("cut from the service, server 1 got %d echoes; server 2 got %d", u1.replies, u2.replies)
	}
	s.Heal()
	// A paused service answers nothing until it resumes, then everything
	// that waited.
	s.Pause(4)
	before := u2.replies
	if err := s.RunFor(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if u2.replies != before {
		t.Errorf("a paused service answered %d asks", u2.replies-before)
	}
	s.Resume(4)
	if err := s.RunFor(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if u2.replies < before+19 {
		t.Errorf("after resume: %d echoes, want the ~20 that waited", u2.replies-before)
	}
	// A service's clock can be stepped like any node's.
	l := s.LocalTime(4)
	s.JumpClock(4, time.Second)
	if d := s.LocalTime(4) - l; d < time.Second {
		t.Errorf("service clock moved %v after a 1s jump", d)
	}
	if err := s.Trace().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestServicesDeterministic(t *testing.T) {
	run := func() []byte {
		s := newSvcSim(t, 9, 1)
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
		t.Fatalf("seed 9 ran twice gave different traces (%d and %d bytes); replay: go test ./sim -run TestServicesDeterministic", len(a), len(b))
	}
}
