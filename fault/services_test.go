package fault

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/election/lease"
	"ordo/sim"
)

// lease3 is a lease run of three servers: servers 1..3, the coord model
// 4 and the fenced store 5 (issue 15).
var lease3 = Members{Servers: 3, Services: []string{"coord", "fenced-store"}}

// Faults may name a service where it makes sense: a partition or a cut may
// separate servers from it, a pause or a clock fault may strike it.
func TestParseNamesServices(t *testing.T) {
	for _, c := range []struct {
		k    Kind
		s    string
		want Fault
	}{
		{Cut, "1->4@1s", Fault{At: time.Second, Kind: Cut, From: ids(1), To: ids(4)}},
		{Cut, "4->1,2@1s", Fault{At: time.Second, Kind: Cut, From: ids(4), To: ids(1, 2)}},
		{Partition, "1,2,3/4@2s", Fault{At: 2 * time.Second, Kind: Partition, Groups: [][]ordo.NodeID{ids(1, 2, 3), ids(4)}}},
		{Partition, "1,4/2,3,5@2s", Fault{At: 2 * time.Second, Kind: Partition, Groups: [][]ordo.NodeID{ids(1, 4), ids(2, 3, 5)}}},
		{Pause, "4@1s", Fault{At: time.Second, Kind: Pause, Node: 4}},
		{Resume, "4@3s", Fault{At: 3 * time.Second, Kind: Resume, Node: 4}},
		{ClockStep, "5 by -2s@1s", Fault{At: time.Second, Kind: ClockStep, Node: 5, By: -2 * time.Second}},
		{ClockDrift, "4 by 40000ppm@0s", Fault{Kind: ClockDrift, Node: 4, PPM: 40000}},
		{Loss, "0.5 on 2->4@1s", Fault{At: time.Second, Kind: Loss, Rate: 0.5, From: ids(2), To: ids(4)}},
	} {
		f, err := lease3.Parse(c.k, c.s)
		if err != nil || !reflect.DeepEqual(f, c.want) {
			t.Errorf("%s %s: %+v %v, want %+v", c.k, c.s, f, err, c.want)
			continue
		}
		// What it accepts, it writes back in its own notation.
		if g, err := lease3.Parse(f.Kind, f.Spec()+"@"+f.At.String()); err != nil || !reflect.DeepEqual(f, g) {
			t.Errorf("%v does not re-parse: %+v %v", f, g, err)
		}
		if err := f.Check(lease3); err != nil {
			t.Errorf("%v: %v", f, err)
		}
		// The servers-only notation refuses the service's ID.
		if _, err := Parse(c.k, c.s, 3); err == nil || !strings.Contains(err.Error(), "does not exist (the servers are 1..3)") {
			t.Errorf("Parse(%s, %s, 3) = %v, want node 4 or 5 refused", c.k, c.s, err)
		}
	}
}

// A crash, a restart or a storage fault of a service is refused, with the
// reason: the model keeps its state in memory.
func TestParseRefusesCrashingAService(t *testing.T) {
	for _, k := range []Kind{Crash, Restart, TornWrite, CorruptRead, FsyncFail, DiskFull} {
		_, err := lease3.Parse(k, "4@1s")
		if err == nil {
			t.Fatalf("%s of the coord service accepted", k)
		}
		for _, want := range []string{"node 4 is a service (coord)", "never crashed", "in memory", "revisions would start again at 1", "fencing tokens would repeat", "servers 1..3"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s 4@1s: %q does not say %q", k, err, want)
			}
		}
		// A fault built in code is held to the same rule.
		if err := (Fault{At: time.Second, Kind: k, Node: 5}).Check(lease3); err == nil || !strings.Contains(err.Error(), "a service (fenced-store)") {
			t.Errorf("%s of the store built in code: %v", k, err)
		}
		// A server is fine.
		if _, err := lease3.Parse(k, "2@1s"); err != nil {
			t.Errorf("%s 2@1s: %v", k, err)
		}
	}
}

// An ID out of range lists the valid IDs by role; a bridge and a star
// are shapes of the servers; a partition that leaves servers out to cut
// them from a service says how to write it.
func TestServiceIDErrors(t *testing.T) {
	withClients := Members{Servers: 3, Clients: 2, Services: []string{"coord"}}
	for _, c := range []struct {
		m    Members
		k    Kind
		s    string
		want string
	}{
		{lease3, Crash, "6@1s", "node 6 does not exist (the servers are 1..3, the services 4 (coord) and 5 (fenced-store))"},
		{lease3, Cut, "1->6@1s", "the servers are 1..3, the services 4 (coord) and 5 (fenced-store)"},
		{lease3, Pause, "0@1s", "node 0 does not exist"},
		{withClients, Pause, "7@1s", "node 7 does not exist (the servers are 1..3, the clients 4..5, the service 6 (coord))"},
		{withClients, Crash, "6@1s", "node 6 is a service (coord)"},
		{Members{Servers: 3, Services: []string{""}}, Crash, "4@1s", "node 4 is a service,"},
		{lease3, Bridge, "1/2 via 4@1s", "node 4 is a service (coord): a bridge names servers only"},
		{lease3, Bridge, "1,4/2 via 3@1s", "node 4 is a service (coord): a bridge names servers only"},
		{lease3, Star, "hub 5@1s", "node 5 is a service (fenced-store): a star names servers only"},
		{withClients, Star, "hub 4@1s", "node 4 is a client: a star names servers only"},
		{lease3, Partition, "1/4@1s", "missing 2,3"},
		{lease3, Partition, "1/4@1s", "to cut 1 off from 4 alone, both ways, write two one-way cuts, 1->4 and 4->1 (the partition 1,2,3/4 cuts every server off from 4)"},
		{lease3, Partition, "1,2/4,5@1s", "two one-way cuts, 1,2->4,5 and 4,5->1,2"},
	} {
		_, err := c.m.Parse(c.k, c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want %q", c.k, c.s, err, c.want)
		}
	}
	if err := (Fault{Kind: Star, Node: 4}).Check(withClients); err == nil || !strings.Contains(err.Error(), "a client") {
		t.Errorf("a star on a client built in code: %v", err)
	}
	if got := lease3.ServiceIDs(); !reflect.DeepEqual(got, ids(4, 5)) || lease3.FirstService() != 4 || lease3.N() != 5 {
		t.Errorf("service IDs %v, first %v, N %d", got, lease3.FirstService(), lease3.N())
	}
	for id, want := range map[ordo.NodeID]ordo.Role{1: ordo.Server, 3: ordo.Server, 4: ordo.Client, 5: ordo.Client, 6: ordo.Service, 7: ordo.Server} {
		if got := withClients.Role(id); got != want {
			t.Errorf("role of %d: %v, want %v", id, got, want)
		}
	}
}

// A run without services, or a profile that leaves services alone, draws
// exactly what Generate draws (TestGenerateGolden pins Generate itself).
func TestGenerateForWithoutServicesIsGenerate(t *testing.T) {
	hostile := Hostile
	hostile.Timeout = 3 * time.Second
	quiet := Hostile
	quiet.Services = false
	quiet.Timeout = 3 * time.Second
	for _, c := range []struct {
		p Profile
		m Members
	}{
		{hostile, Members{Servers: 3}},
		{hostile, Members{Servers: 5, Clients: 3}},
		{Friendly, lease3},
		{quiet, lease3},
	} {
		for seed := uint64(1); seed <= 300; seed++ {
			want := Generate(seed, c.p, c.m.Servers, 12*time.Second)
			if got := GenerateFor(seed, c.p, c.m, 12*time.Second); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %+v seed %d: %v, want %v", c.p.Name, c.m, seed, got, want)
			}
		}
	}
}

// The hostile profile in a run with services strikes them too — cuts
// between servers and a service both ways and one way each, partitions
// that place a service, clock steps and drift both fast and slow, pauses —
// and never crashes one; it pauses servers for about a lease (half the
// election timeout to twice it), and never names a client.
func TestGenerateForStrikesServices(t *testing.T) {
	m := Members{Servers: 3, Clients: 1, Services: []string{"coord", "fenced-store"}} // services 5, 6
	p := Hostile
	p.Timeout = 2667 * time.Millisecond // lease: ttl 2s + keepalive
	seen := map[string]int{}
	var longest time.Duration
	const seeds = 400
	for seed := uint64(1); seed <= seeds; seed++ {
		s := GenerateFor(seed, p, m, 12*time.Second)
		if again := GenerateFor(seed, p, m, 12*time.Second); !reflect.DeepEqual(s, again) {
			t.Fatalf("seed %d: two draws differ", seed)
		}
		if err := s.Check(m); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !slices.IsSortedFunc(s, func(a, b Fault) int { return int(a.At - b.At) }) {
			t.Fatalf("seed %d: not sorted", seed)
		}
		for _, l := range s.LabelsFor(m) {
			seen[l]++
		}
		svc := func(id ordo.NodeID) bool { return id >= 5 }
		pausedAt := map[ordo.NodeID]time.Duration{}
		for i, f := range s {
			for _, id := range append(append([]ordo.NodeID{f.Node, f.Via}, f.From...), f.To...) {
				if id == 4 {
					t.Fatalf("seed %d: %v names the client", seed, f)
				}
			}
			for _, g := range f.Groups {
				if slices.Contains(g, 4) {
					t.Fatalf("seed %d: %v names the client", seed, f)
				}
			}
			switch f.Kind {
			case Crash, Restart, TornWrite, CorruptRead, FsyncFail, DiskFull:
				if svc(f.Node) {
					t.Fatalf("seed %d: %v strikes a service", seed, f)
				}
			case Cut:
				switch {
				case svc(f.To[0]) && i+1 < len(s) && s[i+1].Kind == Cut && s[i+1].At == f.At && reflect.DeepEqual(s[i+1].From, f.To):
					seen["cut both ways"]++
				case svc(f.To[0]) && !(i > 0 && s[i-1].Kind == Cut && s[i-1].At == f.At):
					seen["cut to service"]++
				case svc(f.From[0]) && !(i > 0 && s[i-1].Kind == Cut && s[i-1].At == f.At):
					seen["cut from service"]++
				}
			case Partition:
				for _, g := range f.Groups {
					if slices.ContainsFunc(g, svc) {
						seen["partition places a service"]++
					}
				}
			case ClockDrift:
				if svc(f.Node) && f.PPM > 0 {
					seen["service clock fast"]++
				}
				if svc(f.Node) && f.PPM < 0 {
					seen["service clock slow"]++
				}
			case ClockStep:
				if svc(f.Node) {
					seen["service clock step"]++
				}
			case Pause:
				pausedAt[f.Node] = f.At
			case Resume:
				d := f.At - pausedAt[f.Node]
				delete(pausedAt, f.Node)
				if svc(f.Node) {
					continue
				}
				longest = max(longest, d)
				if d > 2*time.Second+50*time.Millisecond { // past the profile's MaxPause
					seen["server paused past the ttl"]++
				}
				if d > 2*p.Timeout {
					t.Errorf("seed %d: a pause of %v, more than twice the timeout %v", seed, d, p.Timeout)
				}
			}
		}
		for id := range pausedAt {
			if svc(id) {
				t.Fatalf("seed %d: service %d paused for ever", seed, id)
			}
		}
	}
	for _, want := range []string{"service-cut", "service-clock", "service-pause", "cut both ways", "cut to service", "cut from service",
		"partition places a service", "service clock fast", "service clock slow", "service clock step", "server paused past the ttl"} {
		if seen[want] == 0 {
			t.Errorf("no %s in %d seeds (seen: %v)", want, seeds, seen)
		}
	}
	t.Logf("%d seeds: %v; longest pause of a server %v", seeds, seen, longest)
}

// Labels name the faults that strike a service.
func TestLabelsForServices(t *testing.T) {
	s := Schedule{
		{At: 0, Kind: ClockDrift, Node: 4, PPM: 100},
		{At: time.Second, Kind: Partition, Groups: [][]ordo.NodeID{ids(1), ids(2, 3, 4)}},
		{At: 2 * time.Second, Kind: Heal},
		{At: 3 * time.Second, Kind: Pause, Node: 5},
		{At: 4 * time.Second, Kind: Resume, Node: 5},
	}
	want := []string{"clock-drift", "partition", "pause", "service-clock", "service-cut", "service-pause"}
	if got := s.LabelsFor(lease3); !reflect.DeepEqual(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if got := s.LabelsFor(Members{Servers: 5}); !reflect.DeepEqual(got, s.Labels()) {
		t.Errorf("without services %v, want %v", got, s.Labels())
	}
	// A cut between servers is no service cut; one from a service is.
	for _, c := range []struct {
		f    Fault
		want bool
	}{
		{Fault{Kind: Cut, From: ids(1), To: ids(2)}, false},
		{Fault{Kind: Cut, From: ids(4), To: ids(2)}, true},
		{Fault{Kind: Cut, From: ids(4), To: ids(5)}, false},
		{Fault{Kind: Loss, Rate: 0.5, From: ids(1), To: ids(4)}, true},
		{Fault{Kind: Partition, Groups: [][]ordo.NodeID{ids(1, 4), ids(2, 3)}}, true},
		{Fault{Kind: Partition, Groups: [][]ordo.NodeID{ids(1), ids(2, 3)}}, false},
		{Fault{Kind: ClockStep, Node: 2, By: time.Second}, false},
	} {
		if got := slices.Contains(Schedule{c.f}.LabelsFor(lease3), "service-cut"); got != c.want {
			t.Errorf("%v: service-cut %v, want %v", c.f, got, c.want)
		}
	}
}

// The simulator's interpreter strikes the services a schedule names:
// cuts, partitions that place them, pauses, clocks; it refuses a crash of
// one; a star replaces a cut to a service as any network shape does.
func TestInjectServices(t *testing.T) {
	newLease := func(t *testing.T) *sim.Sim {
		t.Helper()
		s, err := sim.New(sim.Config{Protocol: lease.Protocol, Nodes: 3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := newLease(t)
	if got := MembersOf(s); !reflect.DeepEqual(got, lease3) {
		t.Fatalf("members %+v, want %+v", got, lease3)
	}
	var sched Schedule
	for _, x := range []struct {
		k Kind
		s string
	}{{Cut, "1->4@1s"}, {Pause, "5@1s"}, {Resume, "5@2s"}, {ClockStep, "4 by 5s@1s"}, {Partition, "1,4/2,3@3s"}} {
		f, err := lease3.Parse(x.k, x.s)
		if err != nil {
			t.Fatal(err)
		}
		sched = append(sched, f)
	}
	if err := sched.Inject(s); err != nil {
		t.Fatal(err)
	}
	if err := s.RunUntil(1500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := Apply(s, Fault{Kind: Cut, From: ids(4), To: ids(2)}); err != nil {
		t.Fatal(err)
	}
	// A star is a shape of the whole network: it replaces the cuts to and
	// from the service.
	if err := Apply(s, Fault{Kind: Star, Node: 3}); err != nil {
		t.Fatal(err)
	}
	if s.Blocked(4, 2) || !s.Blocked(1, 2) {
		t.Errorf("a star kept the cut from the service")
	}
	if err := Apply(s, Fault{Kind: Heal}); err != nil {
		t.Fatal(err)
	}
	if err := Apply(s, Fault{Kind: Cut, From: ids(1), To: ids(4)}); err != nil {
		t.Fatal(err)
	}
	if !s.Blocked(1, 4) || s.Blocked(4, 1) || s.Blocked(2, 4) || !s.Paused(5) || s.Paused(4) {
		t.Errorf("at 1.5s: 1->4 %v 4->1 %v 2->4 %v, paused 5 %v 4 %v; want the cut one way and the store paused",
			s.Blocked(1, 4), s.Blocked(4, 1), s.Blocked(2, 4), s.Paused(5), s.Paused(4))
	}
	if err := s.RunUntil(3500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The partition replaces the cut: {1, coord} | {2, 3}, the store
	// (named by no group) reaching everyone.
	for _, l := range []struct {
		a, b ordo.NodeID
		cut  bool
	}{{1, 4, false}, {4, 1, false}, {1, 2, true}, {2, 1, true}, {4, 2, true}, {3, 4, true}, {5, 1, false}, {2, 5, false}, {4, 5, false}} {
		if s.Blocked(l.a, l.b) != l.cut {
			t.Errorf("at 3.5s: %d->%d blocked %v, want %v", l.a, l.b, !l.cut, l.cut)
		}
	}
	if s.Paused(5) {
		t.Error("the store still paused at 3.5s")
	}

	if err := (Schedule{{At: time.Second, Kind: Crash, Node: 4}}).Inject(newLease(t)); err == nil || !strings.Contains(err.Error(), "never crashed") {
		t.Errorf("crash of the coord service injected: %v", err)
	}
	if err := (Schedule{{At: time.Second, Kind: Pause, Node: 6}}).Inject(newLease(t)); err == nil || !strings.Contains(err.Error(), "the services 4 (coord) and 5 (fenced-store)") {
		t.Errorf("pause of node 6: %v", err)
	}
	// A drifting service clock reaches the simulator's clock models.
	clocks, err := Schedule{{Kind: ClockDrift, Node: 4, PPM: 40000}}.Clocks(nil)
	if err != nil || clocks[4].DriftPPM != 40000 {
		t.Errorf("clocks %v %v", clocks, err)
	}
}

// FuzzMembersParse: the role-aware parser never panics, what it accepts
// passes Check and re-parses to itself, and it never lets a service crash.
func FuzzMembersParse(f *testing.F) {
	for _, c := range []struct{ k, s string }{
		{"crash", "4@1s"}, {"cut", "1->4@1s"}, {"partition", "1/2,3,4@1s"}, {"partition", "1/4@1s"}, {"pause", "5@1s"},
		{"clock-drift", "4 by 200ppm@0s"}, {"bridge", "1/2 via 4@1s"}, {"star", "hub 5@1s"}, {"loss", "0.2 on 4->1@1s"},
	} {
		f.Add(c.k, c.s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, k, s string, clients uint8) {
		m := Members{Servers: 3, Clients: int(clients % 4), Services: []string{"coord", "fenced-store"}}
		fl, err := m.Parse(Kind(k), s)
		if err != nil {
			return
		}
		if err := fl.Check(m); err != nil {
			t.Fatalf("Parse(%q, %q) accepted an invalid fault: %v", k, s, err)
		}
		if (fl.Kind == Crash || fl.Kind == Restart || fl.Kind.Storage()) && m.Role(fl.Node) == ordo.Service {
			t.Fatalf("Parse(%q, %q) lets a service crash", k, s)
		}
		g, err := m.Parse(fl.Kind, fl.Spec()+"@"+fl.At.String())
		if err != nil || !reflect.DeepEqual(fl, g) {
			t.Fatalf("Parse(%q, %q) = %+v does not re-parse: %+v %v", k, s, fl, g, err)
		}
	})
}
