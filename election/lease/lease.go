package lease

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"ordo"
	"ordo/coord"
	"ordo/election"
)

// Protocol is the registered "lease" protocol.
var Protocol = &ordo.Protocol{
	Name:     "lease",
	Doc:      "lease election over a coordination service (etcd or its model): ephemeral keys, predecessor watches, fencing tokens, fail closed (section 4, external services)",
	Options:  Options,
	New:      New,
	Messages: coord.Messages,
	// Services[0] is the coordination service (etcd or its model),
	// Services[1] the fenced store the leader writes its token to.
	Services: []string{coord.Name, coord.FencedName},
}

func init() { ordo.Register(Protocol) }

// Timers.
const (
	timerTick     = "tick"     // keepalive, leader poll, retries: every keepalive
	timerWrite    = "write"    // a leader's write: every write_every
	timerDeadline = "deadline" // a leader's lease deadline: step down on time
)

// Notes besides the role notes of package election.
const (
	NoteSession     = "session"      // {lease, ttl}: a new session
	NoteSessionLost = "session-lost" // {why, lease}: the session is given up
)

// Why a session was given up (the "why" of a session-lost note).
const (
	LostNoLease    = "no-lease"    // the service says the lease is gone
	LostDeadline   = "deadline"    // the local deadline passed (fail closed)
	LostKeyGone    = "key-gone"    // the own key is no longer there
	LostStaleToken = "stale-token" // the fenced store refused the token
	LostNotFirst   = "not-first"   // a leader's poll found another key first
)

// Storage keys (durable across a crash).
const (
	keyIncarnation = "lease/incarnation" // 8 bytes: numbers requests per incarnation
	keySession     = "lease/session"     // 8 bytes: the last lease granted (revoked on restart)
)

// op is what a request in flight was for.
type op uint8

const (
	opGrant op = iota + 1
	opKeepAlive
	opRevoke
	opCreate
	opFindPred
	opFindFirst
	opGet
	opWatch
	opUnwatch
	opDelete
	opWrite
	opProbe // a TimeToLive of the predecessor's lease (probe.go)
)

// phase is where the campaign stands.
type phase uint8

const (
	phNone   phase = iota // no session: a Grant is (or will be) asked for
	phCreate              // Create sent
	phFind                // Find of the predecessor sent
	phCheck               // no predecessor: Get of the own key sent (the re-check)
	phWatch               // watching the predecessor
	phLead                // leader
	phResign              // Delete of the own key sent; Create again on its reply
)

type pending struct {
	op   op
	sent time.Duration // monotonic time of the send
	sess uint64        // the session it belongs to
	tok  int64         // a Write's token (the reply does not echo it)
	// lease is the lease a probe asked about (the reply echoes it only
	// when it still exists).
	lease int64
}

// MaxPending bounds the requests remembered in flight; the oldest are
// forgotten (their replies are then ignored) beyond it.
const MaxPending = 1024

// Node is one candidate of the lease election.
type Node struct {
	cfg  config
	id   ordo.NodeID
	svc  ordo.NodeID // the coordination service (None: absent)
	fstr ordo.NodeID // the fenced store (None: absent)

	// The election view.
	role      election.Role
	leader    ordo.NodeID
	leaderTok int64 // token of the leader believed in (the last known)
	since     time.Time

	// Requests.
	inc     uint64 // incarnation (durable counter)
	next    uint32 // next request number in this incarnation
	pending map[uint64]pending

	// The session.
	sess     uint64 // session generation (0: none yet)
	lease    int64  // 0: none
	ttl      time.Duration
	deadline time.Duration // monotonic; valid while lease != 0
	rtt      time.Duration // the largest round trip of this session
	granting uint64        // Req of the outstanding Grant (0: none)
	grantAt  time.Duration

	// The campaign.
	ph      phase
	phReq   uint64 // the request of the current phase
	phAt    time.Duration
	key     string
	myRev   int64
	pred    string        // predecessor watched
	watch   uint64        // Req of the Watch on pred
	pl      probeState    // the predecessor's lease, probed (probe.go)
	lead    uint64        // leadership generation (write timer)
	leadAt  time.Duration // monotonic time this leadership began
	writes  int64         // writes sent by this incarnation
	tickGen int64
	// resigned is the creation revision Resign deletes at.
	resigned int64
}

var (
	_ election.Elector        = (*Node)(nil)
	_ election.ServiceElected = (*Node)(nil)
)

// New builds a node; it refuses options out of bounds (options.go).
func New(c ordo.Config) (ordo.Node, error) {
	cfg, err := parse(c.Opts)
	if err != nil {
		return nil, err
	}
	return &Node{cfg: cfg, id: c.ID, pending: map[uint64]pending{}}, nil
}

// View implements election.Elector.
func (n *Node) View() election.View {
	v := election.View{Role: n.role, Leader: n.leader, Since: n.since, Term: uint64(n.leaderTok), Token: uint64(n.leaderTok)}
	if n.role == election.Leader {
		v.Leader, v.Term, v.Token = n.id, uint64(n.myRev), uint64(n.myRev)
	}
	return v
}

// ElectionTimeout implements election.TimeoutReporter: a follower acts on
// a leader's absence when its lease expires, one TTL after its last
// keepalive.
func (n *Node) ElectionTimeout() (lo, hi time.Duration) {
	return n.cfg.ttl, n.cfg.ttl + n.cfg.keepalive
}

// Authority implements election.ServiceElected: the coordination service
// (the roster's first service) grants leadership, and a leader cut off
// from it leads at most one TTL more (its deadline is the TTL less the
// margin after its last keepalive was sent).
func (n *Node) Authority() (service int, bound time.Duration) { return 0, n.cfg.ttl }

// Deadline returns the local (monotonic) time until which this node holds
// its lease, and false when it holds none.
func (n *Node) Deadline() (time.Duration, bool) { return n.deadline, n.lease != 0 }

// Key returns the node's election key and its creation revision (the
// fencing token it would lead with), "" and 0 before Create succeeded.
func (n *Node) Key() (string, int64) {
	if n.myRev == 0 {
		return "", 0
	}
	return n.key, n.myRev
}

// Start boots the node: a new incarnation, a new session. A restarted
// node revokes the session it held before the crash, so its old key goes
// at once rather than a TTL later.
func (n *Node) Start(env ordo.Env) {
	st := env.Store()
	if v, ok := st.Get(keyIncarnation); ok && len(v) == 8 {
		n.inc = binary.BigEndian.Uint64(v)
	}
	// 31 bits of incarnation in the high half of every Req: wrapping
	// after two billion restarts (or from a garbled value) only needs the
	// last few incarnations to differ.
	n.inc = (n.inc + 1) & (1<<31 - 1)
	if n.inc == 0 {
		n.inc = 1
	}
	st.Put(keyIncarnation, binary.BigEndian.AppendUint64(nil, n.inc))
	n.role, n.since = election.Follower, env.Now()
	r := env.Roster()
	if len(r.Services) > 0 {
		n.svc = r.Services[0]
	}
	if len(r.Services) > 1 {
		n.fstr = r.Services[1]
	}
	if n.svc == ordo.None {
		return // no service: nothing to campaign with
	}
	if v, ok := st.Get(keySession); ok && len(v) == 8 {
		if old := int64(binary.BigEndian.Uint64(v)); old > 0 && old <= ordo.MaxIndex {
			n.send(env, opRevoke, coord.Revoke{Lease: old})
		}
	}
	n.grant(env)
	n.tickGen++
	env.After(n.cfg.keepalive, ordo.Timer{Name: timerTick, Arg: n.tickGen})
}

// reqID numbers a request: incarnation in the high bits, so a reply to a
// request of an earlier incarnation is never taken for one of this one.
func (n *Node) reqID() uint64 {
	n.next++
	if n.next == 0 {
		panic("lease: 2^32 requests in one incarnation")
	}
	return n.inc<<32 | uint64(n.next)
}

// send sends m (with a fresh Req filled in) to the service that serves
// it and remembers the request; it returns the Req.
func (n *Node) send(env ordo.Env, o op, m ordo.Message) uint64 {
	req := n.reqID()
	to := n.svc
	switch x := m.(type) {
	case coord.Grant:
		x.Req = req
		m = x
	case coord.KeepAlive:
		x.Req = req
		m = x
	case coord.Revoke:
		x.Req = req
		m = x
	case coord.TimeToLive:
		x.Req = req
		m = x
	case coord.Create:
		x.Req = req
		m = x
	case coord.Get:
		x.Req = req
		m = x
	case coord.Find:
		x.Req = req
		m = x
	case coord.Delete:
		x.Req = req
		m = x
	case coord.Watch:
		x.Req = req
		m = x
	case coord.Unwatch:
		m = x // cancels the Watch with x.Req: no Req of its own
		req = x.Req
	case coord.Write:
		x.Req = req
		m = x
		to = n.fstr
	default:
		panic(fmt.Sprintf("lease: send of %T", m))
	}
	if o != opUnwatch {
		if len(n.pending) >= MaxPending {
			n.forgetOldest()
		}
		p := pending{op: o, sent: env.Monotonic(), sess: n.sess}
		switch x := m.(type) {
		case coord.Write:
			p.tok = x.Token
		case coord.TimeToLive:
			p.lease = x.Lease
		}
		n.pending[req] = p
	}
	env.Send(to, m)
	return req
}

func (n *Node) forgetOldest() {
	var oldest uint64
	var at time.Duration = -1
	for r, p := range n.pending {
		if at < 0 || p.sent < at || (p.sent == at && r < oldest) {
			oldest, at = r, p.sent
		}
	}
	delete(n.pending, oldest)
}

// grant asks for a new session.
func (n *Node) grant(env ordo.Env) {
	n.ph = phNone
	n.granting = n.send(env, opGrant, coord.Grant{TTL: int64(n.cfg.ttl / time.Second)})
	n.grantAt = env.Monotonic()
}

// valid reports whether the session is held now by the local deadline.
// unsafe_no_fail_closed trusts the lease until the service says otherwise.
func (n *Node) valid(env ordo.Env) bool {
	if n.lease == 0 {
		return false
	}
	return n.cfg.noFailClose || env.Monotonic() < n.deadline
}

// guard is the fail-closed rule, run before anything else in every event:
// a leader whose deadline has passed steps down before it can act.
func (n *Node) guard(env ordo.Env) {
	if n.role == election.Leader && !n.valid(env) {
		n.lose(env, LostDeadline)
	}
}

// lose gives the session up: a leader steps down first (noted before any
// send), the lease is revoked (its key goes at once, so the next candidate
// need not wait out the TTL), and a new session is asked for.
func (n *Node) lose(env ordo.Env, why string) {
	if n.role == election.Leader {
		n.setRole(env, election.Candidate, ordo.None, n.myRev)
	}
	env.Note(NoteSessionLost, "why", why, "lease", strconv.FormatInt(n.lease, 16))
	old := n.lease
	n.unwatch(env)
	n.endSession()
	if old != 0 {
		n.send(env, opRevoke, coord.Revoke{Lease: old})
	}
	n.grant(env)
}

func (n *Node) endSession() {
	n.sess++
	n.lease, n.deadline, n.rtt = 0, 0, 0
	n.key, n.myRev, n.pred, n.watch = "", 0, "", 0
	n.stopProbe()
	n.ph, n.phReq = phNone, 0
	n.lead++
}

// setRole changes the view and notes a role change (package election's
// conventions); a repeated belief is not noted again.
func (n *Node) setRole(env ordo.Env, r election.Role, leader ordo.NodeID, tok int64) {
	if r == n.role && leader == n.leader && tok == n.leaderTok && r != election.Leader {
		return
	}
	n.role, n.leader, n.since = r, leader, env.Now()
	if tok > n.leaderTok || r == election.Leader {
		n.leaderTok = tok
	}
	switch r {
	case election.Leader:
		n.leader = n.id
		env.Note(election.NoteLeader, "term", tok, "token", tok)
	case election.Follower:
		env.Note(election.NoteFollower, "term", n.leaderTok, "leader", leader)
	case election.Candidate:
		n.leader = ordo.None
		env.Note(election.NoteCandidate, "term", n.leaderTok)
	}
}

// Fire handles timers.
func (n *Node) Fire(env ordo.Env, t ordo.Timer) {
	n.guard(env)
	switch t.Name {
	case timerTick:
		if t.Arg != n.tickGen {
			return
		}
		n.tick(env)
		env.After(n.cfg.keepalive, ordo.Timer{Name: timerTick, Arg: n.tickGen})
	case timerProbe:
		if t.Arg == n.pl.gen {
			n.probe(env)
		}
	case timerWrite:
		if uint64(t.Arg) != n.lead || n.role != election.Leader {
			return
		}
		n.write(env)
		if n.role == election.Leader {
			env.After(n.cfg.writeEvery, ordo.Timer{Name: timerWrite, Arg: int64(n.lead)})
		}
	}
}

// tick keeps the session alive, polls the leader and retries what was
// lost: every keepalive.
func (n *Node) tick(env ordo.Env) {
	now := env.Monotonic()
	n.prune(now)
	if n.lease == 0 {
		if n.granting == 0 || now-n.grantAt >= n.cfg.keepalive {
			n.grant(env) // the Grant or its reply was lost
		}
		return
	}
	if !n.cfg.noFailClose && now >= n.deadline {
		// No keepalive confirmed in time: whatever the service thinks,
		// this session is not to be relied on any more.
		n.lose(env, LostDeadline)
		return
	}
	n.send(env, opKeepAlive, coord.KeepAlive{Lease: n.lease})
	// The leader poll: followers learn who leads (and a leader that its
	// key is still first).
	n.send(env, opFindFirst, coord.Find{Prefix: n.cfg.prefix})
	switch n.ph {
	case phCreate, phFind, phCheck, phResign:
		if now-n.phAt >= n.cfg.keepalive {
			n.redo(env) // its request or reply was lost
		}
	case phWatch:
		// A lost Watch would wait for ever: look at the predecessor
		// again (one read per candidate per keepalive, not a herd).
		n.findPred(env)
		if now-n.pl.at >= n.cfg.keepalive {
			n.probe(env) // a probe or its answer was lost
		}
	}
}

// prune forgets requests older than two TTLs: their replies are lost.
func (n *Node) prune(now time.Duration) {
	for r, p := range n.pending {
		if now-p.sent > 2*n.cfg.ttl && p.op != opWatch {
			delete(n.pending, r)
		}
	}
}

func (n *Node) redo(env ordo.Env) {
	switch n.ph {
	case phCreate:
		n.create(env)
	case phFind:
		n.findPred(env)
	case phCheck:
		n.check(env)
	case phResign:
		n.resign(env, n.resigned) // the Delete or its answer was lost
	}
}

func (n *Node) setPhase(env ordo.Env, p phase, req uint64) {
	n.ph, n.phReq, n.phAt = p, req, env.Monotonic()
}

func (n *Node) create(env ordo.Env) {
	n.key = n.cfg.prefix + strconv.FormatInt(n.lease, 16)
	req := n.send(env, opCreate, coord.Create{Key: n.key, Value: strconv.Itoa(int(n.id)), Lease: n.lease})
	n.setPhase(env, phCreate, req)
}

func (n *Node) findPred(env ordo.Env) {
	req := n.send(env, opFindPred, coord.Find{Prefix: n.cfg.prefix, Below: n.myRev, Last: true})
	if n.ph != phWatch {
		n.setPhase(env, phFind, req)
	}
}

func (n *Node) check(env ordo.Env) {
	req := n.send(env, opGet, coord.Get{Key: n.key})
	n.setPhase(env, phCheck, req)
}

// write is the leader act: its token to the fenced store.
func (n *Node) write(env ordo.Env) {
	if !n.valid(env) {
		n.lose(env, LostDeadline) // fail closed: never act past the deadline
		return
	}
	if n.fstr == ordo.None {
		return
	}
	n.writes++
	n.send(env, opWrite, coord.Write{Token: n.myRev, Writer: n.id, Value: fmt.Sprintf("%v#%d", n.id, n.writes)})
}

// Resign gives up leadership (or the place in the queue) and campaigns
// again from the back: the own key is deleted only at its own creation
// revision (etcd's Resign: If(CreateRevision(key) = rev) Then(Delete)),
// so a newer key of the same name is never taken with it.
func (n *Node) Resign(env ordo.Env) {
	if n.myRev == 0 {
		return
	}
	if n.role == election.Leader {
		n.setRole(env, election.Candidate, ordo.None, n.myRev)
		n.lead++
	}
	n.unwatch(env)
	n.resign(env, n.myRev)
	n.myRev = 0
}

func (n *Node) resign(env ordo.Env, rev int64) {
	n.resigned = rev
	req := n.send(env, opDelete, coord.Delete{Key: n.key, Rev: rev})
	n.setPhase(env, phResign, req)
}

func (n *Node) unwatch(env ordo.Env) {
	if n.watch != 0 {
		n.send(env, opUnwatch, coord.Unwatch{Req: n.watch})
		delete(n.pending, n.watch)
		n.watch, n.pred = 0, ""
	}
	n.stopProbe()
}

// Receive handles the service's answers.
func (n *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	n.guard(env)
	if from == ordo.None || (from != n.svc && from != n.fstr) {
		return // the election speaks to services only
	}
	switch x := m.(type) {
	case coord.Reply:
		p, ok := n.pending[x.Req]
		if !ok {
			return // a duplicate, or a request forgotten
		}
		delete(n.pending, x.Req)
		n.reply(env, p, x)
	case coord.Deleted:
		p, ok := n.pending[x.Req]
		if !ok || p.op != opWatch {
			return
		}
		delete(n.pending, x.Req)
		if p.sess != n.sess || x.Req != n.watch {
			return
		}
		n.watch, n.pred = 0, ""
		n.stopProbe()
		// The predecessor is gone — or this session is: look again,
		// and re-check the own key before leading.
		n.setPhase(env, phFind, 0)
		n.findPred(env)
		n.send(env, opFindFirst, coord.Find{Prefix: n.cfg.prefix})
	}
}

func (n *Node) reply(env ordo.Env, p pending, r coord.Reply) {
	if p.op == opWrite {
		n.written(env, p, r)
		return
	}
	if p.op == opRevoke || p.op == opUnwatch {
		return
	}
	if p.op == opGrant {
		n.granted(env, p, r)
		return
	}
	if p.op == opProbe {
		n.probed(env, p, r) // about the predecessor's lease, not this one
		return
	}
	if p.sess != n.sess || n.lease == 0 {
		return // an answer about a session given up
	}
	if r.Err == coord.ErrNoLease {
		n.lose(env, LostNoLease)
		return
	}
	if r.Err != coord.OK {
		return // unavailable or refused: the tick retries
	}
	switch p.op {
	case opKeepAlive:
		n.renewed(env, p, r)
	case opCreate:
		if n.ph != phCreate || r.Req != n.phReq {
			return
		}
		if !r.Succeeded && !(r.Found && r.KeyLease == n.lease) {
			// The key exists under another lease: not this session's to
			// use (it cannot happen with keys named by lease; a
			// misconfigured prefix shared with another user can).
			n.lose(env, LostKeyGone)
			return
		}
		n.myRev = r.CreateRev
		if n.myRev <= 0 {
			n.lose(env, LostKeyGone)
			return
		}
		n.findPred(env)
		n.send(env, opFindFirst, coord.Find{Prefix: n.cfg.prefix})
	case opFindPred:
		n.foundPred(env, r)
	case opGet:
		if n.ph != phCheck || r.Req != n.phReq {
			return
		}
		n.checked(env, r)
	case opFindFirst:
		n.foundFirst(env, p, r)
	case opDelete:
		if n.ph == phResign && r.Req == n.phReq {
			n.create(env)
		}
	}
}

// granted starts a session from a Grant's answer.
func (n *Node) granted(env ordo.Env, p pending, r coord.Reply) {
	if r.Err != coord.OK || r.Lease <= 0 || r.TTL <= 0 {
		if r.Req == n.granting {
			n.granting = 0 // retried at the next tick
		}
		return
	}
	if n.lease != 0 || r.Req != n.granting {
		// A late answer to a retried Grant: a lease nobody will use.
		n.send(env, opRevoke, coord.Revoke{Lease: r.Lease})
		return
	}
	n.granting = 0
	n.sess++
	n.lease, n.ttl = r.Lease, time.Duration(r.TTL)*time.Second
	n.deadline = n.deadlineFrom(env, p.sent)
	env.Store().Put(keySession, binary.BigEndian.AppendUint64(nil, uint64(r.Lease)))
	env.Note(NoteSession, "lease", strconv.FormatInt(r.Lease, 16), "ttl", r.TTL)
	n.create(env)
}

// deadlineFrom is the local deadline of a lease the service (re)started
// to its TTL on receipt of a request sent at sent: at least sent + ttl on
// the service's clock, so sent + ttl − margin on this one. The margin
// covers both clocks' rate error (ttl·2·drift) and the largest round trip
// of the session (a leader's write sent just before the deadline arrives
// a one-way trip later). unsafe_no_margin: receipt + the full TTL.
func (n *Node) deadlineFrom(env ordo.Env, sent time.Duration) time.Duration {
	now := env.Monotonic()
	n.rtt = max(n.rtt, now-sent)
	if n.cfg.noMargin {
		return now + n.ttl
	}
	return sent + n.ttl - n.cfg.driftMargin() - n.rtt
}

func (n *Node) renewed(env ordo.Env, p pending, r coord.Reply) {
	if r.TTL <= 0 {
		n.lose(env, LostNoLease)
		return
	}
	n.ttl = time.Duration(r.TTL) * time.Second
	// Keepalives may be answered out of order: keep the latest deadline.
	n.deadline = max(n.deadline, n.deadlineFrom(env, p.sent))
	n.armDeadline(env)
}

// armDeadline wakes a leader at its deadline, so that it stops being
// leader then (guard), not at its next event: the role, not only the acts,
// ends before the service can let anyone else lead. Timers cannot be
// cancelled; an early one finds the deadline moved and does nothing.
func (n *Node) armDeadline(env ordo.Env) {
	if n.role == election.Leader && !n.cfg.noFailClose {
		env.After(max(n.deadline-env.Monotonic(), 0), ordo.Timer{Name: timerDeadline, Arg: int64(n.lead)})
	}
}

// foundPred: the newest key created before the own one (the predecessor).
func (n *Node) foundPred(env ordo.Env, r coord.Reply) {
	if n.myRev == 0 || (n.ph != phFind && n.ph != phWatch) {
		return
	}
	if !r.Found {
		if n.ph == phWatch {
			n.unwatch(env)
		}
		n.check(env)
		return
	}
	if r.CreateRev >= n.myRev {
		return // not a predecessor (a stale answer)
	}
	if n.ph == phWatch && r.Key == n.pred {
		return // still there, still watched
	}
	// Watch only the predecessor: when the leader goes, only its
	// successor wakes (no thundering herd).
	n.unwatch(env)
	n.pred = r.Key
	n.watch = n.send(env, opWatch, coord.Watch{Key: r.Key, Rev: r.Rev + 1})
	n.setPhase(env, phWatch, n.watch)
	n.watchPred(env, r.KeyLease)
}

// checked is the re-check after a campaign's wait (etcd #11051, #19597):
// lead only if the own key is still there, at its creation revision and
// under this session's lease, and the deadline is still ahead. r answers
// a Get of the own key, or a Find of the oldest key that found it.
func (n *Node) checked(env ordo.Env, r coord.Reply) {
	if !r.Found || r.CreateRev != n.myRev || r.KeyLease != n.lease {
		n.lose(env, LostKeyGone)
		return
	}
	if !n.valid(env) {
		n.lose(env, LostDeadline)
		return
	}
	n.setPhase(env, phLead, 0)
	n.lead++
	n.leadAt = env.Monotonic()
	n.setRole(env, election.Leader, n.id, n.myRev)
	n.write(env)
	env.After(n.cfg.writeEvery, ordo.Timer{Name: timerWrite, Arg: int64(n.lead)})
	n.armDeadline(env)
}

// foundFirst: the oldest key is the leader's.
func (n *Node) foundFirst(env ordo.Env, p pending, r coord.Reply) {
	if n.role == election.Leader {
		if p.sent < n.leadAt {
			return // asked before this leadership: a late answer
		}
		if !r.Found || r.CreateRev != n.myRev {
			n.lose(env, LostNotFirst)
		}
		return
	}
	if !r.Found {
		if n.leader != ordo.None {
			n.setRole(env, election.Follower, ordo.None, n.leaderTok)
		}
		return
	}
	if n.myRev != 0 && r.Key == n.key && r.CreateRev == n.myRev {
		// The own key is the oldest: no predecessor is left, and the key
		// still holds at its creation revision — the re-check in one
		// read (checked also wants this session's lease and deadline).
		switch n.ph {
		case phFind, phWatch, phCheck:
			n.unwatch(env)
			n.checked(env, r)
		}
		return
	}
	n.learn(env, r)
}

// learn takes the owner of the first key (r answers a Find of the
// oldest key) as the leader; its creation revision is the leader's token.
// An answer older than what is known already is ignored.
func (n *Node) learn(env ordo.Env, r coord.Reply) {
	if n.role == election.Leader || !r.Found || r.CreateRev < n.leaderTok || r.CreateRev == n.myRev {
		return // the own key first: this campaign's re-check decides
	}
	owner, err := strconv.Atoi(r.Value)
	if err != nil || owner < 1 || owner > ordo.MaxNodeID || !env.Roster().IsServer(ordo.NodeID(owner)) {
		return // not a candidate's key (a foreign value under the prefix)
	}
	o := ordo.NodeID(owner)
	if o == n.id {
		o = ordo.None // an old key of this node's: nobody leads yet
	}
	n.setRole(env, election.Follower, o, r.CreateRev)
}

// written notes a fenced write's outcome on the store's behalf (a live
// trace has no event of the store's; election's fencing checker counts an
// accepted write once per store sequence number, whoever noted it), and
// steps a leader down whose token the store refused: a newer leader wrote.
func (n *Node) written(env ordo.Env, p pending, r coord.Reply) {
	if r.Err != coord.OK && r.Err != coord.ErrStaleToken {
		return // unavailable: the outcome is unknown, nothing to note
	}
	env.Note(election.NoteFence, "resource", int64(n.fstr), "token", p.tok, "accepted", r.Err == coord.OK, "writer", int64(n.id), "seq", r.Seq)
	if r.Err == coord.ErrStaleToken && n.role == election.Leader && p.tok == n.myRev {
		n.lose(env, LostStaleToken)
	}
}
