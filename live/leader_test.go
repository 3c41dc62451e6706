package live

import (
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/scenario"
	"ordo/trace"
)

// The live leader rule (the simulator's, scenario.Leader): of the servers
// that answer as leader, the highest term, then the lowest id; paused,
// down, client and service nodes never; None when no server leads.
func TestLeaderOfView(t *testing.T) {
	srv := func(id ordo.NodeID, role string, term int64) NodeView {
		return NodeView{ID: id, Kind: ordo.Server.String(), Up: true, Status: &Status{ID: id, Role: role, Term: term}}
	}
	for _, c := range []struct {
		name string
		view []NodeView
		want ordo.NodeID
	}{
		{"one leader", []NodeView{srv(1, "follower", 3), srv(2, "leader", 3), srv(3, "follower", 3)}, 2},
		{"split brain: the newer term", []NodeView{srv(1, "leader", 3), srv(2, "leader", 5), srv(3, "follower", 5)}, 2},
		{"equal terms: the lower id", []NodeView{srv(1, "follower", 4), srv(2, "leader", 4), srv(3, "leader", 4)}, 2},
		{"none", []NodeView{srv(1, "candidate", 4), srv(2, "follower", 4)}, ordo.None},
		{"paused or down leads nothing", []NodeView{{ID: 1, Kind: "server", Paused: true, Err: "paused"}, {ID: 2, Kind: "server", Status: &Status{Role: "leader", Term: 9}}, srv(3, "follower", 9)}, ordo.None},
		{"not a server", []NodeView{srv(1, "follower", 1), {ID: 2, Kind: ordo.Client.String(), Up: true, Status: &Status{Role: "leader", Term: 7}}}, ordo.None},
	} {
		if got := leaderOf(c.view); got != c.want {
			t.Errorf("%s: leader %d, want %d", c.name, got, c.want)
		}
	}
}

// Section 4's "the leader fails" on real processes: `pause: leader`
// strikes whichever server leads when it fires (not a number chosen for
// the simulator's seed), its resume strikes the same node, and the fault
// log names it for the merged trace.
func TestLiveScenarioPausesTheLeader(t *testing.T) {
	bin := buildOrdo(t)
	src := "name: live-pause-leader\nprotocol: raft\nnodes: 3\nduration: 5s\nnetwork: {latency: lan}\n" +
		"faults:\n  - {at: 2500ms, pause: leader, for: 1s}\n" +
		"checks: [single-leader]\n"
	sc, err := scenario.Parse("live-pause-leader.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunScenario(sc, ScenarioOptions{Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 2 {
		t.Fatalf("applied %+v, want a pause and a resume", res.Applied)
	}
	p, r := res.Applied[0], res.Applied[1]
	if !p.Leader || !r.Leader || p.Skipped || p.Fault.Node == ordo.None || r.Fault.Node != p.Fault.Node {
		t.Fatalf("applied %+v, want the pause and resume of one leader", res.Applied)
	}
	leader := p.Fault.Node
	tr, err := trace.ReadFile(res.Trace)
	if err != nil {
		t.Fatal(err)
	}
	// The struck node's last role note before its pause says it led, and
	// the fault log names it.
	role, named := "", false
	for _, e := range tr.Events {
		if e.Kind == trace.Pause && e.Node == leader {
			break
		}
		if e.Kind == trace.Note && e.Node == leader {
			if v, ok := election.ReadNote(e.Node, e.Name, e.Attrs); ok {
				role = v.Role.String()
			}
		}
		if e.Kind == trace.Fault && e.Name == "leader-fault" {
			n, _ := e.Attrs.Int("node")
			named = ordo.NodeID(n) == leader
		}
	}
	if role != "leader" || !named {
		t.Fatalf("n%d struck: its last role before the pause %q, named by a leader-fault event %v; trace %s", leader, role, named, res.Trace)
	}
	// The verdicts are timing's (a loaded host can delay the deposed
	// leader's step-down): logged, not asserted here.
	t.Logf("checks %v, unmet %v", res.Checks, res.Unmet)
	t.Logf("struck n%d at %v", leader, p.Done.Round(time.Millisecond))
}
