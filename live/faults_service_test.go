package live

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/fault"
	"ordo/live/transport"
	"ordo/trace"
)

// svcCluster is a cluster of three servers of live-test-svc-user and two
// service nodes, 4 and 5 (the lease election's shape: coord and
// fenced-store), read from its directory with no process started.
func svcCluster(t *testing.T) *Cluster {
	t.Helper()
	cfg := svcConfig(t, 3, nil, nil)
	cfg.Nodes = append(cfg.Nodes, NodeConfig{ID: 5, Role: "service", Protocol: "live-test-svc"})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := newCluster(cfg.Path("."), cfg)
	c.State = State{Pids: map[int]int{}}
	return c
}

// The live cluster reads faults with its real roles: a cut or a partition
// may name the services after the servers, and an error lists them as
// services, never as clients (a fresh-user trial found "node 4 does not
// exist (the servers are 1..3)" and "the clients 4..5").
func TestParseFaultNamesServices(t *testing.T) {
	c := svcCluster(t)
	m := c.Members()
	if m.Servers != 3 || m.Clients != 0 || !slices.Equal(m.Services, []string{"live-test-svc", "live-test-svc"}) {
		t.Fatalf("Members %+v", m)
	}
	for _, tc := range []struct {
		kind     fault.Kind
		spec     string
		from, to []ordo.NodeID
		groups   string
	}{
		{kind: fault.Cut, spec: "1->4", from: []ordo.NodeID{1}, to: []ordo.NodeID{4}},
		{kind: fault.Cut, spec: "4->1", from: []ordo.NodeID{4}, to: []ordo.NodeID{1}},
		{kind: fault.Cut, spec: "1,2->4,5", from: []ordo.NodeID{1, 2}, to: []ordo.NodeID{4, 5}},
		{kind: fault.Partition, spec: "1/2,3,4,5", groups: "1/2,3,4,5"},
		{kind: fault.Partition, spec: "1,2,3/4", groups: "1,2,3/4"},
	} {
		f, err := c.ParseFault(tc.kind, tc.spec+"@0s")
		if err != nil {
			t.Errorf("%s %s: %v", tc.kind, tc.spec, err)
			continue
		}
		if tc.kind == fault.Cut && (!slices.Equal(f.From, tc.from) || !slices.Equal(f.To, tc.to)) {
			t.Errorf("%s %s: from %v to %v", tc.kind, tc.spec, f.From, f.To)
		}
		if tc.kind == fault.Partition && fault.FormatGroups(f.Groups) != tc.groups {
			t.Errorf("%s %s: groups %s", tc.kind, tc.spec, fault.FormatGroups(f.Groups))
		}
	}
	if g, err := c.ParseGroups("1,2,3/4"); err != nil || fault.FormatGroups(g) != "1,2,3/4" {
		t.Errorf("ParseGroups(1,2,3/4) = %v, %v", g, err)
	}
	roles := "the servers are 1..3, the services 4 (live-test-svc) and 5 (live-test-svc)"
	refused := "is a service (live-test-svc): no process runs it"
	for _, tc := range []struct {
		kind       fault.Kind
		spec, want string
	}{
		{fault.Cut, "1->6", "node 6 does not exist (" + roles + ")"},
		{fault.Partition, "1/2,3,6", "node 6 does not exist (" + roles + ")"},
		{fault.Partition, "1/4", "missing 2,3: every server 1..3 must be in exactly one group"},
		{fault.Bridge, "1/4 via 2", "node 4 is a service (live-test-svc): a bridge names servers only"},
		{fault.Crash, "4", "crash \"4\": node 4 " + refused},
		{fault.Restart, "5", "node 5 " + refused},
		{fault.Pause, "4", "node 4 " + refused},
		{fault.Resume, "4", "node 4 " + refused},
		{fault.ClockStep, "4 by 1s", "node 4 " + refused},
		{fault.ClockDrift, "5 by 200ppm", "node 5 " + refused},
		{fault.FsyncFail, "4", "node 4 " + refused},
		{fault.TornWrite, "1", "needs the simulator's disk model"},
	} {
		_, err := c.ParseFault(tc.kind, tc.spec+"@0s")
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "client") {
			t.Errorf("%s %s: %v, want %q", tc.kind, tc.spec, err, tc.want)
		}
	}
	// The refusal says what to write instead: the two one-way cuts.
	_, err := c.ParseFault(fault.Crash, "4@0s")
	for _, want := range []string{"ordo cluster fault cut '1->4'", "'4->1'", "partition 1,2,3/4", "cannot kill, restart, pause"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("crash 4: %v, want it to say %q", err, want)
		}
	}
	// A partition that leaves servers out to cut one from a service
	// points at the cuts.
	if _, err := c.ParseGroups("1/4"); err == nil || !strings.Contains(err.Error(), "1->4 and 4->1") {
		t.Errorf("partition 1/4: %v, want the hint of the two one-way cuts", err)
	}
	for _, id := range []ordo.NodeID{4, 5} {
		if err := c.RequireProcess(id); err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("RequireProcess(%d) = %v", id, err)
		}
		for name, err := range map[string]error{"Kill": c.Kill(id), "Restart": c.Restart(id), "Pause": c.Pause(id),
			"Resume": c.Resume(id), "FailSync": c.FailSync(id), "SetClock": c.SetClock(id, ClockChange{})} {
			if err == nil || !strings.Contains(err.Error(), refused) {
				t.Errorf("%s(%d) = %v", name, id, err)
			}
		}
		if err := c.Apply(fault.Fault{Kind: fault.Pause, Node: id}); err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("Apply(pause %d) = %v", id, err)
		}
	}
	if err := c.RequireProcess(1); err != nil {
		t.Errorf("RequireProcess(1) = %v", err)
	}
}

// A cut naming a service becomes the named servers' fault layers: 1->4
// blocks node 1's link out to 4, 4->1 its link in from 4, and a
// partition placing 4 blocks both for every server of another group. No
// process runs here: the cluster records the layers it would set (a
// stopped node gets them at its restart).
func TestApplyCutToService(t *testing.T) {
	c := svcCluster(t)
	apply := func(k fault.Kind, spec string) {
		t.Helper()
		f, err := c.ParseFault(k, spec+"@0s")
		if err == nil {
			err = c.Apply(f)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", k, spec, err)
		}
	}
	layer := func(id int) transport.Faults {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.State.Faults[id]
	}
	apply(fault.Cut, "1->4")
	if f := layer(1); !slices.Equal(f.BlockOut, []ordo.NodeID{4}) || len(f.BlockIn) != 0 {
		t.Fatalf("after cut 1->4, node 1's layer %+v", f)
	}
	apply(fault.Cut, "4->1")
	if f := layer(1); !slices.Equal(f.BlockOut, []ordo.NodeID{4}) || !slices.Equal(f.BlockIn, []ordo.NodeID{4}) {
		t.Fatalf("after cut 4->1 too, node 1's layer %+v", f)
	}
	for _, id := range []int{2, 3} {
		if f := layer(id); len(f.BlockOut)+len(f.BlockIn) != 0 {
			t.Errorf("node %d's layer %+v: a cut of node 1 from the service touched it", id, f)
		}
	}
	if c.State.Partition != "cut 1->4, cut 4->1" {
		t.Errorf("shape %q", c.State.Partition)
	}
	apply(fault.Heal, "")
	apply(fault.Partition, "1,2,3/4")
	for _, id := range []int{1, 2, 3} {
		if f := layer(id); !slices.Equal(f.BlockOut, []ordo.NodeID{4}) || !slices.Equal(f.BlockIn, []ordo.NodeID{4}) {
			t.Errorf("after partition 1,2,3/4, node %d's layer %+v", id, f)
		}
	}
	if _, ok := c.State.Faults[4]; ok {
		t.Errorf("a service got a fault layer of its own: %+v", c.State.Faults)
	}
}

// End to end on real processes: `ordo cluster fault cut 1->4` makes node
// 1 drop its requests to service 4 (drop events, reason partition-out),
// 4->1 makes it drop the service's replies (partition-in), the other
// servers keep talking to it, and a kill of the service is refused.
func TestLiveCutToService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	t.Run("transport", func(t *testing.T) { liveCutToService(t, false) })
	// The kernel's rules do not see service traffic: the nodes' fault
	// layers cut it under --netns too.
	t.Run("netns", func(t *testing.T) { needNetns(t); liveCutToService(t, true) })
}

func liveCutToService(t *testing.T, netns bool) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(nodeEnv, "1")
	c, err := Up(UpOptions{N: 3, Protocol: "live-test-svc-user", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn", DieWithParent: true, Netns: netns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	if err := c.Kill(4); err == nil || !strings.Contains(err.Error(), "ordo cluster fault cut '1->4'") {
		t.Errorf("kill of the service: %v", err)
	}
	// apply returns the moments before and after the fault is set: a
	// node may drop from the moment its layer changes, before Apply
	// returns, and until the heal's Apply returns.
	apply := func(k fault.Kind, spec string) (before, after int64) {
		t.Helper()
		f, err := c.ParseFault(k, spec+"@0s")
		before = c.now()
		if err == nil {
			err = c.Apply(f)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", k, spec, err)
		}
		return before, c.now()
	}
	time.Sleep(300 * time.Millisecond)
	outAt, _ := apply(fault.Cut, "1->4")
	s1, err := c.Status(1)
	if err != nil || !slices.Equal(s1.Faults.BlockOut, []ordo.NodeID{4}) {
		t.Fatalf("node 1's faults after cut 1->4: %+v, %v", s1.Faults, err)
	}
	// The status table shows the cut in node 1's CUT-OFF column.
	var view bytes.Buffer
	FormatView(&view, c.View(), c.State.Partition)
	for _, line := range strings.Split(view.String(), "\n") {
		if strings.HasPrefix(line, "n1 ") && !strings.Contains(line, " 4:out ") {
			t.Errorf("node 1's status shows no cut to the service:\n%s", view.String())
		}
	}
	time.Sleep(400 * time.Millisecond)
	_, healAt := apply(fault.Heal, "")
	time.Sleep(200 * time.Millisecond)
	inAt, _ := apply(fault.Cut, "4->1")
	time.Sleep(400 * time.Millisecond)
	_, endAt := apply(fault.Heal, "")
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	var out, in, sentDuringIn, answered2 int
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.Drop && e.Name == transport.ReasonPartitionOut && e.Peer == 4:
			if e.Node != 1 || e.T < outAt || e.T > healAt {
				t.Errorf("a drop to the service outside node 1's cut: %s", e.Describe())
			}
			out++
		case e.Kind == trace.Drop && e.Name == transport.ReasonPartitionIn && e.Node == 4:
			if e.Peer != 1 || e.T < inAt || e.T > endAt {
				t.Errorf("a drop of the service's reply outside node 1's cut: %s", e.Describe())
			}
			in++
		case e.Kind == trace.Send && e.Node == 1 && e.Peer == 4 && e.T > inAt && e.T < endAt:
			sentDuringIn++
		case e.Kind == trace.Note && e.Name == "answer" && e.Node == 2 && e.T > outAt && e.T < endAt:
			answered2++
		}
	}
	t.Logf("node 1's drops of its requests to the service %d (cut 1->4), of the service's replies %d (cut 4->1); node 2's answers %d", out, in, answered2)
	// Counts, not rates: the host is shared and may be slow.
	if out == 0 || in == 0 || sentDuringIn == 0 || answered2 == 0 {
		t.Errorf("node 1's drops of requests to the service %d, of its replies %d; node 1's asks while only its replies were cut %d; node 2's answers %d", out, in, sentDuringIn, answered2)
	}
}

// The status table's CUT-OFF column names the cut links to services,
// which are no peers of the node (no connection to show).
func TestServiceLinks(t *testing.T) {
	peers := []transport.PeerStatus{{ID: 2, Out: true}, {ID: 3, Out: true, BlockedOut: true}}
	f := transport.Faults{BlockOut: []ordo.NodeID{3, 5, 4}, BlockIn: []ordo.NodeID{5, 6}}
	if got := serviceLinks(peers, f); got != "4:out,5,6:in" {
		t.Errorf("serviceLinks = %q, want 4:out,5,6:in", got)
	}
	if got := serviceLinks(peers, transport.Faults{BlockOut: []ordo.NodeID{3}}); got != "" {
		t.Errorf("a peer's cut as a service's: %q", got)
	}
}

// ParseFault never accepts a fault the live cluster cannot apply to its
// roles: whatever it returns passes the fault package's check with the
// services, and no fault that acts on a process names a service.
func FuzzParseFault(f *testing.F) {
	cfg := &Config{Protocol: "live-test-svc-user"}
	for i := 1; i <= 3; i++ {
		cfg.Nodes = append(cfg.Nodes, NodeConfig{ID: i})
	}
	cfg.Nodes = append(cfg.Nodes, NodeConfig{ID: 4, Role: "service", Protocol: "live-test-svc"}, NodeConfig{ID: 5, Role: "service", Protocol: "live-test-svc"})
	c := newCluster("", cfg)
	for _, s := range [][2]string{{"cut", "1->4@0s"}, {"cut", "4->1@1s"}, {"partition", "1/2,3,4,5@0s"}, {"crash", "4@0s"},
		{"clock-step", "4 by 1s@0s"}, {"bridge", "1/4 via 2@0s"}, {"pause", " 5 @0s"}, {"clock-drift", "2 by 200ppm@3s"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kind, spec string) {
		k, err := fault.ParseKind(kind)
		if err != nil {
			return
		}
		got, err := c.ParseFault(k, spec)
		if err != nil {
			return
		}
		if err := got.Check(c.Members()); err != nil {
			t.Fatalf("%s %q parsed to %v, which fails its check: %v", kind, spec, got, err)
		}
		if err := CanApply(got); err != nil {
			t.Fatalf("%s %q parsed to %v, which the live cluster cannot apply: %v", kind, spec, got, err)
		}
		if got.Node != 0 && got.Kind != fault.Star && cfg.RoleOf(got.Node) == ordo.Service {
			t.Fatalf("%s %q: %v acts on a service", kind, spec, got)
		}
	})
}
