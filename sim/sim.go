package sim

import (
	"fmt"
	"math/rand/v2"
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
	Nodes    int          // nodes 1..Nodes
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
	// Trace records every event in memory (Sim.Trace). Off, the simulator
	// still stamps events but keeps nothing: the fast path for benchmarks.
	Trace bool
	// Name labels the trace (a scenario's name).
	Name string
	// MaxEvents bounds a run (0: DefaultMaxEvents): a protocol that floods
	// the network must not hang the simulator.
	MaxEvents uint64
}

// DefaultMaxEvents bounds a run when Config.MaxEvents is 0.
const DefaultMaxEvents = 50_000_000

// MaxNodes bounds the cluster size.
const MaxNodes = trace.MaxNodes

// Sim is a deterministic runtime: one goroutine, virtual time, one event
// queue with deterministic tie-breaking, and random choices drawn from
// sources derived from one seed. Same Config and same calls ⇒ the same run,
// byte for byte.
type Sim struct {
	cfg   Config
	now   time.Duration // true time since the run began
	q     queue
	seq   uint64
	rng   *rand.Rand // the network's and nemesis's choices
	nodes []*nodeState
	net   netState
	tr    *trace.Trace
	stats Stats
	msgID uint64
	vpool []clock.Vector // free vectors for in-flight messages
	// events counts processed queue items; limit bounds them.
	events, limit uint64
	// observers see every recorded event as it happens (checkers, UIs).
	observers []func(*trace.Event)
	fallacy   Fallacies
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
	if err := cfg.Network.validate(cfg.Nodes); err != nil {
		return nil, err
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	s := &Sim{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x6f72646f)), // "ordo"
		limit: cfg.MaxEvents,
	}
	s.stats.init()
	s.net.init(&s.cfg.Network, cfg.Nodes)
	if cfg.Trace {
		s.tr = &trace.Trace{Meta: trace.Meta{
			Runtime:  "sim",
			Nodes:    cfg.Nodes,
			Protocol: cfg.Protocol.Name,
			Scenario: cfg.Name,
			Seed:     cfg.Seed,
			Options:  cfg.Options,
		}}
	}
	peersAll := make([]ordo.NodeID, cfg.Nodes)
	for i := range peersAll {
		peersAll[i] = ordo.NodeID(i + 1)
	}
	s.nodes = make([]*nodeState, cfg.Nodes+1)
	for i := 1; i <= cfg.Nodes; i++ {
		id := ordo.NodeID(i)
		peers := make([]ordo.NodeID, 0, cfg.Nodes-1)
		for _, p := range peersAll {
			if p != id {
				peers = append(peers, p)
			}
		}
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
		ns := &nodeState{
			sim:   s,
			id:    id,
			peers: peers,
			store: ordo.NewMemStorage(),
			rng:   rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			stamp: trace.NewStamper(i, cfg.Nodes),
			clk:   newClock(cm, rand.New(rand.NewPCG(cfg.Seed, 0x636c6b00+uint64(i)))),
			speed: speed,
		}
		s.nodes[i] = ns
	}
	for _, id := range cfg.Absent {
		if id < 1 || int(id) > cfg.Nodes {
			return nil, fmt.Errorf("sim: absent node %d out of range 1..%d", id, cfg.Nodes)
		}
		s.nodes[id].absent = true
	}
	for i := 1; i <= cfg.Nodes; i++ {
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
func (s *Sim) Trace() *trace.Trace { return s.tr }

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
type ErrEventLimit struct{ Limit uint64 }

func (e ErrEventLimit) Error() string {
	return fmt.Sprintf("sim: stopped after %d events (the run's bound); a protocol may be flooding the network", e.Limit)
}

// RunFor advances true time by d, processing every event due until then.
func (s *Sim) RunFor(d time.Duration) error { return s.RunUntil(s.now + d) }

// RunUntil processes every event due at or before t, then sets the clock to t.
func (s *Sim) RunUntil(t time.Duration) error {
	for s.q.len() > 0 && s.q.peek().at <= t {
		if s.events >= s.limit {
			return ErrEventLimit{s.limit}
		}
		it := s.q.pop()
		s.now = it.at
		s.events++
		s.dispatch(&it)
	}
	if t > s.now {
		s.now = t
	}
	return nil
}

// Events returns how many queue items the run has processed.
func (s *Sim) Events() uint64 { return s.events }

// At schedules f at true time t (faults, checks, client requests). f runs
// between events, never inside a node's handler.
func (s *Sim) At(t time.Duration, f func(*Sim)) {
	if t < s.now {
		t = s.now
	}
	s.push(item{at: t, kind: itemAction, action: f})
}

func (s *Sim) push(it item) {
	s.seq++
	it.seq = s.seq
	s.q.push(it)
}

func (s *Sim) dispatch(it *item) {
	switch it.kind {
	case itemAction:
		it.action(s)
	case itemDeliver:
		ns := s.nodes[it.to]
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
		if ns.paused || ns.busy > s.now {
			ns.defer_(*it)
			return
		}
		s.deliver(ns, it)
	case itemTimer:
		ns := s.nodes[it.to]
		if !ns.up || ns.inc != it.inc {
			return // a timer of a previous incarnation dies with it
		}
		if ns.paused || ns.busy > s.now {
			ns.defer_(*it)
			return
		}
		ns.occupy()
		e := s.emit(ns, trace.Event{Kind: trace.Timer, Name: it.timer.Name}, false)
		if e != nil && it.timer.Arg != 0 {
			e.Attrs = trace.Attrs{{Key: "arg", Value: it.timer.Arg}}
		}
		ns.node.Fire(ns, it.timer)
	case itemSync:
		ns := s.nodes[it.to]
		ns.clk.sync(s.now)
		s.schedNTP(ns)
	}
}

func (s *Sim) deliver(ns *nodeState, it *item) {
	ns.occupy()
	ns.stamp.Recv(it.lamport, it.vc)
	s.putVec(it.vc)
	s.stats.delivered(it.msg.Kind())
	s.emit(ns, trace.Event{Kind: trace.Recv, Peer: it.from, Msg: it.msgID, MsgKind: it.msg.Kind(), Bytes: it.size}, true)
	ns.node.Receive(ns, it.from, it.msg)
}

func (s *Sim) dropInFlight(it *item, why string) {
	s.putVec(it.vc)
	s.stats.dropped(it.msg.Kind())
	s.emitDrop(it.from, it.to, it.msgID, it.msg.Kind(), it.size, why)
}

// emit stamps a process event of ns (unless stamped already) and records it.
func (s *Sim) emit(ns *nodeState, e trace.Event, stamped bool) *trace.Event {
	if !stamped {
		ns.stamp.Tick()
	}
	if s.tr == nil {
		return nil
	}
	e.Node = ns.id
	e.T = int64(s.now)
	e.Local = int64(ns.clk.local(s.now))
	e.Lamport = ns.stamp.Lamport
	e.Vector = slices.Clone(ns.stamp.Vector)
	p := s.tr.Append(e)
	for _, f := range s.observers {
		f(p)
	}
	return p
}

func (s *Sim) emitDrop(from, to ordo.NodeID, id uint64, kind string, size int, why string) {
	if s.tr == nil {
		return
	}
	p := s.tr.Append(trace.Event{Kind: trace.Drop, Node: from, Peer: to, Msg: id, MsgKind: kind, Bytes: size, T: int64(s.now), Name: why})
	for _, f := range s.observers {
		f(p)
	}
}

// emitFault records a cluster-wide fault (partition, heal, ...).
func (s *Sim) emitFault(name string, attrs ...any) {
	if s.tr == nil {
		return
	}
	p := s.tr.Append(trace.Event{Kind: trace.Fault, T: int64(s.now), Name: name, Attrs: trace.MakeAttrs(attrs)})
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
	return make(clock.Vector, s.cfg.Nodes)
}

func (s *Sim) putVec(v clock.Vector) {
	if v != nil {
		s.vpool = append(s.vpool, v)
	}
}

// send is Env.Send: stamp, then let the network decide the message's fate.
func (s *Sim) send(ns *nodeState, to ordo.NodeID, m ordo.Message) {
	if to == ns.id || to < 1 || int(to) > s.cfg.Nodes {
		panic(fmt.Sprintf("sim: %v sends %s to %v: not a peer", ns.id, m.Kind(), to))
	}
	size := ordo.SizeOf(m)
	if size < 0 || size > ordo.MaxMessageSize {
		panic(fmt.Sprintf("sim: %v sends %s of %d bytes, bound is %d", ns.id, m.Kind(), size, ordo.MaxMessageSize))
	}
	s.msgID++
	id := s.msgID
	ns.stamp.Tick()
	s.stats.sent(m.Kind(), size, ns.id, to)
	s.emit(ns, trace.Event{Kind: trace.Send, Peer: to, Msg: id, MsgKind: m.Kind(), Bytes: size}, true)
	s.net.route(s, ns, to, m, id, size)
}

// enqueueDelivery puts one copy of a message in flight, arriving at at.
func (s *Sim) enqueueDelivery(ns *nodeState, to ordo.NodeID, m ordo.Message, id uint64, size int, at time.Duration) {
	v := s.getVec()
	copy(v, ns.stamp.Vector)
	s.push(item{at: at, kind: itemDeliver, to: to, from: ns.id, msg: m, msgID: id, size: size, lamport: ns.stamp.Lamport, vc: v})
}

func (s *Sim) boot(ns *nodeState, kind trace.Kind) error {
	cfg := ordo.Config{ID: ns.id, N: s.cfg.Nodes, Opts: s.cfg.Options, Proto: s.cfg.Protocol}
	n, err := s.cfg.Protocol.New(cfg)
	if err != nil {
		return fmt.Errorf("sim: starting %v: %w", ns.id, err)
	}
	ns.node = n
	ns.up = true
	ns.absent = false
	ns.paused = false
	ns.busy = 0
	ns.deferred = ns.deferred[:0]
	ns.inc++
	s.emit(ns, trace.Event{Kind: kind}, false)
	n.Start(ns)
	return nil
}

func (s *Sim) schedNTP(ns *nodeState) {
	if every := ns.clk.model.NTPEvery; every > 0 {
		s.push(item{at: s.now + every, kind: itemSync, to: ns.id})
	}
}
