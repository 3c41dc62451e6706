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
	normal.RefusedBy = map[string]int{"stale-view": 4}
	var b bytes.Buffer
	live.FormatView(&b, replicaView(t, normal, normal, normal, normal), "")
	out := b.String()
	if !strings.HasPrefix(out, "view 1, primary n2 (f = 1, quorum 3)\n") {
		t.Errorf("summary:\n%s", out)
	}
	if got := rowOf(out, "NODE"); got != "NODE PID VIEW PRIMARY MODE EXEC-SEQ CHECKPOINT VIEW-CHANGES REFUSED DUPLICATES BOOT CONNECTED-TO CUT-OFF FAULTS" {
		t.Errorf("head %q", got)
	}
	if got := rowOf(out, "n3"); got != "n3 103 1 n2 normal 12 8 1 4 0 1 - - -" {
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
	if got := rowOf(out, "n3"); got != "n3 103 2 n3 view-change 12 8 2 4 0 1 - - -" {
		t.Errorf("n3's row %q\n%s", got, out)
	}
}

// Honest retransmissions are counted apart (DUPLICATES), so that the few
// refusals a liar causes stand out in REFUSED and under the table: here
// every replica refused 900 copies of messages it had, and n3 also 12
// conflicting votes.
func TestClusterStatusPBFTDuplicatesApart(t *testing.T) {
	honest := pbft.State{View: 0, Primary: 1, LastExecuted: 40, F: 1, Quorum: 3, Refused: 900, Duplicates: 900}
	lied := honest
	lied.Refused, lied.RefusedBy = 912, map[string]int{"conflicting": 12}
	var b bytes.Buffer
	live.FormatView(&b, replicaView(t, honest, honest, lied, honest), "")
	out := b.String()
	for _, n := range []string{"n1", "n2", "n4"} {
		if f := strings.Fields(rowOf(out, n)); len(f) < 10 || f[8] != "0" || f[9] != "900" {
			t.Errorf("%s's row %q: want REFUSED 0, DUPLICATES 900\n%s", n, rowOf(out, n), out)
		}
	}
	if f := strings.Fields(rowOf(out, "n3")); len(f) < 10 || f[8] != "12" || f[9] != "900" {
		t.Errorf("n3's row %q: want REFUSED 12, DUPLICATES 900\n%s", rowOf(out, "n3"), out)
	}
	if !strings.Contains(out, "n3 refused (protocol): conflicting 12\n") || strings.Count(out, "refused (protocol)") != 1 || strings.Contains(out, "duplicate ") {
		t.Errorf("under the table, want n3's conflicting votes alone:\n%s", out)
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

// A quorum set by hand (unsafe_quorum) is called unsafe above the table
// only when it is: quorums that may meet in fewer than f+1 replicas, or
// one the n-f correct replicas cannot make; else "set by hand: safe all
// the same" (the status said "an unsafe quorum" for any, cluster up a
// note that it was safe).
func TestClusterStatusPBFTQuorumSetByHand(t *testing.T) {
	for _, c := range []struct {
		n, f, q int
		want    string
	}{
		{3, 1, 2, "(f = 1, quorum 2, an unsafe quorum)"},               // two quorums of 2 of 3 meet in the liar alone
		{4, 1, 4, "(f = 1, quorum 4, an unsafe quorum)"},               // one silent replica stalls it
		{3, 0, 2, "(f = 0, quorum 2, set by hand: safe all the same)"}, // -n 3 is f = 0: PBFT's own quorum
	} {
		st := pbft.State{View: 0, Primary: 1, F: c.f, Quorum: c.q, Unsafe: true}
		states := make([]pbft.State, c.n)
		for i := range states {
			states[i] = st
		}
		var b bytes.Buffer
		live.FormatView(&b, replicaView(t, states...), "")
		if first, _, _ := strings.Cut(b.String(), "\n"); first != "view 0, primary n1 "+c.want {
			t.Errorf("n = %d, f = %d, unsafe_quorum = %d: %q, want %q", c.n, c.f, c.q, first, "view 0, primary n1 "+c.want)
		}
	}
}
