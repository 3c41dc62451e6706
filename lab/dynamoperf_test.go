package lab

import (
	"testing"
	"time"

	"ordo"
	"ordo/dynamo"
	"ordo/history"
	"ordo/trace"
)

// The store under load at N=3, R=W=2 and R=W=1 in the simulator: gets and
// puts both complete and are timed apart, none fails on a LAN without
// faults, the coordinator contacts all N replicas at either quorum (the
// same messages per operation), and R=W=1 answers after fewer replies, so
// its simulated latency is lower (simulated time, deterministic from the
// seed: not this machine's speed).
func TestDynamoLoadQuorums(t *testing.T) {
	var rows []*ReplicationLoadResult
	for _, q := range []DynamoQuorum{{3, 2, 2}, {3, 1, 1}} {
		r, err := DynamoLoad(DynamoLoadConfig{Quorum: q, Clients: 2, Outstanding: 2, Keys: 20, Reads: 50, Duration: 500 * time.Millisecond, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops < 100 || r.Failed != 0 || len(r.Kinds) != 2 || r.Kinds[0].Kind != "get" || r.Kinds[1].Kind != "put" {
			t.Fatalf("%v: %+v", q, r)
		}
		if r.Kinds[0].Ops+r.Kinds[1].Ops != r.Ops || r.P50Ms <= 0 || r.P99Ms < r.P50Ms || r.MaxMs < r.P99Ms {
			t.Fatalf("%v: kinds or percentiles inconsistent: %+v", q, r)
		}
		if got := DynamoQuorumOf(r.Config); got != q {
			t.Fatalf("quorum of the config: %v, want %v", got, q)
		}
		rows = append(rows, r)
	}
	if rows[1].P50Ms >= rows[0].P50Ms {
		t.Errorf("simulated p50 %.2f ms at R=W=1, %.2f ms at R=W=2: want lower at R=W=1", rows[1].P50Ms, rows[0].P50Ms)
	}
	if m1, m2 := rows[1].MessagesPerOp, rows[0].MessagesPerOp; m1 < 0.9*m2 || m1 > 1.1*m2 {
		t.Errorf("messages per operation %.1f at R=W=1, %.1f at R=W=2: want about the same (every request goes to all N)", m1, m2)
	}
	ratios := DynamoRatios(rows)
	if len(ratios) != 1 || ratios[0].One != (DynamoQuorum{3, 1, 1}) || ratios[0].Larger != (DynamoQuorum{3, 2, 2}) || ratios[0].OpsPerS <= 1 ||
		ratios[0].P50["get"] >= 1 || ratios[0].P50["put"] >= 1 {
		t.Errorf("ratios: %+v", ratios)
	}
}

func TestDynamoLoadConfigErrors(t *testing.T) {
	good := DynamoLoadConfig{Quorum: DynamoQuorum{3, 2, 2}, Clients: 1, Outstanding: 1, Keys: 10, Reads: 50, Duration: time.Second}
	if _, err := good.Replication(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*DynamoLoadConfig){
		"R above N":       func(c *DynamoLoadConfig) { c.Quorum.R = 4 },
		"W zero":          func(c *DynamoLoadConfig) { c.Quorum.W = 0 },
		"fewer servers":   func(c *DynamoLoadConfig) { c.Servers = 2 },
		"outstanding 0":   func(c *DynamoLoadConfig) { c.Outstanding = 0 },
		"outstanding 65":  func(c *DynamoLoadConfig) { c.Outstanding = 65 },
		"keys 0":          func(c *DynamoLoadConfig) { c.Keys = 0 },
		"keys over bound": func(c *DynamoLoadConfig) { c.Keys = dynamo.MaxKeys + 1 },
		"reads 101":       func(c *DynamoLoadConfig) { c.Reads = 101 },
	} {
		c := good
		mod(&c)
		if _, err := c.Replication(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DynamoLoad(DynamoLoadConfig{Quorum: DynamoQuorum{3, 2, 2}, Clients: 0, Outstanding: 1, Keys: 1, Duration: time.Second}); err == nil {
		t.Error("0 clients accepted")
	}
}

func TestParseDynamoQuorums(t *testing.T) {
	qs, err := ParseDynamoQuorums("3:2:2, 3:1:1,5:3:3")
	if err != nil || len(qs) != 3 || qs[0] != (DynamoQuorum{3, 2, 2}) || qs[1] != (DynamoQuorum{3, 1, 1}) || qs[2] != (DynamoQuorum{5, 3, 3}) {
		t.Fatalf("%v, %v", qs, err)
	}
	for _, bad := range []string{"", "3:2", "3:2:2:1", "3:x:2", "3:4:1", "3:1:0", "0:0:0", "65:1:1", "3:2:2,"} {
		if _, err := ParseDynamoQuorums(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// LoadOfTrace pairs a dynamo client's notes by (node, id): a get ends at
// its answer (dynamo-get; the op-info of a read of siblings after it
// changes nothing), a put at op-ok, an op-fail or a give-up is a failure
// of its kind, and an end without a start is ignored.
func TestLoadOfTraceDynamoKinds(t *testing.T) {
	ms := int64(time.Millisecond)
	note := func(at int64, node ordo.NodeID, name string, attrs ...any) trace.Event {
		return trace.Event{T: at * ms, Node: node, Kind: trace.Note, Name: name, Attrs: trace.MakeAttrs(attrs)}
	}
	tr := &trace.Trace{Events: []trace.Event{
		note(0, 4, history.NoteInvoke, "id", 1, "f", "get"),
		note(0, 5, history.NoteInvoke, "id", 1, "f", "put"), // same id, another client
		note(2, 4, dynamo.NoteGet, "id", 1, "n", 2),
		note(2, 4, history.NoteInfo, "id", 1, "reason", "2 siblings"),
		note(3, 5, history.NoteOK, "id", 1),
		note(4, 4, history.NoteInvoke, "id", 2, "f", "put"),
		note(9, 4, history.NoteFail, "id", 2, "reason", "refused"),
		note(9, 4, history.NoteOK, "id", 7), // never begun
		{T: 1 * ms, Node: 1, Kind: trace.Recv, Bytes: 100},
		{T: 1 * ms, Node: 2, Kind: trace.Recv, Bytes: 50},
	}}
	r, err := LoadOfTrace(ReplicationLoadConfig{Protocol: "dynamo", Duration: time.Second}, tr)
	if err != nil {
		t.Fatal(err)
	}
	want := []KindLoad{{Kind: "get", Ops: 1, OpsPerS: 1, P50Ms: 2, P99Ms: 2, MaxMs: 2}, {Kind: "put", Ops: 1, OpsPerS: 1, P50Ms: 3, P99Ms: 3, MaxMs: 3, Failed: 1}}
	if r.Ops != 2 || r.Failed != 1 || r.MessagesPerOp != 1 || r.BytesPerOp != 75 || r.MaxMs != 3 || len(r.Kinds) != 2 || r.Kinds[0] != want[0] || r.Kinds[1] != want[1] {
		t.Fatalf("%+v", r)
	}
	if _, err := LoadOfTrace(ReplicationLoadConfig{Protocol: "bully"}, tr); err == nil {
		t.Error("bully accepted")
	}
}
