package register

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"ordo"
)

// ServerOptions are the options of "register" and "register-stale".
var ServerOptions = []ordo.Option{
	{Name: "retry", Default: "100ms", Help: "resend a phase's query or update to replicas that have not answered this often (the network loses messages)"},
	{Name: "expire", Default: "3s", Help: "a coordinator forgets an operation it could not finish in this long (the client has timed out by then)"},
	{Name: "max_ops", Default: "1024", Help: "operations one server coordinates at once; more are refused (Busy)"},
	{Name: "stale_reads", Default: "false", Help: "answer reads from the asked replica's own copy, without quorum or write-back (not linearizable)"},
}

// Protocol is "register": ABD servers.
var Protocol = &ordo.Protocol{
	Name:     "register",
	Doc:      "ABD replicated register: majority writes with timestamps, majority reads that write back (Attiya, Bar-Noy, Dolev 1995)",
	Options:  ServerOptions,
	New:      NewServer,
	Messages: Messages,
	Client:   "register-client",
}

// StaleProtocol is "register-stale": the same servers with stale_reads on
// by default: a read is answered by one replica. Not linearizable.
var StaleProtocol = &ordo.Protocol{
	Name:     "register-stale",
	Doc:      "the register with reads answered by any one replica, without quorum or write-back: stale reads (not linearizable)",
	Options:  staleOptions(),
	New:      NewServer,
	Messages: Messages,
	Client:   "register-client",
}

func staleOptions() []ordo.Option {
	o := slices.Clone(ServerOptions)
	for i := range o {
		if o[i].Name == "stale_reads" {
			o[i].Default = "true"
		}
	}
	return o
}

func init() {
	ordo.Register(Protocol)
	ordo.Register(StaleProtocol)
	ordo.Register(ClientProtocol)
}

// Storage keys. A replica's copy of key k lives at valuePrefix+k.
const (
	bootKey     = "register/boot"
	valuePrefix = "register/v/"
)

// MaxKeyLen bounds a register key (a Request with a longer one is
// refused), so that storage keys stay within ordo.MaxKeyLen.
const MaxKeyLen = 256

// timerRetry resends the phases of unfinished operations.
const timerRetry = "abd-retry"

// dedupWindow is how many recent client requests a coordinator remembers
// to ignore a duplicated Request (the network may duplicate messages; a
// write run twice could overwrite a newer value with its older one).
const dedupWindow = 4096

// Server is one ABD replica and coordinator.
type Server struct {
	id            ordo.NodeID
	retry, expire time.Duration
	maxOps        int
	stale         bool
	boot, seq     uint64
	ops           map[uint64]*coord // round → operation it coordinates
	armed         bool
	recent        map[request]bool
	recentQ       []request
	peers         []ordo.NodeID // the other servers (Update/Query targets)
	quorum        int
	servers       []ordo.NodeID
}

type request struct {
	client ordo.NodeID
	op     int64
}

// coord is one operation this server coordinates.
type coord struct {
	round   uint64
	client  ordo.NodeID
	op      int64
	write   bool
	key     string
	value   string
	phase   int // 1: query, 2: update
	acked   []ordo.NodeID
	maxTS   Timestamp
	maxVal  string
	started time.Duration // monotonic
}

// NewServer builds one register server.
func NewServer(cfg ordo.Config) (ordo.Node, error) {
	s := &Server{
		retry:  cfg.Opts.Duration("retry"),
		expire: cfg.Opts.Duration("expire"),
		maxOps: cfg.Opts.Int("max_ops"),
		stale:  cfg.Opts.Bool("stale_reads"),
		ops:    map[uint64]*coord{},
		recent: map[request]bool{},
	}
	switch {
	case s.retry <= 0:
		return nil, fmt.Errorf("register: retry must be more than 0s")
	case s.expire < s.retry:
		return nil, fmt.Errorf("register: expire (%v) must be at least retry (%v)", s.expire, s.retry)
	case s.maxOps < 1:
		return nil, fmt.Errorf("register: max_ops must be at least 1")
	}
	return s, nil
}

// Start boots (or reboots) the replica: its copies are in storage; its
// coordinations were volatile and are gone (their clients time out).
func (s *Server) Start(env ordo.Env) {
	s.id = env.ID()
	s.refresh(env)
	// A durable boot count makes rounds unique across restarts, so an
	// ack for a round of a previous incarnation matches nothing. A round
	// is boot<<32 | seq and peers refuse one above ordo.MaxIndex (2^62),
	// so fewer than 2^30 boots are believed.
	s.boot = ordo.NextBoot(env, bootKey, 1<<30-1)
}

// recordHead is the fixed part of a stored copy: counter, writer and
// round, 8 bytes each, big-endian; the value follows.
const recordHead = 24

// refresh reads who the servers are now (a membership change may have
// changed them): quorums are majorities of the current servers.
func (s *Server) refresh(env ordo.Env) {
	r := env.Roster()
	if !slices.Equal(s.servers, r.Servers) {
		s.servers = slices.Clone(r.Servers)
		s.peers = r.PeersOf(s.id)
		s.quorum = r.Quorum()
	}
}

// load reads this replica's copy of key.
func load(env ordo.Env, key string) (Timestamp, string) {
	b, ok := env.Store().Get(valuePrefix + key)
	if !ok {
		return Timestamp{}, ""
	}
	if len(b) < recordHead {
		// Our own encoding, behind the runtime's checksums: a short
		// record is corrupt, and the node stops (fail-stop).
		panic(ordo.Corrupt{Key: valuePrefix + key, Err: fmt.Errorf("%d bytes, want at least %d", len(b), recordHead)})
	}
	ts := Timestamp{
		Counter: binary.BigEndian.Uint64(b),
		Writer:  int(int64(binary.BigEndian.Uint64(b[8:]))),
		Round:   binary.BigEndian.Uint64(b[16:]),
	}
	if err := ts.Validate(); err != nil {
		panic(ordo.Corrupt{Key: valuePrefix + key, Err: err})
	}
	return ts, string(b[recordHead:])
}

// adopt stores (ts, v) for key if ts is newer than the copy held: the
// replica's whole rule in ABD.
func adopt(env ordo.Env, key string, ts Timestamp, v string) {
	cur, _ := load(env, key)
	if !cur.Less(ts) {
		return
	}
	b := make([]byte, recordHead, recordHead+len(v))
	binary.BigEndian.PutUint64(b, ts.Counter)
	binary.BigEndian.PutUint64(b[8:], uint64(int64(ts.Writer)))
	binary.BigEndian.PutUint64(b[16:], ts.Round)
	env.Store().Put(valuePrefix+key, append(b, v...))
}

// Receive implements ordo.Node.
func (s *Server) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Request:
		s.request(env, from, m)
	case Query:
		if len(m.Key) > MaxKeyLen {
			return
		}
		ts, v := load(env, m.Key)
		env.Send(from, QueryAck{Round: m.Round, TS: ts, Value: v})
	case QueryAck:
		c := s.ops[m.Round]
		if c == nil || c.phase != 1 || !s.ack(c, from) {
			return
		}
		if c.maxTS.Less(m.TS) {
			c.maxTS, c.maxVal = m.TS, m.Value
		}
		if len(c.acked) >= s.quorum {
			s.update(env, c)
		}
	case Update:
		if len(m.Key) > MaxKeyLen {
			return
		}
		adopt(env, m.Key, m.TS, m.Value)
		env.Send(from, UpdateAck{Round: m.Round})
	case UpdateAck:
		c := s.ops[m.Round]
		if c == nil || c.phase != 2 || !s.ack(c, from) {
			return
		}
		if len(c.acked) >= s.quorum {
			s.finish(env, c)
		}
	}
}

// ack counts from's answer once; only servers count.
func (s *Server) ack(c *coord, from ordo.NodeID) bool {
	if !slices.Contains(s.servers, from) || slices.Contains(c.acked, from) {
		return false
	}
	c.acked = append(c.acked, from)
	return true
}

func (s *Server) request(env ordo.Env, from ordo.NodeID, m Request) {
	if len(m.Key) > MaxKeyLen {
		env.Send(from, Reply{Op: m.Op, Busy: true})
		return
	}
	rq := request{from, m.Op}
	if s.recent[rq] {
		return // a duplicate: the first copy is (or was) being served
	}
	s.recent[rq] = true
	s.recentQ = append(s.recentQ, rq)
	if len(s.recentQ) > dedupWindow {
		delete(s.recent, s.recentQ[0])
		s.recentQ = s.recentQ[1:]
	}
	if s.stale && !m.Write {
		// The broken variant: this replica's copy, whatever it is.
		_, v := load(env, m.Key)
		env.Send(from, Reply{Op: m.Op, Value: v})
		return
	}
	if len(s.ops) >= s.maxOps {
		env.Send(from, Reply{Op: m.Op, Busy: true})
		return
	}
	if s.seq+1 >= 1<<32 {
		// seq would spill into the boot bits of the round, and rounds
		// of this incarnation could match a later one's: refuse.
		env.Send(from, Reply{Op: m.Op, Busy: true})
		return
	}
	s.refresh(env)
	s.seq++
	c := &coord{round: s.boot<<32 | s.seq, client: from, op: m.Op, write: m.Write, key: m.Key, value: m.Value, phase: 1, started: env.Monotonic()}
	s.ops[c.round] = c
	// Phase 1: this replica answers itself at once, the others by message.
	c.maxTS, c.maxVal = load(env, c.key)
	c.acked = append(c.acked, s.id)
	for _, p := range s.peers {
		env.Send(p, Query{Round: c.round, Key: c.key})
	}
	s.arm(env)
	if len(c.acked) >= s.quorum {
		s.update(env, c)
	}
}

// update starts phase 2: a write stores a new, larger timestamp; a read
// writes back the largest it saw, so no later read can see less.
func (s *Server) update(env ordo.Env, c *coord) {
	c.phase = 2
	if c.write && c.maxTS.Counter >= ordo.MaxIndex {
		// Counter+1 would pass the bound every replica checks: refuse
		// the write (busy) rather than store a timestamp nobody believes.
		env.Note("counter-exhausted", "key", c.key, "counter", c.maxTS.Counter)
		delete(s.ops, c.round)
		env.Send(c.client, Reply{Op: c.op, Busy: true})
		return
	}
	if c.write {
		c.maxTS, c.maxVal = Timestamp{Counter: c.maxTS.Counter + 1, Writer: int(s.id), Round: c.round}, c.value
	}
	adopt(env, c.key, c.maxTS, c.maxVal)
	c.acked = append(c.acked[:0], s.id)
	for _, p := range s.peers {
		env.Send(p, Update{Round: c.round, Key: c.key, TS: c.maxTS, Value: c.maxVal})
	}
	if len(c.acked) >= s.quorum {
		s.finish(env, c)
	}
}

func (s *Server) finish(env ordo.Env, c *coord) {
	delete(s.ops, c.round)
	if c.write {
		env.Send(c.client, Reply{Op: c.op})
		return
	}
	env.Send(c.client, Reply{Op: c.op, Value: c.maxVal})
}

func (s *Server) arm(env ordo.Env) {
	if !s.armed {
		s.armed = true
		env.After(s.retry, ordo.Timer{Name: timerRetry})
	}
}

// Fire resends each unfinished phase to the replicas that have not
// answered, and forgets operations older than expire.
func (s *Server) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name != timerRetry {
		return
	}
	s.armed = false
	rounds := make([]uint64, 0, len(s.ops))
	for r := range s.ops {
		rounds = append(rounds, r)
	}
	slices.Sort(rounds) // map order is random: sends must be deterministic
	now := env.Monotonic()
	for _, r := range rounds {
		c := s.ops[r]
		if now-c.started >= s.expire {
			delete(s.ops, r)
			continue
		}
		for _, p := range s.peers {
			if slices.Contains(c.acked, p) {
				continue
			}
			if c.phase == 1 {
				env.Send(p, Query{Round: c.round, Key: c.key})
			} else {
				env.Send(p, Update{Round: c.round, Key: c.key, TS: c.maxTS, Value: c.maxVal})
			}
		}
	}
	if len(s.ops) > 0 {
		s.arm(env)
	}
}
