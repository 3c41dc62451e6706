package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ordo"
	_ "ordo/agreement/naive"
	"ordo/check"
	"ordo/election"
	_ "ordo/election/raft"
	"ordo/fault"
	"ordo/scenario"
	"ordo/scenarios"
	"ordo/trace"
)

func loadBuiltin(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	data, err := scenarios.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("scenarios/"+name+".yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Reference: section 5, the split {1,2} | {3,4,5} (scenarios/
// partition-raft.yaml). One fault model, two interpreters: the same file
// run in the simulator and on five real processes gives the same verdict
// for every check (timings differ; verdicts must not).
func TestLiveScenarioVerdictsMatchSim_PartitionRaft(t *testing.T) {
	bin := buildOrdo(t)
	sc := loadBuiltin(t, "partition-raft")
	simRes, err := sc.Run(scenario.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveRes, err := RunScenario(sc, ScenarioOptions{Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if len(liveRes.Applied) != 2 || liveRes.Applied[0].Fault.Kind != fault.Partition || liveRes.Applied[1].Fault.Kind != fault.Heal {
		t.Fatalf("applied %+v, want the file's partition then heal", liveRes.Applied)
	}
	if len(simRes.Checks) != len(sc.Checks) || len(liveRes.Checks) != len(sc.Checks) {
		t.Fatalf("checks: sim %d, live %d, file %d", len(simRes.Checks), len(liveRes.Checks), len(sc.Checks))
	}
	for i, s := range simRes.Checks {
		l := liveRes.Checks[i]
		t.Logf("%-20s sim %-5s (%s) | live %-5s (%s)", s.Check, s.Verdict, s.Summary, l.Verdict, l.Summary)
		if s.Check != l.Check || s.Verdict != l.Verdict {
			t.Errorf("%s: sim says %s, live says %s (%s); trace %s", s.Check, s.Verdict, l.Verdict, l.Summary, liveRes.Trace)
		}
	}
	if len(liveRes.Unmet) != len(simRes.Unmet) {
		t.Errorf("unmet expectations: sim %v, live %v", simRes.Unmet, liveRes.Unmet)
	}
	// The fault log says what the checkers read: the partition and the heal.
	b, err := os.ReadFile(filepath.Join(liveRes.Dir, FaultsFileName))
	if err != nil || !strings.Contains(string(b), `"partition"`) || !strings.Contains(string(b), `"heal"`) {
		t.Errorf("fault log without the partition and heal (%v):\n%s", err, b)
	}
	if tr, err := trace.ReadFile(liveRes.Trace); err != nil || tr.Meta.Scenario != sc.Name {
		t.Errorf("merged trace of the run: %v, want scenario %q in its metadata", err, sc.Name)
	}
	// And merged again from its directory (ordo trace merge): the cluster
	// the run made is named for the scenario too (it was "local").
	if c, err := Open(liveRes.Dir); err != nil {
		t.Error(err)
	} else if tr, err := Merge(c.Cfg); err != nil || tr.Meta.Scenario != sc.Name {
		t.Errorf("the run's directory merged again: %v, want scenario %q in its metadata", err, sc.Name)
	}
}

// A run's merged trace is named for its scenario, as the simulator's is:
// it said "scenario":"local", the name of the cluster the run made.
func TestRunTraceNamedForItsScenario(t *testing.T) {
	sc := loadBuiltin(t, "partition-raft")
	merged := &trace.Trace{Meta: trace.Meta{Runtime: "live", Nodes: 5, Scenario: "local"}}
	merged.Append(trace.Event{Kind: trace.Note, Node: 1, T: 1, Name: "in"})
	merged.Append(trace.Event{Kind: trace.Note, Node: 1, T: 3, Name: "after the end"})
	tr := runTrace(sc, merged, 2)
	if tr.Meta.Scenario != "partition-raft" || len(tr.Events) != 1 {
		t.Fatalf("meta %+v, %d events; want scenario partition-raft and the one event before the end", tr.Meta, len(tr.Events))
	}
}

// What the live cluster cannot do is refused at load, with the line.
func TestLiveScenarioRefusesWhatItCannotDo(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"faults:\n  - {at: 1s, link: \"1->2\", loss: 0.5}\n", ":9: cannot run live: fault \"link 1->2\""},
		{"faults:\n  - {at: 1s, join: 2}\n", "join"},
		{"disk: {sync_latency: 1ms}\nfaults:\n  - {at: 1s, disk_full: 2}\n", "disk-full"},
		{"nemesis: {crash: 0.5}\n", "nemesis"},
		{"network: {latency: lan, bandwidth: 1MB/s}\n", "bandwidth"},
	} {
		src := "name: x\nprotocol: raft\nnodes: 3\nduration: 2s\nchecks: [single-leader]\nexpect: {single-leader: pass}\nseed: 1\n" + c.yaml
		sc, err := scenario.Parse("x.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		_, err = CheckScenario(sc)
		if err == nil || !strings.Contains(err.Error(), c.want) || !ErrLive(err) {
			t.Errorf("%q: err %v, want one naming %q", c.yaml, err, c.want)
		}
	}
	// A protocol for the simulator only is refused by name.
	if _, err := CheckScenario(loadBuiltin(t, "byzantine-section5-honest")); err == nil || !strings.Contains(err.Error(), "simulator only") {
		t.Errorf("byzantine-section5-honest: %v, want a refusal of a simulator-only protocol", err)
	}
	// And what it can do is accepted.
	sc := loadBuiltin(t, "partition-raft")
	if _, err := CheckScenario(sc); err != nil {
		t.Errorf("partition-raft refused: %v", err)
	}
	// A liar runs live, switched on before the clients start, and the
	// notes say so.
	sc, err := scenario.Parse("x.yaml", []byte("name: x\nprotocol: raft\nnodes: 3\nduration: 2s\nbyzantine: [{node: 1, behaviour: silent}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if notes, err := CheckScenario(sc); err != nil || !strings.Contains(strings.Join(notes, "\n"), "n1 lies (silent)") {
		t.Errorf("a liar live: notes %q, err %v; want a note that n1 lies", notes, err)
	}
	// Signed links run live over TLS, and the notes say so.
	sc, err = scenario.Parse("x.yaml", []byte("name: x\nprotocol: raft\nnodes: 3\nduration: 2s\nnetwork: {authenticated: true, auth: ed25519}\n"))
	if err != nil {
		t.Fatal(err)
	}
	notes, err := CheckScenario(sc)
	if err != nil || !strings.Contains(strings.Join(notes, "\n"), "mutual TLS") {
		t.Errorf("auth ed25519 live: notes %q, err %v; want a note that links are TLS", notes, err)
	}
}

// Reference: section 5, "a process pause" (Kleppmann's GC pause) and
// fencing. A Raft leader frozen by SIGSTOP for longer than its lease is
// replaced; when it wakes up it still believes it leads, learns the
// higher term from the first reply and steps down. Nothing it did under
// its old term after the others moved on was acknowledged: every server
// that received its messages after the resume had already noted a higher
// term (so it refused them), and the checkers find no split brain.
func TestLivePausedLeaderResumesAndStepsDown(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 5, false)
	old, oldTerm, err := c.WaitSteady(10*time.Second, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(fault.Fault{Kind: fault.Pause, Node: old}); err != nil {
		t.Fatal(err)
	}
	var others []ordo.NodeID
	for _, id := range c.Servers() {
		if id != old {
			others = append(others, id)
		}
	}
	nl, newTerm, err := c.WaitLeader(oldTerm, others, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Every other server has moved on (a straggler still at the old term
	// could take an old heartbeat, legitimately, before it hears the new
	// leader); then the old leader wakes up.
	for deadline := time.Now().Add(10 * time.Second); ; {
		moved := 0
		for _, id := range others {
			if s, err := c.Status(id); err == nil && s.Term >= newTerm {
				moved++
			}
		}
		if moved == len(others) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %v reached term %d within 10s", moved, others, newTerm)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.Apply(fault.Fault{Kind: fault.Resume, Node: old}); err != nil {
		t.Fatal(err)
	}
	var s Status
	waitFor(t, 10*time.Second, func() bool {
		s, err = c.Status(old)
		return err == nil && s.Term >= int64(newTerm) && s.Role != election.NoteLeader
	}, func() string {
		return fmt.Sprintf("n%d did not learn term ≥ %d after its resume (status %+v, %v)", old, newTerm, s, err)
	})
	dir := c.Dir
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	tr.WriteFile(filepath.Join(dir, "merged.jsonl"))

	// The node bracketed its pause in its own trace, and did nothing in
	// between.
	paused, resumed := -1, -1
	for i, e := range tr.Events {
		if e.Node != old || !e.Kind.Stamped() {
			continue
		}
		switch {
		case e.Kind == trace.Pause:
			paused = i
		case e.Kind == trace.Resume:
			resumed = i
		case paused >= 0 && resumed < 0:
			t.Fatalf("e%d: n%d acted while paused: %+v", i, old, e)
		}
	}
	if paused < 0 || resumed < paused {
		t.Fatalf("no pause/resume of n%d in the trace (pause e%d, resume e%d)", old, paused, resumed)
	}
	// After the resume: each server's noted term, and what reached them
	// from the old leader before it stepped down.
	term := map[ordo.NodeID]int64{}
	steppedDown, learned := false, false
	sentAfter := map[uint64]bool{}
	for i, e := range tr.Events {
		if e.Kind == trace.Note {
			if v, ok := election.ReadNote(e.Node, e.Name, e.Attrs); ok {
				term[e.Node] = max(term[e.Node], int64(v.Term))
				if i > resumed && e.Node == old {
					if v.Role == election.Leader {
						t.Errorf("e%d: n%d leads again after its resume in term %d", i, old, v.Term)
					}
					steppedDown = true
					learned = learned || int64(v.Term) >= newTerm
				}
			}
		}
		if i <= resumed {
			continue
		}
		if e.Kind == trace.Send && e.Node == old && !steppedDown {
			sentAfter[e.Msg] = true
		}
		if e.Kind == trace.Recv && sentAfter[e.Msg] && term[e.Node] <= int64(oldTerm) {
			t.Errorf("e%d: n%d took n%d's %s of its old term %d while itself at term %d: acknowledged", i, e.Node, old, e.MsgKind, oldTerm, term[e.Node])
		}
	}
	if !steppedDown || !learned {
		t.Errorf("n%d after its resume: stepped down %v, learned term ≥ %d %v", old, steppedDown, newTerm, learned)
	}
	t.Logf("n%d led term %d, paused; n%d led term %d; n%d resumed, sent %d messages under its old term before stepping down, none acknowledged", old, oldTerm, nl, newTerm, old, len(sentAfter))
	res, err := check.Run(tr, []string{"single-leader", "one-leader-per-term", "fencing", "stale-leader"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%s %s: %s", r.Check, r.Verdict, r.Summary)
		// stale-leader too: the resumed leader checks its lease on its
		// monotonic clock before it speaks, so it yields without acting.
		if r.Verdict != check.Pass {
			t.Errorf("%s: %s (%s); trace %s", r.Check, r.Verdict, r.Summary, filepath.Join(dir, "merged.jsonl"))
		}
	}
}
