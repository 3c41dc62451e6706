package live

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"ordo"
	"ordo/adversary"
	"ordo/election"
	"ordo/live/transport"
	"ordo/sim"
	"ordo/trace"
)

// Bounds of the event loop.
const (
	// InboxLen bounds the messages waiting for the loop; a full inbox
	// pushes back on the peers' connections.
	InboxLen = 4096
	// MaxTimers bounds the timers armed and not yet fired. A protocol that
	// arms more has a bug (it arms timers without letting old ones expire).
	MaxTimers = 1 << 16
)

// Runtime runs one node of a live cluster: its event loop, transport, disk
// storage, trace file and admin endpoint.
type Runtime struct {
	signer ordo.Signer // this node's signature (sign.go)
	cfg    *Config
	id     ordo.NodeID
	n      int
	proto  *ordo.Protocol
	opts   ordo.Options
	codec  *ordo.Codec
	log    *slog.Logger
	epoch  time.Time
	// clock is the node's clock model (clock.go): Now, Monotonic and
	// timers read the machine's clocks through a configured offset, drift
	// and steps.
	clock  Clock
	roster *ordo.Roster

	// Owned by the loop goroutine.
	node     ordo.Node
	peers    []ordo.NodeID
	store    *DiskStorage
	lock     *dirLock // held on the node directory while the node runs (lock.go)
	rng      *rand.Rand
	stamp    trace.Stamper
	msgSeq   uint64
	timers   timerHeap
	gc       groupCommit[outbound] // sends and client replies waiting for their fsync
	early    []outbound            // early sends of the turn (SendEarly): released at its end, before its fsync
	boot     int
	seqTimer uint64

	tf      *traceFile
	tr      *transport.Transport
	metrics *Metrics
	admin   *http.Server
	adminLn net.Listener
	// The client API (gateway.go): nil unless Options.ClientAPI.
	gw       *Gateway
	client   *http.Server
	clientLn net.Listener

	inbox    chan inbound
	stop     chan struct{}
	held     chan struct{} // Options.Hold: closed by POST /release
	released sync.Once
	stopOnce sync.Once
	done     chan struct{}
	err      error // why the loop ended; read after done

	statusMu sync.Mutex
	status   roleStatus
	// pauses carries a pause to the loop; pauser is its admin side
	// (faults_node.go).
	pauses chan pauseReq
	pauser pauser
	// fence keeps a node that lost its disk listen-only (amnesia.go).
	fence fence
	// late measures how late timers fire: a starved host (starve.go).
	late lateness
	// svc is the node's connections to the cluster's services
	// (service_runtime.go).
	svc serviceConns
	// byz is the node's adversary when it lies (byzantine.go).
	byz byzantine
	// state is the protocol's state as of a recent turn (state.go).
	state stateCopy
	// kept counts the message bodies the trace kept (Config.KeepMessages).
	kept int
}

type inbound struct {
	env   transport.Envelope
	msg   ordo.Message
	bytes int
	hint  bool // a PeerDown from env.From, not a message
	// gateway: a client API call from gateway id env.From (gateway.go)
	gateway bool
	// service: a reply or event of service env.From (service_runtime.go)
	service bool
	// many: client API calls that arrived together (Gateway.CallMany),
	// each an event of the same turn.
	many []inbound
}

// roleStatus is what the node's notes say about its role, read by the
// election package's conventions.
type roleStatus = election.Status

var _ ordo.Env = (*Runtime)(nil)

// Options for Start beyond the cluster file.
type Options struct {
	// Log receives the node's structured logs (default: stderr, text, at
	// the config's level).
	Log *slog.Logger
	// Listen overrides the node's peer address (tests use ":0").
	Listen string
	// AdminListen overrides the admin address.
	AdminListen string
	// ClientAPI, when set on a server, builds the handler the node serves
	// on its client address (the cluster file's client:, or ClientListen):
	// TLS with the node's certificate when the cluster has TLS, the
	// cluster's client token checked on every request (gateway.go).
	ClientAPI func(gw *Gateway) http.Handler
	// ClientListen overrides the client API's address (tests use ":0").
	ClientListen string
	// ClientCalls bounds the client calls in flight (0: DefaultClientCalls).
	ClientCalls int
	// Hold makes the event loop wait for POST /release on the admin
	// endpoint before it calls the protocol's Start: ordo cluster run
	// starts every client held and releases them together when its clock
	// starts, so that a client's script and the run's fault schedule count
	// from the same moment. Start returns without waiting for the
	// protocol's Start then.
	Hold bool
	// Services overrides, by service node id, the adapter registered for
	// the service's protocol (RegisterService): tests dial an in-process
	// fake.
	Services map[ordo.NodeID]ServiceDial
}

// Start boots node id of the cluster: it reads back its storage and trace,
// binds its peer and admin addresses and starts its event loop, which calls
// the protocol's Start first.
func Start(cfg *Config, id ordo.NodeID, o Options) (*Runtime, error) {
	nc, err := cfg.Node(id)
	if err != nil {
		return nil, err
	}
	// A client runs the client protocol (roles.go).
	proto, opts, role, err := cfg.ProtocolOf(id)
	if err != nil {
		return nil, err
	}
	if role == ordo.Service {
		return nil, fmt.Errorf("node %d is a service (%s): no process runs it; every server and client reaches it through its runtime's adapter", id, proto.Name)
	}
	if name := proto.NeedsSecret(opts); name != "" {
		if cfg.Secret == "" {
			return nil, fmt.Errorf("node %d: protocol %s needs a key for option %s: give it in the cluster file's options, or a secret file (secret:, written by ordo cluster up)", id, proto.Name, name)
		}
		secret, err := ReadSecret(cfg.Path(cfg.Secret))
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", id, err)
		}
		opts = proto.FillSecrets(opts, []byte(secret))
	}
	codec := proto.Codec // built and checked by ordo.Register
	if codec == nil {
		return nil, fmt.Errorf("live: protocol %s has no codec: register it with ordo.Register", proto.Name)
	}
	epoch, err := cfg.EpochTime()
	if err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: levelOf(cfg.LogLevel)}))
	}
	log = log.With("node", int(id))
	r := &Runtime{
		cfg: cfg, id: id, n: len(cfg.Nodes), proto: proto, opts: opts, codec: codec, log: log, epoch: epoch,
		inbox: make(chan inbound, InboxLen), stop: make(chan struct{}), done: make(chan struct{}), pauses: make(chan pauseReq),
		roster: cfg.Roster(),
	}
	if o.Hold {
		r.held = make(chan struct{})
	}
	r.peers = r.roster.PeersOf(id) // a client is no server: every server
	dir := cfg.Path(nc.Dir)
	// One directory, one node: a second process on dir refuses to start.
	if r.lock, err = lockDir(dir, int(id)); err != nil {
		return nil, err
	}
	booted := false
	defer func() {
		if !booted {
			r.lock.release() // Start failed: the next attempt may lock
		}
	}()
	if r.store, err = OpenDiskStorage(filepath.Join(dir, "store")); err != nil {
		return nil, err
	}
	r.gc = groupCommit[outbound]{store: r.store, release: r.release, direct: r.releasesDirect}
	r.store.afterSync = r.gc.syncerDone
	if r.fence.term, r.fence.on, err = readFence(dir); err != nil {
		r.store.Close()
		return nil, err
	} else if r.fence.on {
		r.fence.dir = dir
		log.Warn("restarted without its store: listen-only until its term passes the fence", "fence", r.fence.term)
	}
	if info := r.store.Info(); info != "" {
		log.Warn("storage recovered", "file", r.store.Path(), "what", info)
	}
	meta := trace.Meta{Runtime: "live", Nodes: r.n, Protocol: cfg.Protocol, Options: proto.Redact(opts), Seed: cfg.Seed, Scenario: cfg.Name}
	cfg.FillMeta(&meta)
	tf, res, err := openTrace(filepath.Join(dir, TraceFileName), meta, id, r.n)
	if err != nil {
		return nil, err
	}
	r.tf, r.stamp, r.msgSeq, r.boot = tf, res.stamp, res.msgSeq, res.boots
	r.rng = rand.New(rand.NewPCG(cfg.Seed, uint64(id)<<32|uint64(r.boot)))
	r.metrics = newMetrics(r)
	r.initByzantine()
	r.late.register(r.metrics.reg)

	var tlsFiles *transport.TLSFiles
	if cfg.TLS {
		f := transport.TLSFilesIn(cfg.Path(cfg.TLSDir), id)
		tlsFiles = &f
	}
	tcfg := transport.Config{
		ID: id, N: r.n, Listen: nc.Addr, Peers: map[ordo.NodeID]string{}, Codec: codec, Log: log,
		Seed: cfg.Seed ^ uint64(r.boot)<<20, QueueLen: cfg.QueueLen,
		Deliver: r.deliver, OnDrop: r.onDrop, OnPeerDown: r.peerDown, OnTraffic: r.metrics.traffic, OnRefused: r.onRefused,
	}
	if o.Listen != "" {
		tcfg.Listen = o.Listen
	}
	for _, p := range cfg.Nodes {
		if ordo.NodeID(p.ID) != id && cfg.RoleOf(ordo.NodeID(p.ID)) != ordo.Service {
			tcfg.Peers[ordo.NodeID(p.ID)] = p.Addr
		}
	}
	if tlsFiles != nil {
		if tcfg.TLS, err = transport.LoadTLS(*tlsFiles); err != nil {
			tf.close()
			return nil, err
		}
	}
	if r.signer, err = newSigner(cfg, id, tlsFiles, log); err != nil { // sign.go
		tf.close()
		return nil, err
	}
	adminAddr := nc.Admin
	if o.AdminListen != "" {
		adminAddr = o.AdminListen
	}
	if r.adminLn, err = listenAdmin(adminAddr); err != nil { // netns.go: a netns node inherits it
		tf.close()
		return nil, fmt.Errorf("admin endpoint of %v: %w", id, err)
	}
	if r.tr, err = transport.Listen(tcfg); err != nil {
		r.adminLn.Close()
		tf.close()
		return nil, err
	}

	// The previous incarnation died without a stop event: record its crash
	// (at the moment of the kill, when `cluster kill` noted it) before the
	// restart, as the simulator does.
	kind := trace.Start
	if res.events > 0 {
		kind = trace.Restart
	}
	if res.crashed {
		at := res.lastT + 1
		if k, ok := readKilled(dir, epoch.UnixNano()); ok && k > at {
			at = k
		}
		r.stamp.Tick()
		r.record(trace.Event{Kind: trace.Crash, Name: "killed", T: at, Local: at})
	}
	os.Remove(filepath.Join(dir, KilledFileName))
	r.stamp.Tick()
	r.record(trace.Event{Kind: kind, Attrs: trace.Attrs{{Key: "boot", Value: r.boot + 1}, {Key: "pid", Value: os.Getpid()}}})
	r.boot++

	node, err := proto.New(ordo.Config{ID: id, N: len(r.roster.Servers), Opts: opts, Proto: proto, Role: role, Roster: r.roster})
	if err != nil {
		r.tr.Close()
		r.adminLn.Close()
		tf.close()
		return nil, err
	}
	r.node = node
	handler, err := r.adminHandler() // reads the admin token (admin.go)
	if err != nil {
		r.tr.Close()
		r.adminLn.Close()
		tf.close()
		r.store.Close()
		return nil, err
	}
	// The services are open before the protocol's Start can send to them.
	if err := r.openServices(o); err != nil {
		r.tr.Close()
		r.adminLn.Close()
		tf.close()
		r.store.Close()
		return nil, err
	}
	if o.ClientAPI == nil && (nc.Client != "" || o.ClientListen != "") {
		// Registered by cmd/ordo (kv) or a test; served where the cluster
		// file gives the node a client address.
		o.ClientAPI = ClientAPIOf(cfg.Protocol)
	}
	if o.ClientAPI != nil && role == ordo.Server {
		if err := r.startClientAPI(nc, o); err != nil { // gateway.go
			r.closeServices()
			r.tr.Close()
			r.adminLn.Close()
			tf.close()
			r.store.Close()
			return nil, err
		}
	}
	r.admin = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go r.admin.Serve(r.adminLn)
	started := make(chan struct{})
	go r.loop(started)
	// Start returns once the protocol's Start has run, so the status
	// already shows what the node read from its disk (held: at once).
	if r.held == nil {
		select {
		case <-started:
		case <-r.done:
		}
	}
	if r.client != nil {
		go r.client.Serve(r.clientLn)
	}
	log.Info("node started", "addr", r.tr.Addr().String(), "admin", r.adminLn.Addr().String(), "client", r.ClientAddr(), "protocol", proto.Name, "role", role, "boot", r.boot, "tls", cfg.TLS, "procs", runtime.GOMAXPROCS(0))
	booted = true
	return r, nil
}

func levelOf(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// NodeID is the node's id (ID, the Env method, is for the protocol).
func (r *Runtime) NodeID() ordo.NodeID { return r.id }

// Addr is the address peers connect to.
func (r *Runtime) Addr() string { return r.tr.Addr().String() }

// AdminAddr is the admin endpoint's address.
func (r *Runtime) AdminAddr() string { return r.adminLn.Addr().String() }

// Done is closed when the node has stopped (Stop, or fail-stop).
func (r *Runtime) Done() <-chan struct{} { return r.done }

// Err says why the loop stopped: nil after Stop, a FailStop after a storage
// failure.
func (r *Runtime) Err() error {
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

// Stop stops the node gracefully: the loop ends, a crash event named "stop"
// closes this incarnation's trace, and every goroutine and socket is closed.
func (r *Runtime) Stop() error {
	if r.gw != nil {
		r.gw.close() // new client calls: 503 from now on
	}
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
	r.closeServices() // the loop sends nothing more to them
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if r.client != nil {
		// Calls still waiting fail at once (ErrStopped): the shutdown
		// waits only for their answers to be written.
		r.client.Shutdown(ctx)
	}
	r.admin.Shutdown(ctx)
	r.tr.Close()
	r.tf.close()
	r.store.Close() // the loop committed its last turn (or failed: then nothing more is written)
	r.lock.release()
	return r.err
}

func (r *Runtime) loop(started chan<- struct{}) {
	defer close(r.done)
	defer func() {
		if p := recover(); p != nil {
			fs, ok := p.(FailStop)
			if c, corrupt := p.(ordo.Corrupt); corrupt {
				// The protocol refused a stored value (ordo.Corrupt).
				fs, ok = FailStop{fmt.Errorf("%s: %w; to recover, restore that file from a backup, or wipe the node's directory %s and restart it so it rejoins empty", r.store.Path(), c, filepath.Dir(filepath.Dir(r.store.Path())))}, true
			}
			if !ok {
				panic(p) // a bug: crash loudly
			}
			r.err = fs
			r.log.Error("fail-stop", "err", fs.Err)
			r.dropHeld()
		} else if err := r.gc.flush(); err != nil {
			// A graceful stop commits what its last turns wrote.
			r.err = FailStop{err}
			r.log.Error("fail-stop", "err", err)
			r.dropHeld()
		}
		// Graceful or fail-stop: the node's volatile state ends here.
		r.stamp.Tick()
		name := "stop"
		if r.err != nil {
			name = trace.NameFailStop
		}
		r.record(trace.Event{Kind: trace.Crash, Name: name})
		r.flushTrace()
	}()
	if r.held != nil {
		select {
		case <-r.held:
		case <-r.stop:
			close(started)
			return
		}
	}
	r.node.Start(r)
	r.store.EndBatch()
	r.endTurn()
	close(started)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		if len(r.timers) > 0 {
			t.Reset(time.Until(r.timers[0].at))
		} else {
			t.Stop()
		}
		select {
		case <-r.stop:
			return
		case <-r.store.Syncing():
			// An fsync returned: release what it made durable. No
			// event: no turn.
			if err := r.gc.synced(); err != nil {
				panic(FailStop{err})
			}
			continue
		case in := <-r.inbox:
			r.receive(in)
		case p := <-r.pauses: // a pause fault (faults_node.go)
			if r.paused(p) {
				return
			}
			continue
		case <-t.C:
			if !r.fireDue() {
				continue // a stale wake-up: nothing was due
			}
		}
		// Group commit: the rest of the turn handles whatever else is
		// ready (bounded), then its writes go to the store's syncer and
		// its sends wait for them (groupCommit): one fsync covers every
		// turn that ran while the previous fsync was in flight.
		stopping := false
	turn:
		for n := 1; n < MaxTurn; n++ {
			select {
			case <-r.stop:
				stopping = true
				break turn
			default:
			}
			if r.fireDue() {
				continue
			}
			select {
			case in := <-r.inbox:
				r.receive(in)
			default:
				break turn
			}
		}
		r.endTurn()
		if stopping {
			return
		}
	}
}

// MaxTurn bounds the events of one turn of the event loop, which share one
// fsync (group commit) and whose sends wait for it.
const MaxTurn = 256

// fireDue fires the earliest timer if it is due, as one event.
func (r *Runtime) fireDue() bool {
	if len(r.timers) == 0 || time.Now().Before(r.timers[0].at) {
		return false
	}
	tm := heap.Pop(&r.timers).(armed)
	if tm.t.Name == replayTimer {
		r.replay(tm.t.Arg) // a Byzantine node's replay (byzantine.go)
		return true
	}
	now := time.Now()
	r.late.observe(now, now.Sub(tm.at))
	r.metrics.timers.Set(float64(len(r.timers)))
	r.stamp.Tick()
	e := trace.Event{Kind: trace.Timer, Name: tm.t.Name}
	if tm.t.Arg != 0 {
		e.Attrs = trace.Attrs{{Key: "arg", Value: tm.t.Arg}}
	}
	r.record(e)
	r.node.Fire(r, tm.t)
	r.store.EndBatch()
	return true
}

// endTurn is the durability contract: the turn's writes are committed
// with one fsync, and the messages its events sent leave only when that
// fsync has returned (groupCommit). A failed commit stops the node
// (fail-stop) and the held messages never leave.
func (r *Runtime) endTurn() {
	// The node flushes what it batched over the turn (ordo.Flusher); its
	// writes and sends join the turn's commit.
	ordo.Flush(r.node, r)
	r.store.EndBatch()
	r.snapshotState()
	r.flushTrace() // before anything the turn sent can leave
	// Early sends (ordo.EarlySender) leave now, with the turn's trace on
	// file and without waiting for its fsync.
	for i, o := range r.early {
		r.release(o)
		r.early[i] = outbound{}
	}
	r.early = r.early[:0]
	if err := r.gc.endTurn(); err != nil {
		panic(FailStop{err})
	}
}

// sendNow hands a message whose fsync has returned to the transport.
func (r *Runtime) sendNow(env transport.Envelope) {
	if err := r.tr.Send(env); err != nil {
		panic(fmt.Sprintf("live: %v sends %s: %v", r.id, env.Kind, err))
	}
}

// dropHeld records the messages a fail-stop keeps from leaving.
func (r *Runtime) dropHeld() {
	for _, o := range append(r.gc.takeHeld(), r.early...) {
		if o.timer != nil {
			continue // an AfterSync wake-up dies with the writes
		}
		env := o.env
		r.record(trace.Event{Kind: trace.Drop, Node: env.From, Peer: env.To, Msg: env.Msg, MsgKind: env.Kind, Bytes: len(env.Payload), Name: trace.NameFailStop})
	}
	r.early = nil
}

func (r *Runtime) receive(in inbound) {
	if in.hint {
		if !ordo.WantsPeerDown(r.node) {
			return
		}
		// No stamped message arrives: the receive ticks like a local
		// event, with message id 0, as in the simulator.
		r.stamp.Tick()
		r.record(trace.Event{Kind: trace.Recv, Peer: in.env.From, MsgKind: ordo.PeerDownKind})
		r.metrics.peerDown.Inc()
		r.node.Receive(r, in.env.From, ordo.PeerDown{})
		r.store.EndBatch()
		return
	}
	if in.gateway {
		r.receiveGateway(in) // gateway.go
		return
	}
	if in.many != nil {
		for _, c := range in.many {
			r.receiveGateway(c)
		}
		return
	}
	if in.service {
		r.receiveService(in) // service_runtime.go
		return
	}
	r.stamp.Recv(in.env.Lamport, in.env.Vector)
	r.record(trace.Event{Kind: trace.Recv, Peer: in.env.From, Msg: in.env.Msg, MsgKind: in.env.Kind, Bytes: in.bytes})
	r.node.Receive(r, in.env.From, in.msg)
	if r.byz.seen != nil || r.byz.cur.Load() != nil {
		r.heard(in.msg) // a liar's extra votes (byzantine.go)
	}
	r.store.EndBatch()
}

// deliver is the transport's Deliver: it runs on a connection goroutine.
func (r *Runtime) deliver(e transport.Envelope, m ordo.Message) {
	in := inbound{env: e, msg: m, bytes: len(e.Payload)}
	in.env.Payload = nil // aliases the connection's buffer, reused once we return
	select {
	case r.inbox <- in:
	case <-r.stop:
	}
}

// peerDown is the transport's OnPeerDown: it runs on a dial goroutine and
// hands the hint to the loop like a message.
func (r *Runtime) peerDown(id ordo.NodeID) {
	select {
	case r.inbox <- inbound{env: transport.Envelope{From: id, To: r.id}, hint: true}:
	case <-r.stop:
	}
}

// onDrop records a message the transport dropped; any goroutine.
func (r *Runtime) onDrop(d transport.Dropped) {
	r.metrics.dropped.WithLabelValues(d.Reason).Inc()
	if strings.HasPrefix(d.Reason, transport.ReasonRejected) {
		r.countReject(d.Reason) // a malformed message: counted for the status too
	}
	r.record(trace.Event{Kind: trace.Drop, Node: d.From, Peer: d.To, Msg: d.Msg, MsgKind: d.Kind, Bytes: d.Bytes, Name: d.Reason})
}

// flushTrace writes the buffered trace events (traceFile.flush).
func (r *Runtime) flushTrace() {
	if err := r.tf.flush(); err != nil && !errors.Is(err, os.ErrClosed) {
		r.metrics.traceErrors.Inc()
	}
}

// record stamps e with the node, the time and (for process events) the
// current Lamport and vector stamps, and writes it. The caller has ticked.
func (r *Runtime) record(e trace.Event) {
	if e.Node == 0 {
		e.Node = r.id
	}
	if e.T == 0 {
		e.T = time.Since(r.epoch).Nanoseconds()
		e.Local = e.T
	}
	if e.Kind.Stamped() {
		// No copy of the vector: write encodes e before it returns.
		e.Lamport = r.stamp.Lamport
		e.Vector = r.stamp.Vector
	}
	if err := r.tf.write(e); err != nil && !errors.Is(err, os.ErrClosed) {
		r.metrics.traceErrors.Inc()
	}
}

// ---- ordo.Env, called only from the loop goroutine ----

func (r *Runtime) ID() ordo.NodeID      { return r.id }
func (r *Runtime) Peers() []ordo.NodeID { return r.peers }
func (r *Runtime) Now() time.Time       { return r.clock.Now() }

// Monotonic reads the OS monotonic clock (time since the node's first
// reading), scaled by a configured drift (clock.go).
func (r *Runtime) Monotonic() time.Duration { return r.clock.Monotonic() }

// Roster is the cluster's roster.
func (r *Runtime) Roster() *ordo.Roster { return r.roster }
func (r *Runtime) Rand() *rand.Rand     { return r.rng }
func (r *Runtime) Store() ordo.Storage  { return r.store }

func (r *Runtime) Send(to ordo.NodeID, m ordo.Message) { r.send(to, m, false) }

// SendEarly implements ordo.EarlySender: m goes to the transport now, not
// after the turn's fsync (the sender promised it states nothing the
// turn's writes must back).
func (r *Runtime) SendEarly(to ordo.NodeID, m ordo.Message) { r.send(to, m, true) }

// AfterSync implements ordo.SyncNotifier: t fires once the writes made so
// far are durable, released by the group commit like a held send.
func (r *Runtime) AfterSync(t ordo.Timer) { r.gc.hold(outbound{timer: &t}) }

func (r *Runtime) send(to ordo.NodeID, m ordo.Message, early bool) {
	if IsGateway(to) {
		r.sendGateway(to, m, early) // a reply to a client call (gateway.go)
		return
	}
	if r.isService(to) {
		r.sendService(to, m, early) // through the adapter (service_runtime.go)
		return
	}
	if to == r.id || to < 1 || int(to) > r.n {
		panic(fmt.Sprintf("live: %v sends %s to %v: not a peer", r.id, m.Kind(), to))
	}
	if r.byz.cur.Load() != nil && r.lieSend(to, m, early) {
		return // a Byzantine node's lie (byzantine.go)
	}
	r.sendBytes(to, m.Kind(), r.encode(m), early, sendHonest, 0)
}

// encode is m in the codec's bytes, within ordo.MaxMessageSize.
func (r *Runtime) encode(m ordo.Message) []byte {
	payload, err := r.codec.Encode(m)
	if err != nil {
		panic(fmt.Sprintf("live: %v cannot encode %s: %v", r.id, m.Kind(), err))
	}
	if len(payload) > ordo.MaxMessageSize {
		panic(fmt.Sprintf("live: %v sends %s of %d bytes, bound is %d", r.id, m.Kind(), len(payload), ordo.MaxMessageSize))
	}
	return payload
}

// How sendBytes sends: honestly, not at all (a silent liar), or as
// another sender (a forging liar).
const (
	sendHonest = iota
	sendSilent
	sendForged
)

// sendBytes is one send of payload to peer to: a message id, the send
// event, then the turn's hold (or the early list). It returns the
// message id.
func (r *Runtime) sendBytes(to ordo.NodeID, kind string, payload []byte, early bool, how int, as ordo.NodeID) uint64 {
	r.msgSeq++
	if r.msgSeq >= 1<<40 {
		panic("live: message sequence exhausted")
	}
	id := uint64(r.id)<<40 | r.msgSeq
	r.stamp.Tick()
	e := trace.Event{Kind: trace.Send, Peer: to, Msg: id, MsgKind: kind, Bytes: len(payload)}
	if r.cfg.KeepMessages {
		e.Body = r.body(kind, payload)
	}
	r.record(e)
	if r.guardSend(to, id, kind, len(payload)) {
		return id // fenced after losing its disk (amnesia.go)
	}
	if how == sendSilent {
		r.onDrop(transport.Dropped{From: r.id, To: to, Msg: id, Kind: kind, Bytes: len(payload), Reason: adversary.DropSilent})
		return id
	}
	env := transport.Envelope{From: r.id, To: to, Msg: id, Kind: kind, Lamport: r.stamp.Lamport, Vector: slices.Clone(r.stamp.Vector), Payload: payload}
	o := outbound{env: env}
	if how == sendForged {
		o.forge = as
	}
	if early {
		r.early = append(r.early, o) // leaves at the end of the turn, before its fsync
		return id
	}
	// Held until the turn's fsync (endTurn): the durability contract. The
	// vector is copied, the stamper moves on.
	r.gc.hold(o)
	return id
}

// MaxKeptMessageBytes bounds the message bodies one boot of a node keeps
// in its trace (Config.KeepMessages): the simulator's bound of a run.
const MaxKeptMessageBytes = sim.MaxKeptMessageBytes

// body is the message in payload as JSON for its send event
// (Config.KeepMessages): decoded from the bytes that leave, so a lie is
// kept as told. nil for bytes the codec refuses (garbage, flipped bits:
// no message to show) and past the bounds.
func (r *Runtime) body(kind string, payload []byte) *json.RawMessage {
	m, err := r.codec.Decode(kind, payload)
	if err != nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > trace.MaxBody || r.kept+len(b) > MaxKeptMessageBytes {
		return nil
	}
	r.kept += len(b)
	raw := json.RawMessage(b)
	return &raw
}

func (r *Runtime) After(d time.Duration, t ordo.Timer) {
	if d < 0 {
		panic(fmt.Sprintf("live: %v arms timer %v with negative duration %v", r.id, t, d))
	}
	if len(r.timers) >= MaxTimers {
		panic(fmt.Sprintf("live: %v has %d timers armed; bound is %d", r.id, len(r.timers), MaxTimers))
	}
	r.seqTimer++
	heap.Push(&r.timers, armed{at: time.Now().Add(r.clock.Real(d)), seq: r.seqTimer, t: t})
	r.metrics.timers.Set(float64(len(r.timers)))
}

func (r *Runtime) Note(kind string, attrs ...any) {
	r.stamp.Tick()
	a := trace.MakeAttrs(attrs)
	r.record(trace.Event{Kind: trace.Note, Name: kind, Attrs: a})
	r.observeNote(kind, a)
}

// observeNote keeps the role, term and leader the admin status shows, as
// the election package reads the node's role notes.
func (r *Runtime) observeNote(kind string, a trace.Attrs) {
	if !election.IsRoleNote(kind) {
		return
	}
	r.statusMu.Lock()
	defer r.statusMu.Unlock()
	s := &r.status
	before := *s
	s.Observe(r.id, kind, a)
	if s.Elections > before.Elections {
		r.metrics.elections.Inc()
	}
	if s.LeaderChanges > before.LeaderChanges {
		r.metrics.leaderChanges.Inc()
	}
	r.metrics.term.Set(float64(s.Term))
	if s.Leading() {
		r.metrics.isLeader.Set(1)
	} else {
		r.metrics.isLeader.Set(0)
	}
}

// ---- timers ----

type armed struct {
	at  time.Time
	seq uint64 // ties fire in the order armed
	t   ordo.Timer
}

type timerHeap []armed

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(armed)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
