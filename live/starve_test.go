package live

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ordo"
)

// A starved host is warned of once per view, naming every node whose
// timers fired late, with the worst lateness and the late timers in all,
// not once per node (the nodes of a cluster mostly share the host).
func TestStarvedHostWarnedOnce(t *testing.T) {
	node := func(id ordo.NodeID, starved bool, worst time.Duration, late uint64) NodeView {
		s := &Status{ID: id, Pid: 100 + int(id), Boot: 1, Timers: Starvation{Late: late}}
		if starved {
			s.Timers.Starved, s.Timers.Worst = true, Duration(worst)
		}
		return NodeView{ID: id, Kind: ordo.Server.String(), Up: true, Status: s}
	}
	for _, c := range []struct {
		name string
		v    []NodeView
		want string
	}{
		{"four starved", []NodeView{node(1, true, 569*time.Millisecond, 1), node(2, true, 589*time.Millisecond, 1), node(3, true, 614*time.Millisecond, 2), node(4, true, 591*time.Millisecond, 1)},
			"warning: n1, n2, n3, n4 fired timers up to 614ms late in the last 10s (5 late timers since start): the host is starved"},
		{"one of three", []NodeView{node(1, false, 0, 7), node(2, true, 120*time.Millisecond, 1), node(3, false, 0, 0)},
			"warning: n2 fired timers up to 120ms late in the last 10s (1 late timer since start): the host is starved"},
		{"none", []NodeView{node(1, false, 0, 3), {ID: 2, Kind: ordo.Server.String(), Err: "down"}}, ""},
	} {
		var b bytes.Buffer
		FormatView(&b, c.v, "")
		out := b.String()
		if n := strings.Count(out, "warning:"); c.want == "" && n != 0 || c.want != "" && (n != 1 || !strings.Contains(out, c.want)) {
			t.Errorf("%s: %d warnings, want one with %q:\n%s", c.name, n, c.want, out)
		}
	}
}
