package failover

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	_ "ordo/election" // the election checkers
	"ordo/live"
	"ordo/live/transport"
	"ordo/service/etcd"
	"ordo/trace"
)

// The lease election on real processes against a real etcd (issue 15,
// chapter section 4, "현대적 리더 선출 → 외부 서비스 활용"): three ordo node
// processes whose service nodes reach a 1-member embedded etcd. The tests
// assert behaviour (who leads, what the checkers say), never a time.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// ordoBinary builds the ordo binary once per test run: it plays `ordo
// node`, the etcd members and etcd's candidates.
func ordoBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds ordo and runs real processes and etcd; skipped with -short")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ordo-failover-test-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "ordo")
		out, err := exec.Command("go", "build", "-o", builtBin, "ordo/cmd/ordo").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build ordo: " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// leaseCluster starts an etcd and a lease cluster of 3 servers on it with
// the lease options opts (ttl 2s unless given) and the fenced store's
// options store (nil: its defaults, fencing on).
func leaseCluster(t *testing.T, opts, store map[string]string) *live.Cluster {
	t.Helper()
	bin := ordoBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := etcd.Start(ctx, etcd.Options{N: 1, Dir: filepath.Join(dir, "etcd"), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	o := map[string]string{"ttl": "2s"}
	for k, v := range opts {
		o[k] = v
	}
	c, err := live.Up(live.UpOptions{N: 3, Protocol: "lease", Options: o, Dir: filepath.Join(dir, "cluster"), Binary: bin, Seed: 1, LogLevel: "info",
		Services:       []live.UpService{{Protocol: "coord"}, {Protocol: "fenced-store", Options: store}},
		ServiceOptions: map[string]string{"endpoints": strings.Join(e.Endpoints(), ",")}, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	return c
}

// verdicts runs the checks on the merged trace and returns check → verdict.
func verdicts(t *testing.T, tr *trace.Trace, checks ...string) map[string]check.Result {
	t.Helper()
	res, err := check.Run(tr, checks)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]check.Result{}
	for _, r := range res {
		out[r.Check] = r
		t.Logf("%-20s %-8s %s", r.Check, r.Verdict, r.Summary)
	}
	return out
}

// fenceNotes counts the fenced store's accepted and refused writes.
func fenceNotes(tr *trace.Trace) (accepted, refused int) {
	for _, e := range tr.Events {
		if e.Kind != trace.Note || e.Name != "fence" {
			continue
		}
		if ok, _ := e.Attrs.Get("accepted").(bool); ok {
			accepted++
		} else {
			refused++
		}
	}
	return accepted, refused
}

func without(ids []ordo.NodeID, id ordo.NodeID) []ordo.NodeID {
	return slices.DeleteFunc(slices.Clone(ids), func(x ordo.NodeID) bool { return x == id })
}

// kill -9 of the leader: its lease runs out at etcd, its key goes, and
// another candidate leads with a higher fencing token; no two leaders
// overlap and the store saw increasing tokens.
func TestLiveLeaseKillLeaderElectsAnother(t *testing.T) {
	c := leaseCluster(t, nil, nil)
	l, term, err := c.WaitSteady(30*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	epoch, _ := c.Cfg.EpochTime()
	at := int64(time.Since(epoch))
	if err := c.Kill(l); err != nil {
		t.Fatal(err)
	}
	l2, term2, err := c.WaitLeader(term, nil, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l2 == l || term2 <= term {
		t.Fatalf("after killing n%d (token %d): n%d leads with token %d", l, term, l2, term2)
	}
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	ms := LeaderNoteMs(tr, at, term, l)
	if ms < 0 {
		t.Fatalf("the merged trace has no leader note of a token above %d after the kill", term)
	}
	t.Logf("n%d killed with token %d → n%d leads with token %d, %.0f ms after the SIGKILL", l, term, l2, term2, ms)
	v := verdicts(t, tr, "single-leader", "one-leader-per-term", "fencing")
	for name, r := range v {
		if r.Verdict != check.Pass {
			t.Errorf("%s: %s, want pass: %s", name, r.Verdict, r.Summary)
		}
	}
	if acc, _ := fenceNotes(tr); acc == 0 {
		t.Error("no write reached the fenced store: the leaders did not act")
	}
}

// The paused leader (SIGSTOP for longer than its TTL; section 5's GC
// pause): another node leads meanwhile; when the old one resumes, a
// fail-closed leader has stepped down before it writes, so even a store
// without fencing accepts no stale write. A leader that acts until told
// (unsafe_no_fail_closed) writes with its old token: a store without
// fencing accepts it (the fencing checker fails), a fencing store refuses
// it (the checker passes).
func TestLiveLeasePausedLeader(t *testing.T) {
	cases := []struct {
		name        string
		opts, store map[string]string
		fencing     check.Verdict
		refused     bool // the store must have refused a write
	}{
		{"fail-closed, no fencing", nil, map[string]string{"fencing": "false"}, check.Pass, false},
		{"unsafe_no_fail_closed, no fencing", map[string]string{"unsafe_no_fail_closed": "true"}, map[string]string{"fencing": "false"}, check.Fail, false},
		{"unsafe_no_fail_closed, fencing", map[string]string{"unsafe_no_fail_closed": "true"}, map[string]string{"fencing": "true"}, check.Pass, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := leaseCluster(t, tc.opts, tc.store)
			l, term, err := c.WaitSteady(30*time.Second, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			paused := time.Now()
			if err := c.Pause(l); err != nil {
				t.Fatal(err)
			}
			l2, term2, err := c.WaitLeader(term, without(c.Servers(), l), 20*time.Second)
			if err != nil {
				c.Resume(l)
				t.Fatal(err)
			}
			// Longer than the TTL, and the new leader has written.
			time.Sleep(max(0, 3*time.Second-time.Since(paused)) + 500*time.Millisecond)
			if err := c.Resume(l); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // the old leader's overdue timers fire
			tr, err := c.DownAndMerge()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("paused n%d (token %d) → n%d leads with token %d; resumed", l, term, l2, term2)
			v := verdicts(t, tr, "fencing", "one-leader-per-term")
			if got := v["fencing"].Verdict; got != tc.fencing {
				t.Errorf("fencing: %s, want %s: %s", got, tc.fencing, v["fencing"].Summary)
			}
			acc, ref := fenceNotes(tr)
			t.Logf("fenced store: %d writes accepted, %d refused", acc, ref)
			if tc.refused && ref == 0 {
				t.Error("the fencing store refused no write: the resumed leader never acted, so the case shows nothing")
			}
		})
	}
}

// A partition between one candidate — the leader — and etcd, the other
// nodes and etcd untouched: the cut leader cannot renew its lease, fails
// closed (steps down before etcd expires the lease), another node leads,
// and after the heal the cut node follows it. No two leaders overlap.
func TestLiveLeasePartitionLeaderFromEtcd(t *testing.T) {
	c := leaseCluster(t, nil, nil)
	l, term, err := c.WaitSteady(30*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	svcs := c.Cfg.Roster().Services
	if len(svcs) != 2 {
		t.Fatalf("services %v, want coord and fenced-store", svcs)
	}
	if err := c.SetFaults(l, transport.Faults{BlockOut: svcs, BlockIn: svcs}); err != nil {
		t.Fatal(err)
	}
	l2, term2, err := c.WaitLeader(term, without(c.Servers(), l), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(l)
	if err != nil {
		t.Fatal(err)
	}
	if st.Role == "leader" {
		t.Errorf("n%d, cut from etcd, still says it leads (token %d) while n%d leads with token %d", l, st.Term, l2, term2)
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	l3, _, err := c.WaitSteady(30*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cut n%d (token %d) from etcd → n%d leads with token %d; healed, n%d leads", l, term, l2, term2, l3)
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range verdicts(t, tr, "single-leader", "one-leader-per-term", "fencing") {
		if r.Verdict != check.Pass {
			t.Errorf("%s: %s, want pass: %s", name, r.Verdict, r.Summary)
		}
	}
}

// The unsafe clock direction, live: the leader's clock runs 30 % slow (it
// believes its lease lasts longer than it does at etcd), and it is cut off
// from etcd so it cannot renew. With the fail-closed margin sized for that
// drift (max_drift_ppm 200000: the node gives up 2·20 % of the TTL) it
// steps down before etcd can expire its lease, and no two leaders act.
// Without the margin (unsafe_no_margin: deadline = the last keepalive
// reply + the full TTL on its slow clock, 2.86 s of real time) it still
// acts as leader after etcd has expired its lease (at most 2.5 s: the TTL
// and etcd's 500 ms expiry check) and a successor leads: the checkers see
// two leaders. (A service clock running fast is the same race seen from
// the other side; a real etcd's clock cannot be set, so the simulator's
// lease-clock-drift scenarios cover it.)
func TestLiveLeaseSlowLeaderClock(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts map[string]string
		safe bool
	}{
		{"fail-closed margin", map[string]string{"max_drift_ppm": "200000"}, true},
		{"unsafe_no_margin", map[string]string{"max_drift_ppm": "200000", "unsafe_no_margin": "true"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := leaseCluster(t, tc.opts, nil)
			l, term, err := c.WaitSteady(30*time.Second, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			coordID := c.Cfg.Roster().Services[0]
			slow := -300_000.0
			if err := c.SetClock(l, live.ClockChange{DriftPPM: &slow}); err != nil {
				t.Fatal(err)
			}
			if err := c.SetFaults(l, transport.Faults{BlockOut: []ordo.NodeID{coordID}, BlockIn: []ordo.NodeID{coordID}}); err != nil {
				t.Fatal(err)
			}
			l2, term2, err := c.WaitLeader(term, without(c.Servers(), l), 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Second) // past the slow leader's own deadline, safe or not
			tr, err := c.DownAndMerge()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("n%d (token %d) on a clock 30%% slow, cut from etcd → n%d leads with token %d", l, term, l2, term2)
			v := verdicts(t, tr, "single-leader", "stale-leader", "one-leader-per-term", "fencing")
			two := v["single-leader"].Verdict == check.Fail || v["stale-leader"].Verdict == check.Fail
			if tc.safe && two {
				t.Errorf("with the margin, two leaders acted: single-leader %s, stale-leader %s", v["single-leader"].Summary, v["stale-leader"].Summary)
			}
			if !tc.safe && !two {
				t.Errorf("without the margin, the checkers saw no second leader acting: the case shows nothing")
			}
			if r := v["fencing"]; r.Verdict != check.Pass {
				t.Errorf("fencing (the store fences): %s: %s", r.Verdict, r.Summary)
			}
		})
	}
}
