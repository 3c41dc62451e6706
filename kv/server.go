package kv

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/raft"
)

// GatewayBase is the first live gateway id (live.GatewayBase, which a
// protocol package may not import): a request from an id at or above it
// comes from the live client API, and only there is OpSnap served.
const GatewayBase ordo.NodeID = 1 << 20

// ServerOptions are the "kv" protocol's own options (beside Raft's).
var ServerOptions = []ordo.Option{
	{Name: "session_window", Default: "100000", Help: "a client session's dedup entry is dropped after this many log indexes without use (never by clock: replicas must agree)"},
	{Name: "sessions", Default: "4096", Help: "most client sessions remembered; beyond, the least recently used is dropped"},
	{Name: "max_pending", Default: "4096", Help: "requests a server holds waiting for the log or a read confirmation; beyond, it answers busy"},
	{Name: "max_watchers", Default: "1024", Help: "watches a server holds; beyond, it answers busy"},
	{Name: "strict_reconfig", Default: "true", Help: "refuse a membership change the voters heard from lately could not carry (etcd's --strict-reconfig-check); false lets a test reach Raft's own membership rules"},
	{Name: "watch_wait", Default: "5s", Help: "a watch without a change ends with status timeout after this long"},
	// Read by the eventual-leader checker, not by the servers: with a log,
	// only a server holding the freshest entries can win (Raft 5.4.1), so
	// when loss persists with just a majority connected every vote must
	// arrive and elections take more attempts than the election alone
	// (explore seed 14 of the hostile profile: 4 tries at 9.5% loss).
	{Name: "leader_bound", Default: "2400ms", Help: "checkers: how long after the last fault a leader must be agreed on (eventual-leader; 8× election_timeout_max by default)"},
}

// Protocol is "kv": exercise 3's database. Raft (election/raft's
// replicated log) orders the writes, every server applies them to a
// Machine, and the leader answers clients.
var Protocol = &ordo.Protocol{
	Name:     "kv",
	Doc:      "exercise 3's 5-node database: Raft log replication, a key-value machine, client sessions, ReadIndex/lease/serializable reads, watches",
	Options:  append(append([]ordo.Option(nil), raft.ReplicaOptions...), ServerOptions...),
	New:      NewServer,
	Messages: Messages,
	Client:   "kv-client",
}

// StaleProtocol is "kv-stale", DELIBERATELY BROKEN: every read, at any
// level, is served by whichever server is asked from its own state,
// without ReadIndex or lease (a follower behind, or a deposed leader that
// has not learnt it, returns an old value). The linearizable checker must
// catch it; it exists for that test and the chapter's demonstration.
var StaleProtocol = &ordo.Protocol{
	Name:     "kv-stale",
	Doc:      "DELIBERATELY BROKEN kv: reads served from the asked server's local state without ReadIndex or lease (stale reads; linearizable must fail)",
	Options:  Protocol.Options,
	New:      func(c ordo.Config) (ordo.Node, error) { return newServer(c, true) },
	Messages: Messages,
	Client:   "kv-client",
}

// Messages are the kv protocols' messages: Raft's and the client API's.
var Messages = append(append([]ordo.Message(nil), raft.ReplicaMessages...), Request{}, Response{}, BackupRead{}, BackupPart{})

func init() {
	ordo.Register(Protocol)
	ordo.Register(StaleProtocol)
	ordo.Register(ClientProtocol)
}

// Hard bounds of the server's options.
const (
	MaxPending  = 1 << 16
	MaxWatchers = 1 << 14
	// MaxSnapReply bounds the part of a backup sent in one BackupPart.
	MaxSnapReply = ordo.MaxMessageSize - 64<<10
	// MaxBackupBytes bounds a backup (ordo kv snapshot save): a Raft
	// snapshot's bound, which the restored snapshot must fit.
	MaxBackupBytes = raft.MaxSnapshotBytes
)

const (
	timerWatch  = "kv-watch"
	timerBackup = "kv-backup"
)

// BackupIdle is how long a backup being read is kept without a part being
// read: then it is dropped, and another may be taken.
const BackupIdle = 10 * time.Second

// Server is one database server: a Raft replica (embedded: its Start,
// Fire, Flush, View are the server's) with the Machine it replicates
// into, and the client requests waiting for the log.
type Server struct {
	*raft.Node
	m     *Machine
	stale bool // kv-stale

	maxPending, maxWatchers int
	watchTimeout            time.Duration

	writes  map[uint64]pendingWrite // by log index
	reads   map[uint64]pendingRead  // ReadIndex requests by ctx
	waiting []pendingRead           // confirmed reads waiting for the machine to reach index
	watches map[int64]pendingRead   // by watch id (timer arg)
	nextCtx uint64
	nextW   int64

	// backup is the operator's backup being read (OpSnap), taken at
	// backupRev; nil when none is. One at a time: another is refused busy
	// until its last part is read or it sat BackupIdle unread (monotonic
	// time of the last read; backupGen is the idle timer's generation).
	backup     []byte
	backupRev  uint64
	backupRead time.Duration
	backupGen  int64

	// heard: when (monotonic) each server last answered this node's
	// replication (AppendResp, HeartbeatResp, InstallSnapshotResp): the
	// strict membership check counts only voters heard within active
	// (three heartbeats: a voter that missed three rounds is not counted).
	heard  map[ordo.NodeID]time.Duration
	active time.Duration
	strict bool
}

type pendingWrite struct {
	to   ordo.NodeID
	req  Request
	term uint64
}

type pendingRead struct {
	to    ordo.NodeID
	req   Request
	index uint64
}

var _ election.Elector = (*Server)(nil)

// NewServer builds a "kv" server.
func NewServer(c ordo.Config) (ordo.Node, error) { return newServer(c, false) }

// MachineConfigOf is the machine's configuration under a server's
// options (session_window, sessions): the same on every server of a
// cluster, and what a restored snapshot must fit.
func MachineConfigOf(opts ordo.Options) MachineConfig {
	return MachineConfig{SessionWindow: uint64(max(opts.Int("session_window"), 0)), Sessions: opts.Int("sessions")}
}

func newServer(c ordo.Config, stale bool) (*Server, error) {
	mc := MachineConfigOf(c.Opts)
	if err := mc.Check(); err != nil {
		return nil, err
	}
	s := &Server{m: NewMachine(mc), stale: stale,
		maxPending: c.Opts.Int("max_pending"), maxWatchers: c.Opts.Int("max_watchers"), watchTimeout: c.Opts.Duration("watch_wait"),
		writes: map[uint64]pendingWrite{}, reads: map[uint64]pendingRead{}, watches: map[int64]pendingRead{},
		heard: map[ordo.NodeID]time.Duration{}, active: 3 * c.Opts.Duration("heartbeat"), strict: c.Opts.Bool("strict_reconfig")}
	switch {
	case s.maxPending < 1 || s.maxPending > MaxPending:
		return nil, fmt.Errorf("kv: max_pending=%d out of range 1..%d", s.maxPending, MaxPending)
	case s.maxWatchers < 0 || s.maxWatchers > MaxWatchers:
		return nil, fmt.Errorf("kv: max_watchers=%d out of range 0..%d", s.maxWatchers, MaxWatchers)
	case s.watchTimeout <= 0:
		return nil, errors.New("kv: watch_wait must be more than 0s")
	}
	n, err := raft.NewReplica(c, s.m, s)
	if err != nil {
		return nil, err
	}
	s.Node = n
	return s, nil
}

// Machine is the server's state machine (tests, benchmarks).
func (s *Server) Machine() *Machine { return s.m }

// Receive implements ordo.Node: Raft's messages go to Raft, requests are
// served.
func (s *Server) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Request:
		s.request(env, from, m)
		return
	case BackupRead:
		s.readBackup(env, from, m)
		return
	}
	if raft.IsMessage(m) {
		switch m.(type) {
		case raft.AppendResp, raft.HeartbeatResp, raft.InstallSnapshotResp:
			s.heard[from] = env.Monotonic()
		}
		s.Node.Receive(env, from, m)
	}
}

// Fire implements ordo.Node.
func (s *Server) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name == timerBackup {
		if t.Arg != s.backupGen || s.backup == nil {
			return
		}
		if idle := env.Monotonic() - s.backupRead; idle < BackupIdle {
			env.After(BackupIdle-idle, t)
			return
		}
		env.Note("backup-dropped", "rev", s.backupRev, "idle", BackupIdle)
		s.backup, s.backupRev = nil, 0
		return
	}
	if t.Name == timerWatch {
		if w, ok := s.watches[t.Arg]; ok {
			delete(s.watches, t.Arg)
			s.reply(env, w.to, w.req, Response{Status: StatusTimeout, Rev: s.m.Applied(), Err: "no change within watch_wait"})
		}
		return
	}
	s.Node.Fire(env, t)
}

// reply answers a client. Every answer states only what the machine
// applied — committed, so already durable on a majority — or a refusal
// that promises nothing, never this turn's own writes: it may leave
// before the turn's fsync (ordo.EarlySender), which would otherwise make
// a reply wait for log writes of later, unrelated requests.
func (s *Server) reply(env ordo.Env, to ordo.NodeID, req Request, r Response) {
	r.ID = req.ID
	s.send(env, to, r)
}

// send hands m to the client gateway to, early when the runtime allows
// (see reply).
func (s *Server) send(env ordo.Env, to ordo.NodeID, m ordo.Message) {
	if es, _, ok := ordo.Early(env); ok {
		es.SendEarly(to, m)
		return
	}
	env.Send(to, m)
}

func (s *Server) notLeader(env ordo.Env, to ordo.NodeID, req Request) {
	leader := s.Leader()
	if leader == env.ID() {
		leader = ordo.None // a leader that just learned it is deposed: no hint, not itself
	}
	s.reply(env, to, req, Response{Status: StatusNotLeader, Leader: leader, Err: "not the leader"})
}

func (s *Server) busy(env ordo.Env, to ordo.NodeID, req Request, why string) {
	s.reply(env, to, req, Response{Status: StatusBusy, Err: why})
}

func (s *Server) request(env ordo.Env, from ordo.NodeID, req Request) {
	if err := req.Check(); err != nil {
		s.reply(env, from, req, Response{Status: StatusBadRequest, Err: err.Error()})
		return
	}
	switch req.Op {
	case OpPut, OpDelete, OpCAS:
		s.write(env, from, req)
	case OpGet, OpRange:
		s.read(env, from, req)
	case OpWatch:
		s.watch(env, from, req)
	case OpSnap:
		s.snapshot(env, from, req)
	case OpMember:
		s.member(env, from, req)
	case OpMove:
		if err := s.TransferLeadership(env, req.Node); err != nil {
			s.refuse(env, from, req, err)
			return
		}
		s.reply(env, from, req, Response{Status: StatusOK, Leader: req.Node})
	}
}

// refuse answers a request Raft refused, by Raft's error.
func (s *Server) refuse(env ordo.Env, to ordo.NodeID, req Request, err error) {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		s.notLeader(env, to, req)
	case errors.Is(err, raft.ErrBusy):
		s.busy(env, to, req, err.Error())
	default:
		s.reply(env, to, req, Response{Status: StatusBadRequest, Err: err.Error()})
	}
}

// write proposes a write and keeps it until its entry is applied (or
// leadership is lost: unknown).
func (s *Server) write(env ordo.Env, from ordo.NodeID, req Request) {
	if !s.IsLeader() {
		s.notLeader(env, from, req)
		return
	}
	if len(s.writes) >= s.maxPending {
		s.busy(env, from, req, fmt.Sprintf("%d writes pending (max_pending)", len(s.writes)))
		return
	}
	index, term, err := s.Propose(env, EncodeCommand(req))
	if err != nil {
		s.refuse(env, from, req, err)
		return
	}
	s.writes[index] = pendingWrite{to: from, req: req, term: term}
}

func (s *Server) member(env ordo.Env, from ordo.NodeID, req Request) {
	if !s.IsLeader() {
		s.notLeader(env, from, req)
		return
	}
	if len(s.writes) >= s.maxPending {
		s.busy(env, from, req, "too many writes pending (max_pending)")
		return
	}
	op := raft.AddVoter
	if req.Value == "remove" {
		op = raft.RemoveVoter
	}
	if err := s.strictCheck(env, op, req.Node); err != nil {
		s.reply(env, from, req, Response{Status: StatusUnavailable, Err: err.Error()})
		return
	}
	term := s.View().Term
	index, err := s.ChangeMembership(env, op, req.Node)
	if err != nil {
		s.refuse(env, from, req, err)
		return
	}
	s.writes[index] = pendingWrite{to: from, req: req, term: term}
}

// strictCheck refuses a membership change after which the voters this
// leader heard from within three heartbeats (itself included) would
// not be a majority of the new configuration: the change could not
// commit, or would leave a cluster that cannot elect a leader while the
// servers that are up could (etcd's --strict-reconfig-check). A removal
// is stricter still: every voter left must be active, so removing a
// server never lowers the failures the cluster tolerates below what is
// already lost (a 5-server cluster with one member down that removes
// another is left with 3 live of 4: one more failure stops it).
func (s *Server) strictCheck(env ordo.Env, op raft.ConfOp, id ordo.NodeID) error {
	if !s.strict {
		return nil
	}
	voters := s.Voters()
	next := make([]ordo.NodeID, 0, len(voters)+1)
	for _, v := range voters {
		if !(op == raft.RemoveVoter && v == id) {
			next = append(next, v)
		}
	}
	if op == raft.AddVoter && !slices.Contains(voters, id) {
		next = append(next, id)
	}
	live := 0
	now := env.Monotonic()
	for _, v := range next {
		if at, ok := s.heard[v]; v == env.ID() || ok && now-at <= s.active {
			live++
		}
	}
	need := len(next)/2 + 1
	if op == raft.RemoveVoter {
		need = len(next)
	}
	if live < need {
		return fmt.Errorf("%v %v refused: %d of the %d voters after it answered within %v, %d needed (strict reconfiguration check)", op, id, live, len(next), s.active, need)
	}
	return nil
}

// read serves a get or range at the level asked (kv-stale: always from
// the local state).
func (s *Server) read(env ordo.Env, from ordo.NodeID, req Request) {
	if s.stale || req.Read == ReadSerializable {
		s.replyRead(env, from, req)
		return
	}
	if !s.IsLeader() {
		s.notLeader(env, from, req)
		return
	}
	if len(s.reads)+len(s.waiting) >= s.maxPending {
		s.busy(env, from, req, "too many reads pending (max_pending)")
		return
	}
	if req.Read == ReadLease {
		if index, ok := s.LeaseRead(env); ok {
			s.serve(env, pendingRead{to: from, req: req, index: index})
			return
		}
		// No lease now (a new leader, a lost majority): ReadIndex decides.
	}
	s.nextCtx++
	if err := s.ReadIndex(env, s.nextCtx); err != nil {
		s.refuse(env, from, req, err)
		return
	}
	s.reads[s.nextCtx] = pendingRead{to: from, req: req}
}

// serve answers a confirmed read once the machine has applied its index.
func (s *Server) serve(env ordo.Env, r pendingRead) {
	if s.m.Applied() >= r.index {
		s.replyRead(env, r.to, r.req)
		return
	}
	s.waiting = append(s.waiting, r)
}

func (s *Server) watch(env ordo.Env, from ordo.NodeID, req Request) {
	if s.m.Rev(req.Key) > req.After {
		s.reply(env, from, req, s.watchResponse(req.Key))
		return
	}
	if len(s.watches) >= s.maxWatchers {
		s.busy(env, from, req, fmt.Sprintf("%d watches held (max_watchers)", len(s.watches)))
		return
	}
	s.nextW++
	s.watches[s.nextW] = pendingRead{to: from, req: req}
	env.After(s.watchTimeout, ordo.Timer{Name: timerWatch, Arg: s.nextW})
}

func (s *Server) watchResponse(key string) Response {
	if v, rev, ok := s.m.Get(key); ok {
		return Response{Status: StatusOK, Value: v, Rev: s.m.Applied(), ModRev: rev}
	}
	return Response{Status: StatusNotFound, Rev: s.m.Applied(), ModRev: s.m.lastDelete}
}

// snapshot serves an operator's backup: a linearizable read (read, then
// replyRead). The leader answers once a ReadIndex round confirms it still
// leads, with its machine applied at least that far, so the backup holds
// every write acknowledged before it was asked for; a follower, a node
// cut off from the majority or a deposed leader would hand out a machine
// that is behind, and answer not-leader instead (the client follows the
// hint). The backup is taken whole then and kept (one at a time, at most
// MaxBackupBytes); its first part answers, the rest is read from it by
// BackupRead, MaxSnapReply bytes a part, so a database of any size
// streams through messages of bounded size.
func (s *Server) snapshot(env ordo.Env, from ordo.NodeID, req Request) {
	if from < GatewayBase {
		s.reply(env, from, req, Response{Status: StatusBadRequest, Err: "snapshot is served to the live client API only"})
		return
	}
	req.Read = ReadIndex
	s.read(env, from, req)
}

// replyRead answers a confirmed read: the machine's answer, or for a
// snapshot the first part of the backup taken now (busy while another is
// being read: the client retries).
func (s *Server) replyRead(env ordo.Env, to ordo.NodeID, req Request) {
	if req.Op != OpSnap {
		s.reply(env, to, req, s.m.Read(&req))
		return
	}
	if s.backup != nil {
		s.busy(env, to, req, fmt.Sprintf("another backup (rev %d, %d bytes) is being read: retry (one unread for %v is dropped)", s.backupRev, len(s.backup), BackupIdle))
		return
	}
	snap := s.m.Snapshot()
	if len(snap) > MaxBackupBytes {
		s.reply(env, to, req, Response{Status: StatusBadRequest, Err: fmt.Sprintf("the database's snapshot is %d bytes, over the %d a backup holds", len(snap), MaxBackupBytes)})
		return
	}
	s.backup, s.backupRev = snap, s.m.Applied()
	s.backupGen++
	env.After(BackupIdle, ordo.Timer{Name: timerBackup, Arg: s.backupGen})
	s.send(env, to, s.backupPart(env, req.ID, 0))
}

// readBackup answers a BackupRead from the backup kept.
func (s *Server) readBackup(env ordo.Env, from ordo.NodeID, m BackupRead) {
	switch {
	case from < GatewayBase:
		s.send(env, from, Response{ID: m.ID, Status: StatusBadRequest, Err: "a backup is served to the live client API only"})
	case s.backup == nil || s.backupRev != m.Rev || m.Offset >= uint64(len(s.backup)):
		s.send(env, from, Response{ID: m.ID, Status: StatusBadRequest,
			Err: fmt.Sprintf("no backup at rev %d holds byte %d here (it sat unread for %v, or the server restarted): take it again", m.Rev, m.Offset, BackupIdle)})
	default:
		s.send(env, from, s.backupPart(env, m.ID, m.Offset))
	}
}

// backupPart is the kept backup's bytes from off, at most MaxSnapReply;
// the backup is forgotten once its last byte is sent.
func (s *Server) backupPart(env ordo.Env, id, off uint64) BackupPart {
	end := min(off+MaxSnapReply, uint64(len(s.backup)))
	p := BackupPart{ID: id, Rev: s.backupRev, Offset: off, Total: uint64(len(s.backup)), Data: string(s.backup[off:end])}
	s.backupRead = env.Monotonic()
	if end == uint64(len(s.backup)) {
		s.backup, s.backupRev = nil, 0
	}
	return p
}

// Applied implements raft.Host: answer the write proposed at index if its
// term is the one Propose returned, then the reads and watches it
// unblocks.
func (s *Server) Applied(env ordo.Env, index, term uint64, result []byte) {
	if w, ok := s.writes[index]; ok {
		delete(s.writes, index)
		switch {
		case w.term != term:
			// Another leader's entry took this index: ours was lost.
			s.reply(env, w.to, w.req, Response{Status: StatusUnknown, Err: "the entry was replaced by another leader's"})
		case w.req.Op == OpMember:
			s.reply(env, w.to, w.req, Response{Status: StatusOK, Rev: index})
		default:
			r, err := DecodeResult(result)
			if err != nil {
				r = Response{Status: StatusUnknown, Err: "result does not decode: " + err.Error()}
			}
			s.reply(env, w.to, w.req, r)
		}
	}
	if len(s.waiting) > 0 {
		kept := s.waiting[:0]
		for _, r := range s.waiting {
			if r.index <= index {
				s.replyRead(env, r.to, r.req)
			} else {
				kept = append(kept, r)
			}
		}
		s.waiting = kept
	}
	if len(s.watches) > 0 {
		for _, id := range slices.Sorted(maps.Keys(s.watches)) { // sorted: sends in a deterministic order
			if w := s.watches[id]; s.m.Rev(w.req.Key) > w.req.After {
				delete(s.watches, id)
				s.reply(env, w.to, w.req, s.watchResponse(w.req.Key))
			}
		}
	}
}

// ReadReady implements raft.Host.
func (s *Server) ReadReady(env ordo.Env, ctx, index uint64, ok bool) {
	r, found := s.reads[ctx]
	if !found {
		return
	}
	delete(s.reads, ctx)
	if !ok {
		s.notLeader(env, r.to, r.req)
		return
	}
	r.index = index
	s.serve(env, r)
}

// LeaderChanged implements raft.Host: a server that no longer leads
// answers its pending writes unknown (they may still commit) and its
// pending reads not-leader.
func (s *Server) LeaderChanged(env ordo.Env, leader ordo.NodeID) {
	if leader == env.ID() {
		return
	}
	// Sorted: the sends go out in a deterministic order.
	for _, i := range slices.Sorted(maps.Keys(s.writes)) {
		w := s.writes[i]
		delete(s.writes, i)
		s.reply(env, w.to, w.req, Response{Status: StatusUnknown, Leader: leader, Err: "leadership lost while the write was in flight"})
	}
	for _, c := range slices.Sorted(maps.Keys(s.reads)) {
		r := s.reads[c]
		delete(s.reads, c)
		s.notLeader(env, r.to, r.req)
	}
	for _, r := range s.waiting {
		s.notLeader(env, r.to, r.req)
	}
	s.waiting = s.waiting[:0]
}
