package sim_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
	"ordo/sim"
)

// idle keeps its Env where the test can reach it and does nothing else.
type idle struct{ env *ordo.Env }

func (n idle) Start(env ordo.Env)                        { *n.env = env }
func (idle) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (idle) Fire(ordo.Env, ordo.Timer)                   {}

const syncLatency = time.Millisecond

// simBackend runs the storage contract on a simulated node's storage with
// the disk model on: one simulator per directory; Commit is an event of
// the node (a timer) followed by its fsync; Crash is Sim.Crash and the
// next Open is Sim.Restart.
func simBackend() ordotest.StorageBackend {
	type node struct {
		s   *sim.Sim
		env ordo.Env
	}
	nodes := map[string]*node{}
	byStore := map[ordo.Storage]*node{}
	commit := func(st ordo.Storage) error {
		n := byStore[st]
		n.env.After(0, ordo.Timer{Name: "commit"})
		return n.s.RunFor(2 * syncLatency)
	}
	return ordotest.StorageBackend{
		Commit: commit,
		Close:  commit, // a clean stop: the last writes synced
		Open: func(t testing.TB, dir string) ordo.Storage {
			n := nodes[dir]
			if n == nil {
				n = &node{}
				p := &ordo.Protocol{Name: "idle", New: func(ordo.Config) (ordo.Node, error) { return idle{&n.env}, nil }}
				s, err := sim.New(sim.Config{Protocol: p, Nodes: 1, Seed: 1, Disk: sim.Disk{SyncLatency: syncLatency}})
				if err != nil {
					t.Fatal(err)
				}
				n.s = s
				nodes[dir] = n
			} else if err := n.s.Restart(1); err != nil {
				t.Fatal(err)
			}
			st := n.env.Store()
			byStore[st] = n
			return st
		},
		Crash: func(st ordo.Storage) { byStore[st].s.Crash(1) },
	}
}

// The storage contract (ordo.Storage's doc comment) on the simulator's
// storage with the disk model on.
func TestSimStorageContract(t *testing.T) { ordotest.Storage(t, simBackend()) }

// And on MemStorage, which has no durability of its own.
func TestMemStorageContract(t *testing.T) {
	stores := map[string]*ordo.MemStorage{}
	ordotest.Storage(t, ordotest.StorageBackend{
		Open: func(t testing.TB, dir string) ordo.Storage {
			if stores[dir] == nil {
				stores[dir] = ordo.NewMemStorage()
			}
			return stores[dir]
		},
	})
}
