package fault

import (
	"math"
	"strings"
	"testing"
	"time"

	"ordo"
)

// Issue 9, "a suite that catches what it claims to": boundary and profile
// tests of the fault notation and generator (chapter section on failure
// models: crash-stop, crash-recovery, omission, partitions, clocks; Jepsen's
// nemesis for the rate form).

// Kind.Storage and Kind.Network partition the kinds: a storage fault needs
// the disk model, a network kind changes the link matrix, nothing is both.
func TestKindClasses(t *testing.T) {
	storage := map[Kind]bool{TornWrite: true, CorruptRead: true, FsyncFail: true, DiskFull: true}
	network := map[Kind]bool{Partition: true, Cut: true, Bridge: true, Star: true, Heal: true}
	for _, k := range Kinds {
		if k.Storage() != storage[k] {
			t.Errorf("%s.Storage() = %v", k, k.Storage())
		}
		if k.Network() != network[k] {
			t.Errorf("%s.Network() = %v", k, k.Network())
		}
		s := Schedule{{Kind: k}}
		if s.NeedsDisk() != storage[k] {
			t.Errorf("a schedule of %s: NeedsDisk %v", k, s.NeedsDisk())
		}
	}
}

// Profile.Validate at each bound: the bound itself is accepted, one step
// past it is refused with an error naming what is wrong.
func TestProfileValidateBounds(t *testing.T) {
	base := Profile{Name: "t", Families: []string{"crash"}, MeanGap: time.Second}
	ok := []func(*Profile){
		func(p *Profile) {},
		func(p *Profile) { p.Forever = 0 },
		func(p *Profile) { p.Forever = 1 },
		func(p *Profile) { p.MeanGap = 1 },
		func(p *Profile) { p.MaxLength, p.MaxPause = 0, 0 },
		func(p *Profile) { p.MaxClockStep = MaxClockStep },
		func(p *Profile) { p.MaxLoss, p.MaxLossForever = 1, 1 },
		func(p *Profile) { p.MaxDriftPPM = MaxDriftPPM },
		func(p *Profile) { p.Weights = []float64{0} },
		func(p *Profile) { p.Weights = []float64{MaxRate} },
		func(p *Profile) { p.From, p.Until = time.Second, time.Second+1 },
		func(p *Profile) { p.From = time.Second }, // Until 0: the default window
		func(p *Profile) { p.MeanLength = 0 },
	}
	for i, f := range ok {
		p := base
		f(&p)
		if err := p.Validate(); err != nil {
			t.Errorf("case %d: %+v refused: %v", i, p, err)
		}
	}
	bad := []struct {
		f   func(*Profile)
		msg string
	}{
		{func(p *Profile) { p.Families = []string{"meteor"} }, "unknown fault kind"},
		{func(p *Profile) { p.Forever = -0.01 }, "forever"},
		{func(p *Profile) { p.Forever = 1.01 }, "forever"},
		{func(p *Profile) { p.Forever = math.NaN() }, "forever"},
		{func(p *Profile) { p.MeanGap = 0 }, "mean gap"},
		{func(p *Profile) { p.MaxLength = -1 }, "negative length"},
		{func(p *Profile) { p.MaxPause = -1 }, "negative length"},
		{func(p *Profile) { p.MaxClockStep = -1 }, "clock step"},
		{func(p *Profile) { p.MaxClockStep = MaxClockStep + 1 }, "clock step"},
		{func(p *Profile) { p.MaxLoss = -0.01 }, "max loss"},
		{func(p *Profile) { p.MaxLoss = 1.01 }, "max loss"},
		{func(p *Profile) { p.MaxLossForever = -0.01 }, "max loss"},
		{func(p *Profile) { p.MaxLossForever = 1.01 }, "max loss"},
		{func(p *Profile) { p.MaxDriftPPM = -1 }, "max drift"},
		{func(p *Profile) { p.MaxDriftPPM = MaxDriftPPM + 1 }, "max drift"},
		{func(p *Profile) { p.Weights = []float64{1, 1} }, "2 weights for 1"},
		{func(p *Profile) { p.Weights = []float64{-1} }, "weight -1"},
		{func(p *Profile) { p.Weights = []float64{MaxRate + 1} }, "weight"},
		{func(p *Profile) { p.Weights = []float64{math.NaN()} }, "weight"},
		{func(p *Profile) { p.MeanLength = -1 }, "mean length"},
		{func(p *Profile) { p.From = -1 }, "from < until"},
		{func(p *Profile) { p.Until = -1 }, "from < until"},
		{func(p *Profile) { p.From, p.Until = time.Second, time.Second }, "from < until"},
	}
	for i, c := range bad {
		p := base
		c.f(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("case %d: %+v: %v, want an error saying %q", i, p, err, c.msg)
		}
	}
}

// Fault.Validate holds a fault built in code to the notation's bounds.
func TestFaultValidateBounds(t *testing.T) {
	ok := []Fault{
		{At: 0, Kind: Crash, Node: 1},
		{At: MaxAt, Kind: Restart, Node: 5},
		{Kind: ClockStep, Node: 1, By: MaxClockStep},
		{Kind: ClockStep, Node: 1, By: -MaxClockStep},
		{Kind: ClockDrift, Node: 1, PPM: MaxDriftPPM},
		{Kind: ClockDrift, Node: 1, PPM: -MaxDriftPPM},
		{Kind: Loss, Rate: 0},
		{Kind: Loss, Rate: 1},
		{Kind: Loss, Rate: 0.5, From: ids(1), To: ids(2, 3)},
		{Kind: Heal},
		{Kind: Star, Node: 5},
	}
	for _, f := range ok {
		if err := f.Validate(5); err != nil {
			t.Errorf("%v refused: %v", f, err)
		}
	}
	bad := []struct {
		f       Fault
		servers int
		msg     string
	}{
		{Fault{Kind: Crash, Node: 1}, 0, "a cluster of 0 servers"},
		{Fault{At: -1, Kind: Crash, Node: 1}, 5, "out of range"},
		{Fault{At: MaxAt + 1, Kind: Crash, Node: 1}, 5, "out of range"},
		{Fault{Kind: Crash, Node: 0}, 5, "does not exist"},
		{Fault{Kind: DiskFull, Node: 6}, 5, "does not exist"},
		{Fault{Kind: ClockStep, Node: 1, By: MaxClockStep + 1}, 5, "clock step"},
		{Fault{Kind: ClockStep, Node: 1, By: -MaxClockStep - 1}, 5, "clock step"},
		{Fault{Kind: ClockDrift, Node: 1, PPM: MaxDriftPPM + 1}, 5, "drift"},
		{Fault{Kind: ClockDrift, Node: 1, PPM: -MaxDriftPPM - 1}, 5, "drift"},
		{Fault{Kind: ClockDrift, Node: 1, PPM: math.NaN()}, 5, "drift"},
		{Fault{Kind: Loss, Rate: -0.001}, 5, "loss"},
		{Fault{Kind: Loss, Rate: 1.001}, 5, "loss"},
		{Fault{Kind: Loss, Rate: math.NaN()}, 5, "loss"},
		{Fault{Kind: Loss, Rate: 0.5, From: ids(1), To: ids(1)}, 5, "twice"},
		{Fault{Kind: Loss, Rate: 0.5, To: ids(1)}, 5, "left of"},
		{Fault{Kind: Star, Node: 1}, 2, "at least 3 servers"},
		{Fault{Kind: Partition, Groups: [][]ordo.NodeID{ids(1, 2)}}, 2, "two groups"},
		{Fault{Kind: Cut, From: ids(1), To: ids(9)}, 5, "does not exist"},
		{Fault{Kind: Bridge, Groups: [][]ordo.NodeID{ids(1), ids(3)}, Via: 1}, 3, "bridge"},
		{Fault{Kind: "meteor"}, 5, "unknown kind"},
	}
	for _, c := range bad {
		if err := c.f.Validate(c.servers); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v on %d servers: %v, want an error saying %q", c.f, c.servers, err, c.msg)
		}
	}
}

// The parsers' bounds: cluster size, node IDs, notation length, times.
func TestParserBounds(t *testing.T) {
	if err := (Members{Servers: maxServers}).check(); err != nil {
		t.Errorf("a cluster of maxServers refused: %v", err)
	}
	if err := (Members{Servers: maxServers - 1, Clients: 1}).check(); err != nil {
		t.Errorf("maxServers nodes with a client refused: %v", err)
	}
	for _, m := range []Members{{Servers: 0}, {Servers: 1, Clients: -1}, {Servers: maxServers, Clients: 1}, {Servers: maxServers + 1}} {
		if err := m.check(); err == nil {
			t.Errorf("%+v accepted", m)
		}
	}
	if id, err := ParseNode("5", 5); err != nil || id != 5 {
		t.Errorf("ParseNode(5) = %d, %v", id, err)
	}
	for in, msg := range map[string]string{"0": "does not exist", "6": "does not exist", "": "missing",
		"123456789": "does not exist", "1234567890": "not a node ID", "-1": "not a node ID", "1x": "not a node ID"} {
		if _, err := ParseNode(in, 5); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseNode(%q): %v, want %q", in, err, msg)
		}
	}
	// A notation of exactly MaxSpec bytes is read (and judged on its
	// content); one byte more is refused for its length.
	long := "1/2" + strings.Repeat(" ", MaxSpec-3)
	if _, err := ParseGroups(long, 2); err != nil {
		t.Errorf("a partition of MaxSpec bytes refused: %v", err)
	}
	for name, f := range map[string]func(string) error{
		"partition": func(s string) error { _, err := ParseGroups(s, 2); return err },
		"cut":       func(s string) error { _, _, err := ParseCut(s, 2); return err },
		"bridge":    func(s string) error { _, _, err := ParseBridge(s, 3); return err },
		"star":      func(s string) error { _, err := ParseStar(s, 3); return err },
		"crash":     func(s string) error { _, err := Parse(Crash, s, 3); return err },
	} {
		if err := f(long + " "); err == nil || !strings.Contains(err.Error(), "at most") {
			t.Errorf("%s of MaxSpec+1 bytes: %v", name, err)
		}
	}
	for _, s := range []int{0, maxServers + 1} {
		if _, _, err := ParseBridge("1/3 via 2", s); err == nil {
			t.Errorf("bridge on %d servers accepted", s)
		}
		if _, err := ParseStar("hub 1", s); err == nil {
			t.Errorf("star on %d servers accepted", s)
		}
		if _, err := Parse(Crash, "1@1s", s); err == nil {
			t.Errorf("crash on %d servers accepted", s)
		}
	}
	if _, err := ParseStar("hub 1", 3); err != nil {
		t.Errorf("a star of three refused: %v", err)
	}
	// Times: 0 and MaxAt are in range, a nanosecond past is not.
	for in, want := range map[string]time.Duration{"0": 0, " 0s ": 0, "24h": MaxAt, "1500ms": 1500 * time.Millisecond} {
		if d, err := ParseTime(in); err != nil || d != want {
			t.Errorf("ParseTime(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"24h0m0.000000001s", "-1ns", "soon", ""} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}

// A partition missing servers lists the first ten and counts the rest.
func TestMissingListIsBounded(t *testing.T) {
	_, err := ParseGroups("1/2", 12)
	if err == nil || !strings.Contains(err.Error(), "missing 3,4,5,6,7,8,9,10,11,12:") {
		t.Errorf("ten missing: %v", err)
	}
	_, err = ParseGroups("1/2", 13)
	if err == nil || !strings.Contains(err.Error(), "3,4,5,6,7,8,9,10,11,12,… (11 in all)") {
		t.Errorf("eleven missing: %v", err)
	}
	if got := missingFrom(map[ordo.NodeID]bool{1: true, 2: true}, 2); got != "" {
		t.Errorf("none missing: %q", got)
	}
}

// Clock steps and drifts parse with their sign; the spec round-trips.
func TestParseClockAndLossSpecs(t *testing.T) {
	f, err := Parse(ClockStep, "2 by -1500ms@1s", 3)
	if err != nil || f.Node != 2 || f.By != -1500*time.Millisecond || f.At != time.Second {
		t.Errorf("clock step: %+v %v", f, err)
	}
	f, err = Parse(ClockDrift, "3 by -50ppm@0s", 3)
	if err != nil || f.Node != 3 || f.PPM != -50 {
		t.Errorf("drift: %+v %v", f, err)
	}
	for _, c := range []struct {
		k       Kind
		in, msg string
	}{
		{ClockStep, "2@1s", "want ID by"},
		{ClockStep, "2 by soon@1s", "not a duration"},
		{ClockStep, "9 by 1s@1s", "does not exist"},
		{ClockDrift, "2 by 50@1s", "not a drift"},
		{Loss, "0.5 on 1->1@1s", "twice"},
		{Loss, "1.5@1s", "probability"},
		{Heal, "1@1s", "names no node"},
		{Crash, "1", "want ID@TIME"},
		{Crash, "1@-1s", "non-negative"},
	} {
		if _, err := Parse(c.k, c.in, 3); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%s, %q): %v, want %q", c.k, c.in, err, c.msg)
		}
	}
	if f, err := Parse(Loss, "1@1s", 3); err != nil || f.Rate != 1 {
		t.Errorf("loss 1: %+v %v", f, err)
	}
	if f, err := Parse(Loss, "0@1s", 3); err != nil || f.Rate != 0 {
		t.Errorf("loss 0: %+v %v", f, err)
	}
}

// Labels name what a schedule does: undoing faults are not faults of their
// own, and only what is never undone is "-forever".
func TestLabels(t *testing.T) {
	s := Schedule{
		{At: 1, Kind: Crash, Node: 1}, {At: 2, Kind: Restart, Node: 1},
		{At: 3, Kind: Pause, Node: 2}, {At: 4, Kind: Resume, Node: 2},
		{At: 5, Kind: Partition, Groups: [][]ordo.NodeID{ids(1), ids(2, 3)}}, {At: 6, Kind: Heal},
		{At: 7, Kind: Loss, Rate: 0.2}, {At: 8, Kind: Loss, Rate: 0},
	}
	if got, want := strings.Join(s.Labels(), " "), "crash loss partition pause"; got != want {
		t.Errorf("all undone: %q, want %q", got, want)
	}
	s = Schedule{{At: 1, Kind: CorruptRead, Node: 3}, {At: 2, Kind: Pause, Node: 2}, {At: 3, Kind: Cut, From: ids(1), To: ids(2)}, {At: 4, Kind: Loss, Rate: 0.1}}
	if got, want := strings.Join(s.Labels(), " "), "corrupt-read crash-forever cut cut-forever loss loss-forever pause pause-forever"; got != want {
		t.Errorf("none undone: %q, want %q", got, want)
	}
}

// Sort is by time and stable: a crash and a restart written at the same
// instant happen in the order written.
func TestSortStable(t *testing.T) {
	s := Schedule{{At: 2, Kind: Heal}, {At: 1, Kind: Crash, Node: 1}, {At: 1, Kind: Restart, Node: 1}, {At: 0, Kind: Pause, Node: 2}}
	s.Sort()
	want := []Kind{Pause, Crash, Restart, Heal}
	for i, k := range want {
		if s[i].Kind != k {
			t.Fatalf("sorted %v, want kinds %v", s, want)
		}
	}
}

// Generate returns nothing for inputs that describe no faults.
func TestGenerateDegenerate(t *testing.T) {
	if s := Generate(1, Hostile, 0, 10*time.Second); s != nil {
		t.Errorf("no servers: %v", s)
	}
	p := Hostile
	p.Families = nil
	if s := Generate(1, p, 5, 10*time.Second); s != nil {
		t.Errorf("no families: %v", s)
	}
	p = Hostile
	p.MeanGap = 0
	if s := Generate(1, p, 5, 10*time.Second); s != nil {
		t.Errorf("no gap: %v", s)
	}
}

// Each fault's magnitude stays in its profile's bounds: the length of a
// fault that ends (50 ms + [0, MaxLength], pauses [0, MaxPause]), loss in
// [0.01, MaxLoss] (MaxLossForever for loss never undone), clock steps
// within ±MaxClockStep, drift magnitudes in [MaxDriftPPM/10, MaxDriftPPM].
func TestGenerateMagnitudes(t *testing.T) {
	const n, dur = 5, 20 * time.Second
	p := Hostile
	steps, negSteps, posSteps, negDrift, posDrift := 0, 0, 0, 0, 0
	for seed := uint64(1); seed <= 300; seed++ {
		s := Generate(seed, p, n, dur)
		start := map[ordo.NodeID]Fault{}
		var lossStart *Fault
		var netStart *Fault
		for i, f := range s {
			if f.At < Start && f.Kind != ClockDrift {
				t.Fatalf("seed %d: %v before Start", seed, f)
			}
			switch f.Kind {
			case Crash, Pause, TornWrite, CorruptRead, FsyncFail, DiskFull:
				start[f.Node] = f
			case Restart, Resume:
				b := start[f.Node]
				d := f.At - b.At
				most := p.MaxLength
				if b.Kind == Pause {
					most = p.MaxPause
				}
				if d < 50*time.Millisecond && f.At != dur-Settle || d > 50*time.Millisecond+most {
					t.Fatalf("seed %d: %v lasts %v, want 50ms..50ms+%v", seed, b, d, most)
				}
			case Loss:
				if f.Rate == 0 {
					lossStart = nil
					continue
				}
				if lossStart != nil {
					t.Fatalf("seed %d: loss %v overlaps loss %v", seed, f, *lossStart)
				}
				lossStart = &s[i]
				if f.Rate < 0.01 || f.Rate > p.MaxLoss {
					t.Fatalf("seed %d: loss rate %v out of [0.01, %v]", seed, f.Rate, p.MaxLoss)
				}
				undone := false
				for _, g := range s[i+1:] {
					undone = undone || (g.Kind == Loss && g.Rate == 0)
				}
				if !undone && f.Rate > p.MaxLossForever {
					t.Fatalf("seed %d: loss for ever at %v, above %v", seed, f.Rate, p.MaxLossForever)
				}
				if len(f.From) > 0 && len(f.From)+len(f.To) != n {
					t.Fatalf("seed %d: partial loss %v does not split the servers", seed, f)
				}
			case Partition, Cut, Bridge, Star:
				if netStart != nil {
					t.Fatalf("seed %d: %v overlaps %v", seed, f, *netStart)
				}
				netStart = &s[i]
			case Heal:
				netStart = nil
			case ClockStep:
				steps++
				if f.By < 0 {
					negSteps++
				} else if f.By > 0 {
					posSteps++
				}
				if f.By < -p.MaxClockStep || f.By > p.MaxClockStep {
					t.Fatalf("seed %d: clock step %v", seed, f.By)
				}
			case ClockDrift:
				if f.At != 0 {
					t.Fatalf("seed %d: drift %v not at 0", seed, f)
				}
				if a := math.Abs(f.PPM); a < p.MaxDriftPPM/10 || a > p.MaxDriftPPM {
					t.Fatalf("seed %d: drift %v ppm out of [%v, %v]", seed, f.PPM, p.MaxDriftPPM/10, p.MaxDriftPPM)
				}
				if f.PPM < 0 {
					negDrift++
				} else {
					posDrift++
				}
			}
		}
	}
	// Steps and drifts go both ways (a clock is as likely fast as slow).
	if negSteps == 0 || posSteps == 0 || negDrift == 0 || posDrift == 0 {
		t.Errorf("clock steps −%d/+%d of %d, drifts −%d/+%d: want both signs", negSteps, posSteps, steps, negDrift, posDrift)
	}
}

// Hostile's for-ever budget: crashes, pauses and storage faults never
// undone, and loss never undone (one more server down), together leave a
// majority running (the generator's rule, so liveness can be judged).
func TestHostileKeepsAMajority(t *testing.T) {
	for _, n := range []int{3, 5, 7} {
		for seed := uint64(1); seed <= 300; seed++ {
			s := Generate(seed, Hostile, n, 15*time.Second)
			down := map[ordo.NodeID]bool{}
			lossy := false
			for _, f := range s {
				switch f.Kind {
				case Crash, Pause, TornWrite, CorruptRead, FsyncFail, DiskFull:
					down[f.Node] = true
				case Restart, Resume:
					delete(down, f.Node)
				case Loss:
					lossy = f.Rate > 0
				}
			}
			budget := len(down)
			if lossy {
				budget++
			}
			if budget > (n-1)/2 {
				t.Fatalf("n=%d seed %d: %d servers down for ever and loss %v: a majority is not left\n%v", n, seed, len(down), lossy, s)
			}
		}
	}
}

// Families selected (ordo explore --faults) appear, the others do not.
func TestGenerateOnlySelectedFamilies(t *testing.T) {
	kindsOf := map[string][]Kind{
		"crash": {Crash, Restart}, "partition": {Partition, Heal}, "cut": {Cut, Heal}, "bridge": {Bridge, Heal},
		"star": {Star, Heal}, "loss": {Loss}, "pause": {Pause, Resume}, "clock": {ClockStep}, "drift": {ClockDrift},
		"disk": {TornWrite, CorruptRead, FsyncFail, DiskFull, Restart},
	}
	for _, fams := range [][]string{{"crash", "clock"}, {"cut", "loss"}, {"disk"}, {"drift", "bridge"}, {"pause"}} {
		p := Hostile
		p.Families = fams
		allowed := map[Kind]bool{}
		for _, fam := range fams {
			for _, k := range kindsOf[fam] {
				allowed[k] = true
			}
		}
		seen := map[Kind]bool{}
		for seed := uint64(1); seed <= 40; seed++ {
			for _, f := range Generate(seed, p, 5, 10*time.Second) {
				if !allowed[f.Kind] {
					t.Fatalf("families %v seed %d: drew %v", fams, seed, f)
				}
				seen[f.Kind] = true
			}
		}
		for _, fam := range fams {
			if !seen[kindsOf[fam][0]] {
				t.Errorf("families %v: never drew %s in 40 seeds", fams, fam)
			}
		}
	}
}

// Weights: a family of weight 0 is never drawn, and a family weighted ten
// times another is drawn more often.
func TestGenerateWeights(t *testing.T) {
	p := Profile{Name: "w", Families: []string{"crash", "clock", "pause"}, Weights: []float64{10, 1, 0},
		MeanGap: 50 * time.Millisecond, MaxLength: 100 * time.Millisecond, MaxClockStep: time.Second}
	count := map[Kind]int{}
	for seed := uint64(1); seed <= 30; seed++ {
		for _, f := range Generate(seed, p, 5, 10*time.Second) {
			count[f.Kind]++
		}
	}
	if count[Pause] != 0 || count[ClockStep] == 0 || count[Crash] <= count[ClockStep] {
		t.Errorf("drawn %v: want no pause, some clock steps, more crashes than steps", count)
	}
	// The last family with weight is drawn too (not only the first).
	p.Weights = []float64{0, 0, 1}
	for _, f := range Generate(3, p, 5, 10*time.Second) {
		if f.Kind != Pause && f.Kind != Resume {
			t.Fatalf("weights 0,0,1 drew %v", f)
		}
	}
}

// A window From..Until bounds every fault, undoings included; MeanLength
// makes lengths exponential but never past Until.
func TestGenerateWindow(t *testing.T) {
	p := Friendly
	p.From, p.Until, p.MeanLength = 2*time.Second, 4*time.Second, 300*time.Millisecond
	any := 0
	for seed := uint64(1); seed <= 50; seed++ {
		for _, f := range Generate(seed, p, 5, 10*time.Second) {
			any++
			if f.At < p.From || f.At > p.Until {
				t.Fatalf("seed %d: %v outside %v..%v", seed, f, p.From, p.Until)
			}
		}
	}
	if any == 0 {
		t.Fatal("no faults in the window")
	}
	// Exponential lengths of mean 300 ms: some crash lasts over 100 ms.
	long := false
	for seed := uint64(1); seed <= 50 && !long; seed++ {
		start := map[ordo.NodeID]time.Duration{}
		for _, f := range Generate(seed, p, 5, 10*time.Second) {
			switch f.Kind {
			case Crash:
				start[f.Node] = f.At
			case Restart:
				long = long || f.At-start[f.Node] > 100*time.Millisecond
			}
		}
	}
	if !long {
		t.Error("mean length 300ms: no crash lasted over 100ms in 50 seeds")
	}
	// Until past the duration is clipped to it.
	p.Until = 20 * time.Second
	for seed := uint64(1); seed <= 20; seed++ {
		for _, f := range Generate(seed, p, 5, 5*time.Second) {
			if f.At > 5*time.Second {
				t.Fatalf("seed %d: %v after the run", seed, f)
			}
		}
	}
}

// A drift family with no drift magnitude draws no drift (a drift of 0 ppm
// is no fault).
func TestGenerateNoDriftWithoutMagnitude(t *testing.T) {
	p := Hostile
	p.Families, p.MaxDriftPPM = []string{"drift", "clock"}, 0
	for seed := uint64(1); seed <= 50; seed++ {
		for _, f := range Generate(seed, p, 5, 10*time.Second) {
			if f.Kind == ClockDrift {
				t.Fatalf("seed %d: %v with MaxDriftPPM 0", seed, f)
			}
		}
	}
}

// The rate form's profile: rates at MaxRate accepted, past it refused; the
// mean gap is the inverse of the total rate; clock steps are bounded by
// three mean downtimes; loss up to 90 %.
func TestNemesisProfile(t *testing.T) {
	n := Nemesis{Until: time.Second, Crash: 3, ClockStep: 1, MeanDowntime: 100 * time.Millisecond}
	p, err := n.Profile()
	if err != nil {
		t.Fatal(err)
	}
	if p.MeanGap != 250*time.Millisecond || p.MaxClockStep != 300*time.Millisecond || p.MaxLoss != 0.9 {
		t.Errorf("profile %+v: want mean gap 250ms, clock step 300ms, loss 0.9", p)
	}
	if strings.Join(p.Families, ",") != "crash,clock" || len(p.Weights) != 2 || p.Weights[0] != 3 {
		t.Errorf("families %v weights %v", p.Families, p.Weights)
	}
	for _, f := range []func(*Nemesis, float64){
		func(n *Nemesis, r float64) { n.Crash = r }, func(n *Nemesis, r float64) { n.Partition = r },
		func(n *Nemesis, r float64) { n.Pause = r }, func(n *Nemesis, r float64) { n.ClockStep = r },
		func(n *Nemesis, r float64) { n.Loss = r },
	} {
		m := Nemesis{Until: time.Second, MeanDowntime: time.Second}
		f(&m, MaxRate)
		if _, err := m.Profile(); err != nil {
			t.Errorf("rate MaxRate refused: %v", err)
		}
		f(&m, MaxRate+1)
		if _, err := m.Profile(); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("rate MaxRate+1: %v", err)
		}
		f(&m, math.NaN())
		if _, err := m.Profile(); err == nil {
			t.Error("rate NaN accepted")
		}
	}
	if _, err := (Nemesis{Until: time.Second, MeanDowntime: time.Second}).Profile(); err == nil || !strings.Contains(err.Error(), "every rate is 0") {
		t.Errorf("no rates: %v", err)
	}
	// Long downtimes cap the clock step at MaxClockStep.
	if p, err := (Nemesis{Until: time.Second, ClockStep: 1, MeanDowntime: 20 * time.Hour}).Profile(); err != nil || p.MaxClockStep != MaxClockStep {
		t.Errorf("clock step %v, %v", p.MaxClockStep, err)
	}
	// Clock steps drawn respect the bound.
	m := Nemesis{From: time.Second, Until: 5 * time.Second, ClockStep: 20, MeanDowntime: 100 * time.Millisecond}
	steps := 0
	for seed := uint64(1); seed <= 10; seed++ {
		s, err := m.Generate(seed, 3, 5*time.Second) // Until == duration: accepted
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range s {
			steps++
			if f.Kind != ClockStep || f.By > 300*time.Millisecond || f.By < -300*time.Millisecond {
				t.Fatalf("seed %d: %v", seed, f)
			}
		}
	}
	if steps == 0 {
		t.Error("no clock steps at 20 per second")
	}
	if _, err := (Nemesis{From: time.Second, Until: time.Second, Crash: 1, MeanDowntime: time.Second}).Generate(1, 3, 5*time.Second); err == nil {
		t.Error("from = until accepted")
	}
}

// The profiles draw the range their documentation gives: friendly faults
// last up to about 1.5 s, pauses up to 0.8 s, clock steps up to ±2 s;
// hostile adds longer faults, long pauses (up to 2 s) and clock steps past
// friendly's ±2 s (up to ±10 s). Over 200 seeds the longest draws come
// near those bounds.
func TestProfilesDrawTheirDocumentedRange(t *testing.T) {
	longest := func(p Profile) (crash, pause, step time.Duration) {
		for seed := uint64(1); seed <= 200; seed++ {
			s := Generate(seed, p, 5, 20*time.Second)
			start := map[ordo.NodeID]time.Duration{}
			for _, f := range s {
				switch f.Kind {
				case Crash, Pause, TornWrite, CorruptRead:
					start[f.Node] = f.At
				case Restart:
					crash = max(crash, f.At-start[f.Node])
				case Resume:
					pause = max(pause, f.At-start[f.Node])
				case ClockStep:
					step = max(step, f.By, -f.By)
				}
			}
		}
		return
	}
	c, p, s := longest(Friendly)
	if c < time.Second || c > 1550*time.Millisecond || p < 500*time.Millisecond || p > 850*time.Millisecond || s < time.Second || s > 2*time.Second {
		t.Errorf("friendly: longest crash %v (want 1s..1.55s), pause %v (0.5s..0.85s), clock step %v (1s..2s)", c, p, s)
	}
	c, p, s = longest(Hostile)
	if c < 2*time.Second || p < 1500*time.Millisecond || s < 5*time.Second || s > 10*time.Second {
		t.Errorf("hostile: longest crash %v (want > 2s), pause %v (> 1.5s), clock step %v (5s..10s)", c, p, s)
	}
}

// The window's edges: the first faults wait for the cluster to start (no
// fault in the first 100 ms, none before fault.Start) and the quiet tail
// is at least a second long (none in the last second), so that a run
// elects before the faults and liveness can be judged after them.
func TestGenerateQuietHeadAndTail(t *testing.T) {
	const dur = 10 * time.Second
	for _, p := range Profiles {
		for seed := uint64(1); seed <= 200; seed++ {
			for _, f := range Generate(seed, p, 5, dur) {
				if f.Kind == ClockDrift {
					continue // a property of the clock from 0s
				}
				if f.At < 100*time.Millisecond || f.At > dur-time.Second {
					t.Fatalf("%s seed %d: %v in the quiet head or tail", p.Name, seed, f)
				}
			}
		}
	}
	// A cluster of one server still has faults (a crash and a restart, a
	// pause, a clock step): only the network families need two.
	n := 0
	for seed := uint64(1); seed <= 20; seed++ {
		n += len(Generate(seed, Friendly, 1, dur))
	}
	if n == 0 {
		t.Error("a one-server cluster never gets a fault")
	}
}

// Every server can be struck (the last one too), and drift magnitudes
// spread over their range, not only at its floor.
func TestGenerateReachesEveryServer(t *testing.T) {
	struck := map[ordo.NodeID]bool{}
	var maxDrift float64
	for seed := uint64(1); seed <= 100; seed++ {
		for _, f := range Generate(seed, Hostile, 5, 10*time.Second) {
			switch f.Kind {
			case Crash, Pause, TornWrite, CorruptRead, FsyncFail, DiskFull:
				struck[f.Node] = true
			case ClockDrift:
				maxDrift = max(maxDrift, math.Abs(f.PPM))
			}
		}
	}
	if len(struck) != 5 {
		t.Errorf("servers struck %v, want all of 1..5", struck)
	}
	if maxDrift < Hostile.MaxDriftPPM/2 {
		t.Errorf("largest drift %v ppm, want drifts across [%v, %v]", maxDrift, Hostile.MaxDriftPPM/10, Hostile.MaxDriftPPM)
	}
}

// Forever 1: every network fault lasts for ever, so the first partition
// is the only one and nothing heals; crashes for ever stop at the budget.
func TestGenerateForeverOne(t *testing.T) {
	p := Profile{Name: "f", Families: []string{"partition", "crash"}, Forever: 1, MeanGap: 100 * time.Millisecond, MaxLength: time.Second}
	for seed := uint64(1); seed <= 20; seed++ {
		s := Generate(seed, p, 5, 10*time.Second)
		parts, heals, crashes, restarts := 0, 0, 0, 0
		for _, f := range s {
			switch f.Kind {
			case Partition:
				parts++
			case Heal:
				heals++
			case Crash:
				crashes++
			case Restart:
				restarts++
			}
		}
		if parts != 1 || heals != 0 || crashes-restarts != 2 {
			t.Fatalf("seed %d: %d partitions %d heals, %d crashes %d restarts: want one partition for ever, two servers down for ever\n%v", seed, parts, heals, crashes, restarts, s)
		}
	}
}

// Small clusters: two servers can be partitioned or cut but have no
// bridge or star (those need three); three servers have all four shapes.
func TestGenerateNetworkShapesBySize(t *testing.T) {
	p := Hostile
	p.Families = []string{"partition", "cut", "bridge", "star"}
	for _, n := range []int{2, 3} {
		seen := map[Kind]bool{}
		for seed := uint64(1); seed <= 40; seed++ {
			s := Generate(seed, p, n, 10*time.Second)
			if err := s.Validate(n); err != nil {
				t.Fatalf("%d servers seed %d: %v", n, seed, err)
			}
			for _, f := range s {
				seen[f.Kind] = true
			}
		}
		want := map[int][]Kind{2: {Partition, Cut}, 3: {Partition, Cut, Bridge, Star}}[n]
		for _, k := range want {
			if !seen[k] {
				t.Errorf("%d servers: never drew %s (%v)", n, k, seen)
			}
		}
		if n == 2 && (seen[Bridge] || seen[Star]) {
			t.Errorf("2 servers: drew a bridge or star (%v)", seen)
		}
	}
}

// Error messages name the right place and range: the group that is wrong
// (counted from 1), and the range of nodes with clients; a one-server
// cluster is a cluster; a nemesis needs a window (until after from).
func TestParseErrorsNameThePlace(t *testing.T) {
	if _, err := ParseGroups("1/2,x", 3); err == nil || !strings.Contains(err.Error(), "group 2:") {
		t.Errorf("bad second group: %v", err)
	}
	if _, err := (Members{Servers: 3, Clients: 2}).ParseNode(""); err == nil || !strings.Contains(err.Error(), "1..5") {
		t.Errorf("missing id with clients: %v", err)
	}
	if f, err := Parse(Crash, "1@1s", 1); err != nil || f.Node != 1 {
		t.Errorf("one server: %v %v", f, err)
	}
	if _, err := (Nemesis{Crash: 1, MeanDowntime: time.Second}).Generate(1, 3, 5*time.Second); err == nil || !strings.Contains(err.Error(), "from < until") {
		t.Errorf("no window: %v", err)
	}
}
