package lab

import (
	"fmt"
	"strconv"
	"time"

	"ordo"
	"ordo/dynamo"
	"ordo/sim"
)

// DynamoSyncConfig is one measurement of the dynamo store's Merkle
// anti-entropy in the simulator (issue 12): Store keys replicated on
// every server (N = Servers), one replica crashed while a client writes
// Differ new keys, then restarted; anti-entropy converges it.
type DynamoSyncConfig struct {
	Store   int // keys every replica holds before the crash (option preload)
	Differ  int // keys written while the replica is down (real client puts)
	Servers int // 0: 3
	// MaxKeys is the servers' max_keys (the trees' depth follows); 0:
	// 1<<17, one depth for every store size up to 100 000 keys, so rows
	// of different sizes compare the same trees.
	MaxKeys   int
	SyncEvery time.Duration // 0: 200ms
	Seed      uint64
	// Limit is the simulated time allowed for the writes and then for the
	// convergence (0: 60s each).
	Limit time.Duration
}

// DynamoSyncResult is what DynamoSync measured, from the restart of the
// replica until every pair of replicas has equal Merkle roots (and at
// least one sync period, so the control K = 0 shows what in-sync rounds
// cost).
type DynamoSyncResult struct {
	Config    DynamoSyncConfig `json:"config"`
	Depth     int              `json:"depth"`
	Written   int              `json:"written"`   // acknowledged puts while the replica was down
	Converged bool             `json:"converged"` // roots equal and every written key equal on every replica
	// Bytes and Messages are the encoded sizes and the count of the sync
	// messages (dyn-sync-tree, dyn-sync-leaves, dyn-push) sent in the window.
	Bytes    int64            `json:"bytes"`
	Messages int              `json:"messages"`
	ByKind   map[string]int64 `json:"bytes_by_kind"`
	// Rounds is the exchanges opened by all servers in the window.
	Rounds int `json:"rounds"`
	// Converge is the simulated time from the restart until the roots were
	// equal.
	Converge time.Duration `json:"converge_ns"`
	// Flat is what one exchange listing every shared key's digest would
	// send (key and 8-byte digest each): the cost the tree avoids.
	Flat int64         `json:"flat_bytes"`
	Wall time.Duration `json:"wall_ns"`
}

// SyncKinds are the message kinds of the anti-entropy exchange.
var SyncKinds = []string{dynamo.SyncTree{}.Kind(), dynamo.SyncLeaves{}.Kind(), dynamo.Push{}.Kind()}

// DynamoSync runs one measurement. The Store keys come from the servers'
// preload option (benchmarks only: identical on every replica, so they
// cannot differ); the Differ keys from a client's puts while the replica
// is down. Errors: bad sizes, the simulator's, writes that did not
// complete within Limit.
func DynamoSync(c DynamoSyncConfig) (*DynamoSyncResult, error) {
	start := time.Now()
	if c.Servers == 0 {
		c.Servers = 3
	}
	if c.MaxKeys == 0 {
		c.MaxKeys = 1 << 17
	}
	if c.SyncEvery == 0 {
		c.SyncEvery = 200 * time.Millisecond
	}
	if c.Limit == 0 {
		c.Limit = time.Minute
	}
	switch {
	case c.Servers < 2 || c.Servers > 16:
		return nil, fmt.Errorf("dynamo-sync: %d servers (2..16)", c.Servers)
	case c.Store < 0 || c.Differ < 0 || c.Store+c.Differ > c.MaxKeys:
		return nil, fmt.Errorf("dynamo-sync: store %d + differing %d keys beyond max_keys %d", c.Store, c.Differ, c.MaxKeys)
	}
	opts, err := dynamo.Protocol.Resolve(map[string]string{
		"n_replicas": strconv.Itoa(c.Servers), "r": "1", "w": strconv.Itoa(c.Servers - 1),
		"read_repair": "false", "sloppy": "false", "sync_every": c.SyncEvery.String(),
		"max_keys": strconv.Itoa(c.MaxKeys), "preload": strconv.Itoa(c.Store),
	})
	if err != nil {
		return nil, err
	}
	wopts, err := syncWriter.Resolve(map[string]string{"keys": strconv.Itoa(c.Differ)})
	if err != nil {
		return nil, err
	}
	s, err := sim.New(sim.Config{Protocol: dynamo.Protocol, Options: opts, Nodes: c.Servers, Seed: c.Seed, Name: "dynamo-sync", Wire: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}},
		Clients: []sim.ClientGroup{{Protocol: syncWriter, Options: wopts, Count: 1}}})
	if err != nil {
		return nil, err
	}
	defer s.Release()
	down := ordo.NodeID(c.Servers)
	writer := ordo.NodeID(c.Servers + 1)
	res := &DynamoSyncResult{Config: c, ByKind: map[string]int64{}}
	if err := s.RunFor(10 * time.Millisecond); err != nil {
		return nil, err
	}
	s.Crash(down)
	w := s.Node(writer).(*writerNode)
	for deadline := s.Now() + c.Limit; w.acked < c.Differ; {
		if s.Now() >= deadline {
			return nil, fmt.Errorf("dynamo-sync: %d of %d writes acknowledged in %v", w.acked, c.Differ, c.Limit)
		}
		if err := s.RunFor(10 * time.Millisecond); err != nil {
			return nil, err
		}
	}
	res.Written = w.acked
	before := map[string]sim.KindStats{}
	for _, k := range SyncKinds {
		if ks := s.Stats().Kinds[k]; ks != nil {
			before[k] = *ks
		}
	}
	opened := 0
	for id := ordo.NodeID(1); id < down; id++ {
		n, _ := s.Node(id).(*dynamo.Server).SyncRounds()
		opened -= n
	}
	if err := s.Restart(down); err != nil {
		return nil, err
	}
	t0 := s.Now()
	servers := make([]*dynamo.Server, c.Servers)
	for i := range servers {
		servers[i] = s.Node(ordo.NodeID(i + 1)).(*dynamo.Server)
	}
	res.Depth = servers[0].Depth()
	for deadline := t0 + c.Limit; ; {
		if rootsEqual(servers) {
			if !res.Converged {
				res.Converged, res.Converge = true, s.Now()-t0
			}
			if s.Now()-t0 >= c.SyncEvery {
				break
			}
		} else {
			res.Converged = false
		}
		if s.Now() >= deadline {
			break
		}
		if err := s.RunFor(5 * time.Millisecond); err != nil {
			return nil, err
		}
	}
	for i := range c.Differ {
		k := writerKey(i)
		a, _ := servers[0].Object(k)
		for _, sv := range servers[1:] {
			if b, ok := sv.Object(k); !ok || !a.Equal(&b) {
				res.Converged = false
			}
		}
	}
	for _, k := range SyncKinds {
		ks := s.Stats().Kinds[k]
		if ks == nil {
			continue
		}
		b := ks.Bytes - before[k].Bytes
		res.Bytes += b
		res.ByKind[k] = b
		res.Messages += ks.Sent - before[k].Sent
	}
	for _, sv := range servers {
		n, _ := sv.SyncRounds()
		opened += n
	}
	res.Rounds = opened
	for i := range c.Store {
		res.Flat += int64(1 + len(fmt.Sprintf("pre/%06d", i)) + 8)
	}
	for i := range c.Differ {
		res.Flat += int64(1 + len(writerKey(i)) + 8)
	}
	res.Wall = time.Since(start)
	return res, nil
}

func rootsEqual(servers []*dynamo.Server) bool {
	for i, a := range servers {
		for j, b := range servers {
			if i != j && a.SyncRoot(ordo.NodeID(j+1)) != b.SyncRoot(ordo.NodeID(i+1)) {
				return false
			}
		}
	}
	return true
}

func writerKey(i int) string { return fmt.Sprintf("w/%06d", i) }

// syncWriter is the measurement's client: it puts keys w/000000.. once
// each at server 1, writerConcurrency at a time, retrying until
// acknowledged. Not registered: DynamoSync's own.
var syncWriter = &ordo.Protocol{
	Name:     "dynamo-sync-writer",
	Doc:      "writes keys w/000000.. once each (ordo bench dynamo-sync)",
	Options:  []ordo.Option{{Name: "keys", Default: "1", Help: "keys to write"}},
	Messages: []ordo.Message{dynamo.Request{}, dynamo.Reply{}},
	Role:     ordo.Client,
	New: func(cfg ordo.Config) (ordo.Node, error) {
		return &writerNode{keys: cfg.Opts.Int("keys"), inflight: map[uint64]int{}}, nil
	},
}

const (
	writerConcurrency = 32
	writerTimeout     = 500 * time.Millisecond
	writerStart       = 20 * time.Millisecond // DynamoSync crashes the replica at 10ms
)

type writerNode struct {
	keys, next, acked int
	inflight          map[uint64]int // request id → key index
	id                uint64
}

// Start waits writerStart: the replica crashes before the first write.
func (w *writerNode) Start(env ordo.Env) { env.After(writerStart, ordo.Timer{Name: "begin"}) }

func (w *writerNode) issue(env ordo.Env) {
	if w.next >= w.keys {
		return
	}
	w.send(env, w.next)
	w.next++
}

func (w *writerNode) send(env ordo.Env, i int) {
	w.id++
	w.inflight[w.id] = i
	env.Send(1, dynamo.Request{ID: w.id, Op: dynamo.OpPut, Key: writerKey(i), Value: "v" + strconv.Itoa(i)})
	env.After(writerTimeout, ordo.Timer{Name: "timeout", Arg: int64(w.id)})
}

func (w *writerNode) Receive(env ordo.Env, _ ordo.NodeID, m ordo.Message) {
	r, ok := m.(dynamo.Reply)
	if !ok {
		return
	}
	i, ok := w.inflight[r.ID]
	if !ok {
		return
	}
	delete(w.inflight, r.ID)
	if r.Status != dynamo.StatusOK {
		w.send(env, i)
		return
	}
	w.acked++
	w.issue(env)
}

func (w *writerNode) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name == "begin" {
		for range writerConcurrency {
			w.issue(env)
		}
		return
	}
	if i, ok := w.inflight[uint64(t.Arg)]; ok {
		delete(w.inflight, uint64(t.Arg))
		w.send(env, i)
	}
}
