package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"ordo/sim"
	"time"

	"ordo"
	"ordo/fault"
	"ordo/trace"
)

const leaderBase = "name: l\nprotocol: raft\nnodes: 5\nduration: 6s\nnetwork: {latency: lan}\n"

// A single-node fault may name `leader`: it parses with no node, a
// description that says leader, and a Spec naming node None for the live
// runtime to resolve, its pause and resume in one entry.
func TestParseLeaderTargets(t *testing.T) {
	src := leaderBase + "disk: {sync_latency: 1ms}\nfaults:\n" +
		"  - {at: 3s, pause: leader, for: 1s}\n" +
		"  - {at: 1s, crash: leader}\n" +
		"  - {at: 2s, clock_jump: leader, by: -2s}\n" +
		"  - {at: 2s, fail_sync: leader}\n" +
		"  - {at: 4s, crash: 3}\n"
	sc, err := Parse("l.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		desc   string
		leader bool
	}{{"crash leader", true}, {"clock_jump leader by -2s", true}, {"fail_sync leader", true}, {"pause leader for 1s", true}, {"crash 3", false}}
	if len(sc.Faults) != len(want) {
		t.Fatalf("%d faults, want %d", len(sc.Faults), len(want))
	}
	for i, w := range want {
		f := sc.Faults[i]
		if f.Desc != w.desc || f.Leader != w.leader {
			t.Errorf("fault %d: %q leader=%v, want %q leader=%v", i, f.Desc, f.Leader, w.desc, w.leader)
		}
		if f.Leader && (f.apply != nil || f.strike == nil) {
			t.Errorf("fault %d (%s): a leader fault is struck, not applied", i, f.Desc)
		}
		for _, x := range f.Spec {
			if f.Leader != (x.Node == ordo.None) {
				t.Errorf("fault %d (%s): spec %v names node %d", i, f.Desc, x, x.Node)
			}
		}
	}
	steps, without := sc.Steps()
	if len(without) != 0 {
		t.Fatalf("faults without a spec: %+v", without)
	}
	var pause []Step
	for _, st := range steps {
		if st.Entry == 3 {
			pause = append(pause, st)
		}
	}
	if len(pause) != 2 || pause[0].Kind != fault.Pause || pause[1].Kind != fault.Resume || !pause[0].Leader || !pause[1].Leader ||
		pause[0].At != 3*time.Second || pause[1].At != 4*time.Second {
		t.Fatalf("pause leader for 1s: steps %+v, want a pause at 3s and a resume at 4s of one leader entry", pause)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i].At < steps[i-1].At {
			t.Fatalf("steps out of time order: %+v", steps)
		}
	}
}

// `leader` is refused where it would be ambiguous or is misspelt, with an
// error at the entry that says what to write.
func TestParseLeaderErrors(t *testing.T) {
	for _, c := range []struct{ entry, want string }{
		{"{at: 2s, restart: leader}", "restart: leader restarts the node the latest crash: leader before it struck, and there is none before 2s"},
		{"{at: 2s, restart: leader}\n  - {at: 3s, crash: leader}", "there is none before 2s"},
		{"{at: 2s, crash: 1}\n  - {at: 3s, restart: leader}", "there is none before 3s"},
		{"{at: 2s, resume: leader}", "a resume names its node by number"},
		{"{at: 2s, join: leader}", "a join names its node by number"},
		{"{at: 2s, leave: leader}", "a leave names its node by number"},
		{"{at: 2s, pause: Leader}", "write leader in lower case"},
		{"{at: 2s, crash: leaders}", `want a node number or leader, got "leaders"`},
		{"{at: 2s, crash: \"\"}", `want a node number or leader, got ""`},
		{"{at: 2s, pause: [leader]}", "want an integer"},
		{"{at: 2s, partition: leader}", "a partition needs at least two groups"},
		{"{at: 2s, crash: 6}", "node 6 out of range"},
	} {
		src := leaderBase + "faults:\n  - " + c.entry + "\n"
		_, err := Parse("e.yaml", []byte(src))
		var pe *Error
		line := 7
		if strings.Contains(c.entry, "crash: 1") {
			line = 8 // the restart's line
		}
		if err == nil || !errors.As(err, &pe) || pe.Line != line || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error at line %d containing %q", c.entry, err, line, c.want)
		}
	}
}

// pausedLeaderRun runs `pause: leader` under seed and returns the node
// struck and the trace.
func pausedLeaderRun(t *testing.T, seed uint64) (ordo.NodeID, *trace.Trace) {
	t.Helper()
	src := leaderBase + fmt.Sprintf("seed: %d\n", seed) + "faults:\n  - {at: 2s, pause: leader, for: 1s}\n"
	sc, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Struck) != 1 || r.Struck[0].At != 2*time.Second || r.Struck[0].Node == ordo.None {
		t.Fatalf("seed %d: struck %+v, want one strike at 2s (replay: ordo sim with seed %d)", seed, r.Struck, seed)
	}
	return r.Struck[0].Node, r.Trace
}

// roleAt is each server's role by its last role note before t (the
// election package's notes: leader, follower, candidate) and the term it
// gave, as the trace tells it (not the simulator's Leader).
func roleAt(tr *trace.Trace, t time.Duration) map[ordo.NodeID]string {
	role := map[ordo.NodeID]string{}
	for _, e := range tr.Events {
		if e.T >= int64(t) {
			break
		}
		switch {
		case e.Kind == trace.Note && (e.Name == "leader" || e.Name == "follower" || e.Name == "candidate"):
			role[e.Node] = e.Name
		case e.Kind == trace.Crash:
			role[e.Node] = "down"
		}
	}
	return role
}

// `pause: leader` strikes the server that leads when it fires, whichever
// that is: two seeds whose elections pick different leaders pause
// different nodes, each the one the trace shows leading at 2s, and the
// trace names it (a leader-fault event, the node's pause and resume).
func TestPauseLeaderStrikesCurrentLeader(t *testing.T) {
	struck := map[ordo.NodeID]uint64{}
	for seed := uint64(1); seed <= 12 && len(struck) < 2; seed++ {
		id, tr := pausedLeaderRun(t, seed)
		roles := roleAt(tr, 2*time.Second)
		leaders := 0
		for _, r := range roles {
			if r == "leader" {
				leaders++
			}
		}
		if roles[id] != "leader" || leaders != 1 {
			t.Fatalf("seed %d: struck node %d, but the trace's roles at 2s are %v", seed, id, roles)
		}
		var named, paused, resumed bool
		for _, e := range tr.Events {
			switch {
			case e.Kind == trace.Fault && e.Name == "leader-fault":
				n, _ := e.Attrs.Int("node")
				named = ordo.NodeID(n) == id && e.T == int64(2*time.Second)
			case e.Kind == trace.Pause && e.Node == id:
				paused = e.T == int64(2*time.Second)
			case e.Kind == trace.Resume && e.Node == id:
				resumed = e.T == int64(3*time.Second)
			case e.Kind == trace.Pause:
				t.Fatalf("seed %d: node %d paused, not the leader %d", seed, e.Node, id)
			}
		}
		if !named || !paused || !resumed {
			t.Fatalf("seed %d: trace: leader-fault naming %d %v, its pause at 2s %v, resume at 3s %v", seed, id, named, paused, resumed)
		}
		if _, ok := struck[id]; !ok {
			struck[id] = seed
		}
	}
	if len(struck) < 2 {
		t.Fatalf("seeds 1..12 all struck the same leader %v: the test shows nothing", struck)
	}
	t.Logf("leaders struck by seed: %v", struck)
}

// A fault aimed at the leader when no server leads is skipped, and the
// run says so (Struck with node None, a leader-fault-skipped event).
func TestLeaderFaultSkippedWithoutLeader(t *testing.T) {
	// At 0s nobody has been elected yet.
	src := leaderBase + "faults:\n  - {at: 0s, crash: leader}\n"
	sc, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Struck) != 1 || r.Struck[0].Node != ordo.None || !strings.Contains(r.Struck[0].String(), "skipped, no server led") {
		t.Fatalf("struck %+v, want one skipped", r.Struck)
	}
	skipped := false
	for _, e := range r.Trace.Events {
		if e.Kind == trace.Crash {
			t.Fatalf("node %d crashed: a skipped fault strikes nothing", e.Node)
		}
		skipped = skipped || e.Kind == trace.Fault && e.Name == "leader-fault-skipped"
	}
	if !skipped {
		t.Fatal("no leader-fault-skipped event in the trace")
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "0s crash leader: skipped, no server led") {
		t.Fatalf("report does not say the fault was skipped:\n%s", b.String())
	}
}

// restart: leader restarts the node the latest crash: leader before it
// struck (the old leader comes back), in the simulator and in the steps
// the live runtime resolves.
func TestRestartLeaderFollowsItsCrash(t *testing.T) {
	src := leaderBase + "seed: 2\nfaults:\n  - {at: 2s, crash: leader}\n  - {at: 3s, restart: leader}\n  - {at: 4s, crash: leader}\n  - {at: 5s, restart: leader}\n"
	sc, err := Parse("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f := sc.Faults; f[1].follows != 0 || f[3].follows != 2 || f[0].follows != -1 {
		t.Fatalf("follows: %d %d %d %d, want -1 0 -1 2", f[0].follows, f[1].follows, f[2].follows, f[3].follows)
	}
	steps, _ := sc.Steps()
	if steps[1].Entry != 0 || steps[3].Entry != 2 || !steps[1].Leader || steps[1].Node != ordo.None {
		t.Fatalf("steps %+v: a restart: leader carries its crash's entry", steps)
	}
	r, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Struck) != 4 {
		t.Fatalf("struck %+v", r.Struck)
	}
	first, second := r.Struck[0].Node, r.Struck[2].Node
	if first == ordo.None || second == ordo.None || r.Struck[1].Node != first || r.Struck[3].Node != second {
		t.Fatalf("struck %+v: each restart must strike its crash's node", r.Struck)
	}
	if first == second {
		t.Fatalf("struck %+v: the second crash: leader struck the restarted old leader, not the new one", r.Struck)
	}
	// The trace agrees: the crashes and restarts of those nodes, at those
	// times, and nothing else.
	var got []string
	for _, e := range r.Trace.Events {
		if e.Kind == trace.Crash || e.Kind == trace.Restart {
			got = append(got, fmt.Sprintf("%v %v n%d", time.Duration(e.T), e.Kind, e.Node))
		}
	}
	want := []string{
		fmt.Sprintf("2s %v n%d", trace.Crash, first), fmt.Sprintf("3s %v n%d", trace.Restart, first),
		fmt.Sprintf("4s %v n%d", trace.Crash, second), fmt.Sprintf("5s %v n%d", trace.Restart, second),
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("trace: %v, want %v", got, want)
	}
}

// A restart of a node no earlier fault crashed crashes it first: a file
// meant to bring a node back that names another gets a warning with the
// line (a fresh user's trial wrote one with more faults than it meant).
// None for a restart after its crash, nor when crashes are random or aimed
// at the leader (the file does not say which node is down).
func TestRestartOfARunningNodeIsWarned(t *testing.T) {
	head := "name: w\nprotocol: raft\nnodes: 3\nduration: 5s\n"
	for _, c := range []struct {
		faults string
		want   string
	}{
		{"faults:\n  - {at: 1s, crash: 1}\n  - {at: 2s, restart: 1}\n  - {at: 3s, restart: 2}\n", "w.yaml:8: restart: 2 at 3s: no fault before crashed node 2"},
		{"faults:\n  - {at: 1s, crash: 1}\n  - {at: 2s, restart: 1}\n", ""},
		{"faults:\n  - {at: 1s, crash: 1}\n  - {at: 2s, restart: 1}\n  - {at: 3s, restart: 1}\n", "w.yaml:8: restart: 1 at 3s"},
		{"faults:\n  - {at: 1s, crash: leader}\n  - {at: 3s, restart: 2}\n", ""},
		{"nemesis: {crash: 0.5}\nfaults:\n  - {at: 3s, restart: 2}\n", ""},
	} {
		sc, err := Parse("w.yaml", []byte(head+c.faults))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(sc.Warnings(), "\n")
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%s: warnings %q, want %q", c.faults, got, c.want)
		}
	}
}

// The reliable-network fallacy counts what the network lost, naming a
// silent liar's withheld messages apart (they were counted as lost).
func TestReliableEvidenceSeparatesWithheld(t *testing.T) {
	r := &Result{Stats: &sim.Stats{Dropped: 1378, ByzantineBy: map[sim.Behaviour]int{sim.Silent: 996}}}
	if got := r.evidence(sim.FallacyReliable); got != ": 382 messages lost (and 996 withheld by silent liars)" {
		t.Fatalf("%q", got)
	}
	r = &Result{Stats: &sim.Stats{Dropped: 5}}
	if got := r.evidence(sim.FallacyReliable); got != ": 5 messages lost" {
		t.Fatalf("%q", got)
	}
}
