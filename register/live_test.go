package register_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/consistency"
	"ordo/history"
	"ordo/live"
	_ "ordo/register"
)

// buildOrdo builds the ordo binary (which imports this package) into a
// temporary directory.
func buildOrdo(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ordo")
	out, err := exec.Command("go", "build", "-o", bin, "ordo/cmd/ordo").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ordo: %v\n%s", err, out)
	}
	return bin
}

const liveOps = 120

// liveRun starts 3 real server processes of protocol and 1 client process
// over loopback TCP, lets the client run its liveOps operations while
// fault(c) acts on the cluster, stops everything, and returns the merged
// trace's history and the linearizable verdict.
func liveRun(t *testing.T, bin, protocol string, fault func(c *live.Cluster)) ([]history.Operation, check.Result) {
	t.Helper()
	c, err := live.Up(live.UpOptions{N: 3, Protocol: protocol, Clients: 1, Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn",
		ClientOptions: map[string]string{"ops": "120", "concurrency": "3", "keys": "2", "think": "5ms", "timeout": "300ms", "start": "200ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	fault(c)
	// The client has no end signal but its history: wait until every
	// operation has completed, reading the client's trace as it grows.
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		done := false
		if tr, err := live.Merge(c.Cfg); err == nil {
			if ops, err := history.FromTrace(tr); err == nil {
				pending := 0
				for _, o := range ops {
					if o.ReturnEvent < 0 {
						pending++
					}
				}
				// Retries count too, so this may stop a few operations
				// early: the history is then shorter, not wrong.
				done = len(ops) >= liveOps && pending == 0
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client did not finish %d operations within 30s", liveOps)
		}
	}
	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	tr, err := live.Merge(c.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Validate(); err != nil {
		t.Fatalf("merged trace: %v", err)
	}
	ops, err := history.FromTrace(check.InTimeOrder(tr))
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Run(tr, []string{"linearizable"})
	if err != nil {
		t.Fatal(err)
	}
	return ops, res[0]
}

// The demonstration on real processes: ABD on three servers, a client
// process issuing reads and writes over TCP, a server SIGKILLed and
// restarted from its disk in the middle. The merged history is
// linearizable by the same checker as the simulator's.
func TestLiveABDLinearizable(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	bin := buildOrdo(t)
	ops, r := liveRun(t, bin, "register", func(c *live.Cluster) {
		time.Sleep(400 * time.Millisecond)
		if err := c.Kill(3); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := c.Restart(3); err != nil {
			t.Fatal(err)
		}
	})
	count := map[history.Outcome]int{}
	for _, o := range ops {
		count[o.Outcome]++
	}
	t.Logf("live ABD: %d ops (%d ok, %d info, %d fail): %s %s", len(ops), count[history.OutcomeOK], count[history.OutcomeInfo], count[history.OutcomeFail], r.Verdict, r.Summary)
	if count[history.OutcomeOK] < liveOps/2 {
		t.Errorf("only %d of %d operations succeeded", count[history.OutcomeOK], len(ops))
	}
	if r.Verdict != check.Pass {
		t.Fatalf("linearizable: %s: %s %v", r.Verdict, r.Summary, r.Violations)
	}
}

// The stale variant live: server 1 is cut off from the other servers (the
// client still reaches all three), so writes complete on {2,3} while
// reads that reach server 1 return its old copy.
func TestLiveStaleReadsNotLinearizable(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	bin := buildOrdo(t)
	_, r := liveRun(t, bin, "register-stale", func(c *live.Cluster) {
		time.Sleep(100 * time.Millisecond)
		if err := c.Partition([][]ordo.NodeID{{1}, {2, 3}}); err != nil {
			t.Fatal(err)
		}
	})
	if r.Verdict != check.Fail {
		t.Fatalf("linearizable: %s: %s", r.Verdict, r.Summary)
	}
	if consistency.LinearizableVizFile.FindStringSubmatch(r.Violations[0].Message) == nil {
		t.Errorf("no visualization named: %s", r.Violations[0].Message)
	}
	t.Logf("live stale reads: %s", r.Summary)
}
