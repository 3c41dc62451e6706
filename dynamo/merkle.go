package dynamo

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"ordo"
	"ordo/trace"
)

// Anti-entropy by Merkle trees (Dynamo 2007, section 4.7). Every server
// keeps, for each peer it shares keys with, a hash tree over those keys:
// a key belongs to one leaf, chosen by its hash; a leaf's hash is an
// order-independent sum over its keys (key and object digest); an inner
// node hashes its Fanout children. A write or repair changes one leaf per
// peer and the Depth nodes above it (O(Depth·Fanout) work, no pass over
// the store). Two replicas in sync exchange one root hash; otherwise they
// descend level by level into the subtrees that differ only, then list
// the keys of the differing leaves with their digests, then push the
// objects. The bytes grow with the number of differing keys (about
// Depth·Fanout hashes each, fewer when they share subtrees), not with the
// size of the store.

// Bounds of the Merkle exchange.
const (
	// Fanout is the children of an inner node.
	Fanout = 16
	// MaxDepth bounds a tree's depth: Fanout^MaxDepth leaves (1 Mi).
	MaxDepth = 5
	// MaxTreeParents bounds the subtrees one SyncTree message opens:
	// Fanout hashes each (128 KiB at most). More differing ones wait for
	// the next round.
	MaxTreeParents = 1024
	// MaxSyncLeaves bounds the leaves one SyncLeaves message lists.
	MaxSyncLeaves = 4096
	// MaxSyncKeys bounds the keys (and digests) one SyncLeaves lists, the
	// keys one Push asks for, and the objects one exchange pushes.
	MaxSyncKeys = 4096
	// keysPerLeaf is how many keys a leaf holds at most on average when
	// the store is full (max_keys): it sets the depth.
	keysPerLeaf = 4
	hashBytes   = 8
)

// Note kinds of anti-entropy.
const (
	// NoteSyncPush is a push of objects to a peer: peer, keys, want.
	NoteSyncPush = "dynamo-sync-push"
	// NoteSyncRefused is a sync message refused: peer, reason (a peer with
	// another depth, keys outside the leaves listed).
	NoteSyncRefused = "dynamo-sync-refused"
)

// TreeDepth is the depth of the trees of a store of at most maxKeys keys:
// the least depth whose leaves hold keysPerLeaf keys each on average when
// the store is full (2 for the default 1024 keys, 4 for 100 000), at most
// MaxDepth.
func TreeDepth(maxKeys int) int {
	d, leaves := 1, Fanout
	for d < MaxDepth && leaves*keysPerLeaf < maxKeys {
		d++
		leaves *= Fanout
	}
	return d
}

// pow16 is Fanout^l.
func pow16(l int) uint32 { return 1 << (4 * l) }

// keyHash places a key in the trees; another mix than the ring's, so
// the keys one peer shares spread over every leaf.
func keyHash(key string) uint64 { return mix64(fnv(key) ^ 0x5851f42d4c957f2d) }

func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// LeafOf is the leaf of key in a tree of the given depth: the top
// 4·depth bits of its hash.
func LeafOf(key string, depth int) uint32 { return uint32(keyHash(key) >> (64 - 4*depth)) }

// contribution is what one key adds to its leaf's hash.
func contribution(key string, digest uint64) uint64 {
	return mix64(keyHash(key) ^ digest*0x9e3779b97f4a7c15)
}

// merkle is one tree: levels[l] holds Fanout^l hashes, levels[depth] the
// leaves. An empty subtree hashes to 0, so a peer's missing tree reads
// as all zeros.
type merkle struct {
	levels [][]uint64
}

func newMerkle(depth int) *merkle {
	t := &merkle{levels: make([][]uint64, depth+1)}
	for l := range t.levels {
		t.levels[l] = make([]uint64, pow16(l))
	}
	return t
}

func (t *merkle) depth() int { return len(t.levels) - 1 }

func (t *merkle) root() uint64 { return t.levels[0][0] }

// inner hashes the Fanout children of node i at level l+1.
func (t *merkle) inner(l int, i uint32) uint64 {
	kids := t.levels[l+1][i*Fanout : (i+1)*Fanout]
	h, empty := uint64(14695981039346656037), true
	for j, k := range kids {
		if k != 0 {
			empty = false
		}
		h = mix64(h ^ k ^ uint64(j)<<56)
	}
	if empty {
		return 0
	}
	return h | 1 // nonzero: only an empty subtree hashes to 0
}

// add changes leaf's hash by delta (a key's contribution added or taken
// away) and rehashes the path to the root.
func (t *merkle) add(leaf uint32, delta uint64) {
	d := t.depth()
	t.levels[d][leaf] += delta
	for l := d - 1; l >= 0; l-- {
		leaf /= Fanout
		t.levels[l][leaf] = t.inner(l, leaf)
	}
}

// rehash recomputes every inner node (after a bulk load of leaves).
func (t *merkle) rehash() {
	for l := t.depth() - 1; l >= 0; l-- {
		for i := range t.levels[l] {
			t.levels[l][i] = t.inner(l, uint32(i))
		}
	}
}

// hashAt is node i of level l in t (0 when t is nil: no shared keys).
func (t *merkle) hashAt(l int, i uint32) uint64 {
	if t == nil {
		return 0
	}
	return t.levels[l][i]
}

// antiEntropy is a server's Merkle state: the digest each key counts
// with, the keys of each leaf (sorted), and one tree per peer.
type antiEntropy struct {
	depth   int
	digests map[string]uint64
	leaves  map[uint32][]string
	trees   map[ordo.NodeID]*merkle
	// Rounds counts the exchanges this server opened, Refused the sync
	// messages it refused.
	rounds, refused int
}

func newAntiEntropy(depth int) *antiEntropy {
	return &antiEntropy{depth: depth, digests: map[string]uint64{}, leaves: map[uint32][]string{}, trees: map[ordo.NodeID]*merkle{}}
}

func (a *antiEntropy) tree(peer ordo.NodeID) *merkle {
	t := a.trees[peer]
	if t == nil {
		t = newMerkle(a.depth)
		a.trees[peer] = t
	}
	return t
}

// set records key's digest (the object just stored) in the trees of
// every peer that replicates it too; bulk skips the rehash of the paths
// (rehash follows).
func (s *Server) treeSet(me ordo.NodeID, key string, digest uint64, bulk bool) {
	a := s.ae
	old, had := a.digests[key]
	if had && old == digest {
		return
	}
	leaf := LeafOf(key, a.depth)
	if !had {
		ks := a.leaves[leaf]
		i, _ := slices.BinarySearch(ks, key)
		a.leaves[leaf] = slices.Insert(ks, i, key)
	}
	a.digests[key] = digest
	delta := contribution(key, digest)
	if had {
		delta -= contribution(key, old)
	}
	for _, p := range s.ring.Preference(key) {
		if p == me {
			continue
		}
		if bulk {
			a.tree(p).levels[a.depth][leaf] += delta
		} else {
			a.tree(p).add(leaf, delta)
		}
	}
}

// treeForget takes key out of the trees: whatever removes an object from
// objs (not the store's tombstones, which are objects) must call it.
func (s *Server) treeForget(me ordo.NodeID, key string) {
	a := s.ae
	old, had := a.digests[key]
	if !had {
		return
	}
	leaf := LeafOf(key, a.depth)
	ks := a.leaves[leaf]
	if i, ok := slices.BinarySearch(ks, key); ok {
		ks = slices.Delete(ks, i, i+1)
	}
	if len(ks) == 0 {
		delete(a.leaves, leaf)
	} else {
		a.leaves[leaf] = ks
	}
	delete(a.digests, key)
	for _, p := range s.ring.Preference(key) {
		if p != me {
			a.tree(p).add(leaf, -contribution(key, old))
		}
	}
}

// treeCheck recomputes the trees from the objects and compares (tests):
// the incremental upkeep must equal a rebuild.
func (s *Server) treeCheck(me ordo.NodeID) error {
	fresh := &Server{ring: s.ring, ae: newAntiEntropy(s.ae.depth)}
	for k, o := range s.objs {
		fresh.treeSet(me, k, o.Digest(), true)
	}
	for _, t := range fresh.ae.trees {
		t.rehash()
	}
	for p, t := range fresh.ae.trees {
		if s.ae.trees[p].root() != t.root() {
			return fmt.Errorf("tree of peer %v: root %x kept, %x rebuilt", p, s.ae.trees[p].root(), t.root())
		}
	}
	for p, t := range s.ae.trees {
		if fresh.ae.trees[p] == nil && t.root() != 0 {
			return fmt.Errorf("tree of peer %v: root %x kept for no shared key", p, t.root())
		}
	}
	if len(s.ae.digests) != len(s.objs) {
		return fmt.Errorf("%d keys in the trees, %d stored", len(s.ae.digests), len(s.objs))
	}
	return nil
}

// TreeCheck is treeCheck for tests outside the package.
func (s *Server) TreeCheck(me ordo.NodeID) error { return s.treeCheck(me) }

// SyncRoot is the root hash of the tree of the keys this server shares
// with peer (0: none). Two replicas in sync have equal roots.
func (s *Server) SyncRoot(peer ordo.NodeID) uint64 { return s.ae.trees[peer].hashAt(0, 0) }

// SyncRounds is how many anti-entropy exchanges this server opened, and
// how many sync messages it refused.
func (s *Server) SyncRounds() (opened, refused int) { return s.ae.rounds, s.ae.refused }

// Depth is the depth of this server's trees.
func (s *Server) Depth() int { return s.ae.depth }

// preloadKey names synthetic key i.
func preloadKey(i int) string { return fmt.Sprintf("pre/%06d", i) }

// preload adds the synthetic keys this server replicates and does not
// hold yet (benchmarks and tests only, option preload): every replica
// builds the very same object, written once by the key's first
// preference-list member at time 0, as if it had been replicated long
// ago. Nothing is stored or noted; a real write of such a key is stored
// and wins at the next boot.
func (s *Server) preload(me ordo.NodeID) {
	for i := range s.cfg.Preload {
		k := preloadKey(i)
		pref := s.ring.Preference(k)
		if _, ok := s.objs[k]; ok || !slices.Contains(pref, me) {
			continue
		}
		w := pref[0]
		v := Sibling{Value: "p" + strconv.Itoa(i), Writer: w, Vec: vector(Ctx{w: 1}, s.width)}
		o := &Object{}
		switch {
		case s.cfg.Resolution == LWW:
			o.UpdateLWW(w, v)
		case s.cfg.Versions == VV:
			o.UpdateVV(nil, w, v)
		default:
			o.UpdateDVV(nil, w, v)
		}
		s.objs[k] = o
	}
}

// SyncTree is one level of a Merkle exchange: the sender's hashes of the
// children of Parents (nodes of level Level-1), Fanout per parent, 8
// bytes each, little-endian; at Level 0 the root alone. The receiver
// answers the children that differ with its own hashes one level down,
// or at the leaves with a SyncLeaves.
type SyncTree struct {
	Depth   uint8
	Level   uint8
	Parents []uint32
	Hashes  []byte
}

// Kind implements ordo.Message.
func (SyncTree) Kind() string { return "dyn-sync-tree" }

// Validate implements ordo.Validator: sizes and levels. The zero value
// (depth 0, nothing else) is valid and ignored.
func (m SyncTree) Validate() error {
	switch {
	case m.Depth == 0:
		if m.Level != 0 || len(m.Parents) != 0 || len(m.Hashes) != 0 {
			return fmt.Errorf("sync tree of depth 0 with content")
		}
		return nil
	case m.Depth > MaxDepth || m.Level > m.Depth:
		return fmt.Errorf("sync tree level %d of depth %d (depth 1..%d)", m.Level, m.Depth, MaxDepth)
	case m.Level == 0:
		if len(m.Parents) != 0 || len(m.Hashes) != hashBytes {
			return fmt.Errorf("sync tree root with %d parents, %d bytes of hashes (want 0, %d)", len(m.Parents), len(m.Hashes), hashBytes)
		}
		return nil
	case len(m.Parents) == 0 || len(m.Parents) > MaxTreeParents || len(m.Hashes) != len(m.Parents)*Fanout*hashBytes:
		return fmt.Errorf("sync tree of %d parents, %d bytes of hashes (1..%d parents, %d bytes each)", len(m.Parents), len(m.Hashes), MaxTreeParents, Fanout*hashBytes)
	}
	for i, p := range m.Parents {
		if p >= pow16(int(m.Level)-1) || i > 0 && p <= m.Parents[i-1] {
			return fmt.Errorf("sync tree parent %d (%d) out of order or beyond level %d", i, p, m.Level-1)
		}
	}
	return nil
}

func (m SyncTree) hash(i int) uint64 {
	return binary.LittleEndian.Uint64(m.Hashes[i*hashBytes:])
}

// SyncLeaves lists the sender's keys of leaves that differ, with their
// digests (8 bytes each): every key it shares with the receiver in those
// leaves, ordered by leaf then key. A leaf with more than MaxSyncKeys
// such keys is sent alone and in part (Partial): the keys from Lo to Hi,
// a window of its sorted keys that wraps around when Lo > Hi (then the
// keys from Lo up, and up to Hi).
type SyncLeaves struct {
	Depth   uint8
	Leaves  []uint32
	Keys    []string
	Digests []byte
	Partial bool
	Lo, Hi  string
}

// Kind implements ordo.Message.
func (SyncLeaves) Kind() string { return "dyn-sync-leaves" }

// Validate implements ordo.Validator: sizes, order, and every key in a
// leaf listed. The zero value is valid and ignored.
func (m SyncLeaves) Validate() error {
	switch {
	case m.Depth == 0:
		if len(m.Leaves) != 0 || len(m.Keys) != 0 || len(m.Digests) != 0 || m.Partial || m.Lo != "" || m.Hi != "" {
			return fmt.Errorf("sync leaves of depth 0 with content")
		}
		return nil
	case m.Depth > MaxDepth:
		return fmt.Errorf("sync leaves of depth %d (1..%d)", m.Depth, MaxDepth)
	case len(m.Leaves) == 0 || len(m.Leaves) > MaxSyncLeaves:
		return fmt.Errorf("sync leaves: %d leaves (1..%d)", len(m.Leaves), MaxSyncLeaves)
	case len(m.Keys) > MaxSyncKeys || len(m.Digests) != len(m.Keys)*hashBytes:
		return fmt.Errorf("sync leaves: %d keys, %d bytes of digests (at most %d keys, %d bytes each)", len(m.Keys), len(m.Digests), MaxSyncKeys, hashBytes)
	case m.Partial && (len(m.Leaves) != 1 || m.Lo == "" || m.Hi == ""):
		return fmt.Errorf("sync leaves: a partial leaf must be alone with a key range (%d leaves, %q..%q)", len(m.Leaves), m.Lo, m.Hi)
	case !m.Partial && (m.Lo != "" || m.Hi != ""):
		return fmt.Errorf("sync leaves: a key range without partial")
	}
	for i, l := range m.Leaves {
		if l >= pow16(int(m.Depth)) || i > 0 && l <= m.Leaves[i-1] {
			return fmt.Errorf("sync leaf %d (%d) out of order or beyond depth %d", i, l, m.Depth)
		}
	}
	prev := uint32(0)
	for i, k := range m.Keys {
		if len(k) == 0 || len(k) > MaxKeyLen {
			return fmt.Errorf("sync key of %d bytes (1..%d)", len(k), MaxKeyLen)
		}
		l := LeafOf(k, int(m.Depth))
		if _, ok := slices.BinarySearch(m.Leaves, l); !ok {
			return fmt.Errorf("sync key %q is in leaf %d, not listed", k, l)
		}
		if i > 0 && (l < prev || l == prev && k <= m.Keys[i-1]) {
			return fmt.Errorf("sync key %q out of order", k)
		}
		if m.Partial && !m.inWindow(k) {
			return fmt.Errorf("sync key %q outside the range %q..%q", k, m.Lo, m.Hi)
		}
		prev = l
	}
	return nil
}

func (m SyncLeaves) digest(i int) uint64 {
	return binary.LittleEndian.Uint64(m.Digests[i*hashBytes:])
}

// covers reports whether the message lists every key of key's leaf that
// the sender holds.
func (m SyncLeaves) covers(key string) bool {
	if _, ok := slices.BinarySearch(m.Leaves, LeafOf(key, int(m.Depth))); !ok {
		return false
	}
	return !m.Partial || m.inWindow(key)
}

func (m SyncLeaves) inWindow(key string) bool {
	if m.Lo <= m.Hi {
		return m.Lo <= key && key <= m.Hi
	}
	return key >= m.Lo || key <= m.Hi
}

// openSync opens an exchange with a random other server: the root of
// the tree of the keys both replicate.
func (s *Server) openSync(env ordo.Env) {
	peers := env.Peers()
	if len(peers) == 0 {
		return
	}
	p := peers[env.Rand().IntN(len(peers))]
	s.ae.rounds++
	env.Send(p, SyncTree{Depth: uint8(s.ae.depth), Hashes: binary.LittleEndian.AppendUint64(nil, s.ae.trees[p].hashAt(0, 0))})
}

func (s *Server) refuseSync(env ordo.Env, from ordo.NodeID, why string) {
	s.ae.refused++
	env.Note(NoteSyncRefused, "peer", int(from), "reason", why)
}

// rotate picks at most n of xs, starting at a random one (so a
// difference that cannot be repaired, a full store, say, does not hide
// the others round after round), in ascending order.
func rotate(env ordo.Env, xs []uint32, n int) []uint32 {
	if len(xs) <= n {
		return xs
	}
	start := env.Rand().IntN(len(xs))
	out := make([]uint32, 0, n)
	for i := range n {
		out = append(out, xs[(start+i)%len(xs)])
	}
	slices.Sort(out)
	return out
}

// syncTree compares a peer's hashes with this server's and answers one
// level down, or with the keys of the differing leaves.
func (s *Server) syncTree(env ordo.Env, from ordo.NodeID, m SyncTree) {
	if !s.isServer(from) || m.Depth == 0 {
		return
	}
	if err := m.Validate(); err != nil { // the codec checked already; not every runtime decodes
		s.refuseSync(env, from, err.Error())
		return
	}
	if int(m.Depth) != s.ae.depth {
		s.refuseSync(env, from, fmt.Sprintf("depth %d, mine is %d (max_keys differs)", m.Depth, s.ae.depth))
		return
	}
	t := s.ae.trees[from]
	l := int(m.Level)
	var differ []uint32
	if l == 0 {
		if m.hash(0) != t.hashAt(0, 0) {
			differ = []uint32{0}
		}
	} else {
		for i, p := range m.Parents {
			for c := range uint32(Fanout) {
				n := p*Fanout + c
				if m.hash(i*Fanout+int(c)) != t.hashAt(l, n) {
					differ = append(differ, n)
				}
			}
		}
	}
	if len(differ) == 0 {
		return // in sync here
	}
	if l == s.ae.depth {
		s.sendLeaves(env, from, differ)
		return
	}
	parents := rotate(env, differ, MaxTreeParents)
	out := SyncTree{Depth: m.Depth, Level: m.Level + 1, Parents: parents, Hashes: make([]byte, 0, len(parents)*Fanout*hashBytes)}
	for _, p := range parents {
		for c := range uint32(Fanout) {
			out.Hashes = binary.LittleEndian.AppendUint64(out.Hashes, t.hashAt(l+1, p*Fanout+c))
		}
	}
	env.Send(from, out)
}

// shared lists this server's keys of leaf that peer replicates too.
func (s *Server) shared(leaf uint32, peer ordo.NodeID) []string {
	var out []string
	for _, k := range s.ae.leaves[leaf] {
		if slices.Contains(s.ring.Preference(k), peer) {
			out = append(out, k)
		}
	}
	return out
}

// sendLeaves lists this server's keys of the differing leaves, as many
// whole leaves as fit in one message.
func (s *Server) sendLeaves(env ordo.Env, to ordo.NodeID, differ []uint32) {
	out := SyncLeaves{Depth: uint8(s.ae.depth)}
	keys := map[uint32][]string{}
	n := 0
	for _, leaf := range rotate(env, differ, MaxSyncLeaves) {
		ks := s.shared(leaf, to)
		if n+len(ks) > MaxSyncKeys {
			if len(out.Leaves) > 0 {
				continue // a later round
			}
			// One leaf holds more than a message lists: a window of
			// it from a random start, wrapping around, so every key is
			// as likely to be compared.
			start := env.Rand().IntN(len(ks))
			end := (start + MaxSyncKeys - 1) % len(ks)
			out.Partial, out.Lo, out.Hi = true, ks[start], ks[end]
			if start <= end {
				ks = ks[start : end+1]
			} else {
				ks = append(slices.Clone(ks[:end+1]), ks[start:]...)
			}
		}
		out.Leaves = append(out.Leaves, leaf)
		keys[leaf] = ks
		n += len(ks)
		if out.Partial {
			break
		}
	}
	slices.Sort(out.Leaves)
	for _, leaf := range out.Leaves {
		for _, k := range keys[leaf] {
			out.Keys = append(out.Keys, k)
			out.Digests = binary.LittleEndian.AppendUint64(out.Digests, s.ae.digests[k])
		}
	}
	env.Send(to, out)
}

// syncLeaves compares a peer's keys of differing leaves with this
// server's: it pushes what differs or the peer lacks and asks for what it
// lacks (Want); the peer merges and pushes back what it holds more of.
func (s *Server) syncLeaves(env ordo.Env, from ordo.NodeID, m SyncLeaves) {
	if !s.isServer(from) || m.Depth == 0 {
		return
	}
	if err := m.Validate(); err != nil {
		s.refuseSync(env, from, err.Error())
		return
	}
	if int(m.Depth) != s.ae.depth {
		s.refuseSync(env, from, fmt.Sprintf("depth %d, mine is %d (max_keys differs)", m.Depth, s.ae.depth))
		return
	}
	me := env.ID()
	var send []string
	var want []string
	listed := make(map[string]bool, len(m.Keys))
	for i, k := range m.Keys {
		listed[k] = true
		if !slices.Contains(s.ring.Preference(k), me) {
			continue
		}
		o, ok := s.objs[k]
		switch {
		case !ok:
			want = append(want, k)
		case o.Digest() != m.digest(i):
			send = append(send, k)
		}
	}
	for _, leaf := range m.Leaves {
		for _, k := range s.shared(leaf, from) {
			if !listed[k] && m.covers(k) {
				send = append(send, k)
			}
		}
	}
	s.pushKeys(env, from, send, want, false)
}

// pushKeys sends the objects of keys to peer in Pushes of at most
// MaxPushKeys objects (and pushBudget bytes), MaxSyncKeys in all; want
// rides on the first.
func (s *Server) pushKeys(env ordo.Env, to ordo.NodeID, keys, want []string, final bool) {
	if len(keys) > MaxSyncKeys {
		keys = keys[:MaxSyncKeys]
	}
	out := Push{Want: want, Final: final}
	flush := func() {
		if len(out.Keys) > 0 || len(out.Want) > 0 {
			env.Note(NoteSyncPush, "peer", int(to), "keys", len(out.Keys), "want", len(out.Want))
			env.Send(to, out)
		}
		out = Push{Final: final}
	}
	for _, k := range keys {
		o, ok := s.objs[k]
		if !ok {
			continue
		}
		if !out.room(o) {
			flush()
		}
		out.add(k, o)
	}
	flush()
}

// push merges a peer's objects; unless Final, it pushes back the keys
// whose merge holds more than what came, and the keys asked for.
func (s *Server) push(env ordo.Env, from ordo.NodeID, p Push) {
	if !s.isServer(from) {
		return
	}
	if err := p.Validate(); err != nil {
		s.refuseSync(env, from, err.Error())
		return
	}
	var back []string
	for i, k := range p.Keys {
		if k == "" || !slices.Contains(s.ring.Preference(k), env.ID()) {
			continue
		}
		if !s.merge(env, k, &p.Objs[i]) {
			continue
		}
		if o := s.objs[k]; !p.Final && o.Digest() != p.Objs[i].Digest() {
			back = append(back, k)
		}
	}
	if !p.Final {
		for _, k := range p.Want {
			if _, ok := s.objs[k]; ok && slices.Contains(s.ring.Preference(k), from) {
				back = append(back, k)
			}
		}
	}
	s.pushKeys(env, from, back, nil, true)
}

// SyncTraffic is what a trace shows of anti-entropy from time since on:
// the sync messages sent (kinds dyn-sync-tree, dyn-sync-leaves,
// dyn-push), their encoded bytes, and the keys pushed (notes
// dynamo-sync-push). Both runtimes record each send's size.
func SyncTraffic(t *trace.Trace, since int64) (msgs int, bytes int64, pushed int) {
	for i := range t.Events {
		e := &t.Events[i]
		if e.T < since {
			continue
		}
		switch {
		case e.Kind == trace.Send && (e.MsgKind == SyncTree{}.Kind() || e.MsgKind == SyncLeaves{}.Kind() || e.MsgKind == Push{}.Kind()):
			msgs++
			bytes += int64(e.Bytes)
		case e.Kind == trace.Note && e.Name == NoteSyncPush:
			if n, ok := e.Attrs.Int("keys"); ok {
				pushed += int(n)
			}
		}
	}
	return msgs, bytes, pushed
}
