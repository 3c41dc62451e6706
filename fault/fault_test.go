package fault

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
)

func ids(v ...int) []ordo.NodeID {
	out := make([]ordo.NodeID, len(v))
	for i, x := range v {
		out[i] = ordo.NodeID(x)
	}
	return out
}

// One notation, one meaning: a partition names every server (issue 10,
// item 5: "1,2/3" was an error in ordo elect and a three-way split in
// ordo cluster partition).
func TestParseGroups(t *testing.T) {
	g, err := ParseGroups(" 1, 2/3,4,5 ", 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]ordo.NodeID{ids(1, 2), ids(3, 4, 5)}; !reflect.DeepEqual(g, want) {
		t.Fatalf("groups %v, want %v", g, want)
	}
	if g, err := ParseGroups("1/2/3", 3); err != nil || len(g) != 3 {
		t.Fatalf("full isolation: %v, %v", g, err)
	}
	for _, c := range []struct{ in, msg string }{
		{"1,2/3", "missing 4,5"},
		{"1,2,3,4,5", "at least two groups"},
		{"1,2//3,4,5", "group 2 is empty"},
		{"1,2/2,3,4,5", "node 2 is named twice"},
		{"1,2/3,4,6", "node 6 does not exist (the servers are 1..5)"},
		{"1,0/2,3,4,5", "node 0 does not exist"},
		{"1,x/2,3,4,5", `"x" is not a node ID`},
		{"+1/2,3,4,5", `"+1" is not a node ID`},
		{"1,/2,3,4,5", "node ID is missing"},
	} {
		_, err := ParseGroups(c.in, 5)
		if err == nil || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), c.in) {
			t.Errorf("ParseGroups(%q): %v, want an error naming the input and saying %q", c.in, err, c.msg)
		}
	}
}

func TestParseCutBridgeStar(t *testing.T) {
	from, to, err := ParseCut("1,2->3", 5)
	if err != nil || !reflect.DeepEqual(from, ids(1, 2)) || !reflect.DeepEqual(to, ids(3)) {
		t.Fatalf("cut: %v %v %v", from, to, err)
	}
	sides, via, err := ParseBridge("1/3 via 2", 3)
	if err != nil || via != 2 || !reflect.DeepEqual(sides, [][]ordo.NodeID{ids(1), ids(3)}) {
		t.Fatalf("bridge: %v %v %v", sides, via, err)
	}
	if hub, err := ParseStar("hub 1", 7); err != nil || hub != 1 {
		t.Fatalf("star: %v %v", hub, err)
	}
	for _, c := range []struct {
		f   func() error
		msg string
	}{
		{func() error { _, _, err := ParseCut("1->2->3", 5); return err }, "one arrow"},
		{func() error { _, _, err := ParseCut("1,2->2", 5); return err }, "named twice"},
		{func() error { _, _, err := ParseCut("->2", 5); return err }, "left of ->: an empty set"},
		{func() error { _, _, err := ParseBridge("1/3", 3); return err }, "via"},
		{func() error { _, _, err := ParseBridge("1/2/3 via 4", 4); return err }, "exactly two sides"},
		{func() error { _, _, err := ParseBridge("1,2/3 via 2", 3); return err }, "node 2 is the bridge, so it cannot also be on a side"},
		{func() error { _, _, err := ParseBridge("1,2/2 via 3", 3); return err }, "node 2 is on both sides"},
		{func() error { _, _, err := ParseBridge("1/3 via 2", 5); return err }, "missing 4,5"},
		{func() error { _, err := ParseStar("1", 5); return err }, "hub N"},
		{func() error { _, err := ParseStar("hub 1", 2); return err }, "at least 3 servers"},
		{func() error { _, err := ParseStar("hub 9", 5); return err }, "does not exist"},
	} {
		if err := c.f(); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("error %v, want one saying %q", err, c.msg)
		}
	}
}

// Parse reads what String writes, for every kind.
func TestParseRoundTrip(t *testing.T) {
	for _, f := range []Fault{
		{At: time.Second, Kind: Crash, Node: 5},
		{At: 2 * time.Second, Kind: Restart, Node: 5},
		{At: time.Second, Kind: Partition, Groups: [][]ordo.NodeID{ids(1, 2), ids(3, 4, 5)}},
		{At: time.Second, Kind: Cut, From: ids(2), To: ids(3, 4, 5)},
		{At: time.Second, Kind: Bridge, Groups: [][]ordo.NodeID{ids(1, 4), ids(3, 5)}, Via: 2},
		{At: time.Second, Kind: Star, Node: 1},
		{At: 3 * time.Second, Kind: Heal},
		{At: time.Second, Kind: Pause, Node: 1},
		{At: 1500 * time.Millisecond, Kind: Resume, Node: 1},
		{At: time.Second, Kind: ClockStep, Node: 2, By: -1500 * time.Millisecond},
		{At: 0, Kind: ClockDrift, Node: 3, PPM: -250},
		{At: time.Second, Kind: Loss, Rate: 0.2},
		{At: time.Second, Kind: Loss, Rate: 0.125, From: ids(1), To: ids(2, 3)},
		{At: time.Second, Kind: FsyncFail, Node: 4},
	} {
		at, kind, spec := f.At.String(), string(f.Kind), f.Spec()
		if got := f.String(); got != at+" "+kind+" "+spec {
			t.Errorf("String %q", got)
		}
		g, err := Parse(f.Kind, spec+"@"+at, 5)
		if err != nil {
			t.Errorf("Parse(%s, %q): %v", kind, spec+"@"+at, err)
			continue
		}
		if !reflect.DeepEqual(f, g) {
			t.Errorf("Parse(%s, %q) = %+v, want %+v", kind, spec+"@"+at, g, f)
		}
	}
	for _, c := range []struct {
		k       Kind
		in, msg string
	}{
		{Crash, "5", "want ID@TIME"},
		{Crash, "5@soon", "not a non-negative duration"},
		{Crash, "5@-1s", "not a non-negative duration"},
		{Heal, "3@1s", "names no node"},
		{ClockStep, "2 by 1 hour@1s", "not a duration"},
		{ClockDrift, "2 by 50@1s", "not a drift"},
		{ClockDrift, "2 by 900000ppm@0s", "out of range"},
		{Loss, "1.5@1s", "not a probability"},
		{Loss, "NaN@1s", "not a probability"},
		{"meteor", "1@1s", "unknown fault kind"},
	} {
		if _, err := Parse(c.k, c.in, 5); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%s, %q): %v, want an error saying %q", c.k, c.in, err, c.msg)
		}
	}
}

// The generator: same seed, same schedule; servers only; valid; friendly
// undoes everything before the quiet tail; hostile draws every family and
// leaves some faults for ever, but never a majority of servers down.
func TestGenerate(t *testing.T) {
	const n, dur = 5, 10 * time.Second
	if !reflect.DeepEqual(Generate(7, Hostile, n, dur), Generate(7, Hostile, n, dur)) {
		t.Fatal("same seed, different schedules")
	}
	if reflect.DeepEqual(Generate(7, Hostile, n, dur), Generate(8, Hostile, n, dur)) {
		t.Fatal("seeds 7 and 8 drew the same schedule")
	}
	seen := map[string]int{}
	for seed := uint64(1); seed <= 500; seed++ {
		for _, p := range Profiles {
			s := Generate(seed, p, n, dur)
			if err := s.Validate(n); err != nil {
				t.Fatalf("%s seed %d: %v", p.Name, seed, err)
			}
			if !slices.IsSortedFunc(s, func(a, b Fault) int { return int(a.At - b.At) }) {
				t.Fatalf("%s seed %d: not sorted", p.Name, seed)
			}
			for _, f := range s {
				if f.At > dur-Settle {
					t.Fatalf("%s seed %d: %v falls in the quiet tail", p.Name, seed, f)
				}
			}
			down := map[ordo.NodeID]bool{}
			for _, f := range s {
				switch f.Kind {
				case Crash, Pause, TornWrite, CorruptRead, FsyncFail, DiskFull:
					if down[f.Node] {
						t.Fatalf("%s seed %d: %v strikes a node already down", p.Name, seed, f)
					}
					down[f.Node] = true
				case Restart, Resume:
					if !down[f.Node] {
						t.Fatalf("%s seed %d: %v undoes nothing", p.Name, seed, f)
					}
					delete(down, f.Node)
				}
			}
			if len(down) > (n-1)/2 {
				t.Fatalf("%s seed %d: %d servers down for ever, more than a minority", p.Name, seed, len(down))
			}
			for _, l := range s.Labels() {
				seen[p.Name+" "+l]++
				if p.Name == "friendly" && strings.HasSuffix(l, "-forever") {
					t.Fatalf("friendly seed %d: %s\n%v", seed, l, s)
				}
			}
		}
	}
	for _, l := range []string{"crash", "partition", "cut", "bridge", "star", "loss", "pause", "clock-step", "clock-drift",
		"torn-write", "corrupt-read", "fsync-fail", "disk-full", "crash-forever", "pause-forever", "cut-forever", "loss-forever"} {
		if seen["hostile "+l] == 0 {
			t.Errorf("500 hostile schedules never have %s (%v)", l, seen)
		}
	}
	for _, l := range []string{"cut", "bridge", "star", "clock-drift"} {
		if seen["friendly "+l] != 0 {
			t.Errorf("friendly drew %s", l)
		}
	}
	// Selecting one family draws only that family.
	p := Hostile
	p.Families = []string{"star"}
	for seed := uint64(1); seed <= 50; seed++ {
		for _, f := range Generate(seed, p, 7, dur) {
			if f.Kind != Star && f.Kind != Heal {
				t.Fatalf("star only: drew %v", f)
			}
		}
	}
	if s := Generate(1, Hostile, 1, dur); s.Validate(1) != nil {
		t.Fatalf("one server: %v", s)
	}
}

func TestProfiles(t *testing.T) {
	for _, p := range Profiles {
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
	if _, err := ProfileNamed("nasty"); err == nil || !strings.Contains(err.Error(), "friendly, hostile") {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := ParseFamilies("crash,meteor"); err == nil || !strings.Contains(err.Error(), "meteor") {
		t.Errorf("unknown family: %v", err)
	}
	if k, err := ParseFamilies("star, cut,star"); err != nil || !reflect.DeepEqual(k, []string{"star", "cut"}) {
		t.Errorf("families %v %v", k, err)
	}
}

// Clients may be placed by a partition or a cut, never required.
func TestMembersWithClients(t *testing.T) {
	m := Members{Servers: 3, Clients: 2}
	g, err := m.ParseGroups("1,4/2,3")
	if err != nil || !reflect.DeepEqual(g, [][]ordo.NodeID{ids(1, 4), ids(2, 3)}) {
		t.Fatalf("groups %v %v", g, err)
	}
	if _, err := m.ParseGroups("1,4/2"); err == nil || !strings.Contains(err.Error(), "missing 3") {
		t.Errorf("a server left out: %v", err)
	}
	if _, err := m.ParseGroups("1/2,3/6"); err == nil || !strings.Contains(err.Error(), "the servers are 1..3, the clients 4..5") {
		t.Errorf("node 6: %v", err)
	}
	if from, to, err := m.ParseCut("5->1,2"); err != nil || !reflect.DeepEqual(from, ids(5)) || !reflect.DeepEqual(to, ids(1, 2)) {
		t.Errorf("cut %v %v %v", from, to, err)
	}
	if _, err := ParseGroups("1,4/2,3", 3); err == nil {
		t.Error("a client accepted where only servers may be named")
	}
}

// The rate form (a scenario's nemesis: section) draws through the same
// generator: only the kinds with a rate, inside the window, all undone.
func TestNemesis(t *testing.T) {
	n := Nemesis{From: time.Second, Until: 6 * time.Second, Crash: 2, Partition: 1, MeanDowntime: 300 * time.Millisecond}
	kinds := map[Kind]int{}
	for seed := uint64(1); seed <= 50; seed++ {
		s, err := n.Generate(seed, 5, 8*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(5); err != nil {
			t.Fatal(err)
		}
		for _, f := range s {
			kinds[f.Kind]++
			if f.At < n.From || f.At > n.Until {
				t.Fatalf("seed %d: %v outside %v..%v", seed, f, n.From, n.Until)
			}
		}
		for _, l := range s.Labels() {
			if strings.HasSuffix(l, "-forever") {
				t.Fatalf("seed %d: %s", seed, l)
			}
		}
	}
	if kinds[Crash] == 0 || kinds[Partition] == 0 || kinds[Crash] < kinds[Partition] || kinds[Pause]+kinds[Loss]+kinds[ClockStep] != 0 {
		t.Errorf("kinds drawn %v, want crashes about twice the partitions and nothing else", kinds)
	}
	if s, err := (Nemesis{Until: time.Second, MeanDowntime: time.Second}).Generate(1, 5, 8*time.Second); s != nil || err != nil {
		t.Errorf("no rates: %v %v", s, err)
	}
	for _, c := range []struct {
		n   Nemesis
		msg string
	}{
		{Nemesis{Until: time.Second, Crash: -1, MeanDowntime: time.Second}, "crash rate -1"},
		{Nemesis{Until: time.Second, Crash: 1}, "mean downtime"},
		{Nemesis{Until: 9 * time.Second, Crash: 1, MeanDowntime: time.Second}, "until ≤ duration"},
	} {
		if _, err := c.n.Generate(1, 5, 8*time.Second); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want %q", c.n, err, c.msg)
		}
	}
}

// One fault, one meaning, whichever tool names it: the scenario files'
// words and underscores name the same kinds as ordo cluster fault.
func TestParseKind_ScenarioNamesAreAliases(t *testing.T) {
	for in, want := range map[string]Kind{"clock_jump": ClockStep, "clock-step": ClockStep, "fail_sync": FsyncFail, "crash_torn": TornWrite, "disk_full": DiskFull, "corrupt_read": CorruptRead, "partition": Partition} {
		if k, err := ParseKind(in); err != nil || k != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, k, err, want)
		}
	}
	if _, err := ParseKind("crash 2"); err == nil || !strings.Contains(err.Error(), "two arguments") {
		t.Errorf("ParseKind(%q) = %v, want a hint that kind and spec are two arguments", "crash 2", err)
	}
}
