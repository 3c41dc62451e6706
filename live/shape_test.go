package live

import (
	"slices"
	"testing"

	"ordo"
	"ordo/fault"
)

// Network shapes applied to a live cluster: what each node is told to cut,
// and what `cluster status` says of the network, after each fault in turn.
// A bridge cuts only its two sides apart (it once became a three-way split:
// the bridge node was taken for a leftover group); a later loss or cut adds
// to the shape instead of replacing it; the status line follows the shape.
func TestLiveShapesComposeAndAreShown(t *testing.T) {
	bin := buildOrdo(t)
	c, err := Up(UpOptions{N: 3, Protocol: "raft", Dir: t.TempDir(), Binary: bin, Insecure: true, Seed: 1, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	ids := func(v ...int) []ordo.NodeID {
		out := make([]ordo.NodeID, len(v))
		for i, x := range v {
			out[i] = ordo.NodeID(x)
		}
		return out
	}
	want := func(step string, shape string, out map[int][]ordo.NodeID, loss float64) {
		t.Helper()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.State.Partition != shape {
			t.Errorf("%s: status shows %q, want %q", step, c.State.Partition, shape)
		}
		for id := 1; id <= 3; id++ {
			f := c.State.Faults[id]
			if !slices.Equal(f.BlockOut, out[id]) || f.Loss != loss {
				t.Errorf("%s: n%d cuts %v with loss %v, want %v with loss %v", step, id, f.BlockOut, f.Loss, out[id], loss)
			}
		}
	}
	apply := func(f fault.Fault) {
		t.Helper()
		if err := c.Apply(f); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
	}
	apply(fault.Fault{Kind: fault.Bridge, Groups: [][]ordo.NodeID{ids(1), ids(3)}, Via: 2})
	want("bridge 1/3 via 2", "1/3 via 2", map[int][]ordo.NodeID{1: ids(3), 3: ids(1)}, 0)
	apply(fault.Fault{Kind: fault.Loss, Rate: 0.3})
	want("then loss 0.3", "1/3 via 2", map[int][]ordo.NodeID{1: ids(3), 3: ids(1)}, 0.3)
	apply(fault.Fault{Kind: fault.Cut, From: ids(2), To: ids(1)})
	want("then cut 2->1", "1/3 via 2, cut 2->1", map[int][]ordo.NodeID{1: ids(3), 2: ids(1), 3: ids(1)}, 0.3)
	apply(fault.Fault{Kind: fault.Star, Node: 1})
	want("then star, hub 1", "star, hub 1", map[int][]ordo.NodeID{2: ids(3), 3: ids(2)}, 0.3)
	apply(fault.Fault{Kind: fault.Partition, Groups: [][]ordo.NodeID{ids(1), ids(2, 3)}})
	want("then partition 1/2,3", "1/2,3", map[int][]ordo.NodeID{1: ids(2, 3), 2: ids(1), 3: ids(1)}, 0.3)
	apply(fault.Fault{Kind: fault.Heal})
	want("then heal", "", map[int][]ordo.NodeID{}, 0.3)
}
