package dynamo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"ordo"
)

// Resolution is a bucket's way with concurrent writes (option resolution).
type Resolution uint8

// The chapter's three resolutions.
const (
	// LWW keeps the write with the larger timestamp of its coordinator's
	// wall clock (Env.Now: skew and drift apply) and notes the other lost.
	LWW Resolution = iota + 1
	// ClientSide returns every sibling; the client resolves and writes back.
	ClientSide
	// Merge applies the application's merge (a shopping cart) on read.
	Merge
)

// Note kinds of the store.
const (
	NotePut        = "dynamo-put"        // key, value, vec, writer, stamp: a coordinator minted a write
	NoteConcurrent = "dynamo-concurrent" // key, values, vecs: a replica holds concurrent siblings
	NoteLost       = "lost-write"        // key, value, kept: last-write-wins discarded a write
	NoteVersion    = "dynamo-version"    // key, digest, siblings, replicas: what a replica holds now
	NoteCap        = "dynamo-sibling-cap"
	NoteRefused    = "dynamo-refused" // key, reason: a request refused
	NoteHint       = "dynamo-hint"    // key, for: a stand-in took a hinted write
	NoteHandoff    = "dynamo-handoff" // key, to: a hint was delivered
)

// Options of the "dynamo" protocol.
var Options = []ordo.Option{
	{Name: "n_replicas", Default: "0", Help: "N: replicas per key (the preference list's length), 1..servers (0: 3, or every server when fewer)"},
	{Name: "r", Default: "0", Help: "R: replicas that must answer a get, 1..N (0: a majority of N)"},
	{Name: "w", Default: "0", Help: "W: replicas that must store a put (the coordinator included), 1..N (0: a majority of N)"},
	{Name: "vnodes", Default: "8", Help: "virtual nodes (ring tokens) per server, 1..256"},
	{Name: "versions", Default: "dvv", Help: "causal context: dvv (dotted version vectors) or vv (one vector clock per object: sibling explosion)"},
	{Name: "resolution", Default: "client", Help: "concurrent writes: lww (larger wall-clock timestamp wins), client (siblings to the client), merge (a shopping cart merge)"},
	{Name: "merge", Default: "orset", Help: "cart merge when resolution=merge: orset (observed-remove: a removed item stays removed) or union (removed items resurface)"},
	{Name: "max_siblings", Default: "16", Help: "a put that would leave more siblings is refused (reported, never truncated), 1..256"},
	{Name: "timeout", Default: "300ms", Help: "a coordinator waits this long for R or W replicas"},
	{Name: "sync_every", Default: "200ms", Help: "anti-entropy: compare Merkle trees with a random server this often (0s: never)"},
	{Name: "max_keys", Default: strconv.Itoa(MaxKeys), Help: fmt.Sprintf("keys one server holds at most, 1..%d (a put of a new key beyond is refused); sets the Merkle trees' depth", MaxKeysCap)},
	{Name: "preload", Default: "0", Help: "benchmarks and tests only: every server boots holding the same synthetic keys pre/000000.. it replicates (counted in max_keys, never stored or noted)"},
	{Name: "read_repair", Default: "true", Help: "after a get, send the merged version to replicas that answered with less"},
	{Name: "sloppy", Default: "false", Help: "sloppy quorum with hinted handoff: a preference-list member silent for timeout/2 is stood in for by the next server on the ring, which hands the write off later"},
	{Name: "handoff_every", Default: "200ms", Help: "a stand-in tries to hand its hints off this often"},
	{Name: "context_secret", Default: "", Secret: true, Help: "key of the tag that makes contexts unforgeable (empty: derived from the cluster's secret by the runtime; never shown in traces)"},
}

// Protocol is "dynamo", the store's servers.
var Protocol = &ordo.Protocol{
	Name:     "dynamo",
	Doc:      "Dynamo-style store: consistent hashing, N/R/W, vector-clock (DVV or VV) siblings, resolution lww|client|merge, anti-entropy",
	Options:  Options,
	New:      New,
	Messages: Messages,
	Client:   "dynamo-client",
}

func init() { ordo.Register(Protocol) }

// Config is a server's parsed options.
type Config struct {
	N, R, W, Vnodes, MaxSiblings int
	Versions                     Versions
	Resolution                   Resolution
	ORSet                        bool
	Timeout, SyncEvery           time.Duration
	ReadRepair, Sloppy           bool
	HandoffEvery                 time.Duration
	Secret                       []byte
	MaxKeys, Preload             int
}

// ParseConfig checks a server's options; errors name the option.
func ParseConfig(o ordo.Options, servers int) (Config, error) {
	c := Config{N: o.Int("n_replicas"), R: o.Int("r"), W: o.Int("w"), Vnodes: o.Int("vnodes"), MaxSiblings: o.Int("max_siblings"),
		Timeout: o.Duration("timeout"), SyncEvery: o.Duration("sync_every"), ReadRepair: o.Bool("read_repair"), Sloppy: o.Bool("sloppy"), HandoffEvery: o.Duration("handoff_every"), Secret: []byte(o.String("context_secret")),
		MaxKeys: o.Int("max_keys"), Preload: o.Int("preload")}
	if c.N == 0 {
		c.N = min(3, servers)
	}
	if c.R == 0 {
		c.R = c.N/2 + 1
	}
	if c.W == 0 {
		c.W = c.N/2 + 1
	}
	switch o.String("versions") {
	case "dvv":
		c.Versions = DVV
	case "vv":
		c.Versions = VV
	default:
		return c, fmt.Errorf("dynamo: versions=%q (valid: dvv, vv)", o.String("versions"))
	}
	switch o.String("resolution") {
	case "lww":
		c.Resolution = LWW
	case "client":
		c.Resolution = ClientSide
	case "merge":
		c.Resolution = Merge
	default:
		return c, fmt.Errorf("dynamo: resolution=%q (valid: lww, client, merge)", o.String("resolution"))
	}
	switch o.String("merge") {
	case "orset":
		c.ORSet = true
	case "union":
	default:
		return c, fmt.Errorf("dynamo: merge=%q (valid: orset, union)", o.String("merge"))
	}
	switch {
	case c.N < 1 || c.N > servers:
		return c, fmt.Errorf("dynamo: n_replicas=%d out of range 1..%d (the number of servers)", c.N, servers)
	case c.R < 1 || c.R > c.N:
		return c, fmt.Errorf("dynamo: r=%d out of range 1..n_replicas (%d)", c.R, c.N)
	case c.W < 1 || c.W > c.N:
		return c, fmt.Errorf("dynamo: w=%d out of range 1..n_replicas (%d)", c.W, c.N)
	case c.MaxSiblings < 1 || c.MaxSiblings > MaxSiblingsCap:
		return c, fmt.Errorf("dynamo: max_siblings=%d out of range 1..%d", c.MaxSiblings, MaxSiblingsCap)
	case c.Timeout <= 0:
		return c, fmt.Errorf("dynamo: timeout must be more than 0s")
	case c.Sloppy && c.HandoffEvery <= 0:
		return c, fmt.Errorf("dynamo: handoff_every must be more than 0s with sloppy: true")
	case len(c.Secret) > 256:
		return c, fmt.Errorf("dynamo: context_secret of %d bytes (at most 256)", len(c.Secret))
	case c.MaxKeys < 1 || c.MaxKeys > MaxKeysCap:
		return c, fmt.Errorf("dynamo: max_keys=%d out of range 1..%d", c.MaxKeys, MaxKeysCap)
	case c.Preload < 0 || c.Preload > c.MaxKeys:
		return c, fmt.Errorf("dynamo: preload=%d out of range 0..max_keys (%d)", c.Preload, c.MaxKeys)
	}
	return c, nil
}

func (c Config) scheme() byte {
	switch {
	case c.Resolution == LWW:
		return schemeLWW
	case c.Versions == VV:
		return schemeVV
	}
	return schemeDVV
}

// Server is one storage node.
type Server struct {
	cfg     Config
	ring    *Ring
	servers []ordo.NodeID
	width   int // display vectors span servers 1..width
	objs    map[string]*Object
	pending map[uint64]*pendingOp
	// hints are writes held for another server (sloppy quorum), by
	// owner then key; handoffs the deliveries in flight.
	hints    map[ordo.NodeID]map[string]*Object
	nhints   int
	handoffs map[uint64]handoff
	ae       *antiEntropy // Merkle trees (merkle.go)
	boot     uint64
	next     uint64

	// relays are requests forwarded for a client that hears only this
	// server (Request.Relay), by the forwarded request's id.
	relays map[uint64]relay
}

type pendingOp struct {
	client   ordo.NodeID
	req      Request
	pref     []ordo.NodeID
	got      int // answers (gets) or acks (puts), self included
	replied  bool
	merged   Object
	answered map[ordo.NodeID]uint64 // get: replica → digest it answered with
	vec      string
	acked    map[ordo.NodeID]bool // put: who acknowledged
	standins []ordo.NodeID        // put: stand-ins sent a hint
}

type relay struct {
	client ordo.NodeID
	id     uint64 // the client's request id
}

type handoff struct {
	owner  ordo.NodeID
	key    string
	digest uint64
}

// New builds a server.
func New(cfg ordo.Config) (ordo.Node, error) {
	servers := cfg.Servers().Servers
	c, err := ParseConfig(cfg.Opts, len(servers))
	if err != nil {
		return nil, err
	}
	ring, err := NewRing(servers, c.Vnodes, c.N)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, ring: ring, servers: servers, objs: map[string]*Object{}, pending: map[uint64]*pendingOp{},
		hints: map[ordo.NodeID]map[string]*Object{}, handoffs: map[uint64]handoff{}, relays: map[uint64]relay{}, ae: newAntiEntropy(TreeDepth(c.MaxKeys))}
	for _, id := range servers {
		s.width = max(s.width, int(id))
	}
	if s.width > maxVec {
		s.width = 0
	}
	return s, nil
}

const (
	objPrefix   = "dynamo/o/"
	hintPrefix  = "dynamo/h/" // + owner + "/" + key
	timerOp     = "op"        // Arg = pending id
	timerHint   = "hint"      // Arg = pending id: stand in for silent replicas
	timerHand   = "handoff"
	timerSync   = "anti-entropy"
	timerRelay  = "relay" // Arg = forwarded request id
	bootKey     = "dynamo/boot"
	idsPerBoot  = 1 << 32
	maxBootsDyn = 1<<20 - 1
)

// Start implements ordo.Node: it reloads the objects stored.
func (s *Server) Start(env ordo.Env) {
	s.boot = ordo.NextBoot(env, bootKey, maxBootsDyn)
	env.Store().Scan(objPrefix, objPrefix[:len(objPrefix)-1]+"0", func(k string, v []byte) bool {
		m, err := Protocol.Codec.Decode(Replicate{}.Kind(), v)
		if err != nil {
			panic(ordo.Corrupt{Key: k, Err: err})
		}
		o := m.(Replicate).Obj
		s.objs[strings.TrimPrefix(k, objPrefix)] = &o
		return true
	})
	env.Store().Scan(hintPrefix, hintPrefix[:len(hintPrefix)-1]+"0", func(k string, v []byte) bool {
		m, err := Protocol.Codec.Decode(Replicate{}.Kind(), v)
		if err != nil || m.(Replicate).Hint == ordo.None {
			panic(ordo.Corrupt{Key: k, Err: fmt.Errorf("not a hinted object: %v", err)})
		}
		r := m.(Replicate)
		s.hold(r.Hint, r.Key, &r.Obj)
		return true
	})
	s.preload(env.ID())
	for k, o := range s.objs {
		s.treeSet(env.ID(), k, o.Digest(), true)
	}
	for _, t := range s.ae.trees {
		t.rehash()
	}
	if s.cfg.SyncEvery > 0 {
		env.After(s.cfg.SyncEvery, ordo.Timer{Name: timerSync})
	}
	if s.cfg.Sloppy {
		env.After(s.cfg.HandoffEvery, ordo.Timer{Name: timerHand})
	}
}

// hold keeps o for owner (in memory).
func (s *Server) hold(owner ordo.NodeID, key string, o *Object) {
	if s.hints[owner] == nil {
		s.hints[owner] = map[string]*Object{}
	}
	if _, ok := s.hints[owner][key]; !ok {
		s.nhints++
	}
	s.hints[owner][key] = o
}

func hintKey(owner ordo.NodeID, key string) string {
	return hintPrefix + strconv.Itoa(int(owner)) + "/" + key
}

// Hints is how many hinted writes this server holds for others.
func (s *Server) Hints() int { return s.nhints }

// Object returns a copy of what this server holds of key (tests).
func (s *Server) Object(key string) (Object, bool) {
	o, ok := s.objs[key]
	if !ok {
		return Object{}, false
	}
	return o.Clone(), true
}

// Preference is key's preference list.
func (s *Server) Preference(key string) []ordo.NodeID { return s.ring.Preference(key) }

// State implements ordo.StateReporter.
func (s *Server) State() any {
	sib := 0
	for _, o := range s.objs {
		sib += o.Count()
	}
	return map[string]any{"keys": len(s.objs), "siblings": sib, "pending": len(s.pending)}
}

func (s *Server) save(env ordo.Env, key string, o *Object, before uint64) {
	// Stored in the wire encoding (a Replicate): canonical, strict, and
	// byte-exact for any value.
	b, err := Protocol.Codec.Encode(Replicate{Key: key, Obj: *o})
	if err != nil {
		panic(err) // plain data within bounds: cannot fail
	}
	env.Store().Put(objPrefix+key, b)
	s.treeSet(env.ID(), key, o.Digest(), false)
	if d := o.Digest(); d != before {
		env.Note(NoteVersion, "key", key, "digest", strconv.FormatUint(d, 16), "siblings", o.Count(), "replicas", idList(s.ring.Preference(key)))
		if s.cfg.Resolution != LWW && o.Count() > 1 {
			vals, vecs, dels := s.show(o)
			for i := range dels {
				if dels[i] {
					vals[i] = "(deleted)"
				}
			}
			env.Note(NoteConcurrent, "key", key, "values", strings.Join(vals, "|"), "vecs", strings.Join(vecs, " ∥ "))
		}
	}
}

func idList(ids []ordo.NodeID) string {
	var b []string
	for _, id := range ids {
		b = append(b, strconv.Itoa(int(id)))
	}
	return strings.Join(b, ",")
}

// show lists o's siblings for a reply; dels is nil when none is a
// tombstone.
func (s *Server) show(o *Object) (vals, vecs []string, dels []bool) {
	sibs := o.Siblings()
	for i, v := range sibs {
		vals = append(vals, v.Value)
		vecs = append(vecs, v.VecText())
		if v.Deleted {
			if dels == nil {
				dels = make([]bool, len(sibs))
			}
			dels[i] = true
		}
	}
	return vals, vecs, dels
}

func (s *Server) id() uint64 {
	s.next++
	if s.next >= idsPerBoot {
		panic("dynamo: more than 2^32 requests in one boot")
	}
	return s.boot<<32 | s.next
}

// Receive implements ordo.Node.
func (s *Server) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Request:
		s.request(env, from, m)
	case Replicate:
		s.replicate(env, from, m)
	case Ack:
		s.ack(env, from, m)
	case Fetch:
		f := Fetched{ID: m.ID}
		if o, ok := s.objs[m.Key]; ok {
			f.Has, f.Obj = true, o.Clone()
		}
		env.Send(from, f)
	case Fetched:
		s.fetched(env, from, m)
	case SyncTree:
		s.syncTree(env, from, m)
	case SyncLeaves:
		s.syncLeaves(env, from, m)
	case Push:
		s.push(env, from, m)
	case Reply:
		s.relayed(env, from, m)
	}
}

func (s *Server) isServer(id ordo.NodeID) bool { return slices.Contains(s.servers, id) }

func (s *Server) refuse(env ordo.Env, to ordo.NodeID, r Request, st Status, why string) {
	env.Note(NoteRefused, "key", r.Key, "reason", why)
	env.Send(to, Reply{ID: r.ID, Status: st, Err: why})
}

func (s *Server) request(env ordo.Env, from ordo.NodeID, r Request) {
	client := from
	if r.Forwarded {
		if !s.isServer(from) || r.Client == ordo.None {
			return // only a server forwards
		}
		client = r.Client
	} else if s.isServer(from) {
		return
	}
	if err := r.check(); err != nil {
		s.refuse(env, client, r, StatusBadRequest, err.Error())
		return
	}
	pref := s.ring.Preference(r.Key)
	if !slices.Contains(pref, env.ID()) {
		if r.Forwarded {
			s.refuse(env, client, r, StatusBadRequest, "forwarded to a server outside the preference list")
			return
		}
		f := r
		f.Forwarded, f.Client = true, client
		if r.Relay {
			if len(s.relays) >= MaxPending {
				s.refuse(env, client, r, StatusBusy, fmt.Sprintf("%d forwarded requests in flight", MaxPending))
				return
			}
			f.ID, f.Client = s.id(), env.ID()
			s.relays[f.ID] = relay{client: client, id: r.ID}
			// The member answers within its timeout; twice that covers
			// the hops.
			env.After(2*s.cfg.Timeout, ordo.Timer{Name: timerRelay, Arg: int64(f.ID)})
		}
		env.Send(pref[int(r.Attempt)%len(pref)], f)
		return
	}
	if len(s.pending) >= MaxPending {
		s.refuse(env, client, r, StatusBusy, fmt.Sprintf("%d requests in flight", MaxPending))
		return
	}
	switch r.Op {
	case OpGet:
		s.get(env, client, r, pref)
	case OpPut, OpDelete:
		s.put(env, client, r, pref)
	}
}

// relayed passes a member's answer to a forwarded request on to the
// client that asked this server (Request.Relay).
func (s *Server) relayed(env ordo.Env, from ordo.NodeID, r Reply) {
	rl, ok := s.relays[r.ID]
	if !ok || !s.isServer(from) {
		return
	}
	delete(s.relays, r.ID)
	r.ID = rl.id
	env.Send(rl.client, r)
}

func (s *Server) get(env ordo.Env, client ordo.NodeID, r Request, pref []ordo.NodeID) {
	id := s.id()
	op := &pendingOp{client: client, req: r, pref: pref, got: 1, answered: map[ordo.NodeID]uint64{}}
	if o, ok := s.objs[r.Key]; ok {
		op.merged = o.Clone()
		op.answered[env.ID()] = o.Digest()
	} else {
		op.answered[env.ID()] = (&Object{}).Digest()
	}
	s.pending[id] = op
	for _, p := range pref {
		if p != env.ID() {
			env.Send(p, Fetch{ID: id, Key: r.Key})
		}
	}
	env.After(s.cfg.Timeout, ordo.Timer{Name: timerOp, Arg: int64(id)})
	s.maybeAnswerGet(env, id, op)
}

func (s *Server) fetched(env ordo.Env, from ordo.NodeID, f Fetched) {
	op, ok := s.pending[f.ID]
	if !ok || op.req.Op != OpGet || !slices.Contains(op.pref, from) {
		return
	}
	if _, dup := op.answered[from]; dup {
		return
	}
	if f.Has {
		s.sync(env, &op.merged, &f.Obj, op.req.Key, false)
	}
	op.answered[from] = f.Obj.Digest()
	op.got++
	s.maybeAnswerGet(env, f.ID, op)
	if op.replied {
		s.repair(env, op)
	}
	if op.got == len(op.pref) {
		delete(s.pending, f.ID)
	}
}

// repair sends the merged version to every replica that answered with
// less (read repair, Dynamo 2007 section 5), and stores it here.
func (s *Server) repair(env ordo.Env, op *pendingOp) {
	if !s.cfg.ReadRepair || op.merged.Count() == 0 {
		return
	}
	d := op.merged.Digest()
	for _, p := range op.pref {
		had, ok := op.answered[p]
		if !ok || had == d {
			continue
		}
		op.answered[p] = d
		if p == env.ID() {
			s.merge(env, op.req.Key, &op.merged)
			continue
		}
		env.Send(p, Replicate{Key: op.req.Key, Obj: op.merged.Clone()})
	}
}

func (s *Server) maybeAnswerGet(env ordo.Env, id uint64, op *pendingOp) {
	if op.replied || op.got < s.cfg.R {
		return
	}
	op.replied = true
	rep := Reply{ID: op.req.ID, Status: StatusOK, Context: EncodeContext(s.cfg.Secret, op.req.Key, s.cfg.scheme(), op.merged.Context())}
	sibs := op.merged.Siblings()
	if s.cfg.Resolution == Merge {
		rep.Merge = map[bool]string{true: "orset", false: "union"}[s.cfg.ORSet]
	}
	if s.cfg.Resolution == Merge && len(sibs) > 0 {
		// Tombstones add nothing to the merge: a cart deleted beside a
		// concurrent add keeps that add. All tombstones: not found.
		cart, live := NewCart(s.cfg.ORSet), false
		for _, v := range sibs {
			c, err := ParseCart(s.cfg.ORSet, v.Value)
			if v.Deleted || err != nil {
				continue // a bad cart was refused at put: cannot be stored
			}
			live = true
			cart.Merge(c)
		}
		rep.Values, rep.Vecs = []string{cart.String()}, []string{VecString(vector(op.merged.Context(), s.width))}
		if !live {
			rep.Values, rep.Deleted = []string{""}, []bool{true}
		}
	} else {
		rep.Values, rep.Vecs, rep.Deleted = s.show(&op.merged)
	}
	env.Send(op.client, rep)
	s.repair(env, op)
}

// sync merges p into o under the bucket's scheme; lost writes are noted
// when note is set.
func (s *Server) sync(env ordo.Env, o, p *Object, key string, note bool) {
	switch {
	case s.cfg.Resolution == LWW:
		lost := o.SyncLWW(p)
		if note {
			s.noteLost(env, key, lost, o)
		}
	case s.cfg.Versions == VV:
		o.SyncVV(p)
	default:
		o.SyncDVV(p)
	}
}

func (s *Server) noteLost(env ordo.Env, key string, lost []Sibling, o *Object) {
	for _, l := range lost {
		kept := ""
		if len(o.Vals) > 0 {
			kept = o.Vals[0].Value
		}
		env.Note(NoteLost, "key", key, "value", l.Value, "stamp", l.Stamp, "kept", kept, "kept_stamp", o.Vals[0].Stamp)
	}
}

// merge folds p into this server's copy of key and stores the result.
func (s *Server) merge(env ordo.Env, key string, p *Object) bool {
	o, ok := s.objs[key]
	if !ok {
		if len(s.objs) >= s.cfg.MaxKeys {
			env.Note(NoteRefused, "key", key, "reason", "store full")
			return false
		}
		o = &Object{}
		s.objs[key] = o
	}
	before := o.Digest()
	s.sync(env, o, p, key, true)
	if o.Count() > s.cfg.MaxSiblings {
		// Concurrent versions cannot be refused once written elsewhere:
		// keep them all and say so.
		env.Note(NoteCap, "key", key, "siblings", o.Count(), "max", s.cfg.MaxSiblings)
	}
	if o.Digest() != before {
		s.save(env, key, o, before)
	}
	return true
}

func (s *Server) put(env ordo.Env, client ordo.NodeID, r Request, pref []ordo.NodeID) {
	ctx, err := DecodeContext(s.cfg.Secret, r.Key, s.cfg.scheme(), r.Context)
	if err != nil {
		s.refuse(env, client, r, StatusBadRequest, err.Error())
		return
	}
	if s.cfg.Resolution == Merge && r.Op == OpPut {
		if _, err := ParseCart(s.cfg.ORSet, r.Value); err != nil {
			s.refuse(env, client, r, StatusBadRequest, err.Error())
			return
		}
	}
	o, ok := s.objs[r.Key]
	if !ok && len(s.objs) >= s.cfg.MaxKeys {
		s.refuse(env, client, r, StatusBadRequest, fmt.Sprintf("store full: %d keys (max_keys)", s.cfg.MaxKeys))
		return
	}
	if !ok {
		o = &Object{}
	}
	next := o.Clone()
	me := env.ID()
	v := Sibling{Value: r.Value, Stamp: env.Now().UnixNano(), Writer: me, Deleted: r.Op == OpDelete}
	var lost []Sibling
	switch {
	case s.cfg.Resolution == LWW:
		// Timestamps decide, not causality: the context is checked but
		// plays no part.
		cl := next.clock()
		cl[me]++
		v.Vec = vector(cl, s.width)
		lost, _ = next.UpdateLWW(me, v)
	case s.cfg.Versions == VV:
		next.UpdateVV(ctx, me, v)
		vec := vector(next.clock(), s.width)
		for i := range next.Vals {
			if next.Vals[i].same(v) {
				next.Vals[i].Vec = vec
			}
		}
	default:
		v.Vec, v.Dot = vector(ctx, s.width), next.Counter(me)+1
		next.UpdateDVV(ctx, me, v)
	}
	if next.Count() > s.cfg.MaxSiblings {
		why := fmt.Sprintf("key %q would hold %d siblings (max_siblings %d): read, resolve and write with that context", r.Key, next.Count(), s.cfg.MaxSiblings)
		env.Note(NoteCap, "key", r.Key, "siblings", next.Count(), "max", s.cfg.MaxSiblings)
		s.refuse(env, client, r, StatusBadRequest, why)
		return
	}
	if !ok {
		s.objs[r.Key] = o
	}
	before := o.Digest()
	*o = next
	vec := VecString(vector(o.Context(), s.width))
	for _, sb := range o.Siblings() {
		if sb.same(v) {
			vec = sb.VecText()
		}
	}
	if v.Deleted {
		env.Note(NotePut, "key", r.Key, "value", r.Value, "vec", vec, "writer", int(me), "stamp", v.Stamp, "deleted", true)
	} else {
		env.Note(NotePut, "key", r.Key, "value", r.Value, "vec", vec, "writer", int(me), "stamp", v.Stamp)
	}
	s.noteLost(env, r.Key, lost, o)
	s.save(env, r.Key, o, before)
	id := s.id()
	op := &pendingOp{client: client, req: r, pref: pref, got: 1, vec: vec, acked: map[ordo.NodeID]bool{me: true}}
	s.pending[id] = op
	if s.cfg.Sloppy && len(pref) > 1 {
		env.After(s.cfg.Timeout/2, ordo.Timer{Name: timerHint, Arg: int64(id)})
	}
	for _, p := range pref {
		if p != me {
			env.Send(p, Replicate{ID: id, Key: r.Key, Obj: o.Clone()})
		}
	}
	env.After(s.cfg.Timeout, ordo.Timer{Name: timerOp, Arg: int64(id)})
	s.maybeAnswerPut(env, id, op)
}

func (s *Server) maybeAnswerPut(env ordo.Env, id uint64, op *pendingOp) {
	if op.replied || op.got < s.cfg.W {
		return
	}
	op.replied = true
	env.Send(op.client, Reply{ID: op.req.ID, Status: StatusOK, Vecs: []string{op.vec}})
}

func (s *Server) replicate(env ordo.Env, from ordo.NodeID, r Replicate) {
	if !s.isServer(from) || r.Key == "" {
		return
	}
	if r.Hint != ordo.None {
		s.takeHint(env, from, r)
		return
	}
	if !slices.Contains(s.ring.Preference(r.Key), env.ID()) {
		return
	}
	if !s.merge(env, r.Key, &r.Obj) {
		return // store full: no ack
	}
	if r.ID != 0 {
		env.Send(from, Ack{ID: r.ID})
	}
}

func (s *Server) ack(env ordo.Env, from ordo.NodeID, a Ack) {
	if h, ok := s.handoffs[a.ID]; ok && h.owner == from {
		delete(s.handoffs, a.ID)
		if o, ok := s.hints[h.owner][h.key]; ok && o.Digest() == h.digest {
			delete(s.hints[h.owner], h.key)
			s.nhints--
			env.Store().Delete(hintKey(h.owner, h.key))
			env.Note(NoteHandoff, "key", h.key, "to", int(h.owner))
		}
		return
	}
	op, ok := s.pending[a.ID]
	if !ok || op.req.Op == OpGet || op.acked[from] || !slices.Contains(op.pref, from) && !slices.Contains(op.standins, from) {
		return
	}
	op.acked[from] = true
	op.got++
	s.maybeAnswerPut(env, a.ID, op)
	if op.got >= len(op.pref) && !s.cfg.Sloppy {
		delete(s.pending, a.ID)
	}
}

// takeHint keeps a write a coordinator could not place on its owner
// (Dynamo 2007, section 4.6) and acknowledges it: it counts toward W.
func (s *Server) takeHint(env ordo.Env, from ordo.NodeID, r Replicate) {
	if !s.cfg.Sloppy || r.Hint == env.ID() || !s.isServer(r.Hint) || !slices.Contains(s.ring.Preference(r.Key), r.Hint) {
		return
	}
	o, ok := s.hints[r.Hint][r.Key]
	if !ok {
		if s.nhints >= MaxHints {
			env.Note(NoteRefused, "key", r.Key, "reason", "hint store full")
			return
		}
		o = &Object{}
	}
	next := o.Clone()
	s.sync(env, &next, &r.Obj, r.Key, false)
	s.hold(r.Hint, r.Key, &next)
	b, err := Protocol.Codec.Encode(Replicate{Key: r.Key, Obj: next, Hint: r.Hint})
	if err != nil {
		panic(err)
	}
	env.Store().Put(hintKey(r.Hint, r.Key), b)
	env.Note(NoteHint, "key", r.Key, "for", int(r.Hint))
	env.Send(from, Ack{ID: r.ID})
}

// standIn sends op's write to the next servers on the ring for every
// preference-list member that has not acknowledged it.
func (s *Server) standIn(env ordo.Env, id uint64, op *pendingOp) {
	walk := s.ring.Walk(op.req.Key, len(s.servers))
	next := len(op.pref)
	o := s.objs[op.req.Key]
	if o == nil {
		return
	}
	for _, owner := range op.pref {
		if op.acked[owner] {
			continue
		}
		for next < len(walk) && walk[next] == env.ID() {
			next++
		}
		if next >= len(walk) {
			return
		}
		sub := walk[next]
		next++
		op.standins = append(op.standins, sub)
		env.Send(sub, Replicate{ID: id, Key: op.req.Key, Obj: o.Clone(), Hint: owner})
	}
}

// handOff offers every hint to its owner; an ack of the same version
// drops it.
func (s *Server) handOff(env ordo.Env) {
	owners := make([]ordo.NodeID, 0, len(s.hints))
	for o := range s.hints {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	for _, owner := range owners {
		keys := make([]string, 0, len(s.hints[owner]))
		for k := range s.hints[owner] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if len(s.handoffs) >= MaxPending {
				return
			}
			o := s.hints[owner][k]
			id := s.id()
			s.handoffs[id] = handoff{owner: owner, key: k, digest: o.Digest()}
			env.Send(owner, Replicate{ID: id, Key: k, Obj: o.Clone()})
		}
	}
}

// Fire implements ordo.Node.
func (s *Server) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case timerOp:
		id := uint64(t.Arg)
		op, ok := s.pending[id]
		if !ok {
			return
		}
		delete(s.pending, id)
		if !op.replied {
			need := s.cfg.R
			if op.req.Op != OpGet {
				need = s.cfg.W
			}
			env.Send(op.client, Reply{ID: op.req.ID, Status: StatusUnavailable, Err: fmt.Sprintf("%d of %d replicas answered in %v (need %d)", op.got, len(op.pref), s.cfg.Timeout, need)})
		}
	case timerSync:
		env.After(s.cfg.SyncEvery, ordo.Timer{Name: timerSync})
		s.openSync(env)
	case timerRelay:
		if rl, ok := s.relays[uint64(t.Arg)]; ok {
			delete(s.relays, uint64(t.Arg))
			env.Send(rl.client, Reply{ID: rl.id, Status: StatusUnavailable, Err: fmt.Sprintf("forwarded to the key's preference list: no answer in %v", 2*s.cfg.Timeout)})
		}
	case timerHint:
		if op, ok := s.pending[uint64(t.Arg)]; ok && op.req.Op != OpGet {
			s.standIn(env, uint64(t.Arg), op)
		}
	case timerHand:
		env.After(s.cfg.HandoffEvery, ordo.Timer{Name: timerHand})
		// Deliveries unanswered since the last round are forgotten
		// (the owner is still away): offer again.
		clear(s.handoffs)
		s.handOff(env)
	}
}

// pushBudget bounds the bytes of objects in one Push (well inside
// ordo.MaxMessageSize); what does not fit waits for the next round.
const pushBudget = 256 << 10

// size estimates o's encoded bytes from above.
func (o *Object) size() int {
	n := 16 + 24*(len(o.Entries)+len(o.Clock))
	for _, v := range o.Siblings() {
		n += len(v.Value) + 42 + 10*len(v.Vec)
	}
	return n
}

func (p *Push) room(o *Object) bool {
	used := 0
	for i := range p.Objs {
		used += p.Objs[i].size() + len(p.Keys[i])
	}
	return len(p.Keys) < MaxPushKeys && (len(p.Keys) == 0 || used+o.size() <= pushBudget)
}

func (p *Push) add(k string, o *Object) {
	p.Keys, p.Objs = append(p.Keys, k), append(p.Objs, o.Clone())
}
