package main

// The status table's columns of the protocols that elect nobody
// (live.RegisterColumns): a PBFT replica's view, primary and sequence
// numbers from the state it reports, in place of an election's ROLE, TERM
// and LEADER; none for the Dynamo-style store, where every replica is
// alike.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ordo"
	"ordo/dynamo"
	"ordo/live"
	"ordo/pbft"
)

func init() {
	live.RegisterColumns(pbft.Protocol.Name, pbftColumns)
	live.RegisterColumns(dynamo.Protocol.Name, live.Columns{})
}

// pbftColumns: VIEW the replica is in (or changing to), its PRIMARY, MODE
// normal or view-change, EXEC-SEQ the last sequence number it executed,
// CHECKPOINT its stable checkpoint's sequence number, VIEW-CHANGES the
// view changes it started since boot, REFUSED the messages its protocol
// refused but duplicates (by reason under the table), DUPLICATES the same
// message again: honest retransmissions, which would swamp a liar's
// refusals in one count, and a replaying liar's copies.
var pbftColumns = live.Columns{
	Head:    []string{"VIEW", "PRIMARY", "MODE", "EXEC-SEQ", "CHECKPOINT", "VIEW-CHANGES", "REFUSED", "DUPLICATES"},
	Cells:   pbftCells,
	Summary: pbftSummary,
}

// pbftState is a replica's reported state (nil: none, or not a replica:
// a client of the cluster).
func pbftState(s *live.Status) *pbft.State {
	if s == nil || s.Protocol != pbft.Protocol.Name || len(s.State) == 0 {
		return nil
	}
	var st pbft.State
	if json.Unmarshal(s.State, &st) != nil {
		return nil
	}
	return &st
}

func pbftMode(st *pbft.State) string {
	if st.Changing {
		return "view-change"
	}
	return "normal"
}

func pbftCells(s *live.Status) []string {
	st := pbftState(s)
	if st == nil {
		return nil // every cell "-"
	}
	return []string{strconv.FormatInt(st.View, 10), "n" + strconv.Itoa(int(st.Primary)), pbftMode(st),
		strconv.FormatInt(st.LastExecuted, 10), strconv.FormatInt(st.Stable, 10), strconv.Itoa(st.ViewChanges), strconv.Itoa(st.Refused - st.Duplicates), strconv.Itoa(st.Duplicates)}
}

// pbftSummary says which view the replicas are in and who its primary
// is: "view 1, primary n2 (f = 1, quorum 3)" when every replica that
// answered agrees and none is changing view, else each group of them.
func pbftSummary(v []live.NodeView) string {
	type group struct {
		view     int64
		primary  ordo.NodeID
		changing bool
		nodes    []string
	}
	var (
		groups []*group
		one    *pbft.State
	)
	servers := 0
	for _, nv := range v {
		if nv.Kind == ordo.Server.String() {
			servers++ // up or down: quorums are of all n
		}
	}
	for _, nv := range v {
		if !nv.Up || nv.Kind != ordo.Server.String() {
			continue
		}
		st := pbftState(nv.Status)
		if st == nil {
			continue
		}
		one = st
		i := slices.IndexFunc(groups, func(g *group) bool { return g.view == st.View && g.changing == st.Changing })
		if i < 0 {
			groups = append(groups, &group{view: st.View, primary: st.Primary, changing: st.Changing})
			i = len(groups) - 1
		}
		groups[i].nodes = append(groups[i].nodes, "n"+strconv.Itoa(int(nv.ID)))
	}
	if one == nil {
		return ""
	}
	q := fmt.Sprintf("f = %d, quorum %d", one.F, one.Quorum)
	if qs := (pbft.Quorums{N: servers, F: one.F, Q: one.Quorum}); one.Unsafe && (qs.Splittable() || qs.Stallable()) {
		q += ", an unsafe quorum" // (pbftQuorumWarning says why)
	} else if one.Unsafe {
		q += ", set by hand: safe all the same"
	}
	if len(groups) == 1 && !groups[0].changing {
		return fmt.Sprintf("view %d, primary n%d (%s)", groups[0].view, int(groups[0].primary), q)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		if c := cmp.Compare(a.view, b.view); c != 0 {
			return c
		}
		return cmp.Compare(btoi(a.changing), btoi(b.changing))
	})
	var parts []string
	for _, g := range groups {
		in := "in"
		if g.changing {
			in = "changing to"
		}
		parts = append(parts, fmt.Sprintf("%s %s view %d (primary n%d)", strings.Join(g.nodes, ", "), in, g.view, int(g.primary)))
	}
	return fmt.Sprintf("views: %s (%s)", strings.Join(parts, "; "), q)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
