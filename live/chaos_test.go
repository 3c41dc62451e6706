package live

import (
	"testing"

	_ "ordo/kv" // the database's servers and clients
	"ordo/trace"
)

// ordo cluster chaos --protocol kv, at smoke size: three real kv servers
// and two clients writing through two rounds of a SIGKILLed leader and a
// leader cut into a minority. Every round's failover is measured (a new
// leader, and a write acknowledged after the kill), the clients' history
// is judged linearizable with no acknowledged write lost, no checker
// finds a violation, and the merged trace is named "chaos" (it said
// "local", the name of a cluster started by hand). The 20-round run of
// issue 11 is `ordo cluster chaos --protocol kv -n 5 --rounds 20`.
func TestChaosKVSmoke(t *testing.T) {
	bin := buildOrdo(t)
	rep, err := Chaos(ChaosOptions{
		Up: UpOptions{N: 3, Protocol: "kv", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn",
			Clients: 2, ClientOptions: map[string]string{"ops": "0"}},
		Rounds: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations != 0 {
		t.Errorf("%d violations: %+v", rep.Violations, rep.Checks)
	}
	if len(rep.FailoverMs) != 2 || len(rep.PartitionFailoverMs) != 2 {
		t.Errorf("failovers %v, partition failovers %v: want one of each per round", rep.FailoverMs, rep.PartitionFailoverMs)
	}
	for _, ms := range append(append([]float64{}, rep.FailoverMs...), rep.PartitionFailoverMs...) {
		if ms < 0 {
			t.Errorf("a round with no failover measured (%v, %v)", rep.FailoverMs, rep.PartitionFailoverMs)
			break
		}
	}
	if len(rep.WriteFailoverMs) == 0 || rep.Ops["ok"] == 0 {
		t.Errorf("write failovers %v, operations %v: the clients wrote nothing through the kills", rep.WriteFailoverMs, rep.Ops)
	}
	judged := map[string]bool{}
	for _, c := range rep.Checks {
		judged[c.Check] = c.OK
	}
	for _, want := range []string{"linearizable", "no-lost-write"} {
		if ok, ran := judged[want]; !ran || !ok {
			t.Errorf("%s: ran %v, passed %v (checks %+v)", want, ran, ok, rep.Checks)
		}
	}
	tr, err := trace.ReadFile(rep.Trace)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Meta.Scenario != "chaos" {
		t.Errorf("merged trace named %q, want chaos", tr.Meta.Scenario)
	}
}
