package live

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/fault"
	_ "ordo/register" // the servers and clients of the test
	"ordo/trace"
)

// Reference: section 5 (partial failure) and the durability contract of
// storage v2. Three register servers take a steady stream of writes from
// a client; server 1 is killed with SIGKILL while its store file is
// growing, three times, and must restart cleanly each time (a torn last
// record is cut, never a refusal to start); then server 2's disk fails an
// fsync and the node stops (fail-stop) with the failure in its log and
// trace; server 3's clock is stepped through its admin endpoint, which
// changes its clock and not the machine's.
func TestLiveKillDuringWriteFsyncFailAndClockStep(t *testing.T) {
	bin := buildOrdo(t)
	c, err := Up(UpOptions{N: 3, Clients: 1, Protocol: "register", Dir: t.TempDir(), Binary: bin, Insecure: true, Seed: 1, LogLevel: "info",
		ClientOptions: map[string]string{"ops": "0", "think": "2ms", "reads": "0", "concurrency": "4"}, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	store := func(id int) string { return filepath.Join(c.Dir, fmt.Sprintf("node%d", id), "store", StoreFileName) }
	// The store writes over zeros written ahead of it (its file does not
	// grow with each write): a write shows in the file's mtime.
	written := func(id int) int64 {
		st, err := os.Stat(store(id))
		if err != nil {
			return -1
		}
		return st.ModTime().UnixNano()
	}
	// Waits until node id's store was written within the last poll: it is
	// busy writing at that moment.
	busy := func(id int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		last := written(id)
		for time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
			if w := written(id); w != last && last > 0 {
				return
			}
			last = written(id)
		}
		t.Fatalf("node %d's store was not written within 10s", id)
	}
	for round := 1; round <= 3; round++ {
		busy(1)
		if err := c.Apply(fault.Fault{Kind: fault.Crash, Node: 1}); err != nil {
			t.Fatal(err)
		}
		if err := c.Apply(fault.Fault{Kind: fault.Restart, Node: 1}); err != nil {
			t.Fatalf("round %d: restart after SIGKILL during writes: %v", round, err)
		}
		s, err := c.Status(1)
		if err != nil || s.Boot != round+1 {
			t.Fatalf("round %d: status %+v, %v: want boot %d", round, s, err, round+1)
		}
	}

	// A failing fsync: the node stops at its next write.
	busy(2)
	if err := c.Apply(fault.Fault{Kind: fault.FsyncFail, Node: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return !c.alive(2) },
		func() string { return "node 2 still runs 10s after its fsync was made to fail" })
	logb, _ := os.ReadFile(filepath.Join(c.Dir, "node2", "node.log"))
	if !strings.Contains(string(logb), "fail-stop") || !strings.Contains(string(logb), "injected") {
		t.Errorf("node 2's log does not tell the fail-stop:\n%s", logb)
	}

	// A clock step of node 3: its clock's offset, not the machine's.
	if err := c.Apply(fault.Fault{Kind: fault.ClockStep, Node: 3, By: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	nc, _ := c.Cfg.Node(3)
	resp, err := c.client.Get("http://" + nc.Admin + "/clock")
	if err != nil {
		t.Fatal(err)
	}
	var st ClockState
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || time.Duration(st.Offset) < 4900*time.Millisecond || time.Duration(st.Offset) > 5100*time.Millisecond {
		t.Errorf("node 3's clock after a 5s step: %+v (%v)", st, err)
	}

	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatalf("merged trace after the kills: %v", err)
	}
	var kills, restarts, failStop, clock int
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.Crash && e.Node == 1 && e.Name == "killed":
			kills++
		case e.Kind == trace.Restart && e.Node == 1:
			restarts++
		case e.Kind == trace.Crash && e.Node == 2 && e.Name == "fail-stop":
			failStop++
		case e.Kind == trace.Fault && e.Name == "clock":
			if v, _ := e.Attrs.Int("node"); v == 3 {
				clock++
			}
		}
	}
	if kills != 3 || restarts != 3 || failStop != 1 || clock < 1 {
		t.Errorf("trace: %d kills and %d restarts of n1 (want 3, 3), %d fail-stops of n2 (want 1), %d clock faults of n3 (want ≥ 1)", kills, restarts, failStop, clock)
	}
}

// Reference: section 4, Safety ("at most one leader per term") and Raft's
// persisted vote (Ongaro's dissertation §3.4): a voter that lost its disk
// and restarts must not vote as if it remembered. A follower's store is
// wiped and it restarts: the cluster fences it at the highest term of the
// others (amnesia.go), it stays listen-only until the term passes the
// fence, and after the leader's SIGKILL the cluster elects one leader per
// term, with the wiped node voting only in terms above the fence. A wiped
// node cannot rejoin while another server is silent.
func TestLiveNodeThatLostItsDiskDoesNotVoteTwice(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 5, false)
	leader, term, err := c.WaitSteady(10*time.Second, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	wiped := ordo.NodeID(1)
	if wiped == leader {
		wiped = 2
	}
	other := wiped + 1
	if other == leader {
		other++
	}
	nc, _ := c.Cfg.Node(wiped)
	wipe := func() {
		t.Helper()
		if err := c.Kill(wiped); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(c.Cfg.Path(nc.Dir), "store")); err != nil {
			t.Fatal(err)
		}
	}
	// With another server down, nobody can vouch for every term: refused.
	wipe()
	if err := c.Kill(other); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(wiped); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("restart of a wiped node with n%d down: %v, want a refusal", other, err)
	}
	if err := c.Restart(other); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(wiped); err != nil {
		t.Fatal(err)
	}
	fenceAt, fenced, err := readFence(c.Cfg.Path(nc.Dir))
	if err != nil || !fenced || fenceAt < int64(term) {
		t.Fatalf("fence of n%d: %d %v %v, want ≥ term %d", wiped, fenceAt, fenced, err, term)
	}
	time.Sleep(500 * time.Millisecond) // it hears the leader, sends nothing
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WaitLeader(fenceAt, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { _, on, _ := readFence(c.Cfg.Path(nc.Dir)); return !on },
		func() string {
			return fmt.Sprintf("n%d still fenced 10s after the election past its fence %d", wiped, fenceAt)
		})
	if err := c.Restart(leader); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	// Replay: the wiped node's term as it noted it since its last boot, and
	// every message of its that arrived somewhere.
	var boots int
	var myTerm int64
	termAtSend := map[uint64]int64{}
	dropped := 0
	for i, e := range tr.Events {
		switch {
		case e.Node == wiped && (e.Kind == trace.Start || e.Kind == trace.Restart):
			boots++
			myTerm = 0
		case e.Node == wiped && e.Kind == trace.Note:
			if v, ok := e.Attrs.Int("term"); ok {
				myTerm = v
			}
		case e.Node == wiped && e.Kind == trace.Send && boots >= 2: // since the wipe
			termAtSend[e.Msg] = myTerm
		case e.Kind == trace.Drop && e.Name == "amnesia":
			dropped++
		case e.Kind == trace.Recv && e.Peer == wiped:
			if st, ok := termAtSend[e.Msg]; ok && st <= fenceAt {
				t.Errorf("e%d: n%d received n%d's %s sent at term %d, within the fence %d", i, e.Node, wiped, e.MsgKind, st, fenceAt)
			}
		}
	}
	if dropped == 0 {
		t.Errorf("no send of n%d was held back by its fence", wiped)
	}
	res, err := check.Run(tr, []string{"one-leader-per-term", "single-leader"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Verdict != check.Pass {
			t.Errorf("%s: %s (%s)", r.Check, r.Verdict, r.Summary)
		}
	}
	t.Logf("n%d wiped, fenced at term %d, %d sends held back; after n%d's SIGKILL: %s; %s", wiped, fenceAt, dropped, leader, res[0].Summary, res[1].Summary)
}
