package coord

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"ordo"
)

// Name and FencedName are the registered names of the two service
// protocols.
const (
	Name       = "coord"
	FencedName = "fenced-store"
)

// Hard bounds on the model's state (TIGER_STYLE: a bound on everything).
// The options max_keys, max_leases and max_watches may lower them; a
// request that would go beyond is refused with ErrBadRequest, never
// queued.
const (
	MaxKeys    = 4096
	MaxLeases  = 1024
	MaxWatches = 1024
	// MaxRenewers bounds the keepalives of one expired lease that wait
	// for its revocation; beyond it they are answered at once.
	MaxRenewers = 64
	// MaxSweep bounds the sweep option: a lessor that looked less often
	// would make every TTL meaningless.
	MaxSweep = 10 * time.Second
)

// liveOptions are the options both service protocols share with their
// live adapters (package coord/etcdsvc). The simulator's models ignore
// them; they are declared here so that a cluster file naming them
// resolves in both runtimes.
var liveOptions = []ordo.Option{
	{Name: "endpoints", Default: "", Help: "live: etcd client URLs, comma separated (the simulator's model ignores it)"},
	{Name: "timeout", Default: "1s", Help: "live: deadline of each call to etcd; past it the node gets ErrUnavailable, outcome unknown (the model answers at once)"},
	{Name: "tls_dir", Default: "", Help: "live: absolute directory holding ca.pem and node<self>.pem/node<self>-key.pem: mutual TLS to etcd with the node's own certificate, etcd verified against ca.pem (ordo cluster up sets it)"},
	{Name: "tls_ca", Default: "", Help: "live: CA file that etcd's certificate must chain to (an external https etcd; not with tls_dir)"},
	{Name: "tls_cert", Default: "", Help: "live: client certificate file presented to etcd, with tls_key and tls_ca"},
	{Name: "tls_key", Default: "", Help: "live: key file of tls_cert"},
}

// Protocol is "coord": a deterministic model of the etcd v3 subset in
// messages.go, run as a service node in the simulator (section 4,
// "현대적 리더 선출 → 외부 서비스 활용").
var Protocol = &ordo.Protocol{
	Name: Name,
	Doc:  "coordination service: a model of etcd v3 (leases on its own clock, revisions, create-if-absent, delete watches) (section 4)",
	Options: append(slices.Clone(liveOptions),
		ordo.Option{Name: "max_keys", Default: fmt.Sprint(MaxKeys), Help: fmt.Sprintf("keys the model holds at most (1..%d); a Create beyond is refused (bad-request)", MaxKeys)},
		ordo.Option{Name: "max_leases", Default: fmt.Sprint(MaxLeases), Help: fmt.Sprintf("live leases the model holds at most (1..%d); a Grant beyond is refused (bad-request)", MaxLeases)},
		ordo.Option{Name: "max_watches", Default: fmt.Sprint(MaxWatches), Help: fmt.Sprintf("pending watches the model holds at most (1..%d); a Watch beyond is refused (bad-request)", MaxWatches)},
		ordo.Option{Name: "sweep", Default: "500ms", Help: fmt.Sprintf("how often the model revokes expired leases, as etcd's lessor does every 500 ms (0: exactly at the deadline; at most %v)", MaxSweep)},
	),
	New:      NewService,
	Messages: Messages,
	Role:     ordo.Service,
}

func init() {
	ordo.Register(Protocol)
	ordo.Register(FencedProtocol)
}

// timerExpiry wakes the model when its earliest lease deadline is due;
// Arg is a generation so that superseded timers are ignored.
const timerExpiry = "coord-expiry"

// entry is one key.
type entry struct {
	value       string
	create, mod int64
	lease       int64
}

// lease is one live lease. Its deadline is on the service's own monotonic
// clock: a service whose clock runs fast expires it early, as a real etcd
// leader with a fast clock would.
type lease struct {
	id, ttl  int64
	deadline time.Duration
	keys     map[string]struct{}
	// renewers are keepalives that reached the lease past its deadline:
	// etcd answers them only once the lease is revoked (lessor.Renew
	// waits on the revocation), with "not found".
	renewers []renewer
}

type renewer struct {
	from ordo.NodeID
	req  uint64
}

// watch is one pending delete watch of node from.
type watch struct {
	from ordo.NodeID
	req  uint64
	key  string
	rev  int64
}

// Service is the "coord" model: etcd v3's revisions, leases, conditional
// transactions and delete watches, for exactly the API of messages.go.
// Its state is in memory: a crash of the service node loses it (the
// nemesis never crashes services).
type Service struct {
	maxKeys, maxLeases, maxWatches int
	// sweep is the period of the lessor's revocation pass (0: a lease is
	// revoked at its deadline); base is the monotonic time of the first
	// pass's phase (the service's start, plus a random part of a sweep).
	sweep, base time.Duration

	rev     int64 // the store's revision: 1 at boot, +1 per mutating txn
	keys    map[string]*entry
	leases  map[int64]*lease
	watches []watch // in registration order: the order they fire in

	// The expiry timer: armed for armedAt (when armed) with generation gen.
	gen     int64
	armed   bool
	armedAt time.Duration
}

// NewService builds a "coord" model node from resolved options. Errors: a
// max_* option out of 1..its hard bound.
func NewService(cfg ordo.Config) (ordo.Node, error) {
	s := &Service{rev: 1, keys: map[string]*entry{}, leases: map[int64]*lease{}}
	for _, b := range []struct {
		name string
		hard int
		to   *int
	}{{"max_keys", MaxKeys, &s.maxKeys}, {"max_leases", MaxLeases, &s.maxLeases}, {"max_watches", MaxWatches, &s.maxWatches}} {
		v := cfg.Opts.Int(b.name)
		if v < 1 || v > b.hard {
			return nil, fmt.Errorf("coord: %s %d out of range 1..%d", b.name, v, b.hard)
		}
		*b.to = v
	}
	if d := cfg.Opts.Duration("timeout"); d <= 0 {
		return nil, fmt.Errorf("coord: timeout %v: want a positive duration", d)
	}
	s.sweep = cfg.Opts.Duration("sweep")
	if s.sweep < 0 || s.sweep > MaxSweep {
		return nil, fmt.Errorf("coord: sweep %v out of range 0..%v", s.sweep, MaxSweep)
	}
	return s, nil
}

// Start implements ordo.Node. The model keeps nothing durable: a fresh
// incarnation starts at revision 1 with no keys and no leases.
// Phase is the instant of one of the lessor's passes on the service's
// monotonic clock (the others are Phase + k·sweep); with sweep 0, the
// service's start.
func (s *Service) Phase() time.Duration { return s.base }

// The lessor's passes start at a random phase: etcd's is wherever its
// leader's loop began, so a deadline may fall just before a pass (revoked
// at once: the worst case for a lease holder) or just after one.
func (s *Service) Start(env ordo.Env) {
	s.base = env.Monotonic()
	if s.sweep > 0 {
		s.base += time.Duration(env.Rand().Int64N(int64(s.sweep)))
	}
}

// Fire implements ordo.Node: the expiry timer.
func (s *Service) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name != timerExpiry || t.Arg != s.gen || !s.armed {
		return // superseded by an earlier deadline's timer
	}
	s.armed = false
	s.expire(env)
	s.arm(env)
}

// Receive implements ordo.Node: one request, one reply (a pending Watch
// answers later, with Deleted).
func (s *Service) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if s.sweep == 0 {
		// Leases due by now are gone before the request is looked at,
		// whatever the order of this delivery and the expiry timer at the
		// same instant. (With a sweep, a lease past its deadline lingers
		// until the next pass, as in etcd; renewing it is refused.)
		s.expire(env)
	}
	if err := Check(m); err != nil {
		if req, ok := reqOf(m); ok {
			env.Send(from, Reply{Req: req, Err: ErrBadRequest})
		}
		return
	}
	switch m := m.(type) {
	case Grant:
		s.grant(env, from, m)
	case KeepAlive:
		l := s.leases[m.Lease]
		if l == nil {
			env.Send(from, Reply{Req: m.Req, Err: ErrNoLease})
			return
		}
		if l.deadline <= env.Monotonic() {
			// Past its deadline, a lease is never renewed: the answer
			// waits for the sweep that revokes it (etcd's lessor.Renew).
			if len(l.renewers) < MaxRenewers {
				l.renewers = append(l.renewers, renewer{from, m.Req})
			} else {
				env.Send(from, Reply{Req: m.Req, Err: ErrNoLease})
			}
			return
		}
		l.deadline = env.Monotonic() + time.Duration(l.ttl)*time.Second
		env.Send(from, Reply{Req: m.Req, Rev: s.rev, Lease: l.id, TTL: l.ttl})
	case TimeToLive:
		l := s.leases[m.Lease]
		if l == nil {
			env.Send(from, Reply{Req: m.Req, Err: ErrNoLease})
			return
		}
		// Whole seconds truncated toward zero, as etcd's
		// int64(Remaining().Seconds()): 0 for a lease due but not yet
		// swept.
		env.Send(from, Reply{Req: m.Req, Lease: l.id, TTL: int64((l.deadline - env.Monotonic()) / time.Second)})
	case Revoke:
		l := s.leases[m.Lease]
		if l == nil {
			env.Send(from, Reply{Req: m.Req, Err: ErrNoLease})
			return
		}
		s.revoke(env, l, "lease-revoked")
		env.Send(from, Reply{Req: m.Req, Rev: s.rev, Lease: l.id})
	case Create:
		s.create(env, from, m)
	case Get:
		env.Send(from, s.read(Reply{Req: m.Req, Rev: s.rev}, m.Key))
	case Find:
		env.Send(from, s.read(Reply{Req: m.Req, Rev: s.rev}, s.find(m)))
	case Delete:
		e := s.keys[m.Key]
		ok := e != nil && (m.Rev == 0 || e.create == m.Rev)
		if ok {
			s.rev++
			s.remove(env, m.Key)
		}
		env.Send(from, Reply{Req: m.Req, Rev: s.rev, Succeeded: ok})
	case Watch:
		s.watch(env, from, m)
	case Unwatch:
		i := s.findWatch(from, m.Req)
		if i >= 0 {
			s.watches = slices.Delete(s.watches, i, i+1)
		}
		env.Send(from, Reply{Req: m.Req, Succeeded: i >= 0}) // no revision: live, Unwatch asks etcd nothing
	case Write:
		// The fenced store is another service.
		env.Send(from, Reply{Req: m.Req, Err: ErrBadRequest})
	}
	// Deleted and Reply are answers, never requests: ignored.
	s.arm(env)
}

func (s *Service) grant(env ordo.Env, from ordo.NodeID, m Grant) {
	if len(s.leases) >= s.maxLeases {
		env.Send(from, Reply{Req: m.Req, Err: ErrBadRequest})
		return
	}
	// Ids are drawn like etcd's: any positive int64, not a counter, so a
	// client that assumes small or ordered ids fails here first.
	var id int64
	for range 64 {
		id = env.Rand().Int64()
		if id != 0 && s.leases[id] == nil {
			break
		}
		id = 0
	}
	if id == 0 {
		panic("coord: 64 draws of a lease id collided: the random source is broken")
	}
	l := &lease{id: id, ttl: m.TTL, deadline: env.Monotonic() + time.Duration(m.TTL)*time.Second, keys: map[string]struct{}{}}
	s.leases[id] = l
	env.Send(from, Reply{Req: m.Req, Rev: s.rev, Lease: id, TTL: m.TTL})
}

func (s *Service) create(env ordo.Env, from ordo.NodeID, m Create) {
	r := Reply{Req: m.Req}
	if s.keys[m.Key] == nil {
		// etcd checks the lease of a put on the branch the txn takes only:
		// an unknown lease fails a create, not a compare that failed.
		var l *lease
		if m.Lease != 0 {
			if l = s.leases[m.Lease]; l == nil {
				env.Send(from, Reply{Req: m.Req, Err: ErrNoLease})
				return
			}
		}
		if len(s.keys) >= s.maxKeys {
			env.Send(from, Reply{Req: m.Req, Err: ErrBadRequest})
			return
		}
		s.rev++
		s.keys[m.Key] = &entry{value: m.Value, create: s.rev, mod: s.rev, lease: m.Lease}
		if l != nil {
			l.keys[m.Key] = struct{}{}
		}
		r.Succeeded = true
	}
	r.Rev = s.rev
	env.Send(from, s.read(r, m.Key))
}

// read fills r with key as it is now (Found false: absent or key "").
func (s *Service) read(r Reply, key string) Reply {
	if e := s.keys[key]; e != nil {
		r.Found, r.Key, r.Value, r.CreateRev, r.ModRev, r.KeyLease = true, key, e.value, e.create, e.mod, e.lease
	}
	return r
}

// find returns the key under m.Prefix with the smallest (Last false) or
// largest (Last true) create revision below m.Below (0: no bound), or "".
// Create revisions are unique here (one key per create txn), so the
// answer does not depend on the map's order.
func (s *Service) find(m Find) string {
	best, bestRev := "", int64(0)
	for k, e := range s.keys {
		if !strings.HasPrefix(k, m.Prefix) || (m.Below > 0 && e.create >= m.Below) {
			continue
		}
		if best == "" || (m.Last && e.create > bestRev) || (!m.Last && e.create < bestRev) {
			best, bestRev = k, e.create
		}
	}
	return best
}

func (s *Service) watch(env ordo.Env, from ordo.NodeID, m Watch) {
	if s.keys[m.Key] == nil {
		env.Send(from, Deleted{Req: m.Req, Key: m.Key})
		return
	}
	if s.findWatch(from, m.Req) >= 0 {
		return // a duplicate of a pending watch (the network duplicates)
	}
	if len(s.watches) >= s.maxWatches {
		env.Send(from, Reply{Req: m.Req, Err: ErrBadRequest})
		return
	}
	s.watches = append(s.watches, watch{from: from, req: m.Req, key: m.Key, rev: m.Rev})
}

func (s *Service) findWatch(from ordo.NodeID, req uint64) int {
	for i, w := range s.watches {
		if w.from == from && w.req == req {
			return i
		}
	}
	return -1
}

// remove deletes key at revision s.rev (the caller bumped it) and fires
// the watches on it whose start revision has been reached, in the order
// they were registered.
func (s *Service) remove(env ordo.Env, key string) {
	e := s.keys[key]
	if e == nil {
		panic("coord: remove of an absent key " + key)
	}
	if l := s.leases[e.lease]; l != nil {
		delete(l.keys, key)
	}
	delete(s.keys, key)
	kept := s.watches[:0]
	for _, w := range s.watches {
		if w.key == key && w.rev <= s.rev {
			env.Send(w.from, Deleted{Req: w.req, Key: key, Rev: s.rev})
			continue
		}
		kept = append(kept, w)
	}
	clear(s.watches[len(kept):])
	s.watches = kept
}

// revoke ends lease l: its keys go in one txn (one revision, keys in
// sorted order, as etcd's lessor.Revoke does), then the lease.
func (s *Service) revoke(env ordo.Env, l *lease, why string) {
	keys := make([]string, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		s.rev++
	}
	for _, k := range keys {
		s.remove(env, k)
	}
	delete(s.leases, l.id)
	// The lease in hex, as keys name it (ids reach 2^63: a JSON reader
	// decoding numbers as float64 would round them).
	env.Note(why, "lease", strconv.FormatInt(l.id, 16), "keys", len(keys), "rev", s.rev)
	for _, r := range l.renewers {
		env.Send(r.from, Reply{Req: r.req, Err: ErrNoLease})
	}
}

// expire revokes every lease whose deadline has passed on the service's
// monotonic clock, earliest deadline first (ties by id).
func (s *Service) expire(env ordo.Env) {
	now := env.Monotonic()
	var due []*lease
	for _, l := range s.leases {
		if l.deadline <= now {
			due = append(due, l)
		}
	}
	slices.SortFunc(due, func(a, b *lease) int {
		if c := cmp.Compare(a.deadline, b.deadline); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	for _, l := range due {
		s.revoke(env, l, "lease-expired")
	}
}

// arm makes sure a timer is armed for the earliest lease deadline (with
// a sweep: for the first pass at or after it). A timer armed for an
// earlier instant stays: when it fires early (the lease was kept alive
// since) it re-arms for the new earliest.
func (s *Service) arm(env ordo.Env) {
	var next time.Duration
	found := false
	for _, l := range s.leases {
		if !found || l.deadline < next {
			next, found = l.deadline, true
		}
	}
	if found && s.sweep > 0 {
		// The first pass at or after the deadline (passes at base +
		// k·sweep; one already due runs at the next event).
		k := (next - s.base + s.sweep - 1) / s.sweep
		next = s.base + max(k, 0)*s.sweep
	}
	if !found || (s.armed && s.armedAt <= next) {
		return
	}
	s.gen++
	s.armed, s.armedAt = true, next
	env.After(max(next-env.Monotonic(), time.Microsecond), ordo.Timer{Name: timerExpiry, Arg: s.gen})
}

// reqOf returns a request's Req.
func reqOf(m ordo.Message) (uint64, bool) {
	switch m := m.(type) {
	case Grant:
		return m.Req, true
	case KeepAlive:
		return m.Req, true
	case Revoke:
		return m.Req, true
	case TimeToLive:
		return m.Req, true
	case Create:
		return m.Req, true
	case Get:
		return m.Req, true
	case Find:
		return m.Req, true
	case Delete:
		return m.Req, true
	case Watch:
		return m.Req, true
	case Unwatch:
		return m.Req, true
	case Write:
		return m.Req, true
	}
	return 0, false
}

// ReqOf returns the Req a request carries (ok false for Deleted, Reply and
// foreign messages): adapters answer a refused request with it.
func ReqOf(m ordo.Message) (req uint64, ok bool) { return reqOf(m) }
