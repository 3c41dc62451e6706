package kv_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"ordo/check"
	"ordo/history"
	"ordo/live"
)

// The database on real processes: 3 servers (Raft over TCP with TLS, a
// real disk with fsync), one kv-client process, the leader SIGKILLed
// while the client writes and restarted from its disk. The merged trace's
// history is linearizable, nothing acknowledged is lost, the replicas
// applied the same log.
func TestLiveKV(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	bin := filepath.Join(t.TempDir(), "ordo")
	if out, err := exec.Command("go", "build", "-o", bin, "ordo/cmd/ordo").CombinedOutput(); err != nil {
		t.Fatalf("go build ordo: %v\n%s", err, out)
	}
	c, err := live.Up(live.UpOptions{N: 3, Protocol: "kv", Clients: 1, Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn",
		ClientOptions: map[string]string{"ops": "150", "concurrency": "3", "keys": "2", "think": "5ms", "timeout": "300ms", "start": "500ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	time.Sleep(900 * time.Millisecond)
	if err := c.Kill(1); err != nil { // the leader or a follower: either way the client writes on
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for {
		time.Sleep(500 * time.Millisecond)
		tr, err := live.Merge(c.Cfg)
		if err == nil {
			var ops []history.Operation
			ops, err = history.FromTrace(tr)
			if err == nil && len(ops) >= 150 && ops[len(ops)-1].ReturnEvent >= 0 {
				break
			}
			if err == nil {
				last = fmt.Sprintf("%d operations recorded", len(ops))
			}
		}
		if err != nil {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			// Say what each node last logged: a stuck client, a node that
			// did not come back, or a trace that does not merge.
			for _, nd := range c.Cfg.Nodes {
				b, _ := os.ReadFile(filepath.Join(c.Cfg.Path(nd.Dir), "node.log"))
				if len(b) > 2000 {
					b = b[len(b)-2000:]
				}
				t.Logf("node %d log tail:\n%s", nd.ID, b)
			}
			t.Fatalf("the client did not finish 150 operations within 30s (last look: %s)", last)
		}
	}
	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	tr, err := live.Merge(c.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Run(tr, []string{"linearizable", "no-lost-write", "agreement"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%s: %s %s", r.Check, r.Verdict, r.Summary)
		if r.Verdict != check.Pass {
			t.Errorf("%s: %s %v", r.Check, r.Summary, r.Violations)
		}
	}
}
