package fault

import (
	"strings"
	"testing"

	"ordo"
	"ordo/sim"
)

// Issue 9: the simulator's interpreter of loss and star faults (chapter
// section 5: message loss, partial connectivity).

// Loss with no links named sets the loss of every link between servers;
// loss on named links sets only those.
func TestApplyLossEveryLink(t *testing.T) {
	s := newSim(t, 3, sim.Disk{})
	if err := Apply(s, Fault{Kind: Loss, Rate: 0.5}); err != nil {
		t.Fatal(err)
	}
	links := s.Config().Network.Links
	for a := ordo.NodeID(1); a <= 3; a++ {
		for b := ordo.NodeID(1); b <= 3; b++ {
			if a != b && links[sim.LinkKey{From: a, To: b}].Loss != 0.5 {
				t.Errorf("link %d->%d loss %v, want 0.5", a, b, links[sim.LinkKey{From: a, To: b}].Loss)
			}
		}
	}
	if len(links) != 6 {
		t.Errorf("%d links set, want 6", len(links))
	}
	s = newSim(t, 3, sim.Disk{})
	if err := Apply(s, Fault{Kind: Loss, Rate: 0.3, From: ids(2), To: ids(1, 3)}); err != nil {
		t.Fatal(err)
	}
	if links := s.Config().Network.Links; len(links) != 2 || links[sim.LinkKey{From: 2, To: 3}].Loss != 0.3 {
		t.Errorf("loss on 2->1,3: %v", links)
	}
}

// A star replaces earlier cuts, also one on the last server's links.
func TestApplyStarReplacesCutsOfTheLastServer(t *testing.T) {
	for _, cut := range []Fault{
		{Kind: Cut, From: ids(4), To: ids(1)},
		{Kind: Cut, From: ids(1), To: ids(4)},
	} {
		s := newSim(t, 4, sim.Disk{})
		if err := Apply(s, cut); err != nil {
			t.Fatal(err)
		}
		if err := Apply(s, Fault{Kind: Star, Node: 1}); err != nil {
			t.Fatal(err)
		}
		if s.Blocked(cut.From[0], cut.To[0]) {
			t.Errorf("after %v and star hub 1: %v->%v still cut (the hub reaches every leaf)", cut, cut.From[0], cut.To[0])
		}
		if !s.Blocked(2, 3) || !s.Blocked(4, 2) {
			t.Errorf("star hub 1: leaves still reach each other")
		}
	}
}

// Bridge errors name the side that is wrong (counted from 1).
func TestParseBridgeNamesTheSide(t *testing.T) {
	if _, _, err := ParseBridge("1/x via 2", 3); err == nil || !strings.Contains(err.Error(), "side 2:") {
		t.Errorf("bad second side: %v", err)
	}
}
