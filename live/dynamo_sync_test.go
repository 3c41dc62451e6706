package live

import (
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/dynamo"
	"ordo/scenario"
	"ordo/trace"
)

// Issue 12, live: a dynamo replica is killed for a while on real
// processes, a client writes meanwhile, the replica restarts and Merkle
// anti-entropy converges it (scenarios/dynamo-anti-entropy.yaml): the
// convergence checker on the merged trace passes, as in the simulator,
// and the bytes the exchange cost are read from the trace's sends.
func TestLiveDynamoAntiEntropyConverges(t *testing.T) {
	bin := buildOrdo(t)
	sc := loadBuiltin(t, "dynamo-anti-entropy")
	simRes, err := sc.Run(scenario.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunScenario(sc, ScenarioOptions{Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range res.Checks {
		s := simRes.Checks[i]
		t.Logf("%-14s sim %-5s (%s) | live %-5s (%s)", l.Check, s.Verdict, s.Summary, l.Verdict, l.Summary)
		if l.Verdict != check.Pass {
			t.Errorf("%s: live says %s (%s); trace %s", l.Check, l.Verdict, l.Summary, res.Trace)
		}
	}
	tr, err := trace.ReadFile(res.Trace)
	if err != nil {
		t.Fatal(err)
	}
	var restart int64 = -1
	writes := 0
	for _, e := range tr.Events {
		if e.Kind == trace.Restart && e.Node == ordo.NodeID(3) && restart < 0 {
			restart = e.T
		}
		if e.Kind == trace.Note && e.Name == dynamo.NotePut && restart < 0 {
			writes++
		}
	}
	if restart < 0 {
		t.Fatalf("no restart of n3 in the trace %s", res.Trace)
	}
	msgs, bytes, pushed := dynamo.SyncTraffic(tr, restart)
	t.Logf("after n3's restart: %d sync messages, %d bytes, %d keys pushed; %d writes minted while it was down (store: %s preloaded keys)",
		msgs, bytes, pushed, writes, sc.Options["preload"])
	if pushed == 0 || bytes == 0 {
		t.Errorf("anti-entropy pushed %d keys in %d bytes after the restart: nothing repaired? trace %s", pushed, bytes, res.Trace)
	}
	t.Logf("wall %v", res.Wall.Round(time.Millisecond))
}
