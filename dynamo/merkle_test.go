package dynamo_test

import (
	"fmt"
	"strings"
	"testing"

	"ordo"
	"ordo/dynamo"
	"ordo/ordotest"
)

func TestTreeDepth(t *testing.T) {
	for _, c := range []struct{ keys, depth int }{{1, 1}, {64, 1}, {65, 2}, {dynamo.MaxKeys, 2}, {100_000, 4}, {dynamo.MaxKeysCap, 5}} {
		if got := dynamo.TreeDepth(c.keys); got != c.depth {
			t.Errorf("TreeDepth(%d) = %d, want %d", c.keys, got, c.depth)
		}
	}
}

func TestMaxKeysOption(t *testing.T) {
	for _, c := range []struct{ opts map[string]string }{
		{map[string]string{"max_keys": "0"}},
		{map[string]string{"max_keys": fmt.Sprint(dynamo.MaxKeysCap + 1)}},
		{map[string]string{"max_keys": "10", "preload": "11"}},
		{map[string]string{"preload": "-1"}},
	} {
		o, err := dynamo.Protocol.Resolve(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dynamo.ParseConfig(o, 3); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%v: %v, want an out-of-range error", c.opts, err)
		}
	}
	// Beyond the bound a new key is refused; an old one is still written.
	e1, s1 := server(t, 1, map[string]string{"max_keys": "2"})
	for i, k := range []string{"a", "b", "c", "a"} {
		e1.Receive(s1, 3, dynamo.Request{ID: uint64(i + 1), Op: dynamo.OpPut, Key: k, Value: "v"})
		r := reply(t, e1)
		if full := k == "c"; full != (r.Status == dynamo.StatusBadRequest) || full && !strings.Contains(r.Err, "max_keys") {
			t.Errorf("put %s: %+v", k, r)
		}
	}
}

// cluster is servers driven by hand: messages between them are queued
// and delivered in order, their encoded bytes counted.
type cluster struct {
	t       testing.TB
	envs    map[ordo.NodeID]*ordotest.Env
	nodes   map[ordo.NodeID]*dynamo.Server
	down    map[ordo.NodeID]bool
	queue   []msg
	bytes   int
	msgs    int
	perKind map[string]int
}

type msg struct {
	from, to ordo.NodeID
	m        ordo.Message
}

func newCluster(t testing.TB, n int, opts map[string]string) *cluster {
	r := ordo.NewRoster(n, 1, 0)
	c := &cluster{t: t, envs: map[ordo.NodeID]*ordotest.Env{}, nodes: map[ordo.NodeID]*dynamo.Server{}, down: map[ordo.NodeID]bool{}, perKind: map[string]int{}}
	o := map[string]string{"n_replicas": fmt.Sprint(n), "r": "1", "w": "1", "sync_every": "0s", "read_repair": "false"}
	for k, v := range opts {
		o[k] = v
	}
	for i := 1; i <= n; i++ {
		id := ordo.NodeID(i)
		e := ordotest.ForProtocol(dynamo.Protocol, id, r, uint64(i))
		s := e.NewNode(t, dynamo.Protocol, o).(*dynamo.Server)
		e.Start(s)
		c.envs[id], c.nodes[id] = e, s
	}
	return c
}

func (c *cluster) collect(from ordo.NodeID) {
	for _, s := range c.envs[from].Sent {
		c.queue = append(c.queue, msg{from, s.To, s.Msg})
	}
}

// put writes key at server at; its replicas get the write only if up.
func (c *cluster) put(at ordo.NodeID, key, value string) {
	e := c.envs[at]
	client := ordo.NodeID(len(c.nodes) + 1)
	e.Receive(c.nodes[at], client, dynamo.Request{ID: 1, Op: dynamo.OpPut, Key: key, Value: value})
	c.collect(at)
	c.run(false)
}

// run delivers the queue; sync says to count the bytes.
func (c *cluster) run(sync bool) {
	for len(c.queue) > 0 {
		m := c.queue[0]
		c.queue = c.queue[1:]
		if int(m.to) > len(c.nodes) || c.down[m.to] {
			continue
		}
		if sync {
			b, err := dynamo.Protocol.Codec.Encode(m.m)
			if err != nil {
				c.t.Fatal(err)
			}
			c.bytes += len(b)
			c.msgs++
			c.perKind[m.m.Kind()] += len(b)
		}
		c.envs[m.to].Receive(c.nodes[m.to], m.from, m.m)
		c.collect(m.to)
	}
}

// sync runs one anti-entropy exchange opened by server from.
func (c *cluster) sync(from ordo.NodeID) {
	c.envs[from].Fire(c.nodes[from], ordo.Timer{Name: "anti-entropy"})
	var keep []ordotest.Sent
	for _, s := range c.envs[from].Sent {
		if s.Msg.Kind() == "dyn-sync-tree" {
			keep = append(keep, s)
		}
	}
	c.envs[from].Sent = keep
	c.collect(from)
	c.run(true)
}

func (c *cluster) converged() bool {
	for id, s := range c.nodes {
		for p := range c.nodes {
			if p != id && s.SyncRoot(p) != c.nodes[p].SyncRoot(id) {
				return false
			}
		}
	}
	return true
}

func (c *cluster) checkTrees() {
	c.t.Helper()
	for id, s := range c.nodes {
		if err := s.TreeCheck(id); err != nil {
			c.t.Fatalf("server %v: %v", id, err)
		}
	}
}

// Anti-entropy: replicas in sync exchange one root hash and nothing
// more; replicas that differ end holding the same versions, siblings
// merged, in one exchange.
func TestAntiEntropy(t *testing.T) {
	c := newCluster(t, 2, nil)
	c.down[2] = true
	c.put(1, "X", "A")
	c.down[2], c.down[1] = false, true
	c.put(2, "X", "B")
	c.put(2, "Y", "C")
	c.down[1] = false
	c.checkTrees()
	if c.converged() {
		t.Fatal("different replicas have equal roots")
	}
	c.sync(1)
	c.checkTrees()
	for _, k := range []string{"X", "Y"} {
		a, _ := c.nodes[1].Object(k)
		b, _ := c.nodes[2].Object(k)
		if !a.Equal(&b) {
			t.Errorf("key %s: %v and %v after anti-entropy", k, &a, &b)
		}
	}
	if x, _ := c.nodes[1].Object("X"); x.Count() != 2 {
		t.Errorf("X: %v, want siblings A and B", &x)
	}
	if !c.converged() {
		t.Error("roots differ after the exchange")
	}
	c.bytes, c.msgs = 0, 0
	c.sync(1)
	if c.msgs != 1 {
		t.Errorf("in sync, yet %d messages were exchanged", c.msgs)
	}
}

// The acceptance line's structure, by hand: in a store of 20 000 keys a
// replica that missed K writes is repaired by exchanges whose bytes grow
// with K, and for K = 1 stay within a path of the tree plus a few
// objects, far below a listing of the store's keys.
func TestAntiEntropyBytesGrowWithDifferencesNotStore(t *testing.T) {
	const store = 20_000
	opts := map[string]string{"preload": fmt.Sprint(store), "max_keys": fmt.Sprint(1 << 17)}
	measure := func(k int) (bytes, rounds int) {
		c := newCluster(t, 2, opts)
		c.down[2] = true
		for i := range k {
			c.put(1, fmt.Sprintf("w/%05d", i), "v")
		}
		c.down[2] = false
		for rounds = 1; ; rounds++ {
			c.sync(ordo.NodeID(1 + rounds%2))
			if c.converged() {
				break
			}
			if rounds > 20 {
				t.Fatalf("K=%d: not converged after %d exchanges", k, rounds)
			}
		}
		c.checkTrees()
		for i := range k {
			key := fmt.Sprintf("w/%05d", i)
			a, _ := c.nodes[1].Object(key)
			if b, ok := c.nodes[2].Object(key); !ok || !a.Equal(&b) {
				t.Fatalf("K=%d: key %s not repaired", k, key)
			}
		}
		t.Logf("K=%d: %d bytes in %d messages, %d exchanges; by kind %v", k, c.bytes, c.msgs, rounds, c.perKind)
		return c.bytes, rounds
	}
	one, _ := measure(1)
	many, _ := measure(300)
	depth := dynamo.TreeDepth(1 << 17)
	// A path: Fanout hashes (plus framing) per level, the leaf's keys,
	// one object there and back.
	bound := depth*(dynamo.Fanout*8+16) + 1024
	if one > bound {
		t.Errorf("K=1: %d bytes, more than a path of the tree and a few keys (%d)", one, bound)
	}
	whole := store * (len("pre/000000") + 1 + 8) // a listing of every key's digest
	if one*100 > whole {
		t.Errorf("K=1: %d bytes, not far below a whole-store listing (%d)", one, whole)
	}
	if many <= one {
		t.Errorf("K=300: %d bytes, not more than K=1 (%d)", many, one)
	}
}

// A peer with another depth (max_keys) is refused and noted; messages
// with bad sizes or levels are refused by the codec.
func TestSyncRefusals(t *testing.T) {
	c := newCluster(t, 2, nil)
	e, s := c.envs[1], c.nodes[1]
	e.Receive(s, 2, dynamo.SyncTree{Depth: 3, Hashes: make([]byte, 8)})
	if n := e.NotesOf(dynamo.NoteSyncRefused); len(n) != 1 || len(e.Sent) != 0 {
		t.Errorf("depth mismatch: notes %v, sent %v", e.Notes, e.SentSummary())
	}
	bad := []ordo.Message{
		dynamo.SyncTree{Depth: 2, Level: 3, Hashes: make([]byte, 8)},
		dynamo.SyncTree{Depth: 2, Level: 0, Hashes: make([]byte, 7)},
		dynamo.SyncTree{Depth: 2, Level: 1, Parents: []uint32{0}, Hashes: make([]byte, 8)},
		dynamo.SyncTree{Depth: 2, Level: 2, Parents: []uint32{16}, Hashes: make([]byte, 128)},
		dynamo.SyncTree{Depth: 2, Level: 2, Parents: []uint32{3, 1}, Hashes: make([]byte, 256)},
		dynamo.SyncTree{Depth: 9, Level: 0, Hashes: make([]byte, 8)},
		dynamo.SyncTree{Level: 1},
		dynamo.SyncLeaves{Depth: 2},
		dynamo.SyncLeaves{Depth: 2, Leaves: []uint32{256}},
		dynamo.SyncLeaves{Depth: 2, Leaves: []uint32{1}, Keys: []string{"k"}, Digests: make([]byte, 8)},
		dynamo.SyncLeaves{Depth: 2, Leaves: []uint32{dynamo.LeafOf("k", 2)}, Keys: []string{"k"}},
		dynamo.SyncLeaves{Depth: 2, Leaves: []uint32{1, 2}, Partial: true, Lo: "a", Hi: "b"},
		dynamo.Push{Want: make([]string, dynamo.MaxSyncKeys+1)},
	}
	for _, m := range bad {
		b, err := dynamo.Protocol.Codec.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dynamo.Protocol.Codec.Decode(m.Kind(), b); err == nil {
			t.Errorf("%+v decoded", m)
		}
		e.Reset()
		s.Receive(e, 2, m) // a runtime that does not decode: refused by the server
		if len(e.Sent) != 0 {
			t.Errorf("%+v answered: %v", m, e.SentSummary())
		}
	}
}

// FuzzSyncMessages feeds arbitrary bytes to the decoders of the sync
// messages: they never panic; what they accept re-encodes to the same
// bytes and a server handles it without panicking.
func FuzzSyncMessages(f *testing.F) {
	enc := func(m ordo.Message) []byte {
		b, err := dynamo.Protocol.Codec.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(uint8(0), enc(dynamo.SyncTree{Depth: 2, Hashes: make([]byte, 8)}))
	f.Add(uint8(0), enc(dynamo.SyncTree{Depth: 2, Level: 2, Parents: []uint32{1, 7}, Hashes: make([]byte, 256)}))
	f.Add(uint8(1), enc(dynamo.SyncLeaves{Depth: 2, Leaves: []uint32{dynamo.LeafOf("X", 2)}, Keys: []string{"X"}, Digests: make([]byte, 8)}))
	f.Add(uint8(1), enc(dynamo.SyncLeaves{Depth: 2, Leaves: []uint32{dynamo.LeafOf("X", 2)}, Keys: []string{"X"}, Digests: make([]byte, 8), Partial: true, Lo: "X", Hi: "Y"}))
	f.Add(uint8(2), enc(dynamo.Push{Want: []string{"X"}}))
	f.Add(uint8(2), []byte{})
	kinds := []string{"dyn-sync-tree", "dyn-sync-leaves", "dyn-push"}
	f.Fuzz(func(t *testing.T, k uint8, b []byte) {
		kind := kinds[int(k)%len(kinds)]
		m, err := dynamo.Protocol.Codec.Decode(kind, b)
		if err != nil {
			return
		}
		if again, err := dynamo.Protocol.Codec.Encode(m); err != nil || string(again) != string(b) {
			t.Fatalf("accepted %x, which re-encodes as %x (%v)", b, again, err)
		}
		c := newCluster(t, 2, nil)
		c.put(1, "X", "A")
		c.envs[2].Receive(c.nodes[2], 1, m)
	})
}
