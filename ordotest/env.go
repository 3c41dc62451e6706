package ordotest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/adversary"
	"ordo/signature"
)

// Env is a recording ordo.Env for one-step tests, in the style of
// etcd-io/raft's paper tests: set a node's state and clocks, hand it one
// input (Start, Receive, Fire), then read exactly what that step did —
// what it sent, which timers it armed, what it noted and what it wrote to
// storage. Nothing is delivered and no timer fires by itself; the test is
// the network and the clock.
//
// The step methods (Start, Receive, Fire) clear the previous step's record
// first, so Sent, Timers, Notes and Writes always describe the last step;
// storage itself persists across steps, as it does across crashes.
//
// Like the runtimes, Env panics on a protocol bug: a send to itself or to a
// node outside the roster, a negative or over-long timer, a storage write
// out of bounds. With Codec set (NewEnv sets it from a protocol), every
// send is encoded and decoded, and the decoded copy is what Sent records:
// a message that cannot travel fails the step as it would in wire mode.
type Env struct {
	// Wall is what Now returns: set it, or step it with StepWall, to
	// model an NTP step. It does not move Monotonic.
	Wall time.Time
	// Mono is what Monotonic returns; Advance moves it and Wall together.
	Mono time.Duration
	// Codec, if set, round-trips every sent message through its encoding.
	Codec *ordo.Codec
	// Outside are nodes outside the roster that this node may answer: the
	// live runtime's client API gateways (ids from live.GatewayBase up),
	// which send requests to a server and read its replies.
	Outside map[ordo.NodeID]bool

	// The record of the last step.
	Sent   []Sent
	Timers []Armed
	Notes  []Note
	Writes []ordo.Op

	id     ordo.NodeID
	roster *ordo.Roster
	peers  []ordo.NodeID
	rng    *rand.Rand
	store  recording
	keys   *signature.Keys // made on first use (sign.go)
}

// Sent is one message handed to Env.Send.
type Sent struct {
	To  ordo.NodeID
	Msg ordo.Message
}

func (s Sent) String() string { return fmt.Sprintf("%s→%v %+v", s.Msg.Kind(), s.To, s.Msg) }

// Armed is one timer armed with Env.After: it would fire after d of the
// node's monotonic time.
type Armed struct {
	After time.Duration
	Timer ordo.Timer
}

// Note is one Env.Note: its kind and its key, value pairs as given.
type Note struct {
	Kind  string
	Attrs []any
}

// Get returns the value of key, ok false when the note has none.
func (n Note) Get(key string) (v any, ok bool) {
	for i := 0; i+1 < len(n.Attrs); i += 2 {
		if k, _ := n.Attrs[i].(string); k == key {
			return n.Attrs[i+1], true
		}
	}
	return nil, false
}

// Int returns the value of key as an int64 (for any integer type or
// ordo.NodeID), ok false when absent or not an integer.
func (n Note) Int(key string) (int64, bool) {
	v, ok := n.Get(key)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		return int64(x), true
	case ordo.NodeID:
		return int64(x), true
	}
	return 0, false
}

// Epoch is the wall time a new Env reads: an arbitrary fixed instant, so
// that tests do not depend on the machine's clock.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxTimer bounds a timer a protocol may arm (a day): a longer one is a
// unit mix-up (nanoseconds read as seconds).
const MaxTimer = 24 * time.Hour

// NewEnv is the world of node id in roster (nil: servers 1..3), with an
// empty MemStorage, Wall = Epoch, Mono = 0 and a random source seeded with
// seed. id must be in the roster.
func NewEnv(id ordo.NodeID, roster *ordo.Roster, seed uint64) *Env {
	if roster == nil {
		roster = ordo.NewRoster(3, 0, 0)
	}
	if err := roster.Validate(); err != nil {
		panic("ordotest: " + err.Error())
	}
	if _, ok := roster.RoleOf(id); !ok {
		panic(fmt.Sprintf("ordotest: %v is not in the roster %+v", id, *roster))
	}
	e := &Env{Wall: Epoch, id: id, roster: roster, peers: roster.PeersOf(id), rng: rand.New(rand.NewPCG(seed, uint64(id)))}
	e.store = recording{e: e, mem: ordo.NewMemStorage()}
	return e
}

// ForProtocol is NewEnv for a node of p: Codec is p's, so every send is
// round-tripped through the wire encoding.
func ForProtocol(p *ordo.Protocol, id ordo.NodeID, roster *ordo.Roster, seed uint64) *Env {
	e := NewEnv(id, roster, seed)
	e.Codec = p.Codec
	return e
}

// NewNode builds node e.ID() of p with the given options (defaults
// filled in), failing t on an error. Call it again after Crash for the
// restarted incarnation.
func (e *Env) NewNode(t testing.TB, p *ordo.Protocol, opts map[string]string) ordo.Node {
	t.Helper()
	o, err := p.Resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	role, _ := e.roster.RoleOf(e.id)
	n, err := p.New(ordo.Config{ID: e.id, N: len(e.roster.Servers), Opts: o, Proto: p, Role: role, Roster: e.roster})
	if err != nil {
		t.Fatalf("%s.New: %v", p.Name, err)
	}
	return n
}

// Reset clears the record of the last step (storage is kept).
func (e *Env) Reset() {
	e.Sent, e.Timers, e.Notes, e.Writes = e.Sent[:0], e.Timers[:0], e.Notes[:0], e.Writes[:0]
}

// Start runs n.Start as one step.
func (e *Env) Start(n ordo.Node) { e.Reset(); n.Start(e); ordo.Flush(n, e) }

// Receive runs n.Receive(from, m) as one step, m sent as its sender
// would send it: a message that carries a signature (adversary.Signed) is
// signed by from first, with from's key of Keys. With Codec set, m is
// round-tripped first, as a peer's message would be. ReceiveAsIs sends a
// signature as the test wrote it (a forged or a moved one).
func (e *Env) Receive(n ordo.Node, from ordo.NodeID, m ordo.Message) {
	if s, ok := m.(adversary.Signed); ok {
		m = s.Resign(e.signKeys().For(from).Sign)
	}
	e.ReceiveAsIs(n, from, m)
}

// ReceiveAsIs is Receive without signing m.
func (e *Env) ReceiveAsIs(n ordo.Node, from ordo.NodeID, m ordo.Message) {
	e.Reset()
	if _, ok := m.(ordo.PeerDown); !ok {
		m = e.wire(m)
	}
	n.Receive(e, from, m)
	ordo.Flush(n, e) // a step is one turn (ordo.Flusher)
}

// Fire runs n.Fire(t) as one step.
func (e *Env) Fire(n ordo.Node, t ordo.Timer) { e.Reset(); n.Fire(e, t); ordo.Flush(n, e) }

// Advance moves both clocks forward by d, as time passing does.
func (e *Env) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("ordotest: Advance(%v): time does not run backwards", d))
	}
	e.Mono += d
	e.Wall = e.Wall.Add(d)
}

// StepWall moves only the wall clock by d (negative: backwards), as an NTP
// step does; Monotonic is untouched.
func (e *Env) StepWall(d time.Duration) { e.Wall = e.Wall.Add(d) }

// Storage is the node's durable state, to seed before a step or read
// after one (reads and seeding are not recorded as writes).
func (e *Env) Storage() *ordo.MemStorage { return e.store.mem }

// SentTo returns the messages of the last step sent to to, in order.
func (e *Env) SentTo(to ordo.NodeID) []ordo.Message {
	var out []ordo.Message
	for _, s := range e.Sent {
		if s.To == to {
			out = append(out, s.Msg)
		}
	}
	return out
}

// SentSummary renders the last step's sends as "KIND→nX", in order: the
// shape one-step tests compare against the chapter's figures.
func (e *Env) SentSummary() []string {
	out := make([]string, 0, len(e.Sent))
	for _, s := range e.Sent {
		out = append(out, s.Msg.Kind()+"→"+s.To.String())
	}
	return out
}

// WantSent fails t unless the last step's sends are exactly want, in
// order, each written "KIND→nX".
func (e *Env) WantSent(t testing.TB, want ...string) {
	t.Helper()
	if got := e.SentSummary(); !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
}

// OneTimer returns the one timer named name that the last step armed, and
// fails t if it armed none or several.
func (e *Env) OneTimer(t testing.TB, name string) Armed {
	t.Helper()
	ts := e.TimersNamed(name)
	if len(ts) != 1 {
		t.Fatalf("timers %s armed: %v, want exactly one (all: %v)", name, ts, e.Timers)
	}
	return ts[0]
}

// NoteKinds lists the kinds of the last step's notes, in order.
func (e *Env) NoteKinds() []string {
	out := make([]string, 0, len(e.Notes))
	for _, n := range e.Notes {
		out = append(out, n.Kind)
	}
	return out
}

// SentKind returns the sends of the last step of the given kind, in order.
func (e *Env) SentKind(kind string) []Sent {
	var out []Sent
	for _, s := range e.Sent {
		if s.Msg.Kind() == kind {
			out = append(out, s)
		}
	}
	return out
}

// NotesOf returns the notes of the last step of the given kind, in order.
func (e *Env) NotesOf(kind string) []Note {
	var out []Note
	for _, n := range e.Notes {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// TimersNamed returns the timers of the last step with the given name.
func (e *Env) TimersNamed(name string) []Armed {
	var out []Armed
	for _, a := range e.Timers {
		if a.Timer.Name == name {
			out = append(out, a)
		}
	}
	return out
}

// Wrote reports whether the last step wrote key (a put, a delete, or a
// range delete covering it).
func (e *Env) Wrote(key string) bool {
	for _, op := range e.Writes {
		switch op.Kind {
		case ordo.OpPut, ordo.OpDelete:
			if op.Key == key {
				return true
			}
		case ordo.OpDeleteRange:
			if ordo.InRange(key, op.Key, op.End) {
				return true
			}
		}
	}
	return false
}

// ---- ordo.Env ----

var _ ordo.Env = (*Env)(nil)

// ID implements ordo.Env.
func (e *Env) ID() ordo.NodeID { return e.id }

// Peers implements ordo.Env.
func (e *Env) Peers() []ordo.NodeID { return e.peers }

// Roster implements ordo.Env.
func (e *Env) Roster() *ordo.Roster { return e.roster }

// Now implements ordo.Env: Wall.
func (e *Env) Now() time.Time { return e.Wall }

// Monotonic implements ordo.Env: Mono.
func (e *Env) Monotonic() time.Duration { return e.Mono }

// Rand implements ordo.Env.
func (e *Env) Rand() *rand.Rand { return e.rng }

// Store implements ordo.Env: the storage, recording every write.
func (e *Env) Store() ordo.Storage { return &e.store }

// Send implements ordo.Env: it records the message (round-tripped through
// Codec when set). A send to oneself or outside the roster panics.
func (e *Env) Send(to ordo.NodeID, m ordo.Message) {
	if m == nil {
		panic(fmt.Sprintf("ordotest: %v sends a nil message", e.id))
	}
	if to == e.id {
		panic(fmt.Sprintf("ordotest: %v sends %s to itself", e.id, m.Kind()))
	}
	if _, ok := e.roster.RoleOf(to); !ok && !e.Outside[to] {
		panic(fmt.Sprintf("ordotest: %v sends %s to %v, who is not in the roster", e.id, m.Kind(), to))
	}
	e.Sent = append(e.Sent, Sent{To: to, Msg: e.wire(m)})
}

// After implements ordo.Env: it records the timer.
func (e *Env) After(d time.Duration, t ordo.Timer) {
	if d < 0 || d > MaxTimer {
		panic(fmt.Sprintf("ordotest: %v arms timer %v for %v (bounds 0..%v)", e.id, t, d, MaxTimer))
	}
	e.Timers = append(e.Timers, Armed{After: d, Timer: t})
}

// Note implements ordo.Env: it records the note. attrs must be key, value
// pairs with string keys.
func (e *Env) Note(kind string, attrs ...any) {
	if len(attrs)%2 != 0 {
		panic(fmt.Sprintf("ordotest: note %q has an odd number of attrs: %v", kind, attrs))
	}
	for i := 0; i < len(attrs); i += 2 {
		if _, ok := attrs[i].(string); !ok {
			panic(fmt.Sprintf("ordotest: note %q attr key %v is not a string", kind, attrs[i]))
		}
	}
	e.Notes = append(e.Notes, Note{Kind: kind, Attrs: slices.Clone(attrs)})
}

// wire round-trips m through Codec (when set), failing loudly if it cannot
// travel or does not come back equal.
func (e *Env) wire(m ordo.Message) ordo.Message {
	if e.Codec == nil {
		return m
	}
	b, err := e.Codec.Encode(m)
	if err != nil {
		panic(fmt.Sprintf("ordotest: %v: %s cannot be encoded: %v", e.id, m.Kind(), err))
	}
	if len(b) > ordo.MaxMessageSize {
		panic(fmt.Sprintf("ordotest: %v: %s encodes to %d bytes, bound %d", e.id, m.Kind(), len(b), ordo.MaxMessageSize))
	}
	d, err := e.Codec.Decode(m.Kind(), b)
	if err != nil {
		panic(fmt.Sprintf("ordotest: %v: %s does not decode: %v", e.id, m.Kind(), err))
	}
	return d
}

// recording is the node's storage: a MemStorage whose writes are recorded
// in the Env's Writes.
type recording struct {
	e   *Env
	mem *ordo.MemStorage
}

func (s *recording) Get(key string) ([]byte, bool) { return s.mem.Get(key) }

func (s *recording) Scan(start, end string, fn func(key string, value []byte) bool) {
	s.mem.Scan(start, end, fn)
}

func (s *recording) Put(key string, value []byte) {
	s.mem.Put(key, value)
	s.e.Writes = append(s.e.Writes, ordo.Op{Kind: ordo.OpPut, Key: key, Value: slices.Clone(value)})
}

func (s *recording) Delete(key string) {
	s.mem.Delete(key)
	s.e.Writes = append(s.e.Writes, ordo.Op{Kind: ordo.OpDelete, Key: key})
}

func (s *recording) DeleteRange(start, end string) {
	s.mem.DeleteRange(start, end)
	s.e.Writes = append(s.e.Writes, ordo.Op{Kind: ordo.OpDeleteRange, Key: start, End: end})
}

func (s *recording) Apply(b *ordo.Batch) {
	s.mem.Apply(b)
	for _, op := range b.Ops {
		op.Value = slices.Clone(op.Value)
		s.e.Writes = append(s.e.Writes, op)
	}
}
