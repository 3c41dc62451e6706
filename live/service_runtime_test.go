package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/live/transport"
	"ordo/scenario"
	"ordo/trace"
)

// A test trio for services (issue 15): a service protocol "live-test-svc"
// (its sim model answers as the adapter below), a server protocol that
// declares it and asks it every 10 ms, writing each ask's number to its
// store first (so every ask waits for an fsync), and an in-process
// adapter, registered for the real processes the end-to-end test spawns
// and given to in-process runtimes through Options.Services.

type svAsk struct{ Seq int }

func (svAsk) Kind() string { return "sv-ask" }

type svAnswer struct {
	Seq int
	By  int    // the asking node, as the adapter saw it
	Tag string // the service node's option tag, as the adapter got it
}

func (svAnswer) Kind() string { return "sv-answer" }

type svModel struct{ tag string }

func (svModel) Start(ordo.Env)            {}
func (svModel) Fire(ordo.Env, ordo.Timer) {}
func (s svModel) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if a, ok := m.(svAsk); ok {
		env.Send(from, svAnswer{Seq: a.Seq, By: int(from), Tag: s.tag})
	}
}

type svUser struct {
	seq   int
	early bool // every fifth ask is sent early (ordo.EarlySender)
}

func (u *svUser) Start(env ordo.Env) { env.After(10*time.Millisecond, ordo.Timer{Name: "ask"}) }
func (u *svUser) Fire(env ordo.Env, _ ordo.Timer) {
	u.seq++
	env.Store().Put("seq", []byte(fmt.Sprint(u.seq)))
	svc := env.Roster().Services[0]
	if es, ok := env.(ordo.EarlySender); ok && u.early && u.seq%5 == 0 {
		es.SendEarly(svc, svAsk{Seq: u.seq}) // leaves before the turn's fsync
	} else {
		env.Send(svc, svAsk{Seq: u.seq})
	}
	env.After(10*time.Millisecond, ordo.Timer{Name: "ask"})
}
func (u *svUser) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if a, ok := m.(svAnswer); ok {
		env.Note("answer", "seq", a.Seq, "by", a.By, "tag", a.Tag, "from", from)
	}
}

func init() {
	msgs := []ordo.Message{svAsk{}, svAnswer{}}
	ordo.Register(&ordo.Protocol{Name: "live-test-svc", Doc: "answers sv-ask (tests)", Role: ordo.Service, Messages: msgs,
		Options: []ordo.Option{{Name: "tag", Default: "x", Help: "echoed in every answer"}},
		New:     func(c ordo.Config) (ordo.Node, error) { return svModel{tag: c.Opts.String("tag")}, nil }})
	ordo.Register(&ordo.Protocol{Name: "live-test-svc-user", Doc: "asks live-test-svc (tests)", Services: []string{"live-test-svc"}, Messages: msgs,
		Options: []ordo.Option{{Name: "early", Default: "true", Help: "send every fifth ask early"}},
		New:     func(c ordo.Config) (ordo.Node, error) { return &svUser{early: c.Opts.Bool("early")}, nil }})
	RegisterService("live-test-svc", (&fakeService{}).dial)
}

// fakeService is an in-process adapter: it answers each ask on a goroutine
// of its own, as a real adapter answers when its system does, and keeps
// what it saw.
type fakeService struct {
	mu     sync.Mutex
	asks   map[ordo.NodeID][]int // by asking node
	dials  []ordo.NodeID
	opts   ordo.Options
	closed int
	// deliver is the last deliver function dialled (tests call it).
	deliver func(ordo.Message) bool
}

type fakeConn struct {
	f        *fakeService
	self, id ordo.NodeID
	q        chan svAsk
	stop     chan struct{}
	done     chan struct{}
}

func (f *fakeService) dial(ctx context.Context, self, id ordo.NodeID, opts ordo.Options, deliver func(ordo.Message) bool) (ServiceConn, error) {
	f.mu.Lock()
	f.dials = append(f.dials, self)
	f.opts = opts
	f.deliver = deliver
	if f.asks == nil {
		f.asks = map[ordo.NodeID][]int{}
	}
	f.mu.Unlock()
	c := &fakeConn{f: f, self: self, id: id, q: make(chan svAsk, 256), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			select {
			case a := <-c.q:
				if !deliver(svAnswer{Seq: a.Seq, By: int(self), Tag: opts.String("tag")}) {
					return // the node is stopping
				}
			case <-c.stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return c, nil
}

func (c *fakeConn) Send(m ordo.Message) {
	a := m.(svAsk)
	c.f.mu.Lock()
	c.f.asks[c.self] = append(c.f.asks[c.self], a.Seq)
	c.f.mu.Unlock()
	select {
	case c.q <- a:
	default: // full: the ask is lost, as a real adapter's error reply would say
	}
}

func (c *fakeConn) Close() error {
	close(c.stop)
	<-c.done
	c.f.mu.Lock()
	c.f.closed++
	c.f.mu.Unlock()
	return nil
}

func (f *fakeService) asked(id ordo.NodeID) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asks[id])
}

// svcConfig is a cluster file of n servers of live-test-svc-user (with
// options opts) and the service node n+1 (with svcOpts).
func svcConfig(t *testing.T, n int, opts, svcOpts map[string]string) *Config {
	t.Helper()
	dir := t.TempDir()
	c := testConfig(t, dir, "live-test-svc-user", n, opts)
	c.Nodes = append(c.Nodes, NodeConfig{ID: n + 1, Role: "service", Protocol: "live-test-svc", Options: svcOpts})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckProtocols(); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(filepath.Join(dir, ConfigFileName)); err != nil {
		t.Fatal(err)
	}
	return c
}

// Two servers ask service 3 through an in-process adapter: the requests
// reach it, its answers come back as messages from node 3, a cut of the
// node's link to the service drops them either way with a drop event, and
// the merged trace is sound (a send to the service has a message id no
// receive names; a receive from it has id 0 and merges no vector).
func TestServiceRoundTripAndCuts(t *testing.T) {
	cfg := svcConfig(t, 2, nil, map[string]string{"tag": "y"})
	f := &fakeService{}
	var rts []*Runtime
	for id := ordo.NodeID(1); id <= 2; id++ {
		rt, err := Start(cfg, id, Options{Log: quietLog(), Services: map[ordo.NodeID]ServiceDial{3: f.dial}})
		if err != nil {
			t.Fatal(err)
		}
		rts = append(rts, rt)
	}
	t.Cleanup(func() {
		for _, rt := range rts {
			rt.Stop()
		}
	})
	time.Sleep(300 * time.Millisecond)
	epoch, _ := cfg.EpochTime()
	since := func() int64 { return time.Since(epoch).Nanoseconds() }
	// Node 1 cannot reach the service: its asks are dropped on the way.
	outFrom := since()
	n1 := len(f.asked(1))
	rts[0].SetFaults(transport.Faults{BlockOut: []ordo.NodeID{3}})
	time.Sleep(200 * time.Millisecond)
	if got := len(f.asked(1)) - n1; got > 1 { // one may have been released as the cut was set
		t.Errorf("cut from the service, node 1 still reached it %d times", got)
	}
	// Node 1 reaches the service but cannot hear it.
	inFrom := since()
	n1 = len(f.asked(1))
	rts[0].SetFaults(transport.Faults{BlockIn: []ordo.NodeID{3}})
	time.Sleep(200 * time.Millisecond)
	inTo := since()
	if got := len(f.asked(1)) - n1; got == 0 {
		t.Errorf("with only its inbound cut, node 1 never asked the service in 200ms")
	}
	rts[0].SetFaults(transport.Faults{})
	time.Sleep(200 * time.Millisecond)
	for _, rt := range rts {
		if err := rt.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	dials, closed, tag := slices.Clone(f.dials), f.closed, f.opts.String("tag")
	f.mu.Unlock()
	slices.Sort(dials)
	if !slices.Equal(dials, []ordo.NodeID{1, 2}) || closed != 2 || tag != "y" {
		t.Fatalf("dials %v, closed %d, options tag %q: want one per node, each closed, the cluster file's options", dials, closed, tag)
	}

	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if tr, err = trace.Read(&buf); err != nil {
		t.Fatalf("the merged trace does not read back: %v", err)
	}
	m := tr.Meta
	if m.Nodes != 3 || !slices.Equal(m.Servers, []int{1, 2}) || !slices.Equal(m.Services, []int{3}) || m.ServiceProtocol != "live-test-svc" || m.IsServer(3) {
		t.Fatalf("meta %+v", m)
	}
	sends, answers := map[ordo.NodeID]int{}, map[ordo.NodeID]int{}
	drops := map[string]int{}
	ids := map[uint64]bool{}
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.Send && e.Peer == 3:
			sends[e.Node]++
			if e.Msg == 0 || ids[e.Msg] || e.MsgKind != "sv-ask" || e.Bytes == 0 {
				t.Fatalf("a send to the service: %s (want a message id of its own, kind sv-ask, its size)", e.Describe())
			}
			ids[e.Msg] = true
		case e.Kind == trace.Recv && e.Peer == 3:
			if e.Msg != 0 || e.MsgKind != "sv-answer" {
				t.Fatalf("a receive from the service: %s (want message id 0)", e.Describe())
			}
			if e.Node == 1 && e.T > inFrom+int64(20*time.Millisecond) && e.T < inTo {
				t.Errorf("node 1 received from the service while its inbound link was cut: %s", e.Describe())
			}
		case e.Kind == trace.Note && e.Name == "answer":
			answers[e.Node]++
			if by, _ := e.Attrs.Int("by"); by != int64(e.Node) || e.Attrs.Get("tag") != "y" {
				t.Fatalf("answer %s: asked by %d, tag %v", e.Describe(), by, e.Attrs.Get("tag"))
			}
		case e.Kind == trace.Drop && (e.Node == 3 || e.Peer == 3):
			drops[e.Name]++
			if e.Name == transport.ReasonPartitionOut && (e.Node != 1 || e.T < outFrom) {
				t.Errorf("unexpected drop %s", e.Describe())
			}
		}
	}
	if sends[1] == 0 || sends[2] == 0 || answers[2] == 0 || answers[1] == 0 {
		t.Errorf("sends to the service %v, answers noted %v", sends, answers)
	}
	if drops[transport.ReasonPartitionOut] == 0 || drops[transport.ReasonPartitionIn] == 0 {
		t.Errorf("drops on node 1's cut links to the service: %v", drops)
	}
	// Every ask the trace shows leaving, and not dropped, reached the
	// adapter (none is lost at the stop: the last turn commits first).
	if got := len(f.asked(2)); got != sends[2] {
		t.Errorf("node 2 sent %d asks, the adapter got %d", sends[2], got)
	}
}

// The durability contract holds for services: an ask whose turn's fsync
// fails never reaches the adapter.
func TestServiceSendWaitsForFsync(t *testing.T) {
	cfg := svcConfig(t, 1, map[string]string{"early": "false"}, nil)
	f := &fakeService{}
	rt, err := Start(cfg, 1, Options{Log: quietLog(), Services: map[ordo.NodeID]ServiceDial{2: f.dial}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Stop()
	time.Sleep(200 * time.Millisecond)
	rt.FailNextSync()
	select {
	case <-rt.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a node whose fsync failed kept running")
	}
	var fs FailStop
	if !errors.As(rt.Err(), &fs) {
		t.Fatalf("Err = %v, want a FailStop", rt.Err())
	}
	rt.Stop()
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sent, held := 0, 0
	for _, e := range tr.Events {
		if e.Kind == trace.Send && e.Peer == 2 {
			sent++
		}
		if e.Kind == trace.Drop && e.Peer == 2 && e.Name == "fail-stop" {
			held++
		}
	}
	if held == 0 {
		t.Fatalf("no ask held at the failed fsync (%d sent)", sent)
	}
	if got := len(f.asked(1)); got != sent-held {
		t.Errorf("%d asks sent, %d held by the failed fsync, the adapter got %d (want %d)", sent, held, got, sent-held)
	}
}

// A deliver blocked on a full inbox returns false at the stop, and one
// called after it returns false at once: no adapter goroutine outlives
// the node (goleak checks the package).
func TestServiceDeliverDoesNotBlockShutdown(t *testing.T) {
	cfg := svcConfig(t, 1, nil, nil)
	f := &fakeService{}
	rt, err := Start(cfg, 1, Options{Log: quietLog(), Services: map[ordo.NodeID]ServiceDial{2: f.dial}})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	deliver := f.deliver
	f.mu.Unlock()
	if err := rt.Pause(); err != nil { // the loop takes nothing from its inbox
		t.Fatal(err)
	}
	blocked := make(chan bool)
	go func() {
		ok := true
		for i := 0; i <= InboxLen && ok; i++ {
			ok = deliver(svAnswer{Seq: i})
		}
		blocked <- ok
	}()
	time.Sleep(100 * time.Millisecond)
	stopped := make(chan error)
	go func() { stopped <- rt.Stop() }()
	select {
	case ok := <-blocked:
		if ok {
			t.Error("a deliver blocked on the full inbox of a stopping node returned true")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a deliver blocked on a full inbox kept the node from stopping")
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if deliver(svAnswer{Seq: -1}) {
		t.Error("deliver after the stop returned true")
	}
}

func TestServiceStartErrors(t *testing.T) {
	cfg := svcConfig(t, 1, nil, nil)
	if _, err := Start(cfg, 2, Options{Log: quietLog()}); err == nil || !strings.Contains(err.Error(), "node 2 is a service (live-test-svc): no process runs it") {
		t.Errorf("starting the service node: %v", err)
	}
	fail := func(context.Context, ordo.NodeID, ordo.NodeID, ordo.Options, func(ordo.Message) bool) (ServiceConn, error) {
		return nil, errors.New("connection refused")
	}
	if _, err := Start(cfg, 1, Options{Log: quietLog(), Services: map[ordo.NodeID]ServiceDial{2: fail}}); err == nil || !strings.Contains(err.Error(), "service node 2 (live-test-svc): connection refused") {
		t.Errorf("a dial that fails: %v", err)
	}
	// The failed start released the directory: the node starts now.
	rt, err := Start(cfg, 1, Options{Log: quietLog(), Services: map[ordo.NodeID]ServiceDial{2: (&fakeService{}).dial}})
	if err != nil {
		t.Fatalf("after a failed dial: %v", err)
	}
	rt.Stop()
	_, err = LookupService("no-such-service")
	if err == nil || !strings.Contains(err.Error(), `no adapter for service protocol "no-such-service" (registered: `) || !strings.Contains(err.Error(), "live-test-svc") {
		t.Errorf("LookupService: %v", err)
	}
}

func TestConfigServices(t *testing.T) {
	head := "protocol: live-test-svc-user\nepoch: 2026-01-01T00:00:00Z\nnodes:\n"
	node := func(id int, extra string) string {
		return fmt.Sprintf("  - {id: %d, addr: 127.0.0.1:%d, admin: 127.0.0.1:%d, dir: n%d%s}\n", id, 7000+id, 8000+id, id, extra)
	}
	two := node(1, "") + node(2, "")
	svc := "  - {id: 3, role: service, protocol: live-test-svc, options: {tag: q}}\n"
	c, err := ParseConfig([]byte(head + two + svc))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Roster(); !slices.Equal(r.Services, []ordo.NodeID{3}) || !slices.Equal(c.Processes(), []ordo.NodeID{1, 2}) {
		t.Fatalf("roster %+v processes %v", r, c.Processes())
	}
	p, opts, role, err := c.ProtocolOf(3)
	if err != nil || p.Name != "live-test-svc" || opts["tag"] != "q" || role != ordo.Service {
		t.Fatalf("ProtocolOf(3): %v %v %v %v", p, opts, role, err)
	}
	var m trace.Meta
	c.FillMeta(&m)
	if !slices.Equal(m.Servers, []int{1, 2}) || m.Clients != nil || !slices.Equal(m.Services, []int{3}) || m.ServiceProtocol != "live-test-svc" {
		t.Errorf("meta %+v", m)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"address", head + two + "  - {id: 3, role: service, protocol: live-test-svc, addr: 127.0.0.1:7003}\n", "6:59: nodes[2].addr: a service node has no addr"},
		{"directory", head + two + "  - {id: 3, role: service, protocol: live-test-svc, dir: n3}\n", "nodes[2].dir: a service node has no dir"},
		{"no protocol", head + two + "  - {id: 3, role: service}\n", "nodes[2].protocol: missing: a service node names its service protocol"},
		{"before a client", head + two + svc + node(4, ", role: client"), "nodes[3]: a client after a service: list the servers first"},
		{"server protocol", head + two + "  - {id: 3, role: service, protocol: live-test-svc-user}\n", ""},
	} {
		c, err := ParseConfig([]byte(tc.src))
		if tc.want == "" {
			// Valid as a file; its protocols are checked apart.
			if err == nil {
				err = c.CheckProtocols()
			}
			tc.want = "nodes[2].protocol: live-test-svc-user is a server protocol, and node 3 is a service"
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// End to end on real processes: ordo cluster up adds the protocol's
// service with the given service options; the nodes reach it through the
// adapter registered in their binary; a partition naming the service cuts
// only the named node from it; the merged trace records it all.
func TestLiveClusterWithService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(nodeEnv, "1")
	if _, err := Up(UpOptions{N: 3, Protocol: "live-test-svc-user", Dir: t.TempDir(), Binary: bin, ServiceOptions: map[string]string{"endpoints": "x"}}); err == nil || !strings.Contains(err.Error(), "service options endpoints: no service of the cluster (live-test-svc) has them") {
		t.Errorf("an undeclared service option: %v", err)
	}
	c, err := Up(UpOptions{N: 3, Protocol: "live-test-svc-user", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn", DieWithParent: true, ServiceOptions: map[string]string{"tag": "z"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	if c.N() != 4 || !slices.Equal(c.Processes(), []ordo.NodeID{1, 2, 3}) || c.Cfg.RoleOf(4) != ordo.Service {
		t.Fatalf("N %d processes %v role of 4 %v", c.N(), c.Processes(), c.Cfg.RoleOf(4))
	}
	var view bytes.Buffer
	FormatView(&view, c.View(), "")
	if !strings.Contains(view.String(), "n4    service -       live-test-svc") {
		t.Errorf("status table without the service:\n%s", view.String())
	}
	if err := c.Kill(4); err == nil || !strings.Contains(err.Error(), "node 4 is a service (live-test-svc)") {
		t.Errorf("kill of the service: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	groups, err := c.ParseGroups("1/2,3,4")
	if err != nil {
		t.Fatal(err)
	}
	cutAt := c.now()
	if err := c.Partition(groups); err != nil {
		t.Fatal(err)
	}
	s1, _ := c.Status(1)
	if !slices.Equal(s1.Faults.BlockOut, []ordo.NodeID{2, 3, 4}) {
		t.Errorf("node 1's faults %+v", s1.Faults)
	}
	time.Sleep(500 * time.Millisecond)
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	if m := tr.Meta; m.Nodes != 4 || !slices.Equal(m.Services, []int{4}) || !slices.Equal(m.Servers, []int{1, 2, 3}) {
		t.Fatalf("merged meta %+v", m)
	}
	after := map[ordo.NodeID]int{}
	cutDrops := 0
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == "answer" {
			if e.Attrs.Get("tag") != "z" {
				t.Fatalf("answer %s: the service node did not get the service options", e.Describe())
			}
			if e.T > cutAt+int64(50*time.Millisecond) {
				after[e.Node]++
			}
		}
		if e.Kind == trace.Drop && e.Node == 1 && e.Peer == 4 && e.Name == transport.ReasonPartitionOut {
			cutDrops++
		}
	}
	// Liveness as counts, not rates: the host is shared and may be slow.
	if after[1] != 0 || after[2] == 0 || after[3] == 0 || cutDrops == 0 {
		t.Errorf("answers after the cut %v (node 1 must get none), node 1's drops to the service %d", after, cutDrops)
	}
}

// A scenario run live may cut nodes off from a service, not pause it or
// set its clock (it is a real system); its services reach Up.
func TestCheckScenarioServices(t *testing.T) {
	base := "name: s\nprotocol: live-test-svc-user\nnodes: 3\nduration: 1s\n"
	for _, tc := range []struct{ body, want string }{
		{"faults:\n  - {at: 0s, partition: \"1/2,3,4\"}\n", ""},
		{"faults:\n  - {at: 0s, pause: 4}\n", "s.yaml:6: cannot run live: fault \"pause 4\": node 4 is a service"},
		{"clocks:\n  4: {offset: 10ms}\n", "clocks: node 4 is a service"},
	} {
		sc, err := scenario.Parse("s.yaml", []byte(base+tc.body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = CheckScenario(sc)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.want)
		}
	}
}
