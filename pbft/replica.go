package pbft

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"ordo"
	"ordo/agreement"
	"ordo/kv"
)

// DefaultBatch is option batch's default: the most requests the primary
// orders in one pre-prepare.
const DefaultBatch = 64

// Protocol is "pbft", the replicas.
var Protocol = &ordo.Protocol{
	Name: "pbft",
	Doc:  "PBFT (Castro and Liskov 1999, sections 4.2-4.4, 5.1): pre-prepare, prepare, commit with 2f+1 of 3f+1 over batches of requests, checkpoints and log garbage collection, view change (section 5, Byzantine failure)",
	Options: []ordo.Option{
		{Name: "f", Default: "-1", Help: "Byzantine replicas tolerated (-1: the most n allows, (n-1)/3); refused when n < 3f+1 unless unsafe_quorum is set"},
		{Name: "unsafe_quorum", Default: "0", Help: "run with this quorum instead of 2f+1, even when n < 3f+1 (a demonstration of why the bound holds; 0: off)"},
		{Name: "checkpoint", Default: "8", Help: "K: a checkpoint every K sequence numbers"},
		{Name: "window", Default: "32", Help: "L: the log accepts sequence numbers up to L above the stable checkpoint (a multiple of checkpoint)"},
		{Name: "view_timeout", Default: "300ms", Help: "a backup that holds a client's request not executed this long moves to the next view (doubled for each view that fails to start)"},
		{Name: "retransmit", Default: "100ms", Help: "a replica changing view resends its view-change this often, and one stuck on a sequence number multicasts a status so the others resend what it lacks (messages are lost)"},
		{Name: "batch", Default: strconv.Itoa(DefaultBatch), Help: "the most client requests the primary orders in one pre-prepare (section 5.1, batching; 1: one request per sequence number), at most 1024 and at most 1/(2·window) of the message size bound in bytes"},
		{Name: "unsafe_trust_view_changes", Default: "false", Help: "DELIBERATELY BROKEN: believe a view-change's prepared claims and stable checkpoint without checking their certificates; for tests that must find violations (a liar's view-change then makes the new view order a forged request)"},
		{Name: "inflight", Default: "0", Help: "the primary starts a batch only while fewer than this many are ordered and not executed (the sliding window that makes batches form under load; 0: 2 when batching, the whole window with batch=1, the protocol before batching)"},
	},
	New:      New,
	Messages: Messages,
	Client:   "pbft-client",
}

// Messages are every message type of pbft and pbft-client.
var Messages = []ordo.Message{Request{}, PrePrepare{}, Prepare{}, Commit{}, Reply{}, Checkpoint{}, ViewChange{}, NewView{}, Status{}, CatchUp{}, StateTransfer{}}

func init() {
	ordo.Register(Protocol)
	ordo.Register(ClientProtocol)
}

// Bounds of the options.
const (
	MaxReplicas = 256
	MaxWindow   = 1 << 12
)

// Quorums are the sizes a configuration runs with.
type Quorums struct {
	N, F, Q int
	Unsafe  bool // Q was set by hand (unsafe_quorum)
}

// Splittable reports whether two quorums may share fewer than F+1
// replicas, so that F liars can make correct replicas commit different
// requests at one sequence number: never for QuorumsFor's own quorum, a
// risk of a quorum set by hand (unsafe_quorum).
func (q Quorums) Splittable() bool { return 2*q.Q-q.N < q.F+1 }

// Stallable reports whether the N-F correct replicas make no quorum when
// F liars are silent: progress may stop.
func (q Quorums) Stallable() bool { return q.Q > q.N-q.F }

// defaultF is the most Byzantine replicas n tolerate: n >= 3f+1.
func defaultF(n int) int { return (n - 1) / 3 }

// QuorumsFor checks n replicas against f (-1: (n-1)/3) and an unsafe
// quorum (0: none). The quorum is ⌈(n+f+1)/2⌉ of n >= 3f+1: 2f+1 when
// n = 3f+1, and in general the least size for which any two quorums share
// a correct replica (2Q - n >= f+1) while n - f correct replicas still
// make one. A plain 2f+1 is not enough when n > 3f+1 (n = 5, f = 1: two
// quorums of 3 may meet only in the liar). Or the unsafe quorum.
func QuorumsFor(n, f, unsafe int) (Quorums, error) {
	if n < 1 || n > MaxReplicas {
		return Quorums{}, fmt.Errorf("pbft: %d replicas, want 1..%d", n, MaxReplicas)
	}
	if f < -1 {
		return Quorums{}, fmt.Errorf("pbft: f=%d: want 0 or more (or -1: the most n allows)", f)
	}
	if f < 0 {
		f = defaultF(n)
	}
	if f >= n {
		return Quorums{}, fmt.Errorf("pbft: f=%d of %d replicas: a client waits for f+1 matching replies, more than there are replicas", f, n)
	}
	switch {
	case unsafe < 0 || unsafe > n:
		return Quorums{}, fmt.Errorf("pbft: unsafe_quorum=%d out of range 0..%d", unsafe, n)
	case unsafe > 0:
		return Quorums{N: n, F: f, Q: unsafe, Unsafe: true}, nil
	case n < 3*f+1:
		return Quorums{}, fmt.Errorf("pbft: %d replicas cannot tolerate f=%d Byzantine ones (n >= 3f+1 = %d); set unsafe_quorum to run it anyway as a demonstration", n, f, 3*f+1)
	}
	return Quorums{N: n, F: f, Q: (n + f + 2) / 2}, nil
}

// New builds one replica.
func New(cfg ordo.Config) (ordo.Node, error) {
	qs, err := QuorumsFor(len(cfg.Servers().Servers), cfg.Opts.Int("f"), cfg.Opts.Int("unsafe_quorum"))
	if err != nil {
		return nil, err
	}
	k, w := int64(cfg.Opts.Int("checkpoint")), int64(cfg.Opts.Int("window"))
	switch {
	case k < 1 || k > MaxWindow:
		return nil, fmt.Errorf("pbft: checkpoint=%d out of range 1..%d", k, MaxWindow)
	case w < k || w > MaxWindow || w%k != 0:
		return nil, fmt.Errorf("pbft: window=%d must be a multiple of checkpoint=%d, at most %d", w, k, MaxWindow)
	}
	// A view-change carries up to a window of claims, each with a
	// certificate of Q signatures (certificates.go): they must fit a
	// quarter of a message (batches take half).
	if certs := w * int64(qs.Q) * (ordo.MaxSignature + 16); certs > ordo.MaxMessageSize/4 {
		return nil, fmt.Errorf("pbft: window=%d with quorum %d: a view-change's certificates could take %d bytes, over %d; lower window", w, qs.Q, certs, ordo.MaxMessageSize/4)
	}
	vt := cfg.Opts.Duration("view_timeout")
	if vt <= 0 || vt > time.Hour {
		return nil, fmt.Errorf("pbft: view_timeout %v out of range (0, 1h]", vt)
	}
	rt := cfg.Opts.Duration("retransmit")
	if rt <= 0 || rt > time.Hour {
		return nil, fmt.Errorf("pbft: retransmit %v out of range (0, 1h]", rt)
	}
	b, inflight := cfg.Opts.Int("batch"), int64(cfg.Opts.Int("inflight"))
	switch {
	case b < 1 || b > MaxBatch:
		return nil, fmt.Errorf("pbft: batch=%d out of range 1..%d", b, MaxBatch)
	case inflight < 0 || inflight > w:
		return nil, fmt.Errorf("pbft: inflight=%d out of range 0..window (%d)", inflight, w)
	case inflight == 0 && b == 1:
		inflight = w
	case inflight == 0:
		inflight = defaultInflight
	}
	return &Replica{self: cfg.ID, qs: qs, k: k, window: w, viewTimeout: vt, retransmit: rt,
		batch: b, batchBytes: ordo.MaxMessageSize / (2 * int(w)), inflight: inflight,
		trustViewChanges: cfg.Opts.Bool("unsafe_trust_view_changes")}, nil
}

// defaultInflight is the batches a batching primary keeps in progress:
// the requests that arrive meanwhile wait and form the next batch.
const defaultInflight = 2

// Replica is one PBFT replica. What its votes commit it to is durable
// (durable.go): a restarted replica starts from its last stable
// checkpoint and the votes it cast above it, and catches up with the
// others by their commits and state transfer (statetransfer.go).
type Replica struct {
	self        ordo.NodeID // for Leads, which has no env
	qs          Quorums
	k, window   int64
	view        int64
	seq         int64 // the primary's last assigned sequence number
	low         int64 // h: the stable checkpoint
	lastExec    int64
	state       string                           // digest of the executed history
	log         map[int64]*entry                 // sequence numbers in (low, low+window]
	ckpts       map[int64]map[ordo.NodeID]string // checkpoint votes in (low, low+window]
	ckSigs      map[int64]map[ordo.NodeID][]byte // their signatures, as ckpts
	ckSnaps     map[int64][]byte                 // this replica's snapshot at each checkpoint in (low, low+window] (statetransfer.go)
	stable      stableCheckpoint                 // what it holds of the checkpoint at low
	transfers   int                              // states restored from others
	installedBy map[ordo.NodeID]int64            // the view each replica last said it installed (retransmit.go)
	signer      ordo.Signer                      // the runtime's signatures (ordo.Signer)
	clients     map[ordo.NodeID]*lastReply       // roster clients only
	assigned    map[ordo.NodeID]int64            // primary: the last timestamp ordered per client
	prim        ordo.NodeID                      // the primary of view, for State
	// heard holds the digests of the requests clients sent this replica
	// themselves (authenticated links), at most maxHeard, oldest forgotten
	// first: a backup prepares only a request it heard from its client or
	// f+1 replicas prepared or committed (authentic).
	heard     map[string]bool
	heardFIFO []string

	// The service and the client API's clients (service.go).
	machine   *kv.Machine
	waiting   []waiter      // client API calls waiting for a reply, oldest first
	externals []ordo.NodeID // external clients in r.clients, first executed first

	// View change (viewchange.go).
	viewTimeout time.Duration
	changing    bool                                 // view is not installed yet
	installed   int64                                // the last view installed
	vcs         map[int64]map[ordo.NodeID]ViewChange // views above installed, at most maxViewsAhead
	pendingNV   *NewView                             // waiting for view-changes it names
	watch       watched                              // the client request a backup waits for
	gen         int64                                // generation of the request timer
	armed       int64                                // the view whose view timer runs (armViewTimer)
	viewChanges int

	trustViewChanges bool // unsafe_trust_view_changes: certificates not checked

	// Retransmission (retransmit.go).
	retransmit time.Duration
	sentVC     *ViewChange // the view-change this replica sent for its latest view, resent verbatim
	// earlier: the view-changes it sent for the view it installed and
	// the views above it that it has moved past (at most maxEarlier,
	// durable), given again to a replica still changing to one of them.
	earlier       map[int64]ViewChange
	installedVC   *ViewChange         // the view-change it sent for the view installed, if it sent one
	sentNV        *NewView            // the new-view it sent as primary of its latest view
	behind        bool                // ask at the next tick: a peer spoke of a later view, or is behind in this one (retransmit.go)
	bootAsks      int64               // retransmit ticks left in which a restarted replica still asks (bootAskTicks)
	lastTick      int64               // lastExec at the previous retransmit tick (progress since?)
	changingTicks int64               // retransmit ticks spent changing view
	stalledTicks  int64               // retransmit ticks a backup held a slot of its view not committed, executing nothing (retransmit.go)
	answered      map[ordo.NodeID]int // statuses and stale view-changes answered this tick, per peer (answerBudget)
	ask           askBackoff          // when to ask again while nothing changes (retransmit.go)
	heardCount    int64               // requests heard from their clients so far (a change askBackoff sees)

	// Refused messages (refuse.go): counted by reason, every one of them.
	refused   int
	refusedBy [numReasons]int

	// Batching (section 5.1). The primary queues the requests it has not
	// ordered yet, at most one per roster client (its newest), and starts
	// a batch of up to batch requests (and batchBytes bytes: a view-change
	// carries a window of batches and must fit a message) only while
	// fewer than inflight batches are ordered and not executed.
	batch      int
	batchBytes int
	inflight   int64
	queue      []Request
	queued     map[ordo.NodeID]int // index in queue by client
	executed   int                 // requests executed (null ones not counted)
	batches    int                 // batches of requests executed
	largest    int                 // the largest batch executed
}

// batch is what one sequence number orders: requests executed in order
// (none: the null request of a new view), with their digests.
type batch struct {
	reqs []Request
	ds   []string // Digest of each request
}

func newBatch(reqs []Request) *batch {
	b := &batch{reqs: slices.Clone(reqs), ds: make([]string, len(reqs))}
	for i, q := range reqs {
		b.ds[i] = Digest(q)
	}
	return b
}

type entry struct {
	view       int64 // the view of b and of the votes
	pView      int64 // the view it was last prepared in, with pB and pCert
	pB         *batch
	pCert      Certificate
	b          *batch                 // nil: no pre-prepare yet
	digest     string                 // BatchDigest of b
	ppSig      []byte                 // the primary's signature of b's pre-prepare
	prepares   map[ordo.NodeID]string // from backups, its own included
	prepSigs   map[ordo.NodeID][]byte // their signatures, as prepares
	commits    map[ordo.NodeID]string // its own included
	sentCommit bool
	committed  bool
	// certified: a quorum's certificate shows b authentic however few of
	// its requests this replica heard from their clients (authentic):
	// b is a new view's batch for this sequence number, taken from a
	// prepared certificate of an earlier view (2f+1 replicas prepared
	// it, f+1 of them correct), or the batch this replica executed here
	// (2f+1 committed it), re-proposed by a later view.
	certified bool
	// late: each replica's latest commit of another view than this
	// entry's, heard while changing view (onLateCommit); nil until one is.
	late map[ordo.NodeID]viewVote
	// exec is the digest of the batch this replica executed here ("" not
	// yet), kept when a later view resets the entry: the batch a new view
	// may re-propose, which this replica then votes for again.
	exec string
}

// viewVote is a commit's view and batch digest.
type viewVote struct {
	view   int64
	digest string
}

func newEntry(view int64) *entry {
	return &entry{view: view, prepares: map[ordo.NodeID]string{}, prepSigs: map[ordo.NodeID][]byte{}, commits: map[ordo.NodeID]string{}}
}

// stableCheckpoint is what a replica holds of its stable checkpoint (the
// sequence number is low): the state digest, the 2f+1 signed checkpoints
// that made it stable (for its view-changes), its snapshot there (for a
// replica behind it) and its own signature of it (nil when it restored
// the state from another: it never signed it).
type stableCheckpoint struct {
	state string
	proof []Endorsement
	snap  []byte
	sig   []byte
}

type lastReply struct {
	ts    int64
	reply Reply
}

// Start implements ordo.Node: an empty replica (view 0).
func (r *Replica) Start(env ordo.Env) {
	r.view, r.seq, r.low, r.lastExec, r.state = 0, 0, 0, 0, ""
	r.log = map[int64]*entry{}
	r.ckpts = map[int64]map[ordo.NodeID]string{}
	r.ckSigs = map[int64]map[ordo.NodeID][]byte{}
	r.ckSnaps, r.stable, r.transfers = map[int64][]byte{}, stableCheckpoint{}, 0
	r.installedBy = map[ordo.NodeID]int64{}
	s, ok := ordo.Signing(env)
	if !ok {
		panic(fmt.Sprintf("pbft: the runtime of %v does not sign (ordo.Signer): a view-change could not prove what it claims", env.ID()))
	}
	r.signer = s
	r.clients = map[ordo.NodeID]*lastReply{}
	r.assigned = map[ordo.NodeID]int64{}
	r.heard, r.heardFIFO = map[string]bool{}, nil
	r.machine, r.waiting, r.externals = nil, nil, nil
	r.queue, r.queued = nil, map[ordo.NodeID]int{}
	r.executed, r.batches, r.largest = 0, 0, 0
	r.prim = r.primary(env)
	r.changing, r.installed, r.pendingNV, r.watch = false, 0, nil, watched{}
	r.vcs = map[int64]map[ordo.NodeID]ViewChange{}
	r.sentVC, r.installedVC, r.sentNV, r.behind, r.lastTick, r.armed = nil, nil, nil, false, 0, 0
	r.earlier = map[int64]ViewChange{}
	r.answered = map[ordo.NodeID]int{}
	r.ask, r.heardCount = askBackoff{}, 0
	// A restarted replica reads back what it voted for (durable.go) and
	// asks at its first tick what it missed (a state transfer from a replica past it, statetransfer.go),
	// and again now and then for a while: live, its first ask leaves
	// before its links are up and is lost, and with no request coming
	// nothing else would make it ask (found: a replica restarted after a
	// window of requests stayed at sequence number 0 for good).
	r.bootAsks = 0
	if _, ok := env.Store().Get(keyBooted); ok {
		r.recoverState(env) // what it voted for (durable.go)
		r.behind = true
		r.bootAsks = bootAskTicks
	} else {
		env.Store().Put(keyBooted, []byte{1})
	}
	r.noteRole(env)
	env.After(r.retransmit, ordo.Timer{Name: timerRetransmit})
}

// keyBooted marks, in the node's durable storage, that it started before.
const keyBooted = "pbft/booted"

// Primary is the primary of view v: the replica v mod n, in roster order.
func Primary(servers []ordo.NodeID, v int64) ordo.NodeID {
	return servers[int(v%int64(len(servers)))]
}

func (r *Replica) primary(env ordo.Env) ordo.NodeID { return Primary(env.Roster().Servers, r.view) }

func (r *Replica) inWindow(seq int64) bool { return seq > r.low && seq <= r.low+r.window }

// entry is sequence number seq's entry in the current view: one from an
// earlier view is reset (its votes are of that view), keeping what it
// prepared for the next view-change.
func (r *Replica) entry(seq int64) *entry { return r.entryIn(seq, r.view) }

// entryIn is sequence number seq's entry in view v, reset as entry says
// when it holds an earlier view's.
func (r *Replica) entryIn(seq, v int64) *entry {
	e := r.log[seq]
	if e == nil {
		e = newEntry(v)
		r.log[seq] = e
	}
	if e.view < v {
		e.view, e.b, e.digest, e.ppSig, e.sentCommit, e.committed, e.certified = v, nil, "", nil, false, false, false
		clear(e.prepares)
		clear(e.prepSigs)
		clear(e.commits)
		e.late = nil
	}
	return e
}

func (r *Replica) broadcast(env ordo.Env, m ordo.Message) {
	for _, p := range env.Peers() {
		env.Send(p, m)
	}
}

// Receive implements ordo.Node. The sender is authenticated by the link;
// a message that cannot be taken is refused and counted (refuse.go).
func (r *Replica) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	roster := env.Roster()
	if m, ok := m.(Request); ok {
		if from >= GatewayBase && IsExternal(m.Client) {
			r.onGatewayRequest(env, from, m) // service.go
			return
		}
		if !slices.Contains(roster.Clients, from) || m.Client != from {
			r.refuse(env, from, m, reasonSender) // a request on another's behalf
			return
		}
		r.onRequest(env, m)
		return
	}
	if !roster.IsServer(from) || from == env.ID() {
		r.refuse(env, from, m, reasonSender)
		return
	}
	switch m := m.(type) {
	case PrePrepare:
		r.onPrePrepare(env, from, m)
	case ViewChange:
		r.onViewChange(env, from, m)
	case NewView:
		r.onNewView(env, from, m)
	case Status:
		r.onStatus(env, from, m)
	case CatchUp:
		r.onCatchUp(env, from, m)
	case StateTransfer:
		r.onStateTransfer(env, from, m)
	case Prepare:
		switch {
		case !r.sameView(env, from, m, m.View):
		case !r.inWindow(m.Seq):
			r.outOfWindow(env, from, m, m.Seq)
		case from == r.primary(env):
			r.refuse(env, from, m, reasonSender) // the primary pre-prepares, it does not prepare
		case !r.signer.Verify(from, PrepareStatement(m.View, m.Seq, m.Digest), m.Sig):
			r.refuse(env, from, m, reasonSignature)
		default:
			e := r.entry(m.Seq)
			if d, dup := e.prepares[from]; !dup {
				e.prepares[from], e.prepSigs[from] = m.Digest, m.Sig
			} else if d != m.Digest {
				r.refuse(env, from, m, reasonConflict) // one vote per replica: the first binds
			} else {
				r.refuse(env, from, m, reasonDuplicate)
			}
			r.prepare(env, m.Seq) // f+1 vouch for a request it did not hear
			r.advance(env, m.Seq)
		}
	case Commit:
		switch {
		case r.changing && m.View >= r.installed && m.View < r.view:
			r.onLateCommit(env, from, m)
		case !r.sameView(env, from, m, m.View):
		case !r.inWindow(m.Seq):
			r.outOfWindow(env, from, m, m.Seq)
		default:
			e := r.entry(m.Seq)
			d := BatchDigest(m.Reqs)
			if old, dup := e.commits[from]; !dup {
				e.commits[from] = d
			} else if old != d {
				r.refuse(env, from, m, reasonConflict)
			} else {
				r.refuse(env, from, m, reasonDuplicate)
			}
			r.adoptCommitted(env, m.Seq, e, d, m.Reqs)
			r.prepare(env, m.Seq) // f+1 commits vouch too (authentic)
			r.advance(env, m.Seq)
		}
	case Checkpoint:
		if m.Seq%r.k != 0 || !r.inWindow(m.Seq) {
			if m.Seq == r.low && m.Seq != 0 {
				r.refuse(env, from, m, reasonDuplicate) // the stable one again: it changes nothing
			} else {
				r.outOfWindow(env, from, m, m.Seq)
			}
			return
		}
		if old, dup := r.ckpts[m.Seq][from]; dup {
			if old != m.State {
				r.refuse(env, from, m, reasonConflict)
			} else {
				r.refuse(env, from, m, reasonDuplicate)
			}
			return
		}
		if !r.signer.Verify(from, CheckpointStatement(m.Seq, m.State), m.Sig) {
			r.refuse(env, from, m, reasonSignature)
			return
		}
		r.vote(m.Seq, from, m.State, m.Sig)
		r.checkStable(env, m.Seq)
	default:
		r.refuse(env, from, m, reasonKind) // a reply or other client-bound kind
	}
}

// sameView reports whether a normal-case message of view v is for this
// replica's current view (a vote of the view it is changing to is kept
// for when the new-view comes); one of an older view is refused as stale,
// one of a later view too, but it tells the replica it is behind
// (retransmit.go then asks the others for what it missed).
func (r *Replica) sameView(env ordo.Env, from ordo.NodeID, m ordo.Message, v int64) bool {
	switch {
	case v < r.view:
		if r.changing && v >= r.installed {
			// The others go on in a view it left (or skipped): ask for
			// the commits and state it can still execute or restore
			// without voting (retransmit.go).
			r.behind = true
		}
		r.refuse(env, from, m, reasonStaleView)
		return false
	case v > r.view:
		r.behind = true
		r.refuse(env, from, m, reasonFutureView)
		return false
	}
	return true
}

// onRequest: a cached reply is sent again; the primary queues a new
// request and orders what it can; a backup watches it (view change).
func (r *Replica) onRequest(env ordo.Env, m Request) {
	r.hear(env, m)
	if lr := r.clients[m.Client]; lr != nil && m.Timestamp <= lr.ts {
		if m.Timestamp == lr.ts {
			r.answer(env, lr.reply)
		}
		return
	}
	if r.primary(env) != env.ID() {
		r.watchRequest(env, m)
		return
	}
	if r.changing || r.assigned[m.Client] >= m.Timestamp {
		return // in progress: the client retransmits
	}
	if i, ok := r.queued[m.Client]; ok {
		if r.queue[i].Timestamp < m.Timestamp {
			r.queue[i] = m // a client's newest request supersedes its older one
		}
	} else {
		r.queued[m.Client] = len(r.queue)
		r.queue = append(r.queue, m)
	}
	r.propose(env)
}

// propose is the primary's batching (Castro and Liskov, OSDI 1999,
// section 5.1; Castro's thesis, section 5.1.4): while fewer than inflight
// batches are ordered and not executed and the window has room, it takes
// the queued requests, oldest first, up to batch requests and batchBytes
// bytes, into one pre-prepare at the next sequence number. Requests that
// arrive while batches are in progress wait in the queue, which is how
// batches form under load; with no load a batch holds one request.
func (r *Replica) propose(env ordo.Env) {
	for !r.changing && len(r.queue) > 0 && r.primary(env) == env.ID() && r.inWindow(r.seq+1) && r.seq-r.lastExec < r.inflight {
		var reqs []Request
		size, taken := 0, 0
		for _, q := range r.queue {
			if len(reqs) == r.batch {
				break
			}
			qs := requestBytes(q)
			if len(reqs) > 0 && size+qs > r.batchBytes {
				break
			}
			taken++
			if lr := r.clients[q.Client]; r.assigned[q.Client] >= q.Timestamp || lr != nil && lr.ts >= q.Timestamp {
				continue // ordered meanwhile (a new view re-proposed it)
			}
			reqs = append(reqs, q)
			size += qs
		}
		r.queue = r.queue[taken:]
		clear(r.queued)
		for i, q := range r.queue {
			r.queued[q.Client] = i
		}
		if len(reqs) == 0 {
			continue
		}
		r.seq++
		for _, q := range reqs {
			r.assigned[q.Client] = q.Timestamp
		}
		e := r.entry(r.seq)
		e.b, e.digest = newBatch(reqs), BatchDigest(reqs)
		pp := PrePrepare{View: r.view, Seq: r.seq, Digest: e.digest, Reqs: reqs}.Resign(r.signer.Sign).(PrePrepare)
		e.ppSig = pp.Sig
		r.persist(env, r.seq, e) // before its pre-prepare leaves (durable.go)
		r.broadcast(env, pp)
		r.advance(env, r.seq)
	}
}

// requestBytes is the bytes q takes in a batch's encoding, at most.
func requestBytes(q Request) int { return 3*10 + len(q.Op) }

// dropQueue forgets the requests queued as primary (a view change: the
// clients resend them to the new primary).
func (r *Replica) dropQueue() {
	r.queue = nil
	clear(r.queued)
}

// onPrePrepare accepts the primary's assignment if it is in the view and
// the window, its digest is the request's, and no other digest was
// accepted for that sequence number; the backup then prepares it.
func (r *Replica) onPrePrepare(env ordo.Env, from ordo.NodeID, m PrePrepare) {
	switch {
	case !r.sameView(env, from, m, m.View):
		return
	case r.changing:
		r.behind = true // the view started without this replica: ask for the new-view
		r.refuse(env, from, m, reasonFutureView)
		return
	case from != r.primary(env):
		r.refuse(env, from, m, reasonSender)
		return
	case !r.inWindow(m.Seq):
		r.outOfWindow(env, from, m, m.Seq)
		return
	case m.Digest != BatchDigest(m.Reqs):
		r.refuse(env, from, m, reasonDigest)
		return
	case len(m.Reqs) == 0 && !r.executedHere(m.Seq, m.Digest) || slices.ContainsFunc(m.Reqs, func(q Request) bool { return !r.validClient(env, q.Client) }):
		r.refuse(env, from, m, reasonSender) // no client of the roster (or client API) sent it (only a new-view orders a null request; the re-vote below takes one it executed)
		return
	case !r.signer.Verify(from, PrePrepareStatement(m.View, m.Seq, m.Digest), m.Sig):
		r.refuse(env, from, m, reasonSignature)
		return
	}
	e := r.entry(m.Seq)
	if e.b == nil && r.executedHere(m.Seq, m.Digest) {
		// A slot it executed, re-proposed by this view with the batch it
		// executed (decided: a correct new primary re-proposes nothing
		// else there): it votes for it again, as the new-view's replicas
		// do, so that those that had not executed it reach their quorum.
		// A replica that joined the view by vouchers (saysInstalled) got
		// no new-view, and refused these as conflicting: the others, one
		// vote short, waited for good (a fresh user's trial: pbft-4-loss,
		// seed 25 once another fault was mended).
		e.b, e.digest, e.ppSig, e.certified = newBatch(m.Reqs), m.Digest, m.Sig, true
		r.prepare(env, m.Seq)
		r.advance(env, m.Seq)
		return
	}
	if e.b != nil || m.Seq <= r.lastExec {
		if e.digest != m.Digest {
			r.refuse(env, from, m, reasonConflict) // the first pre-prepare for a sequence number binds
		} else {
			r.refuse(env, from, m, reasonDuplicate)
		}
		return
	}
	// A batch it prepared in an earlier view binds it until a new-view it
	// checked says otherwise: a replica that joined this view by vouchers
	// (saysInstalled) does not know what the new-view re-proposed, and a
	// lying primary could get another batch prepared there by the replicas
	// that joined so, while the batch this one prepared had committed in
	// the earlier view (a review of the vouchers path; a replica that
	// installed the new-view holds its batch here, or none above it).
	if e.pB != nil && BatchDigest(e.pB.reqs) != m.Digest {
		r.refuse(env, from, m, reasonConflict)
		return
	}
	e.b, e.digest, e.ppSig = newBatch(m.Reqs), m.Digest, m.Sig
	r.prepare(env, m.Seq)
	r.advance(env, m.Seq)
}

// executedHere reports whether this replica executed batch digest d at
// seq (entry.exec), the one batch it votes for again there.
func (r *Replica) executedHere(seq int64, d string) bool {
	e := r.log[seq]
	return seq <= r.lastExec && e != nil && e.exec == d
}

// maxHeard bounds the request digests a replica remembers hearing from
// clients directly: several windows' worth.
const maxHeard = 4 * MaxWindow

// hear remembers that m's client sent it to this replica itself, and
// prepares the pre-prepared entries that waited for it.
func (r *Replica) hear(env ordo.Env, m Request) {
	d := Digest(m)
	if r.heard[d] {
		return
	}
	if len(r.heardFIFO) >= maxHeard {
		delete(r.heard, r.heardFIFO[0])
		r.heardFIFO = r.heardFIFO[1:]
	}
	r.heard[d] = true
	r.heardFIFO = append(r.heardFIFO, d)
	r.heardCount++
	// In sequence order: a map's order would make the sends, and so the
	// simulation, differ from run to run.
	var waiting []int64
	for s, e := range r.log {
		if e.b != nil && e.view == r.view && slices.Contains(e.b.ds, d) {
			waiting = append(waiting, s)
		}
	}
	slices.Sort(waiting)
	for _, s := range waiting {
		r.prepare(env, s)
		r.advance(env, s)
	}
}

// authentic reports whether the batch of entry e may be prepared: a
// null request of a new view, a batch whose every request its client sent
// this replica itself, or one f+1 other replicas prepared or committed (at least one of
// them correct, and a correct replica prepares only what it heard from the
// clients or saw so vouched for). One request of the batch that no client
// sent this replica keeps the whole batch from being prepared: a batch
// is one value, voted for as a whole. PBFT has clients sign requests so that a faulty primary
// cannot order a request no client sent; over authenticated links only,
// hearing the request from the client stands for the signature (clients
// send every request to every replica). Without it a primary and a backup
// lying together made the odd-numbered half of n = 7 commit a forged
// request (ordo bench bft -n 7 -f 2, validity).
func (r *Replica) authentic(env ordo.Env, e *entry) bool {
	if e.certified || !slices.ContainsFunc(e.b.ds, func(d string) bool { return !r.heard[d] }) {
		return true // a certificate's batch, every request heard, or the null request
	}
	// Prepares and commits both vouch: a correct replica commits only
	// what it saw prepared, so f+1 commits name a batch a correct replica
	// vouched for as surely as f+1 prepares. Without the commits, a
	// backup that missed a client's request while another backup lied
	// saw one honest prepare only (the primary does not prepare), never
	// prepared, and stayed behind for good although the others committed
	// (found live: ordo cluster byzantine 3 equivocate).
	others := 0
	for id, d := range e.prepares {
		if id != env.ID() && d == e.digest {
			others++
		}
	}
	for id, d := range e.commits {
		if p, ok := e.prepares[id]; id != env.ID() && d == e.digest && (!ok || p != e.digest) {
			others++ // not counted above
		}
	}
	return others >= r.qs.F+1
}

// prepare casts this backup's prepare for seq once the entry's request
// is authentic, at most once per view.
func (r *Replica) prepare(env ordo.Env, seq int64) {
	e := r.log[seq]
	if e == nil || e.b == nil || e.ppSig == nil || r.changing || e.view != r.view || r.primary(env) == env.ID() {
		return // (no pre-prepare held: a batch decided by its commits, adoptCommitted)
	}
	if _, done := e.prepares[env.ID()]; done || !r.authentic(env, e) {
		return
	}
	p := Prepare{View: r.view, Seq: seq, Digest: e.digest}.Resign(r.signer.Sign).(Prepare)
	e.prepares[env.ID()], e.prepSigs[env.ID()] = e.digest, p.Sig
	r.persist(env, seq, e)
	r.broadcast(env, p)
}

func count(votes map[ordo.NodeID]string, d string) int {
	n := 0
	for _, v := range votes {
		if v == d {
			n++
		}
	}
	return n
}

// advance moves sequence number seq through prepared and committed-local,
// then executes what is committed in order.
func (r *Replica) advance(env ordo.Env, seq int64) {
	e := r.log[seq]
	if e == nil || e.b == nil {
		return
	}
	if r.changing {
		return
	}
	if !e.sentCommit && !e.committed && count(e.prepares, e.digest) >= r.qs.Q-1 {
		e.sentCommit = true
		e.pView, e.pB, e.pCert = e.view, e.b, r.certificate(e)
		e.commits[env.ID()] = e.digest
		r.persist(env, seq, e) // prepared: its view-changes claim it
		r.broadcast(env, Commit{View: r.view, Seq: seq, Reqs: e.b.reqs})
	}
	if e.sentCommit && !e.committed && count(e.commits, e.digest) >= r.qs.Q {
		e.committed = true
	}
	r.executeCommitted(env)
}

// executeCommitted executes the committed entries that follow the last
// executed one, in order; a primary then orders what its queue holds, the
// in-flight batches being fewer.
func (r *Replica) executeCommitted(env ordo.Env) {
	for {
		next := r.log[r.lastExec+1]
		if next == nil || !next.committed {
			r.propose(env)
			return
		}
		r.execute(env, r.lastExec+1, next)
	}
}

// adoptCommitted: a quorum of matching commits for digest d at seq (in
// this view) decides the batch, whatever this replica was pre-prepared:
// at least f+1 of those replicas are correct, and a correct replica
// commits only what it prepared, so no other batch can commit there. A
// replica that an equivocating primary told another batch (which it
// never prepared), or that never got the pre-prepare, executes the
// decided batch from the commits, which carry it, instead of staying
// behind (found by a new user: the backup then suspected the primary
// alone and left the view for good). It casts no vote for it: it holds
// no pre-prepare of it.
func (r *Replica) adoptCommitted(env ordo.Env, seq int64, e *entry, d string, reqs []Request) {
	if e.committed || count(e.commits, d) < r.qs.Q {
		return
	}
	r.decide(env, seq, e, d, reqs)
}

// decide marks seq's entry committed with the batch of digest d (reqs),
// which a quorum's matching commits decided, and executes what follows.
func (r *Replica) decide(env ordo.Env, seq int64, e *entry, d string, reqs []Request) {
	other := e.b == nil || e.digest != d
	adopted := other || !e.sentCommit // (else the usual committed-local)
	if other {
		e.b, e.digest, e.ppSig = newBatch(reqs), d, nil
	}
	// Decided, also when this replica holds the same batch but never
	// committed it (it may be changing view, voting no more). No vote of
	// its own follows: advance sends no commit for a committed entry, and
	// prepare none without the pre-prepare.
	e.committed = true
	if adopted {
		env.Note("adopt-committed", "seq", seq, "batch", d)
	}
	r.executeCommitted(env)
}

// onLateCommit takes, while this replica changes view, a commit of the
// view it installed last or of one it skipped (it moved on before that
// view was installed). It casts no vote there any more (its view-change
// said what it prepared, and a vote after it would not be in it), but a
// batch 2f+1 replicas committed in one view is decided whoever learns it
// (adoptCommitted), so it keeps executing what the others commit.
// Without this, a replica that lost the last commits of a view to the
// network and suspected the primary alone stayed behind, changing view,
// until the others needed it (TestPBFT4_4_ViewChangeUnderMessageLoss,
// seed 9). Commits of a view other than the entry's are counted apart,
// the entry's own votes untouched, each replica's latest only: a forged
// commit of another view once reset the entry and made every honest
// commit of its view look stale (a reviewer).
func (r *Replica) onLateCommit(env ordo.Env, from ordo.NodeID, m Commit) {
	e := r.log[m.Seq]
	if !r.inWindow(m.Seq) || m.Seq <= r.lastExec || e != nil && e.committed {
		r.refuse(env, from, m, reasonStaleView)
		return
	}
	if e == nil {
		e = newEntry(m.View)
		r.log[m.Seq] = e
	}
	v := viewVote{m.View, BatchDigest(m.Reqs)}
	old, had := e.lateVote(from)
	switch {
	case had && old == v:
		r.refuse(env, from, m, reasonDuplicate)
		return
	case had && old.view == v.view:
		r.refuse(env, from, m, reasonConflict) // one vote a view: the first binds
		return
	case had && old.view > v.view:
		r.refuse(env, from, m, reasonStaleView)
		return
	}
	if v.view == e.view {
		e.commits[from] = v.digest
		delete(e.late, from)
	} else {
		if e.late == nil {
			e.late = map[ordo.NodeID]viewVote{}
		}
		e.late[from] = v
	}
	if e.lateCount(v) >= r.qs.Q {
		r.decide(env, m.Seq, e, v.digest, m.Reqs)
	}
}

// lateVote is replica from's latest commit for this entry: of another
// view (late), else of the entry's view.
func (e *entry) lateVote(from ordo.NodeID) (viewVote, bool) {
	if v, ok := e.late[from]; ok {
		return v, true
	}
	if d, ok := e.commits[from]; ok {
		return viewVote{e.view, d}, true
	}
	return viewVote{}, false
}

// lateCount is how many replicas' latest commits for this entry are v.
func (e *entry) lateCount(v viewVote) int {
	n := 0
	if v.view == e.view {
		for from, d := range e.commits {
			if _, newer := e.late[from]; !newer && d == v.digest {
				n++
			}
		}
	}
	for _, l := range e.late {
		if l == v {
			n++
		}
	}
	return n
}

// lateCommitsPending reports whether, while changing view, an entry of
// the view installed last waits for commits: this replica committed it
// and the certificate is not complete.
func (r *Replica) lateCommitsPending() bool {
	for s, e := range r.log {
		if s > r.lastExec && e.view == r.installed && e.sentCommit && !e.committed {
			return true
		}
	}
	return false
}

// execute applies a committed batch: its requests in order, each chained
// into the state digest, noted as decided at (slot seq, index i) and
// answered (a request whose client already has a reply for that timestamp
// or a later one is not answered again: section 4.1's exactly-once);
// every K sequence numbers a checkpoint is sent.
func (r *Replica) execute(env ordo.Env, seq int64, e *entry) {
	r.lastExec = seq
	e.exec = e.digest
	if len(e.b.reqs) == 0 { // a null request of a new view (section 4.4)
		h := sha256.Sum256([]byte(r.state + e.digest))
		r.state = hex.EncodeToString(h[:])[:DigestLen]
		env.Note(agreement.NoteDecide, "slot", seq, "index", 0, "value", e.digest, "noop", true)
		r.result(Request{}) // the service counts it too (service.go)
	} else {
		r.batches++
		r.largest = max(r.largest, len(e.b.reqs))
	}
	for i, req := range e.b.reqs {
		h := sha256.Sum256([]byte(r.state + e.b.ds[i]))
		r.state = hex.EncodeToString(h[:])[:DigestLen]
		r.executed++
		env.Note(agreement.NoteDecide, "slot", seq, "index", i, "value", e.b.ds[i], "batch", e.digest, "client", int64(req.Client), "ts", req.Timestamp)
		if r.watch.active && r.watch.client == req.Client && req.Timestamp >= r.watch.ts {
			r.watch = watched{}
		}
		if lr := r.clients[req.Client]; lr != nil && req.Timestamp <= lr.ts {
			// Executed before: a faulty primary ordered a client's old
			// request again (found by a new user's trial). Exactly once
			// (section 4.1): no second effect and no second reply — a
			// no-op for the machine, which counts it like every replica.
			r.result(Request{})
			continue
		}
		r.reply(env, req, r.result(req)) // service.go
	}
	if seq%r.k == 0 {
		// The checkpoint signs the digest of the snapshot, so a stable
		// one certifies the state a replica behind it restores.
		snap := r.snapshotState()
		if len(snap) <= MaxSnapshot {
			r.ckSnaps[seq] = snap
		}
		c := Checkpoint{Seq: seq, State: snapshotDigest(snap)}.Resign(r.signer.Sign).(Checkpoint)
		r.vote(seq, env.ID(), c.State, c.Sig)
		r.broadcast(env, c)
		r.checkStable(env, seq)
	}
}

func (r *Replica) reply(env ordo.Env, req Request, result string) {
	if lr := r.clients[req.Client]; lr == nil || req.Timestamp > lr.ts {
		rep := Reply{View: r.view, Timestamp: req.Timestamp, Client: req.Client, Result: result}
		if r.validClient(env, req.Client) {
			r.remember(req.Client, rep)
			r.answer(env, rep)
		}
	}
}

func (r *Replica) vote(seq int64, from ordo.NodeID, state string, sig []byte) {
	v := r.ckpts[seq]
	if v == nil {
		v = map[ordo.NodeID]string{}
		r.ckpts[seq] = v
		r.ckSigs[seq] = map[ordo.NodeID][]byte{}
	}
	if _, dup := v[from]; !dup {
		v[from], r.ckSigs[seq][from] = state, sig
	}
}

// checkStable makes checkpoint seq stable once 2f+1 replicas, this one
// included, sent its state digest: the log and the votes at and below it
// are dropped, and the window moves up.
func (r *Replica) checkStable(env ordo.Env, seq int64) {
	v := r.ckpts[seq]
	mine, ok := v[env.ID()]
	if !ok || seq <= r.low || count(v, mine) < r.qs.Q {
		return
	}
	r.makeStable(env, seq, mine, r.stableProof(seq, mine))
}

// makeStable makes checkpoint seq, where this replica's state is mine,
// its stable checkpoint, proved by proof (2f+1 signed checkpoints).
func (r *Replica) makeStable(env ordo.Env, seq int64, mine string, proof []Endorsement) {
	r.low = seq
	r.stable = stableCheckpoint{state: mine, proof: proof, snap: r.ckSnaps[seq],
		sig: r.ckSigs[seq][env.ID()]} // resent as signed first: a live signature differs each time it is made
	if r.stable.snap != nil {
		// The checkpoint a restart starts from (durable.go); over
		// MaxSnapshot, a restart starts from the last one that fit and
		// learns the rest from the others.
		put(env, keyStable, StateTransfer{Seq: seq, State: mine, Proof: r.stable.proof, Snap: r.stable.snap})
	}
	r.truncate(env, seq)
	env.Note("checkpoint", "seq", seq, "state", mine)
	r.propose(env) // the window moved: a primary orders what waited for it
}

// truncate drops the log, the checkpoint votes and snapshots at and
// below seq, a stable checkpoint, from memory and the log's entries from
// storage (durable.go): garbage collection (section 4.3).
func (r *Replica) truncate(env ordo.Env, seq int64) {
	for s := range r.ckSnaps {
		if s <= seq {
			delete(r.ckSnaps, s)
		}
	}
	for s := range r.log {
		if s <= seq {
			delete(r.log, s)
		}
	}
	for s := range r.ckpts {
		if s <= seq {
			delete(r.ckpts, s)
			delete(r.ckSigs, s)
		}
	}
	r.forget(env, seq)
}

// State is a replica's state as data (ordo.StateReporter).
type State struct {
	View         int64       `json:"view"`
	Primary      ordo.NodeID `json:"primary"`
	LastExecuted int64       `json:"last_executed"`
	Stable       int64       `json:"stable_checkpoint"`
	Log          int         `json:"log"` // entries held: at most the window
	StateDigest  string      `json:"state"`
	F            int         `json:"f"`
	Quorum       int         `json:"quorum"`
	Unsafe       bool        `json:"unsafe,omitempty"`
	Changing     bool        `json:"changing_view,omitempty"`
	ViewChanges  int         `json:"view_changes"`
	// Executed counts the client requests executed, Batches the batches
	// of them (null requests not counted), Largest the most requests one
	// batch held.
	Executed int `json:"executed"`
	Batches  int `json:"batches"`
	Largest  int `json:"largest_batch"`
	// Refused counts the messages this replica would not take (stale or
	// future view, out of window, bad digest, wrong sender for the role,
	// a second vote that conflicts with the first, the same message
	// again), RefusedBy by reason.
	Refused   int            `json:"refused"`
	RefusedBy map[string]int `json:"refused_by,omitempty"`
	// Duplicates is the part of Refused that was the same message again
	// (not in RefusedBy): mostly honest retransmissions, and a
	// replaying liar's copies. ordo cluster status shows it apart, so
	// that the other refusals (a liar's conflicting votes, bad
	// certificates, stale views) stand out.
	Duplicates int `json:"duplicates,omitempty"`
	// Transfers counts the states restored from other replicas (state
	// transfer).
	Transfers int `json:"state_transfers,omitempty"`
}

var _ ordo.StateReporter = (*Replica)(nil)

// State implements ordo.StateReporter.
func (r *Replica) State() any {
	return State{View: r.view, Primary: r.prim, LastExecuted: r.lastExec, Stable: r.low, Log: len(r.log),
		StateDigest: r.state, F: r.qs.F, Quorum: r.qs.Q, Unsafe: r.qs.Unsafe, Changing: r.changing, ViewChanges: r.viewChanges,
		Executed: r.executed, Batches: r.batches, Largest: r.largest,
		Refused: r.refused, RefusedBy: r.refusedByName(), Duplicates: r.refusedBy[reasonDuplicate], Transfers: r.transfers}
}
