package scenario

import (
	"slices"
	"strings"
	"testing"

	"ordo"
	"ordo/trace"
)

// A test trio for `services:` (issue 15): an echo service, a server
// protocol that declares it in Protocol.Services and asks it every 10 ms,
// noting each echo.

type svEcho struct{ Seq int }

func (svEcho) Kind() string { return "sv-echo" }

type svEchoed struct{ Seq int }

func (svEchoed) Kind() string { return "sv-echoed" }

type svService struct{}

func (svService) Start(ordo.Env)            {}
func (svService) Fire(ordo.Env, ordo.Timer) {}
func (svService) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if e, ok := m.(svEcho); ok {
		env.Send(from, svEchoed(e))
	}
}

type svUser struct{ seq int }

func (u *svUser) Start(env ordo.Env) { env.After(tenMS, ordo.Timer{Name: "ask"}) }
func (u *svUser) Fire(env ordo.Env, _ ordo.Timer) {
	u.seq++
	env.Send(env.Roster().Services[0], svEcho{Seq: u.seq})
	env.After(tenMS, ordo.Timer{Name: "ask"})
}
func (u *svUser) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if e, ok := m.(svEchoed); ok {
		env.Note("echoed", "from", from, "seq", e.Seq)
	}
}

const tenMS = 10_000_000

func init() {
	msgs := []ordo.Message{svEcho{}, svEchoed{}}
	ordo.Register(&ordo.Protocol{Name: "scenario-test-echo", Doc: "echoes sv-echo (tests)", Role: ordo.Service, Messages: msgs,
		Options: []ordo.Option{{Name: "tag", Default: "x"}},
		New:     func(ordo.Config) (ordo.Node, error) { return svService{}, nil }})
	ordo.Register(&ordo.Protocol{Name: "scenario-test-echo2", Doc: "another echo service (tests)", Role: ordo.Service, Messages: msgs,
		New: func(ordo.Config) (ordo.Node, error) { return svService{}, nil }})
	ordo.Register(&ordo.Protocol{Name: "scenario-test-echo-free", Doc: "a server protocol that declares no services (tests)", Messages: msgs,
		New: func(ordo.Config) (ordo.Node, error) { return svService{}, nil }})
	ordo.Register(&ordo.Protocol{Name: "scenario-test-svc-user", Doc: "asks scenario-test-echo (tests)", Services: []string{"scenario-test-echo"}, Messages: msgs,
		New: func(ordo.Config) (ordo.Node, error) { return &svUser{}, nil }})
}

const withServices = `name: with-services
protocol: scenario-test-svc-user
nodes: 3
duration: 1s
network: {latency: lan}
faults:
  - {at: 300ms, partition: "1/2,3,4"}
  - {at: 600ms, heal: true}
  - {at: 700ms, pause: 4, for: 100ms}
  - {at: 0s, clock_jump: 4, by: 1s}
`

func TestServicesDefaultedFromProtocol(t *testing.T) {
	sc, err := Parse("with-services.yaml", []byte(withServices))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Services) != 1 || sc.Services[0].Protocol.Name != "scenario-test-echo" || sc.Services[0].Options["tag"] != "x" || sc.FirstService() != 4 {
		t.Fatalf("services %+v, first %d: want the protocol's echo, default options, node 4", sc.Services, sc.FirstService())
	}
	r, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Trace.Meta
	if m.Nodes != 4 || !slices.Equal(m.Servers, []int{1, 2, 3}) || !slices.Equal(m.Services, []int{4}) || m.ServiceProtocol != "scenario-test-echo" {
		t.Fatalf("meta %+v", m)
	}
	// Server 1 is cut from the service from 300 to 600 ms: no echo to it
	// arrives in that window, and echoes reach 2 and 3 throughout.
	var cut1, cut2 int
	for _, e := range r.Trace.Events {
		if e.Kind != trace.Note || e.Name != "echoed" || e.T < 310e6 || e.T > 600e6 {
			continue
		}
		switch e.Node {
		case 1:
			cut1++
		case 2:
			cut2++
		}
	}
	if cut1 != 0 || cut2 < 25 {
		t.Errorf("during partition 1/2,3,4: server 1 got %d echoes, server 2 %d", cut1, cut2)
	}
	s := r.Summary()
	if s.Services != 1 || s.ServiceProtocol != "scenario-test-echo" {
		t.Errorf("summary services %d %q", s.Services, s.ServiceProtocol)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "3 servers + 1 service (scenario-test-echo)") {
		t.Errorf("report does not describe the service:\n%s", b.String())
	}
}

func TestServicesSection(t *testing.T) {
	base := "name: s\nprotocol: scenario-test-svc-user\nnodes: 3\nduration: 1s\nclients: {count: 2, protocol: scenario-test-client}\n"
	sc, err := Parse("s.yaml", []byte(base+"services:\n  - {options: {tag: y}}\n  - {protocol: scenario-test-echo}\nfaults:\n  - {at: 0s, pause: 7}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Services) != 2 || sc.Services[0].Options["tag"] != "y" || sc.Services[1].Options["tag"] != "x" || sc.FirstService() != 6 {
		t.Fatalf("services %+v", sc.Services)
	}
	cfg := sc.Config(1, false)
	if len(cfg.Services) != 2 || cfg.Services[0].Options["tag"] != "y" {
		t.Fatalf("sim config services %+v", cfg.Services)
	}
	// services: [] means none, for a protocol that declares none.
	sc, err = Parse("s.yaml", []byte("name: s\nprotocol: scenario-test-echo-free\nnodes: 3\nduration: 1s\nservices: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := sc.Config(1, false); sc.Services == nil || len(cfg.Services) != 0 || cfg.Services == nil {
		t.Fatalf("services: [] gave %+v / %+v", sc.Services, cfg.Services)
	}
	for _, tc := range []struct{ file, want string }{
		{base + "services:\n  - {}\n  - {}\n", "s.yaml:8:5: services[1]: protocol scenario-test-svc-user declares 1 service(s) (scenario-test-echo)"},
		{base + "services:\n  - {protocol: scenario-test-client}\n", "services[0].protocol: service 1: scenario-test-client is a client protocol, not a service protocol"},
		{base + "services:\n  - {protocol: nope}\n", `unknown protocol "nope"`},
		// A protocol that declares services finds them by position: none,
		// or another protocol in its place, is refused (issue 15 trial).
		{base + "services: []\n", "s.yaml:6:11: services: protocol scenario-test-svc-user needs its services (scenario-test-echo, in this order)"},
		{base + "services:\n  - {protocol: scenario-test-echo2}\n", "services[0].protocol: protocol scenario-test-svc-user needs scenario-test-echo here (its services, in order: scenario-test-echo), not scenario-test-echo2"},
		{base + "services:\n  - {options: {tag2: 1}}\n", `services[0].options.tag2: protocol scenario-test-echo has no option "tag2"`},
		{base + "services:\n  - {options: {tag: y}, count: 3}\n", "count"},
		{base + "services: {protocol: scenario-test-echo}\n", "want a list of {protocol: NAME"},
		{base + "faults:\n  - {at: 0s, pause: 7}\n", "nodes 1..6 (servers 1..3, clients 4..5, services 6..6)"},
		// A service is never crashed, restarted, reconfigured or given a
		// disk fault (the model's state is in memory); a client may be.
		{base + "faults:\n  - {at: 0s, crash: 6}\n", "faults[0].crash: node 6 is a service, and services are never crashed"},
		{base + "faults:\n  - {at: 0s, restart: 6}\n", "node 6 is a service"},
		{base + "faults:\n  - {at: 0s, leave: 6}\n", "node 6 is a service"},
		{base + "disk: {sync_latency: 1ms}\nfaults:\n  - {at: 0s, fail_sync: 6}\n", "node 6 is a service"},
	} {
		_, err := Parse("s.yaml", []byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("file\n%s\nerror %v, want one containing %q", tc.file, err, tc.want)
		}
	}
}
