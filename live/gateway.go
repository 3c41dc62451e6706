package live

// The client gateway: how a request that arrives over HTTP becomes an event
// of the node's deterministic loop, and how the node's answer goes back.
//
// A call injects one message into the event loop as if a node with a fresh
// gateway id (>= GatewayBase, never a peer, never reused) had sent it; the
// protocol answers with env.Send(from, reply) like to any other node. Such a
// send is held until the fsync of the turn's writes (groupCommit), as every
// send is: a reply never precedes the durability of the writes it depends
// on (ordo.Storage's contract). It is then handed to the waiting call, not
// to the transport.

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"

	"ordo"
	"ordo/adversary"
	"ordo/live/transport"
	"ordo/trace"
)

// GatewayBase is the first gateway id. A message from an id >= GatewayBase
// came from a client API call, and a send to one answers that call; no peer
// ever has such an id (live clusters have at most MaxClusterNodes nodes).
const GatewayBase ordo.NodeID = 1 << 20

// IsGateway reports whether id names a client API call rather than a node.
func IsGateway(id ordo.NodeID) bool { return id >= GatewayBase }

// DefaultClientCalls bounds the client API calls in flight on one node
// when Options.ClientCalls is 0; one more is refused with ErrBusy.
const DefaultClientCalls = 1024

// ClientTokenFileName is the file `ordo cluster up` writes the client
// API's bearer token to, beside the cluster file, mode 0600.
const ClientTokenFileName = "client.token"

// Caller injects m into the node's event loop as a message from a fresh
// gateway id and returns the node's first send to that id. It returns an
// error (a *GatewayError, or ctx's error) when no answer comes: see the
// GatewayError values for what each says about the outcome.
type Caller func(ctx context.Context, m ordo.Message) (ordo.Message, error)

// GatewayError is why a call got no answer. Status is the HTTP status the
// client API answers with.
type GatewayError struct {
	Status int
	Msg    string
}

func (e *GatewayError) Error() string { return e.Msg }

// HTTPStatus is the status code a client API answers with.
func (e *GatewayError) HTTPStatus() int { return e.Status }

// The gateway's errors.
var (
	// ErrBusy: too many calls in flight; nothing was injected (429).
	ErrBusy = &GatewayError{http.StatusTooManyRequests, "node busy: too many client calls in flight"}
	// ErrShuttingDown: the node is stopping or stopped; nothing was
	// injected (503).
	ErrShuttingDown = &GatewayError{http.StatusServiceUnavailable, "node shutting down"}
	// ErrInboxFull: the event loop's inbox stayed full until the call's
	// context ended; nothing was injected (503).
	ErrInboxFull = &GatewayError{http.StatusServiceUnavailable, "node overloaded: its event loop's inbox stayed full"}
	// ErrNoAnswer: the node stopped after the message was injected and
	// before it answered: a write's outcome is unknown (504; the client
	// APIs say so for writes, and answer a read 503: it changed nothing).
	ErrNoAnswer = &GatewayError{http.StatusGatewayTimeout, "node stopped before answering"}
	// ErrFenced: the node lost its disk and listens only (amnesia.go); it
	// dropped its answer (503).
	ErrFenced = &GatewayError{http.StatusServiceUnavailable, "node restarted without its store and answers nobody yet"}
)

// Gateway is what Options.ClientAPI is handed to build the client API: the
// Caller and what the API may say about the node.
type Gateway struct {
	r *Runtime

	max    int
	mu     sync.Mutex
	closed bool
	next   uint64
	calls  map[ordo.NodeID]waiter // waiting calls

	late     prometheus.Counter
	lateN    atomic.Uint64 // late's count, for Late
	refused  *prometheus.CounterVec
	inflight atomic.Int64
}

// waiter is one call waiting for its answer: ch gets it (nil: failed,
// fenced); a call of a CallMany of several also counts down its batch,
// whose caller wakes once, when the last answer is in.
type waiter struct {
	ch    chan ordo.Message // buffered: deliver never blocks
	batch *batchWait
}

// batchWait is a CallMany's count of answers still to come.
type batchWait struct {
	left atomic.Int64
	all  chan struct{} // closed when left reaches 0
}

// Late counts the answers dropped because their caller had given up.
func (g *Gateway) Late() uint64 { return g.lateN.Load() }

func newGateway(r *Runtime, max int) *Gateway {
	if max <= 0 {
		max = DefaultClientCalls
	}
	g := &Gateway{r: r, max: max, calls: map[ordo.NodeID]waiter{}}
	g.late = prometheus.NewCounter(prometheus.CounterOpts{Name: "ordo_client_late_replies_total", Help: "Replies to client calls whose caller had given up (context ended): dropped."})
	g.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordo_client_refused_total", Help: "Client calls refused before reaching the node, by reason."}, []string{"reason"})
	r.metrics.reg.MustRegister(g.late, g.refused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ordo_client_calls_in_flight", Help: "Client API calls waiting for the node's answer."}, func() float64 { return float64(g.inflight.Load()) }))
	return g
}

// ID is the node's id.
func (g *Gateway) ID() ordo.NodeID { return g.r.id }

// Status is the node's status (role, term, leader), as the admin endpoint
// shows it.
func (g *Gateway) Status() Status { return g.r.Status() }

// ClientAddr is node id's client API address from the cluster file ("" if
// it has none): what a not-leader answer names for the client to follow.
func (g *Gateway) ClientAddr(id ordo.NodeID) string {
	nc, err := g.r.cfg.Node(id)
	if err != nil {
		return ""
	}
	return nc.Client
}

// TLS reports whether the client API is served over TLS.
func (g *Gateway) TLS() bool { return g.r.cfg.TLS }

// Call is the node's Caller (see Caller).
func (g *Gateway) Call(ctx context.Context, m ordo.Message) (ordo.Message, error) {
	if m == nil {
		return nil, errors.New("live: gateway call without a message")
	}
	reps, errs := g.CallMany(ctx, []ordo.Message{m})
	return reps[0], errs[0]
}

// MaxCallBatch bounds the messages of one CallMany.
const MaxCallBatch = 1024

// CallMany is Call for several messages at once: they enter the event loop
// together, as consecutive events of one turn, so that they share its
// fsync and its messages to peers (a Raft leader proposes them in one
// AppendEntries): what a client that batches its requests is after. It
// returns each message's answer or error at the same index, as Call would
// have (ErrBusy for those beyond the node's bound of calls in flight),
// once every message is answered or ctx has ended. msgs holds 1 to
// MaxCallBatch messages, none nil.
func (g *Gateway) CallMany(ctx context.Context, msgs []ordo.Message) ([]ordo.Message, []error) {
	if len(msgs) == 0 || len(msgs) > MaxCallBatch {
		panic(fmt.Sprintf("live: CallMany of %d messages (1..%d)", len(msgs), MaxCallBatch))
	}
	reps := make([]ordo.Message, len(msgs))
	errs := make([]error, len(msgs))
	select {
	case <-g.r.done:
		for i := range errs {
			errs[i] = ErrShuttingDown
		}
		return reps, errs
	default:
	}
	ids := make([]ordo.NodeID, len(msgs))
	chans := make([]chan ordo.Message, len(msgs))
	batch := make([]inbound, 0, len(msgs))
	var bw *batchWait
	if len(msgs) > 1 {
		// The caller wakes once for the batch, not once an answer.
		bw = &batchWait{all: make(chan struct{})}
	}
	g.mu.Lock()
	for i, m := range msgs {
		if m == nil {
			g.mu.Unlock()
			panic("live: gateway call without a message")
		}
		switch {
		case g.closed:
			errs[i] = ErrShuttingDown
			g.refused.WithLabelValues("shutting-down").Inc()
			continue
		case len(g.calls) >= g.max:
			errs[i] = ErrBusy
			g.refused.WithLabelValues("busy").Inc()
			continue
		}
		g.next++
		if g.next >= 1<<40 {
			panic("live: gateway ids exhausted")
		}
		ids[i] = GatewayBase + ordo.NodeID(g.next)
		chans[i] = make(chan ordo.Message, 1)
		g.calls[ids[i]] = waiter{ch: chans[i], batch: bw}
		if bw != nil {
			bw.left.Add(1)
		}
		batch = append(batch, inbound{env: transport.Envelope{From: ids[i], To: g.r.id, Kind: m.Kind()}, msg: m, gateway: true})
	}
	g.mu.Unlock()
	if len(batch) == 0 {
		return reps, errs
	}
	g.inflight.Add(int64(len(batch)))
	defer g.inflight.Add(-int64(len(batch)))
	forgetAll := func(err error) {
		for i, id := range ids {
			if id != 0 {
				g.forget(id)
				errs[i] = err
			}
		}
	}
	in := inbound{many: batch}
	if len(batch) == 1 {
		in = batch[0]
	}
	select {
	case g.r.inbox <- in:
	case <-ctx.Done():
		g.refused.WithLabelValues("inbox-full").Add(float64(len(batch)))
		forgetAll(fmt.Errorf("%w (%w)", ErrInboxFull, ctx.Err()))
		return reps, errs
	case <-g.r.stop:
		forgetAll(ErrShuttingDown)
		return reps, errs
	}
	if bw != nil {
		// Until every answer is in (or the call gives up: then each is
		// collected or forgotten below, as for a single call).
		select {
		case <-bw.all:
		case <-ctx.Done():
		case <-g.r.done:
		}
	}
	for i, ch := range chans {
		if ch == nil {
			continue
		}
		select {
		case rep := <-ch:
			reps[i], errs[i] = answer(rep)
		case <-ctx.Done():
			if !g.forget(ids[i]) {
				reps[i], errs[i] = answer(<-ch)
			} else {
				errs[i] = ctx.Err()
			}
		case <-g.r.done:
			if !g.forget(ids[i]) {
				reps[i], errs[i] = answer(<-ch)
			} else {
				errs[i] = ErrNoAnswer
			}
		}
	}
	return reps, errs
}

func answer(rep ordo.Message) (ordo.Message, error) {
	if rep == nil {
		return nil, ErrFenced
	}
	return rep, nil
}

// forget removes a call that gives up; false if its answer was delivered
// meanwhile (then it is in the call's channel).
func (g *Gateway) forget(id ordo.NodeID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.calls[id]; !ok {
		return false
	}
	delete(g.calls, id)
	return true
}

// deliver hands a released reply to its call (from the event loop, or
// the store's syncer releasing it directly: g.mu guards the calls); a
// reply nobody waits for any more is dropped, counted and traced.
func (g *Gateway) deliver(o outbound) {
	g.mu.Lock()
	w, ok := g.calls[o.env.To]
	if ok {
		delete(g.calls, o.env.To)
	}
	g.mu.Unlock()
	if !ok {
		g.late.Inc()
		g.lateN.Add(1)
		g.r.record(trace.Event{Kind: trace.Drop, Node: g.r.id, Peer: o.env.To, Msg: o.env.Msg, MsgKind: o.env.Kind, Name: "client-gone"})
		return
	}
	w.ch <- o.reply // buffered: never blocks
	if w.batch != nil && w.batch.left.Add(-1) == 0 {
		close(w.batch.all)
	}
}

// close refuses new calls (a stopping node).
func (g *Gateway) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// outbound is what a turn holds until its fsync: a message for the
// transport, or (env.To a gateway id) a reply to a client call.
type outbound struct {
	env   transport.Envelope
	reply ordo.Message
	timer *ordo.Timer // an AfterSync wake-up (runtime.go)
	forge ordo.NodeID // a Byzantine node's forged sender (byzantine.go)
}

// sendGateway is Send to a gateway id (loop goroutine): traced like any
// send and held for the turn's fsync, unless sent early (SendEarly: the
// reply depends on nothing the turn wrote).
func (r *Runtime) sendGateway(to ordo.NodeID, m ordo.Message, early bool) {
	if r.gw == nil {
		panic(fmt.Sprintf("live: %v sends %s to gateway id %d without a client API", r.id, m.Kind(), int(to)))
	}
	silent := false
	if r.byz.cur.Load() != nil {
		m, silent = r.lieToClient(to, m) // a liar lies to its clients too (byzantine.go)
	}
	size, _ := r.codec.Size(m) // 0 for a kind the codec does not know: the reply never travels encoded
	r.msgSeq++
	if r.msgSeq >= 1<<40 {
		panic("live: message sequence exhausted")
	}
	id := uint64(r.id)<<40 | r.msgSeq
	r.stamp.Tick()
	r.record(trace.Event{Kind: trace.Send, Peer: to, Msg: id, MsgKind: m.Kind(), Bytes: size})
	if silent {
		// The call gets no answer: it times out, as a client of a
		// silent replica does.
		r.record(trace.Event{Kind: trace.Drop, Node: r.id, Peer: to, Msg: id, MsgKind: m.Kind(), Bytes: size, Name: adversary.DropSilent})
		return
	}
	if r.guardSend(to, id, m.Kind(), size) {
		// Fenced after losing its disk: the call fails now rather than
		// wait for its deadline.
		r.gw.deliver(outbound{env: transport.Envelope{From: r.id, To: to, Msg: id, Kind: m.Kind()}})
		return
	}
	o := outbound{env: transport.Envelope{From: r.id, To: to, Msg: id, Kind: m.Kind()}, reply: m}
	if early {
		r.early = append(r.early, o) // at the end of the turn, before its fsync
		return
	}
	r.gc.hold(o)
}

// receiveGateway runs one injected call as an event. No stamped message
// arrives (a client is outside the cluster's clocks): the receive ticks
// like a local event, with message id 0, as a runtime hint does.
func (r *Runtime) receiveGateway(in inbound) {
	size, _ := r.codec.Size(in.msg)
	r.stamp.Tick()
	r.record(trace.Event{Kind: trace.Recv, Peer: in.env.From, MsgKind: in.env.Kind, Bytes: size})
	r.node.Receive(r, in.env.From, in.msg)
	if r.byz.seen != nil || r.byz.cur.Load() != nil {
		r.heard(in.msg) // a liar's book has the clients' requests too (byzantine.go)
	}
	r.store.EndBatch()
}

// release hands what a commit made durable on: a reply to its call, a
// message to the transport.
func (r *Runtime) release(o outbound) {
	if o.timer != nil {
		r.seqTimer++
		heap.Push(&r.timers, armed{at: time.Now(), seq: r.seqTimer, t: *o.timer})
		return
	}
	if IsGateway(o.env.To) {
		r.gw.deliver(o)
		return
	}
	if r.isService(o.env.To) {
		r.releaseService(o) // service_runtime.go
		return
	}
	if o.forge != 0 {
		if err := r.tr.SendForged(o.env, o.forge); err != nil {
			panic(fmt.Sprintf("live: %v forges %s: %v", r.id, o.env.Kind, err))
		}
		return
	}
	r.sendNow(o.env)
}

// releasesDirect reports whether the store's syncer may release o itself
// once its fsync has returned (groupCommit's direct release): a message
// for the transport or a reply to a client call, which touch nothing the
// loop owns. A timer (AfterSync) or a service's message waits for the
// loop.
func (r *Runtime) releasesDirect(o outbound) bool {
	return o.timer == nil && !r.isService(o.env.To)
}

// Bounds of the client API's HTTP server.
const (
	clientReadHeaderTimeout = 5 * time.Second
	clientIdleTimeout       = 2 * time.Minute
	clientMaxHeaderBytes    = 64 << 10
)

// Bounds a slow or idle client meets (variables for the tests).
var (
	// clientReadTimeout bounds reading one request, headers and body
	// (http.Server.ReadTimeout): a stalled body ends in a closed
	// connection, not a goroutine held forever. It ends once the body is
	// read (net/http clears the deadline when it starts its background
	// read for the next request), so a watch's long poll or a slow write
	// is not cut: kv/api's TestLongCallsOutliveReadTimeout pins that.
	clientReadTimeout = 10 * time.Second
	// clientMaxConns bounds the client API's open connections
	// (netutil.LimitListener): one more waits in the kernel's accept
	// queue until one closes, so slow or idle clients cannot take every
	// file descriptor and goroutine of the node.
	clientMaxConns = 1024
)

// startClientAPI serves o.ClientAPI's handler on the node's client address
// (TLS with the node's certificate when the cluster has TLS; the client
// token checked on every request when the cluster file names one).
func (r *Runtime) startClientAPI(nc NodeConfig, o Options) error {
	addr := nc.Client
	if o.ClientListen != "" {
		addr = o.ClientListen
	}
	if addr == "" {
		return fmt.Errorf("node %v serves a client API but has no client address (the cluster file's nodes[%d].client)", r.id, int(r.id)-1)
	}
	var token string
	if r.cfg.ClientToken != "" {
		var err error
		if token, err = readToken("client token", r.cfg.Path(r.cfg.ClientToken)); err != nil {
			return fmt.Errorf("node %v: %w", r.id, err)
		}
	} else {
		r.log.Warn("client API without a token: anyone who reaches its address may read and write (cluster file has no client_token)")
	}
	r.gw = newGateway(r, o.ClientCalls)
	h := o.ClientAPI(r.gw)
	ln, err := listenClient(addr)
	if err != nil {
		return fmt.Errorf("client API of %v: %w", r.id, err)
	}
	ln = netutil.LimitListener(ln, clientMaxConns) // counts TCP connections, TLS or not
	if r.cfg.TLS {
		f := transport.TLSFilesIn(r.cfg.Path(r.cfg.TLSDir), r.id)
		tc, err := transport.LoadTLS(f)
		if err != nil {
			ln.Close()
			return err
		}
		// Clients authenticate with the token, not a certificate: the
		// server proves itself with the node's CA-issued certificate.
		tc.ClientAuth, tc.ClientCAs = tls.NoClientCert, nil
		tc.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, tc)
	}
	r.clientLn = ln
	r.client = &http.Server{Handler: clientGuard(h, token), ReadHeaderTimeout: clientReadHeaderTimeout,
		ReadTimeout: clientReadTimeout, IdleTimeout: clientIdleTimeout, MaxHeaderBytes: clientMaxHeaderBytes,
		// Handshake failures and the like are the clients' doing: debug.
		ErrorLog: slog.NewLogLogger(r.log.Handler(), slog.LevelDebug)}
	return nil
}

// ClientAddr is the client API's address ("" without one).
func (r *Runtime) ClientAddr() string {
	if r.clientLn == nil {
		return ""
	}
	return r.clientLn.Addr().String()
}

// clientGuard checks the bearer token (401) before the API sees a request.
func clientGuard(next http.Handler, token string) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !bearerMatches(req, want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ordo"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			// The client API's error shape (kv/api's Response), with a
			// status of its own: the request was fine, its token was not.
			fmt.Fprintln(w, `{"status":"unauthorized","error":"missing or wrong client token (the cluster's client.token)"}`)
			return
		}
		next.ServeHTTP(w, req)
	})
}

var (
	clientAPIsMu sync.Mutex
	clientAPIs   = map[string]func(*Gateway) http.Handler{}
)

// RegisterClientAPI names the client API the servers of protocol serve
// (cmd/ordo registers kv's): `ordo node` serves it (Options.ClientAPI) and
// Up gives every server a client address and the cluster a client token.
// It panics on a second registration for one protocol, a programming
// error caught at init.
func RegisterClientAPI(protocol string, api func(*Gateway) http.Handler) {
	clientAPIsMu.Lock()
	defer clientAPIsMu.Unlock()
	if _, dup := clientAPIs[protocol]; dup || api == nil {
		panic("live: client API registered twice or nil: " + protocol)
	}
	clientAPIs[protocol] = api
}

// ClientAPIOf is the client API registered for protocol, or nil.
func ClientAPIOf(protocol string) func(*Gateway) http.Handler {
	clientAPIsMu.Lock()
	defer clientAPIsMu.Unlock()
	return clientAPIs[protocol]
}

// clientFDEnv names the client API listener a netns supervisor passes
// (inheritClientListener): a node in its own network namespace serves
// clients on the host's loopback, where they run, and outside the
// kernel's partition rules, as a client the partition does not name.
const clientFDEnv = "ORDO_CLIENT_FD"

// inheritClientListener binds addr in this (the host's) namespace and
// passes it to cmd as an extra descriptor named by ORDO_CLIENT_FD.
func inheritClientListener(cmd *exec.Cmd, addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("client API address %s: %w", addr, err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close() // f holds its own descriptor of the socket
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", clientFDEnv, 2+len(cmd.ExtraFiles)))
	return func() { f.Close() }, nil
}

// listenClient binds the client API's address, or takes the listener
// passed as ORDO_CLIENT_FD (which must listen on addr).
func listenClient(addr string) (net.Listener, error) {
	v := os.Getenv(clientFDEnv)
	if v == "" {
		return net.Listen("tcp", addr)
	}
	os.Unsetenv(clientFDEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 || fd > 1024 {
		return nil, fmt.Errorf("%s=%q: not an inherited descriptor", clientFDEnv, v)
	}
	f := os.NewFile(uintptr(fd), "client")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s=%d: %w", clientFDEnv, fd, err)
	}
	if ln.Addr().String() != addr {
		ln.Close()
		return nil, fmt.Errorf("%s=%d listens on %s, the cluster file says %s", clientFDEnv, fd, ln.Addr(), addr)
	}
	return ln, nil
}
