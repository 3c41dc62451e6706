package ring_test

import (
	"strings"
	"testing"

	"ordo"
	"ordo/election/ring"
)

// Validate refuses what no honest peer sends, at the exact bounds: a hop
// count outside 0..2·MaxNodeID+2 (a message dies after 2n hops), more ids
// than any ring holds, or an id outside 1..MaxNodeID anywhere in the list.
func TestRingElectionValidateBounds(t *testing.T) {
	const maxHops = 2*ordo.MaxNodeID + 2
	ok := func(m ring.Election) ring.Election {
		if m.Initiator == 0 {
			m.Initiator, m.Candidate = 1, 1
		}
		return m
	}
	for _, m := range []ring.Election{
		ok(ring.Election{Travelled: 0}),
		ok(ring.Election{Travelled: maxHops}),
		ok(ring.Election{IDs: []ordo.NodeID{1, 2, ordo.MaxNodeID}}),
		ok(ring.Election{IDs: make([]ordo.NodeID, ordo.MaxNodeID)}),
	} {
		if err := m.Validate(); err != nil {
			t.Errorf("travelled %d, %d ids: refused: %v", m.Travelled, len(m.IDs), err)
		}
	}
	for _, tc := range []struct {
		m    ring.Election
		want string
	}{
		{ok(ring.Election{Travelled: -1}), "travelled -1 hops, out of 0..131074"},
		{ok(ring.Election{Travelled: maxHops + 1}), "travelled 131075 hops, out of 0..131074"},
		{ok(ring.Election{IDs: make([]ordo.NodeID, ordo.MaxNodeID+1)}), "65537 ids, more than any ring holds"},
		{ok(ring.Election{IDs: []ordo.NodeID{1, ordo.MaxNodeID + 1, 2}}), "id"},
		{ok(ring.Election{IDs: []ordo.NodeID{-1}}), "id"},
	} {
		err := tc.m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("travelled %d, %d ids: error %v, want one containing %q", tc.m.Travelled, len(tc.m.IDs), err, tc.want)
		}
	}
	// One bad id is reported once, however many follow.
	err := ok(ring.Election{IDs: []ordo.NodeID{-1, -2, -3}}).Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("three bad ids: %q, want one error line", err)
	}
}
