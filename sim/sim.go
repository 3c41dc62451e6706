package sim

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"ordo/signature"
	"slices"
	"time"

	"ordo"
	"ordo/clock"
	"ordo/trace"
)

// Config describes one simulated cluster.
type Config struct {
	Protocol *ordo.Protocol
	Options  ordo.Options // resolved by Protocol.Resolve; nil means defaults
	Nodes    int          // servers 1..Nodes (Clients follow)
	Seed     uint64
	Network  Network // the default link and per-link overrides
	// Clocks gives each node's clock model; index 0 is the default for
	// nodes not listed in ClockOf.
	Clock   ClockModel
	ClockOf map[ordo.NodeID]ClockModel
	// Absent nodes have not joined yet: they are down until Join.
	Absent []ordo.NodeID
	// Speed is how long a node spends handling one event (0: instant).
	// Events that arrive while it is busy wait, as on a slow machine.
	Speed   time.Duration
	SpeedOf map[ordo.NodeID]time.Duration
	// Trace records every event in memory (Sim.Trace), stamped with
	// Lamport and vector timestamps. Off, the simulator keeps nothing and
	// maintains only Lamport counters: vector stamps cost O(Nodes) per
	// message and nobody could read them. This is the benchmarks' fast path.
	Trace bool
	// Name labels the trace (a scenario's name).
	Name string
	// Clients are the run's client nodes, group by group, numbered after
	// the servers (Nodes+1, Nodes+2, ...). Nodes counts servers only.
	Clients []ClientGroup
	// Services are the run's service nodes (issue 15: a coordination
	// service's model), one per entry, numbered after the clients. nil
	// means one per name in Protocol.Services, with default options, so a
	// protocol that needs services gets them wherever a Config is built
	// from it; an empty non-nil slice means none.
	Services []ServiceGroup
	// Wire runs the network on real bytes: every message is encoded by the
	// protocol's codec at send and decoded at delivery, so sizes,
	// tampering and signatures are about the bytes a live cluster sends.
	Wire bool
	// Disk is the disk model (disk.go): fsync latency and storage faults.
	// The zero value is off: writes are durable at once.
	Disk Disk
	// MaxEvents bounds a run (0: DefaultMaxEvents, or TracedMaxEvents when
	// Trace is on): a protocol that floods the network must not hang the
	// simulator, nor a traced run exhaust memory.
	MaxEvents uint64
	// Observer follows the run as it happens (online checkers: a
	// check.Session): Begin with the trace's Meta before the first event,
	// then every event a traced run records, stamped the same way, even
	// with Trace off (then nothing is kept: an event is valid only during
	// the call, and a timer event lacks its "arg" attribute, which only a
	// stored trace shows).
	Observer Observer
	// KeepMessages puts every sent message, as JSON (encoding/json of the
	// message value, before any wire encoding), in its send event's Body
	// in a traced run, for a debugger to show. At most trace.MaxBody bytes
	// each and MaxKeptMessageBytes in all; later messages are not kept.
	// Off by default: it costs an encoding per send.
	KeepMessages bool
	// Byzantine makes nodes lie (adversary.go, issue 14): each entry wraps
	// one node's outgoing messages with a behaviour (silent, equivocate,
	// garbage, replay, forge), or adds votes to what it hears
	// (vote-for-everything). The trace's Meta names them.
	Byzantine []Byzantine
}

// MaxKeptMessageBytes bounds the JSON that Config.KeepMessages keeps.
const MaxKeptMessageBytes = 64 << 20

// Observer is what Config.Observer receives.
type Observer interface {
	Begin(m trace.Meta)
	Observe(e *trace.Event)
}

// ClientGroup is Count client nodes running one client protocol.
type ClientGroup struct {
	Protocol *ordo.Protocol
	Options  ordo.Options // resolved; nil means defaults
	Count    int
}

// ServiceGroup is one service node running a service protocol.
type ServiceGroup struct {
	Protocol *ordo.Protocol
	Options  ordo.Options // resolved; nil means defaults
}

// DefaultMaxEvents bounds an untraced run when Config.MaxEvents is 0: such
// a run keeps no per-event memory, so the bound is about time only.
const DefaultMaxEvents = 50_000_000

// TraceMemoryBudget is the memory a traced run may use by default (see
// TracedMaxEvents).
const TraceMemoryBudget = 2 << 30

// TracedMaxEvents bounds a traced run of n nodes when Config.MaxEvents is
// 0. A traced run keeps every event, and each carries a vector of 8·n
// bytes; the trace's slice grows by doubling, so peak memory per item
// varies. The cost is modelled as 1024 + 12·n bytes per processed queue
// item (a delivery records a send and a receive) and the bound is
// TraceMemoryBudget (2 GiB) divided by it: 2.0 M items at 5 nodes, 1.2 M at
// 65, 161 k at 1024. Measured peak RSS of runs stopped by this bound
// (ordo elect --protocol raft -o heartbeat=1ms --duration 1h [-n 65]):
// 1.3 GB at 5 nodes, 1.85 GB at 65 (a 2.53 M bound at 5 nodes peaked at
// 2.5 GB). The largest traced run in the repository (ordo explore, the
// tests, the tour) processes ~40 k items; ordo elect --duration 1h of Raft
// at 5 nodes with default options, 1.3 M (1.26 GB).
func TracedMaxEvents(n int) uint64 {
	return TraceMemoryBudget / (1024 + 12*uint64(max(n, 1)))
}

// MaxNodes bounds the cluster size.
const MaxNodes = trace.MaxNodes

// Sim is a deterministic runtime: one goroutine, virtual time, one event
// queue with deterministic tie-breaking, and random choices drawn from
// sources derived from one seed. Same Config and same calls ⇒ the same run,
// byte for byte.
type Sim struct {
	cfg    Config
	liars  book // what the equivocating liars sent and received (Colluder)
	roster *ordo.Roster
	specs  []nodeSpec    // each node's role, protocol and options, by ID
	now    time.Duration // true time since the run began
	q      *queue
	rng    *rand.Rand // the network's choices
	// hintRng delays PeerDown hints; a source of its own keeps the
	// network's draws (and so existing runs) unchanged by hints.
	hintRng *rand.Rand
	nem     nemesisState
	nodes   []*nodeState
	net     netState
	tr      *trace.Trace
	stats   Stats
	msgID   uint64
	vpool   []clock.Vector // free vectors for in-flight messages (tracing on)
	// events counts processed queue items; limit bounds them.
	events, limit uint64
	// observers see every recorded event as it happens (checkers, UIs).
	observers []func(*trace.Event)
	fallacy   Fallacies
	wire      wireState       // the run's codec (wire.go)
	signKeys  *signature.Keys // the nodes' signing keys, made on first use (sign.go)
	cur       item            // the item being dispatched (kept here so it never escapes)

	// discard: only Config.Observer wants events; each lives in last,
	// numbered by seen.
	discard bool
	last    trace.Event
	seen    int
	// wants is the observer's filter (Filter.Wants) in an untraced run,
	// nil when every event is wanted; vec is whether vector stamps are
	// kept (a trace, or an observer that reads them); lastT is the true
	// time of the last process, drop or fault event, shown or skipped.
	wants func(trace.Kind) bool
	vec   bool
	lastT int64
	// keptBytes is the size of the message bodies kept so far
	// (Config.KeepMessages).
	keptBytes int
	// forged is the sender each forged message claims, by message id
	// (adversary.go); nil until a Byzantine node forges.
	forged map[uint64]ordo.NodeID
}

// Filter is implemented by an Observer that needs only some events. In a
// run whose trace is off, the simulator asks Wants before building each
// event and skips the unwanted ones (their IDs still count, so IDs match a
// traced run's), and keeps vector stamps only if NeedsVectors. A traced
// run shows an observer every event.
type Filter interface {
	Wants(k trace.Kind) bool
	NeedsVectors() bool
}

// Release hands the run's queue memory back for the next simulation of
// this process (a campaign runs thousands). The Sim must not be used
// afterwards; calling Release is optional.
func (s *Sim) Release() {
	if s.q == nil {
		return
	}
	s.q.reset()
	queues.Put(s.q)
	s.q = nil
}

// LastEventTime is the true time of the run's last event (ns), whether or
// not an observer was shown it.
func (s *Sim) LastEventTime() int64 { return s.lastT }

// skip reports whether the event about to be recorded, of kind k, is one no
// observer of an untraced run wants; a skipped event still counts.
func (s *Sim) skip(k trace.Kind) bool {
	if s.wants == nil || s.wants(k) {
		return false
	}
	s.seen++
	s.lastT = int64(s.now)
	return true
}

// New builds a simulator and boots every present node at time 0.
func New(cfg Config) (*Sim, error) {
	if cfg.Protocol == nil {
		return nil, fmt.Errorf("sim: no protocol")
	}
	if cfg.Nodes < 1 || cfg.Nodes > MaxNodes {
		return nil, fmt.Errorf("sim: %d nodes, need 1..%d", cfg.Nodes, MaxNodes)
	}
	if cfg.Options == nil {
		o, err := cfg.Protocol.Resolve(nil)
		if err != nil {
			return nil, err
		}
		cfg.Options = o
	}
	if cfg.Protocol.Role != ordo.Server {
		return nil, fmt.Errorf("sim: protocol %s is a %s protocol; servers need a server protocol", cfg.Protocol.Name, cfg.Protocol.Role)
	}
	// Clients are nodes too: every per-node table below has size entries.
	specs, roster, err := roles(&cfg)
	if err != nil {
		return nil, err
	}
	// Keys (Option.Secret) left empty: derived from the seed, the
	// simulated cluster's secret, and never written to the trace.
	secret := sha256.Sum256(fmt.Appendf(nil, "ordo sim cluster secret %d", cfg.Seed))
	for i := range specs {
		if specs[i].proto != nil {
			specs[i].opts = specs[i].proto.FillSecrets(specs[i].opts, secret[:])
		}
	}
	size := roster.Size()
	if err := cfg.Network.validate(size); err != nil {
		return nil, err
	}
	if err := validateAuth(&cfg.Network, cfg.Wire); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	if err := validateByzantine(&cfg, size); err != nil {
		return nil, err
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
		if cfg.Trace {
			cfg.MaxEvents = TracedMaxEvents(size)
		}
	}
	s := &Sim{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x6f72646f)), // "ordo"
		limit: cfg.MaxEvents,
		q:     queues.Get().(*queue),
		specs: specs,
	}
	s.nem.rng = rand.New(rand.NewPCG(cfg.Seed, 0x6e656d65)) // "neme"
	s.hintRng = rand.New(rand.NewPCG(cfg.Seed, 0x68696e74)) // "hint"
	s.roster = roster
	s.stats.init()
	s.net.init(&s.cfg.Network, size)
	if cfg.Trace || cfg.Observer != nil {
		s.tr = &trace.Trace{Meta: trace.Meta{
			Runtime:  "sim",
			Nodes:    size,
			Protocol: cfg.Protocol.Name,
			Scenario: cfg.Name,
			Seed:     cfg.Seed,
			Options:  cfg.Protocol.Redact(cfg.Options),
		}}
		fillMeta(&s.tr.Meta, roster, specs)
	}
	s.vec = s.tr != nil
	s.nodes = make([]*nodeState, size+1)
	for i := 1; i <= size; i++ {
		id := ordo.NodeID(i)
		peers := roster.PeersOf(id) // a client is no server: it gets them all
		cm := cfg.Clock
		if c, ok := cfg.ClockOf[id]; ok {
			cm = c
		}
		if err := cm.validate(); err != nil {
			return nil, fmt.Errorf("sim: clock of %v: %w", id, err)
		}
		speed := cfg.Speed
		if sp, ok := cfg.SpeedOf[id]; ok {
			speed = sp
		}
		if speed < 0 {
			return nil, fmt.Errorf("sim: speed of %v is negative (%v)", id, speed)
		}
		ns := &nodeState{
			sim:   s,
			id:    id,
			peers: peers,
			store: ordo.NewMemStorage(),
			rng:   rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			stamp: trace.NewStamper(i, size),
			clk:   newClock(cm, rand.New(rand.NewPCG(cfg.Seed, 0x636c6b00+uint64(i)))),
			speed: speed,
		}
		s.nodes[i] = ns
	}
	s.initByzantine()
	// After initByzantine: an observer judging online needs the liars named
	// in Meta.Byzantine.
	if o := cfg.Observer; o != nil {
		s.discard = !cfg.Trace
		o.Begin(s.tr.Meta)
		s.observers = append(s.observers, o.Observe)
		if f, ok := o.(Filter); ok && s.discard {
			s.wants = f.Wants
			s.vec = f.NeedsVectors()
		}
	}
	if err := s.initWire(); err != nil {
		return nil, err
	}
	if err := s.initDisk(); err != nil {
		return nil, err
	}
	for _, id := range cfg.Absent {
		if id < 1 || int(id) > size {
			return nil, fmt.Errorf("sim: absent node %d out of range 1..%d", id, size)
		}
		s.nodes[id].absent = true
	}
	for i := 1; i <= size; i++ {
		ns := s.nodes[i]
		if ns.absent {
			continue
		}
		if err := s.boot(ns, trace.Start); err != nil {
			return nil, err
		}
		s.schedNTP(ns)
	}
	return s, nil
}

// Now is the simulator's true time since the run began.
func (s *Sim) Now() time.Duration { return s.now }

// Trace returns the recorded trace (nil unless Config.Trace).
func (s *Sim) Trace() *trace.Trace {
	if s.discard {
		return nil
	}
	return s.tr
}

// Stats returns the counters of the run so far.
func (s *Sim) Stats() *Stats { return &s.stats }

// Config returns the configuration the simulator runs.
func (s *Sim) Config() *Config { return &s.cfg }

// Observe registers f to see every recorded event (Config.Trace must be on).
func (s *Sim) Observe(f func(*trace.Event)) { s.observers = append(s.observers, f) }

// Node returns the protocol value currently running at id (nil when down):
// tests read protocol state through it.
func (s *Sim) Node(id ordo.NodeID) ordo.Node {
	ns := s.node(id)
	if !ns.up {
		return nil
	}
	return ns.node
}

// Up reports whether id is running (not crashed, not absent). A paused node
// is up.
func (s *Sim) Up(id ordo.NodeID) bool { return s.node(id).up }

// Store returns id's durable storage.
func (s *Sim) Store(id ordo.NodeID) *ordo.MemStorage { return s.node(id).store }

// LocalTime returns id's clock reading now.
func (s *Sim) LocalTime(id ordo.NodeID) time.Duration { return s.node(id).clk.local(s.now) }

func (s *Sim) node(id ordo.NodeID) *nodeState {
	if id < 1 || int(id) >= len(s.nodes) {
		panic(fmt.Sprintf("sim: no node %d (cluster is 1..%d)", id, len(s.nodes)-1))
	}
	return s.nodes[id]
}

// ErrEventLimit is returned when a run hits Config.MaxEvents.
type ErrEventLimit struct {
	Limit  uint64
	Traced bool // the bound was a traced run's memory bound
}

func (e ErrEventLimit) Error() string {
	why := "a protocol may be flooding the network (very short timers?)"
	if e.Traced {
		why = "a traced run keeps every event in memory (the default bound keeps it near 2 GiB); the run may be too long, or a protocol may be flooding the network (very short timers?)"
	}
	return fmt.Sprintf("sim: stopped after %d events, the run's bound: %s; raise the bound with --max-events (ordo sim, ordo elect) or sim.Config.MaxEvents", e.Limit, why)
}

// RunFor advances true time by d, processing every event due until then.
func (s *Sim) RunFor(d time.Duration) error { return s.RunUntil(s.now + d) }

// RunUntil processes every event due at or before t, then sets the clock to t.
func (s *Sim) RunUntil(t time.Duration) error {
	for s.q.len() > 0 && s.q.peekAt() <= t {
		if !s.next() {
			return ErrEventLimit{Limit: s.limit, Traced: s.cfg.Trace}
		}
		s.dispatch(&s.cur)
	}
	s.cur = item{}
	if t > s.now {
		s.now = t
	}
	return nil
}

// next pops the queue's first item into s.cur and moves the clock to it,
// counting it; false, with nothing popped, when the run's event bound is
// reached. The queue must not be empty. RunUntil and Step (step.go) share
// it: one item, one way.
func (s *Sim) next() bool {
	if s.events >= s.limit {
		return false
	}
	s.q.pop(&s.cur)
	if s.cur.at < s.now {
		panic(fmt.Sprintf("sim: item due at %v popped at %v: time went backwards", s.cur.at, s.now))
	}
	s.now = s.cur.at
	s.events++
	return true
}

// Events returns how many queue items (deliveries, timers, actions) the run
// has processed.
func (s *Sim) Events() uint64 { return s.events }

// At schedules f at true time t (faults, checks, client requests). f runs
// between events, never inside a node's handler.
func (s *Sim) At(t time.Duration, f func(*Sim)) {
	if t < s.now {
		t = s.now
	}
	it := item{at: t, kind: itemAction, action: f}
	s.q.push(&it)
}

func (s *Sim) dispatch(it *item) {
	switch it.kind {
	case itemAction:
		it.action(s)
	case itemDeliver:
		ns := s.nodes[it.to]
		if it.hint() {
			// A hint is no message: nothing to drop or count. It is stale
			// when its receiver has crashed since, when the dead node is
			// already back (a new incarnation), or when a cut now hides
			// the closed connection.
			if !ns.up || ns.inc != it.inc || s.nodes[it.from].inc != it.deadInc || s.net.isBlocked(it.from, it.to) || !ordo.WantsPeerDown(ns.node) {
				return
			}
			if ns.holding() {
				ns.hold(it)
				return
			}
			s.deliver(ns, it)
			return
		}
		if !ns.up {
			// In flight to a node that is down: lost. One that restarted
			// before the message arrived receives it, as over UDP.
			s.dropInFlight(it, "node down")
			return
		}
		if s.net.isBlocked(it.from, it.to) {
			// A partition that began while the message was in flight.
			s.dropInFlight(it, "partition")
			return
		}
		if w, ok := it.msg.(*wireMsg); ok {
			if it.msg, ok = s.decode(it, w); !ok {
				return // dropped: malformed or forged
			}
		}
		if ns.holding() {
			ns.hold(it)
			return
		}
		s.deliver(ns, it)
	case itemTimer:
		ns := s.nodes[it.to]
		if !ns.up || ns.inc != it.inc {
			return // a timer of a previous incarnation dies with it
		}
		if ns.holding() {
			ns.hold(it)
			return
		}
		s.fire(ns, it)
	case itemDrain:
		ns := s.nodes[it.to]
		if ns.inc != it.inc {
			return
		}
		ns.draining = false
		ns.drain()
	case itemSync:
		ns := s.nodes[it.to]
		ns.clk.sync(s.now)
		it.at = s.now + ns.clk.model.NTPEvery
		s.q.push(it)
	default:
		panic(fmt.Sprintf("sim: unknown item kind %d", it.kind))
	}
}

func (s *Sim) deliver(ns *nodeState, it *item) {
	ns.occupy()
	if it.hint() {
		// No stamped message arrives: the receive ticks like a local
		// event, and the network's counters do not see it.
		s.tick(ns)
		if s.tr != nil && !s.skip(trace.Recv) {
			s.record(ns, trace.Event{Kind: trace.Recv, Peer: it.from, MsgKind: it.msg.Kind()})
		}
		ns.node.Receive(ns, it.from, it.msg)
		s.endEvent(ns)
		return
	}
	if it.vc != nil {
		ns.stamp.Recv(it.lamport, it.vc)
		s.putVec(it.vc)
		it.vc = nil
	} else {
		ns.stamp.Lamport = max(ns.stamp.Lamport, it.lamport) + 1
	}
	s.stats.Events++
	s.stats.delivered(it.msg.Kind())
	from := s.claimed(it)
	if s.tr != nil && !s.skip(trace.Recv) {
		e := trace.Event{Kind: trace.Recv, Peer: it.from, Msg: it.msgID, MsgKind: it.msg.Kind(), Bytes: it.size}
		if from != it.from {
			// A forged sender believed: the trace shows the true one
			// and what the receiver was told.
			e.Attrs = trace.Attrs{{Key: "claimed_from", Value: int(from)}}
		}
		s.record(ns, e)
	}
	ns.node.Receive(ns, from, it.msg)
	if ns.adv != nil {
		s.heard(ns, it.msg) // a vote-for-everything liar's extra votes (adversary.go)
		if from := s.nodes[it.from].adv; ns.adv.Behaviour == Equivocate && (from == nil || from.Behaviour != Equivocate) {
			s.liars.Add(it.msg, ns.id) // the liars' shared book (Colluder); what a fellow liar sent is there already
		}
	}
	s.endEvent(ns)
}

func (s *Sim) fire(ns *nodeState, it *item) {
	ns.occupy()
	s.tick(ns)
	if s.tr != nil && !s.skip(trace.Timer) {
		e := trace.Event{Kind: trace.Timer, Name: it.timer.Name}
		if it.timer.Arg != 0 && !s.discard {
			// Only a kept trace carries the timer's argument: boxing it
			// for every timer was a third of an untraced campaign's
			// allocations, and no checker reads it.
			e.Attrs = trace.Attrs{{Key: "arg", Value: it.timer.Arg}}
		}
		s.record(ns, e)
	}
	ns.node.Fire(ns, it.timer)
	s.endEvent(ns)
}

func (s *Sim) dropInFlight(it *item, why string) {
	s.putVec(it.vc)
	it.vc = nil
	s.drop(it.from, it.to, it.msgID, it.msg.Kind(), it.size, why)
	s.releaseWire(it.msg)
}

// tick stamps one local or send event of ns by the chapter's rules (section
// 3): C = C + 1, and V[i] = V[i] + 1 when vectors are kept.
func (s *Sim) tick(ns *nodeState) {
	if s.vec {
		ns.stamp.Tick()
	} else {
		ns.stamp.Lamport++
	}
	s.stats.Events++
}

// record stores a process event of ns, already stamped, and shows it to the
// observers. Only called when tracing.
func (s *Sim) record(ns *nodeState, e trace.Event) *trace.Event {
	e.Node = ns.id
	e.T = int64(s.now)
	e.Local = int64(ns.clk.local(s.now))
	e.Lamport = ns.stamp.Lamport
	if s.vec {
		e.Vector = ns.stamp.Vector
	}
	p := s.keep(e)
	for _, f := range s.observers {
		f(p)
	}
	return p
}

// keep appends e to the trace, or, when only an observer wants events,
// numbers it as the trace would and keeps it until the next one.
func (s *Sim) keep(e trace.Event) *trace.Event {
	s.lastT = e.T
	if s.discard {
		e.ID = s.seen
		s.seen++
		s.last = e
		return &s.last
	}
	e.Vector = slices.Clone(e.Vector)
	return s.tr.Append(e)
}

// emit ticks and records a process event of ns.
func (s *Sim) emit(ns *nodeState, e trace.Event) {
	s.tick(ns)
	if s.tr != nil && !s.skip(e.Kind) {
		s.record(ns, e)
	}
}

// drop counts a lost message and records its drop event.
func (s *Sim) drop(from, to ordo.NodeID, id uint64, kind string, size int, why string) {
	s.stats.dropped(kind)
	if s.tr == nil || s.skip(trace.Drop) {
		return
	}
	p := s.keep(trace.Event{Kind: trace.Drop, Node: from, Peer: to, Msg: id, MsgKind: kind, Bytes: size, T: int64(s.now), Name: why})
	for _, f := range s.observers {
		f(p)
	}
}

// emitFault records a cluster-wide fault (partition, heal, ...).
func (s *Sim) emitFault(name string, attrs ...any) {
	if s.tr == nil || s.skip(trace.Fault) {
		return
	}
	p := s.keep(trace.Event{Kind: trace.Fault, T: int64(s.now), Name: name, Attrs: trace.MakeAttrs(attrs)})
	for _, f := range s.observers {
		f(p)
	}
}

func (s *Sim) getVec() clock.Vector {
	if n := len(s.vpool); n > 0 {
		v := s.vpool[n-1]
		s.vpool = s.vpool[:n-1]
		return v
	}
	return make(clock.Vector, s.Size())
}

func (s *Sim) putVec(v clock.Vector) {
	if v != nil {
		s.vpool = append(s.vpool, v)
	}
}

// send is Env.Send: stamp, then let the network decide the message's fate.
func (s *Sim) send(ns *nodeState, to ordo.NodeID, m ordo.Message) { s.sendAt(ns, to, m, false) }

// sendEarly is send without the durability contract's hold (SendEarly).
func (s *Sim) sendEarly(ns *nodeState, to ordo.NodeID, m ordo.Message) { s.sendAt(ns, to, m, true) }

func (s *Sim) sendAt(ns *nodeState, to ordo.NodeID, m ordo.Message, early bool) {
	if to == ns.id || to < 1 || int(to) >= len(s.nodes) {
		panic(fmt.Sprintf("sim: %v sends %s to %v: not a peer", ns.id, m.Kind(), to))
	}
	if ns.adv != nil && ns.adv.lies() {
		s.lie(ns, to, m, early) // adversary.go
		return
	}
	s.transmit(ns, to, m, early, xHonest, 0)
}

// transmit is one send: encode (wire mode), stamp, count, record, then the
// network, or the disk's hold until the event's writes are durable. x is
// what a Byzantine node does to the message (adversary.go; xHonest for
// every other), as the sender a forged message claims.
func (s *Sim) transmit(ns *nodeState, to ordo.NodeID, m ordo.Message, early bool, x xform, as ordo.NodeID) {
	var w *wireMsg
	var size int
	if s.cfg.Wire {
		w = s.encode(ns, m)
		switch x {
		case xFlip:
			cp := s.wire.tamperBytes(w, ns.adv.liar.Rng)
			s.releaseWire(w)
			w = cp
		case xGarbage:
			s.garbage(w, ns.adv.liar.Rng)
			s.noteLie(ns, Garbage, to, w.kind, "bytes", len(w.b))
		}
		size = len(w.b)
	} else {
		size = s.sizeOf(ns, m)
	}
	if size < 0 || size > ordo.MaxMessageSize {
		panic(fmt.Sprintf("sim: %v sends %s of %d bytes, bound is %d", ns.id, m.Kind(), size, ordo.MaxMessageSize))
	}
	s.msgID++
	id := s.msgID
	s.tick(ns)
	kind := m.Kind()
	s.stats.sent(kind, size)
	if s.tr != nil && !s.skip(trace.Send) {
		e := trace.Event{Kind: trace.Send, Peer: to, Msg: id, MsgKind: kind, Bytes: size}
		if s.cfg.KeepMessages {
			e.Body = s.body(m)
		}
		s.record(ns, e)
	}
	val := m // the message value, for a replay's body
	if w != nil {
		s.seal(ns.id, to, id, w) // a forger can only seal as itself
		m = w
	}
	switch x {
	case xSilent:
		s.countLie(Silent)
		s.drop(ns.id, to, id, kind, size, DropSilent)
		s.releaseWire(m)
		return
	case xForge:
		if s.cfg.Network.Authenticated && !s.cfg.Wire {
			// Without bytes there is no MAC to fail: the link refuses
			// the claim at once, as it refuses a tampered message.
			s.stats.AuthFailed++
			s.drop(ns.id, to, id, kind, size, DropAuthFailed)
			return
		}
		if s.forged == nil {
			s.forged = map[uint64]ordo.NodeID{}
		}
		s.forged[id] = as
	case xReplay:
		r := &replayed{to: to, of: id}
		if w != nil {
			r.kind, r.b = w.kind, slices.Clone(w.b)
		} else {
			r.m = m
		}
		if s.tr != nil && s.cfg.KeepMessages {
			r.val = val // its send event keeps the body, as the original's
		}
		s.At(s.now+ns.adv.After, func(s *Sim) { s.replay(ns, r) })
	}
	if ns.disk != nil && !early {
		s.holdSend(ns, to, m, id, size) // until the event's writes are on disk
		return
	}
	s.net.route(s, ns, to, m, id, size)
}

// enqueueDelivery puts one copy of a message in flight, arriving at at.
func (s *Sim) enqueueDelivery(ns *nodeState, to ordo.NodeID, m ordo.Message, id uint64, size int, at time.Duration) {
	it := item{at: at, kind: itemDeliver, to: to, from: ns.id, msg: m, msgID: id, size: size, lamport: ns.stamp.Lamport}
	if w, ok := m.(*wireMsg); ok {
		w.refs++ // wire mode: one more copy in flight (wire.go)
	}
	if s.vec {
		it.vc = s.getVec()
		copy(it.vc, ns.stamp.Vector)
	}
	s.q.push(&it)
}

func (s *Sim) boot(ns *nodeState, kind trace.Kind) error {
	sp := ns.spec()
	cfg := ordo.Config{ID: ns.id, N: s.cfg.Nodes, Opts: sp.opts, Proto: sp.proto, Role: sp.role, Roster: s.roster}
	n, err := sp.proto.New(cfg)
	if err != nil {
		return fmt.Errorf("sim: starting %v: %w", ns.id, err)
	}
	if n == nil {
		return fmt.Errorf("sim: starting %v: protocol %s returned a nil node", ns.id, sp.proto.Name)
	}
	ns.node = n
	ns.up = true
	ns.absent = false
	ns.paused = false
	ns.clearInbox()
	ns.inc++
	s.emit(ns, trace.Event{Kind: kind})
	if kind == trace.Restart && ns.disk != nil && ns.disk.recoverFails() {
		s.failStop(ns, "corrupt read: checksum mismatch in its store")
		return nil
	}
	if c, corrupt := startNode(n, ns); corrupt {
		// The protocol refused what its store holds (ordo.Corrupt):
		// that node stops, the run goes on, as on the live runtime.
		s.failStop(ns, "corrupt store: "+c.Error())
		return nil
	}
	s.endEvent(ns)
	return nil
}

// startNode runs n.Start, turning an ordo.Corrupt panic into a result.
func startNode(n ordo.Node, ns *nodeState) (c ordo.Corrupt, corrupt bool) {
	defer func() {
		if p := recover(); p != nil {
			if c, corrupt = p.(ordo.Corrupt); !corrupt {
				panic(p)
			}
		}
	}()
	n.Start(ns)
	return
}

// schedNTP starts id's NTP chain once; the clock keeps running (and
// syncing) while the node is down, as the hardware clock of a powered-off
// machine would.
func (s *Sim) schedNTP(ns *nodeState) {
	if every := ns.clk.model.NTPEvery; every > 0 && !ns.ntp {
		ns.ntp = true
		it := item{at: s.now + every, kind: itemSync, to: ns.id}
		s.q.push(&it)
	}
}

// body is m as JSON for its send event (Config.KeepMessages), within
// trace.MaxBody and MaxKeptMessageBytes; nil past them. A message
// encoding/json cannot encode is kept as the error, in words.
func (s *Sim) body(m ordo.Message) *json.RawMessage {
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"unencodable": err.Error()})
	}
	if len(b) > trace.MaxBody || s.keptBytes+len(b) > MaxKeptMessageBytes {
		return nil
	}
	s.keptBytes += len(b)
	r := json.RawMessage(b)
	return &r
}
