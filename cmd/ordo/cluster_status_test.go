package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"ordo"
	"ordo/live"
	"ordo/pbft"
)

func replicaView(t *testing.T, states ...pbft.State) []live.NodeView {
	t.Helper()
	var v []live.NodeView
	for i, st := range states {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		id := i + 1
		v = append(v, live.NodeView{ID: ordo.NodeID(id), Kind: "server", Up: true,
			Status: &live.Status{ID: ordo.NodeID(id), Pid: 100 + id, Protocol: pbft.Protocol.Name, Boot: 1, State: b}})
	}
	return v
}

func rowOf(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return strings.Join(f, " ")
		}
	}
	return ""
}

// ordo cluster status on a PBFT cluster shows each replica's view,
// primary, mode, last executed sequence number, stable checkpoint, view
// changes and refusals, and above the table the view the replicas are
// in, not an election's ROLE, TERM and LEADER.
func TestClusterStatusPBFTColumns(t *testing.T) {
	normal := pbft.State{View: 1, Primary: 2, LastExecuted: 12, Stable: 8, F: 1, Quorum: 3, ViewChanges: 1, Refused: 4}
	var b bytes.Buffer
	live.FormatView(&b, replicaView(t, normal, normal, normal, normal), "")
	out := b.String()
	if !strings.HasPrefix(out, "view 1, primary n2 (f = 1, quorum 3)\n") {
		t.Errorf("summary:\n%s", out)
	}
	if got := rowOf(out, "NODE"); got != "NODE PID VIEW PRIMARY MODE EXEC-SEQ CHECKPOINT VIEW-CHANGES REFUSED BOOT CONNECTED-TO CUT-OFF FAULTS" {
		t.Errorf("head %q", got)
	}
	if got := rowOf(out, "n3"); got != "n3 103 1 n2 normal 12 8 1 4 1 - - -" {
		t.Errorf("n3's row %q\n%s", got, out)
	}
	if strings.Contains(out, "ROLE") || strings.Contains(out, "running") {
		t.Errorf("an election's columns on a PBFT cluster:\n%s", out)
	}

	// Replica 3 has started a view change the others have not joined.
	changing := normal
	changing.View, changing.Primary, changing.Changing, changing.ViewChanges = 2, 3, true, 2
	b.Reset()
	live.FormatView(&b, replicaView(t, normal, normal, changing, normal), "")
	out = b.String()
	if !strings.HasPrefix(out, "views: n1, n2, n4 in view 1 (primary n2); n3 changing to view 2 (primary n3) (f = 1, quorum 3)\n") {
		t.Errorf("summary with a view change under way:\n%s", out)
	}
	if got := rowOf(out, "n3"); got != "n3 103 2 n3 view-change 12 8 2 4 1 - - -" {
		t.Errorf("n3's row %q\n%s", got, out)
	}
}

// A Dynamo-style store elects nobody: no ROLE, TERM or LEADER.
func TestClusterStatusDynamoColumns(t *testing.T) {
	var b bytes.Buffer
	live.FormatView(&b, []live.NodeView{{ID: 1, Kind: "server", Up: true, Status: &live.Status{ID: 1, Pid: 7, Protocol: "dynamo", Boot: 1}}}, "")
	if got := rowOf(b.String(), "NODE"); got != "NODE PID BOOT CONNECTED-TO CUT-OFF FAULTS" {
		t.Errorf("dynamo head %q\n%s", got, b.String())
	}
}
