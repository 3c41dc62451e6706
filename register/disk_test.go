package register_test

import (
	"fmt"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/scenario"
	"ordo/sim"
	"ordo/trace"
)

// TestABDUnderStorageFaults runs register-linearizable's cluster with the
// simulator's disk model on: every event's writes wait for a 2ms fsync
// before its acks leave, a crash loses what was not synced and tears the
// batch in flight half the time, fsyncs fail now and then (the node
// stops), and restarts sometimes read a corrupt block (the node stops
// again; the next restart recovers) and an operator restarts stopped
// servers every 700ms. The nemesis crashes, partitions and
// pauses servers, and every 700ms the test crashes one server with its
// batch torn and restarts it. ABD's acks promise only synced state, so
// the history stays linearizable and no acknowledged write is lost.
func TestABDUnderStorageFaults(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	sc, err := scenario.Load("../scenarios/register-linearizable.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var torn, stops, ops int
	for seed := uint64(1); seed <= uint64(n); seed++ {
		cfg := sc.Config(seed, true)
		cfg.Disk = sim.Disk{SyncLatency: 2 * time.Millisecond, Tear: 0.5, FailSync: 0.0002, CorruptRead: 0.1}
		s, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StartNemesis(sim.Nemesis{Start: time.Second, Stop: 9 * time.Second, Crash: 0.5, Partition: 0.3, Pause: 0.3, MeanDowntime: 400 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 12; i++ {
			victim := ordo.NodeID(1 + (int(seed)+i)%5)
			s.At(time.Duration(i)*700*time.Millisecond, func(s *sim.Sim) {
				// The operator restarts servers that stopped (fail-stop
				// after a failed fsync or a corrupt read).
				for id := ordo.NodeID(1); id <= 5; id++ {
					if !s.Up(id) && id != victim {
						_ = s.Restart(id)
					}
				}
				if s.Up(victim) {
					if err := s.CrashTorn(victim); err != nil {
						t.Error(err)
					}
					s.At(s.Now()+200*time.Millisecond, func(s *sim.Sim) {
						if !s.Up(victim) {
							_ = s.Restart(victim) // the nemesis may have restarted it already
						}
					})
				}
			})
		}
		if err := s.RunFor(12 * time.Second); err != nil {
			t.Fatal(err)
		}
		tr := s.Trace()
		for _, e := range tr.Events {
			switch {
			case e.Kind == trace.Fault && e.Name == "torn-write":
				torn++
			case e.Kind == trace.Crash && e.Name == "fail-stop":
				stops++
			}
		}
		res, err := check.Run(tr, []string{"linearizable", "no-lost-write"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Verdict != check.Pass {
				t.Errorf("seed %d: %s %s: %s %v", seed, r.Check, r.Verdict, r.Summary, r.Violations)
			}
		}
		var k int
		fmt.Sscanf(res[0].Summary, "linearizable: %d ops", &k)
		ops += k
	}
	t.Logf("ABD with storage faults: %d seeds, %d operations checked, %d torn batches, %d fail-stops, 0 violations", n, ops, torn, stops)
	if torn == 0 || stops == 0 {
		t.Errorf("the campaign tore %d batches and stopped %d nodes: the storage faults did not happen", torn, stops)
	}
}
