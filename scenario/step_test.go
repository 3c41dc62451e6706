package scenario

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/scenarios"
	"ordo/sim"
	"ordo/trace"

	// Server protocols only: a client protocol linked in here would
	// change the lists other tests of this package expect (kv's and
	// register's scenarios are stepped in kv/state_test.go and by hand).
	_ "ordo/agreement/naive"
	_ "ordo/broadcast"
	_ "ordo/detect"
	_ "ordo/election/bully"
	_ "ordo/election/lease"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
)

func builtin(t *testing.T, name string) *Scenario {
	t.Helper()
	data, err := scenarios.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Parse(name+".yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func stepper(t *testing.T, sc *Scenario, seed uint64) *Stepper {
	t.Helper()
	st, err := NewStepper(sc, seed)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func to(t *testing.T, st *Stepper, k int) {
	t.Helper()
	if err := st.StepTo(k); err != nil {
		t.Fatalf("StepTo(%d): %v", k, err)
	}
	if st.Pos() != k {
		t.Fatalf("StepTo(%d): at %d (end %v)", k, st.Pos(), st.End())
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snap is what a position shows: its trace and its nodes.
func snap(t *testing.T, st *Stepper) string {
	t.Helper()
	return jsonOf(t, st.Trace()) + "\n" + jsonOf(t, st.States()) + "\n" + st.Now().String()
}

// Stepping a built-in scenario to its end gives Run's trace: the same
// items, faults and nemesis, scheduled by the same code.
func TestStepperEndIsRun(t *testing.T) {
	ran := 0
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			data, err := scenarios.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := Parse(name+".yaml", data)
			if err != nil && strings.Contains(err.Error(), "unknown protocol") {
				t.Skipf("protocol not linked into this test: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			ran++
			res, err := sc.Run(RunOptions{Trace: true, KeepMessages: true})
			if err != nil {
				t.Fatal(err)
			}
			st := stepper(t, sc, sc.Seed)
			if err := st.StepTo(1 << 40); err != nil {
				t.Fatal(err)
			}
			if !st.End() || uint64(st.Pos()) != res.Events || st.Now() != sc.Duration || res.SimTime != sc.Duration {
				t.Fatalf("end %v at %d (%v); Run processed %d items (%v)", st.End(), st.Pos(), st.Now(), res.Events, res.SimTime)
			}
			if jsonOf(t, st.Trace()) != jsonOf(t, res.Trace) {
				t.Fatal("stepped trace differs from Run's")
			}
			if jsonOf(t, st.Struck()) != jsonOf(t, res.Struck) {
				t.Fatalf("struck %v, Run's %v", st.Struck(), res.Struck)
			}
			// At the end, a step forward stays there.
			if err := st.StepTo(st.Pos() + 1); err != nil || st.Pos() != int(res.Events) {
				t.Fatalf("past the end: %v, at %d", err, st.Pos())
			}
		})
	}
	if ran < 15 {
		t.Fatalf("only %d built-in scenarios stepped", ran)
	}
}

// StepTo(k), back to j < k, then k again: the same trace and states, and
// j reached backwards is j reached forwards.
func TestStepperBackAndForth(t *testing.T) {
	sc := builtin(t, "bully-section4")
	st := stepper(t, sc, sc.Seed)
	if st.Pos() != 0 || st.End() || st.Now() != 0 || len(st.Trace().Events) == 0 {
		t.Fatalf("new stepper at %d, end %v, now %v, %d events", st.Pos(), st.End(), st.Now(), len(st.Trace().Events))
	}
	const j, k = 120, 400
	to(t, st, k)
	atK, lastK := snap(t, st), st.Last()
	if lastK.Kind == "" || lastK.At != st.Now() {
		t.Fatalf("Last at %d: %+v (now %v)", k, lastK, st.Now())
	}
	to(t, st, j)
	atJ := snap(t, st)
	fresh := stepper(t, sc, sc.Seed)
	to(t, fresh, j)
	if snap(t, fresh) != atJ {
		t.Fatal("position j reached backwards differs from j reached forwards")
	}
	to(t, st, k)
	if snap(t, st) != atK || jsonOf(t, st.Last()) != jsonOf(t, lastK) {
		t.Fatal("position k again differs")
	}
	to(t, st, 0)
	if st.Last().Kind != "" || jsonOf(t, st.Trace()) != jsonOf(t, stepper(t, sc, sc.Seed).Trace()) {
		t.Fatalf("position 0: last %+v, %d events", st.Last(), len(st.Trace().Events))
	}
	if err := st.StepTo(-1); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Fatalf("StepTo(-1): %v", err)
	}
}

func status(st *Stepper, id ordo.NodeID) NodeView { return st.States()[id-1] }

func crashAt(tr *trace.Trace, id ordo.NodeID) int {
	for i, e := range tr.Events {
		if e.Kind == trace.Crash && e.Node == id {
			return i
		}
	}
	return -1
}

// An injected crash takes node 2 down at its position and keeps it down;
// going back before it and forward again performs it again, identically.
func TestStepperInjectCrash(t *testing.T) {
	sc := builtin(t, "bully-section4")
	st := stepper(t, sc, sc.Seed)
	const k = 150
	to(t, st, k)
	if v := status(st, 2); v.Status != "up" || v.State == nil {
		t.Fatalf("node 2 before the crash: %+v", v)
	}
	before := len(st.Trace().Events)
	if err := st.Inject("crash 2"); err != nil {
		t.Fatal(err)
	}
	if v := status(st, 2); v.Status != "crashed" || v.State != nil {
		t.Fatalf("node 2 after crash 2: %+v", v)
	}
	if i := crashAt(st.Trace(), 2); i < before {
		t.Fatalf("no crash of node 2 recorded at position %d (index %d)", k, i)
	}
	if st.Pos() != k {
		t.Fatalf("Inject moved the run to %d", st.Pos())
	}
	want := []Injection{{Pos: k, Fault: "crash 2"}}
	if jsonOf(t, st.Injected()) != jsonOf(t, want) {
		t.Fatalf("Injected %v", st.Injected())
	}
	to(t, st, k+150)
	if v := status(st, 2); v.Status != "crashed" {
		t.Fatalf("node 2 later: %+v", v)
	}
	later := snap(t, st)

	to(t, st, k-50) // before the injection: it has not happened, but stays recorded
	if v := status(st, 2); v.Status != "up" {
		t.Fatalf("node 2 before the injection's position: %+v", v)
	}
	if crashAt(st.Trace(), 2) >= 0 {
		t.Fatal("crash of node 2 in the trace before its position")
	}
	if jsonOf(t, st.Injected()) != jsonOf(t, want) {
		t.Fatalf("Injected after stepping back: %v", st.Injected())
	}
	to(t, st, k+150)
	if snap(t, st) != later {
		t.Fatal("forward again past the injection differs")
	}
	to(t, st, k)
	if v := status(st, 2); v.Status != "crashed" {
		t.Fatalf("node 2 at the injection's position: %+v", v)
	}

	// A URL's replay: a new stepper, StepTo and Inject each in turn.
	re := stepper(t, sc, sc.Seed)
	for _, in := range st.Injected() {
		to(t, re, in.Pos)
		if err := re.Inject(in.Fault); err != nil {
			t.Fatal(err)
		}
	}
	to(t, re, k+150)
	if snap(t, re) != later {
		t.Fatal("replayed injections differ")
	}

	// SetSeed: a new run from 0, injections dropped.
	if err := st.SetSeed(sc.Seed + 1); err != nil {
		t.Fatal(err)
	}
	if st.Pos() != 0 || len(st.Injected()) != 0 || st.Seed() != sc.Seed+1 || st.Trace().Meta.Seed != sc.Seed+1 {
		t.Fatalf("after SetSeed: at %d, %d injections, seed %d", st.Pos(), len(st.Injected()), st.Trace().Meta.Seed)
	}
}

// Two injections at one position keep their order, and one at an earlier
// position, made after stepping back, goes before the later ones.
func TestStepperInjectOrder(t *testing.T) {
	sc := builtin(t, "leader-crash-raft")
	st := stepper(t, sc, sc.Seed)
	to(t, st, 200)
	for _, f := range []string{"partition 1,2/3,4,5", "heal"} {
		if err := st.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	to(t, st, 50)
	if err := st.Inject("pause 3 for 200ms"); err != nil {
		t.Fatal(err)
	}
	want := []Injection{{50, "pause 3 for 200ms", nil}, {200, "partition 1,2/3,4,5", nil}, {200, "heal", nil}}
	if jsonOf(t, st.Injected()) != jsonOf(t, want) {
		t.Fatalf("Injected %v", st.Injected())
	}
	if v := status(st, 3); v.Status != "paused" {
		t.Fatalf("node 3: %+v", v)
	}
	to(t, st, 300)
	a := snap(t, st)
	to(t, st, 10)
	to(t, st, 300)
	if snap(t, st) != a {
		t.Fatal("three injections: back and forth differs")
	}
	var names []string
	for _, e := range st.Trace().Events {
		if e.Kind == trace.Fault {
			names = append(names, e.Name)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "partition heal") {
		t.Fatalf("fault events %v: want partition then heal", names)
	}
}

// Every spelling the scenario files have, injected.
func TestStepperInjectSpellings(t *testing.T) {
	sc := builtin(t, "leader-crash-raft")
	for _, f := range []string{
		"crash 2", "crash: 2", "{crash: 2}", " restart   2 ", "crash leader", "pause leader for 1s",
		"{pause: 2, for: 1s}", "resume 2", "partition 1,2/3,4,5", "cut 1,2->3", "bridge 1,2/4,5 via 3",
		"heal", "heal true", "clock_jump 3 by -2s", "link 1->2 loss 0.5 latency lan", "link: 2<->3, loss: 1",
	} {
		st := stepper(t, sc, sc.Seed)
		to(t, st, 150)
		n := len(st.Trace().Events)
		if err := st.Inject(f); err != nil {
			t.Errorf("Inject(%q): %v", f, err)
			continue
		}
		to(t, st, 300)
		a := snap(t, st)
		to(t, st, 100)
		to(t, st, 300)
		if snap(t, st) != a {
			t.Errorf("Inject(%q): back and forth differs", f)
		}
		_ = n
	}
	// crash leader then restart leader: the node the crash struck.
	st := stepper(t, sc, sc.Seed)
	to(t, st, 400)
	for _, f := range []string{"crash leader", "restart leader"} {
		if err := st.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	x := st.Struck()
	if len(x) < 2 || x[len(x)-1].Node != x[len(x)-2].Node {
		t.Fatalf("struck %v: restart leader should restart the crashed leader", x)
	}
}

// Bad fault text gets the parser's error naming the problem; a fault the
// cluster refuses leaves the run as it was.
func TestStepperInjectErrors(t *testing.T) {
	sc := builtin(t, "bully-section4")
	st := stepper(t, sc, sc.Seed)
	to(t, st, 100)
	before := snap(t, st)
	for _, c := range []struct{ in, want string }{
		{"", "empty fault"},
		{"   ", "empty fault"},
		{"explode 2", `unknown fault kind "explode"`},
		{"crash 9", "node 9 out of range"},
		{"crash", "a crash needs its value"},
		{"crash two", "two"},
		{"crash 2 3", `"3" is one too many`},
		{"partition 1,2", "at least two groups"},
		{"partition 1,2/3", "missing"},
		{"pause 2 for", "for needs a value"},
		{"pause 2 for soon", "bad duration"},
		{"pause 2 until 1s", "has no field"},
		{"crash: 2, at: 1s", "leave out at"},
		{"crash: [", "YAML syntax"},
		{"heal false", "heal: true"},
		{"resume leader", "names its node by number"},
		{"fail_sync 2", "disk model"},
		{"crash 2\ncrash 3", "one fault on one line"},
		{"join 2", "already a member"},
	} {
		err := st.Inject(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Inject(%q): %v, want an error with %q", c.in, err, c.want)
		}
	}
	if len(st.Injected()) != 0 || st.Pos() != 100 || snap(t, st) != before {
		t.Fatalf("refused injections changed the run: %d recorded, at %d", len(st.Injected()), st.Pos())
	}
	if _, err := NewStepper(nil, 1); err == nil {
		t.Error("NewStepper(nil) gave no error")
	}
}

// The parser's error locates the problem in the text.
func TestStepperInjectErrorColumn(t *testing.T) {
	sc := builtin(t, "bully-section4")
	_, err := sc.parseInjected("crash 9", time.Second)
	if err == nil || !strings.HasPrefix(err.Error(), "injected fault:1:7:") {
		t.Fatalf("error %v: want it located at injected fault:1:7", err)
	}
}

// Every protocol with a StateReporter shows its state as a JSON object
// with its fields, at every step, and reading it changes nothing.
func TestStateReportersMarshal(t *testing.T) {
	for _, c := range []struct {
		scenario string
		fields   []string // every server's state has them
	}{
		{"bully-section4", []string{"role", "leader", "term", "epoch", "electing", "elections"}},
		{"ring-section4", []string{"role", "leader", "term", "participating", "pending_hops"}},
		{"leader-crash-raft", []string{"role", "term", "voted_for", "leader", "log_length", "commit", "applied", "voters"}},
		{"broadcast-lossy", []string{"sender", "received"}},
	} {
		t.Run(c.scenario, func(t *testing.T) {
			sc := builtin(t, c.scenario)
			st := stepper(t, sc, sc.Seed)
			seen := map[string]bool{}
			for i := 0; !st.End() && i < 3000; i++ {
				to(t, st, st.Pos()+1)
				for _, v := range st.States() {
					if v.Role != "server" || v.Status == "crashed" || v.Status == "absent" {
						continue
					}
					if v.State == nil {
						t.Fatalf("step %d: server %d has no state: %+v", st.Pos(), v.ID, v)
					}
					b, err := json.Marshal(v.State)
					if err != nil {
						t.Fatalf("node %d: %v", v.ID, err)
					}
					var m map[string]any
					if err := json.Unmarshal(b, &m); err != nil {
						t.Fatalf("node %d: %s is no JSON object: %v", v.ID, b, err)
					}
					for _, f := range c.fields {
						if _, ok := m[f]; !ok {
							t.Fatalf("node %d: %s has no %q", v.ID, b, f)
						}
					}
					seen[string(b)] = true
				}
			}
			if len(seen) < 2 {
				t.Fatalf("the state never changed: %v", seen)
			}
			// The same positions, never reading State: the same trace.
			plain := stepper(t, sc, sc.Seed)
			to(t, plain, st.Pos())
			if jsonOf(t, plain.Trace()) != jsonOf(t, st.Trace()) {
				t.Fatal("reading states changed the run")
			}
			if _, err := json.Marshal(st.States()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A fault injected at the end happens at the scenario's duration and is
// performed again there after stepping back.
func TestStepperInjectAtEnd(t *testing.T) {
	sc := builtin(t, "bully-section4")
	st := stepper(t, sc, sc.Seed)
	if err := st.StepTo(1 << 40); err != nil || !st.End() {
		t.Fatalf("to the end: %v, end %v", err, st.End())
	}
	end := st.Pos()
	if v := status(st, 5); v.Status != "crashed" {
		t.Fatalf("node 5 at the end: %+v", v)
	}
	if err := st.Inject("restart 5"); err != nil {
		t.Fatal(err)
	}
	if v := status(st, 5); v.Status != "up" || v.State == nil || st.Now() != sc.Duration {
		t.Fatalf("node 5 after restart 5 at the end: %+v, now %v", v, st.Now())
	}
	if !st.End() {
		t.Fatal("a restart at the end scheduled an item due by the end")
	}
	a := snap(t, st)
	to(t, st, end/2)
	if err := st.StepTo(end + 10); err != nil || st.Pos() != end {
		t.Fatalf("to the end again: %v, at %d, want %d", err, st.Pos(), end)
	}
	if snap(t, st) != a {
		t.Fatal("the end after an injection there differs")
	}
}

// A link fault changes only the fields it names, on the link as it stands
// when it fires: a file's link fault after an injected one keeps what the
// injection set (both resolve through one mechanism, linkSpec.apply).
func TestLinkFaultsComposeWithInjections(t *testing.T) {
	src := "name: links\nprotocol: raft\nnodes: 3\nduration: 3s\nseed: 1\nnetwork: {latency: lan}\n" +
		"faults:\n  - {at: 2s, link: \"1->2\", loss: 0.5}\n"
	sc, err := Parse("links.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st := stepper(t, sc, 1)
	to(t, st, 5)
	if err := st.Inject("link 1->2 latency intercontinental"); err != nil {
		t.Fatal(err)
	}
	if err := st.StepTo(1 << 40); err != nil || !st.End() { // past the file's fault at 2s
		t.Fatalf("to the end: %v", err)
	}
	l := st.r.s.Link(1, 2)
	if l.Loss != 0.5 || l.Latency != sim.Presets["intercontinental"] {
		t.Fatalf("link 1->2 after both faults: loss %v latency %+v; want the file's loss and the injected latency", l.Loss, l.Latency)
	}
	if other := st.r.s.Link(2, 1); other.Loss != 0 || other.Latency != sim.Presets["lan"] {
		t.Fatalf("link 2->1 changed: %+v", other)
	}
}
