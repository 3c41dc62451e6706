package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ordo"
	"ordo/internal/plural"
)

// Config configures one node's transport.
type Config struct {
	ID     ordo.NodeID
	N      int                    // cluster size; vectors have N entries
	Listen string                 // host:port to accept peers on
	Peers  map[ordo.NodeID]string // every other node's address
	TLS    *tls.Config            // mutual TLS when set
	Codec  *ordo.Codec            // the one codec of both runtimes
	Log    *slog.Logger
	Seed   uint64 // for backoff jitter and random loss
	// QueueLen bounds each peer's send queue (default 1024).
	QueueLen int
	// Deliver hands a received message to the node. It is called from
	// connection goroutines and may block (backpressure on that peer).
	// e.Payload aliases the connection's read buffer: it is valid only
	// until Deliver returns.
	Deliver func(e Envelope, m ordo.Message)
	// OnDrop reports a message the transport or its fault layer dropped.
	// Called from any goroutine.
	OnDrop func(d Dropped)
	// OnTraffic counts a message sent or received. Called from any goroutine.
	OnTraffic func(dir Direction, kind string, bytes int)
	// OnRefused counts a connection refused (bad certificate, bad hello,
	// undecodable frame).
	OnRefused func(reason string)
	// OnPeerDown reports a peer whose process is gone: a connection to or
	// from it closed and an immediate redial was refused (ECONNREFUSED:
	// its host answered, nothing listens). Once per loss; re-armed when a
	// connection with the peer is established again. A partition of the
	// fault layer closes nothing and so never reports. Called from the
	// peer's dial goroutine; it may block briefly.
	OnPeerDown func(id ordo.NodeID)
}

// Direction of traffic, for metrics.
type Direction string

const (
	Out Direction = "out"
	In  Direction = "in"
)

// Dropped describes one dropped message.
type Dropped struct {
	From, To ordo.NodeID
	Msg      uint64
	Kind     string
	Bytes    int
	Reason   string
}

// Drop reasons, which label the drop events of traces and metrics.
const (
	ReasonPartitionOut = "fault: blocked outbound"
	ReasonPartitionIn  = "fault: blocked inbound"
	ReasonLoss         = "fault: random loss"
	ReasonUnreachable  = "peer unreachable"
	ReasonQueueFull    = "send queue full"
	ReasonConnLost     = "connection lost"
	// ReasonRejected prefixes the reason of a received message whose
	// payload did not decode ("rejected: truncated", "rejected: unknown
	// kind", ...: the ordo.DecodeError reasons, a fixed set).
	ReasonRejected = "rejected: "
)

// RejectReason is the drop reason for a payload the codec refused.
func RejectReason(err error) string {
	var de *ordo.DecodeError
	if errors.As(err, &de) {
		return ReasonRejected + de.Reason
	}
	return ReasonRejected + "malformed"
}

// Timing of connections.
const (
	minBackoff       = 10 * time.Millisecond
	maxBackoff       = 500 * time.Millisecond
	dialTimeout      = time.Second
	handshakeTimeout = 3 * time.Second
	writeTimeout     = 2 * time.Second
	defaultQueueLen  = 1024
)

// Transport connects one node to its peers: one outbound connection per peer
// carries this node's messages, and peers' connections carry theirs in.
type Transport struct {
	cfg    Config
	ln     net.Listener
	peers  map[ordo.NodeID]*peer
	ids    []ordo.NodeID
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	conns  map[net.Conn]struct{} // every open connection, to close on Close
	slots  chan struct{}         // bounds inbound connections
	// unauth lists the inbound connections not yet through their
	// handshake and hello, oldest first (takeSlot).
	unauth []*inConn
	// forging bounds the forged connections in flight (SendForged).
	forging chan struct{}
}

type peer struct {
	id        ordo.NodeID
	addr      string
	q         chan outFrame
	connected atomic.Bool
	inbound   atomic.Int32
	lastErr   atomic.Pointer[string]
	// armed: a connection with the peer has existed since the last
	// PeerDown, so losing it may report one. lost wakes the dial loop
	// when an inbound connection from the peer ends.
	armed atomic.Bool
	lost  chan struct{}
	// Direct sends (sendDirect). smu orders Send's frames: it is held
	// to enqueue and to write directly, never while the writer writes.
	// raw is the current connection's socket when it is plain TCP (nil
	// with TLS or no connection; set and cleared under smu), and queued
	// counts the frames in q or in the writer's hands (the writer
	// decrements it once a frame is written). A frame skips the queue
	// only when queued is 0 under smu, so the writer is idle and the
	// connection keeps the order of Send.
	smu    sync.Mutex
	raw    syscall.RawConn
	queued atomic.Int64
	// in: its inbound connections through their hello, oldest first
	// (t.mu), at most maxInboundPerPeer.
	in []net.Conn
}

// inConn is an accepted connection that knows whether its peer has sent
// anything yet (a peer's TLS client hello, or plain hello, leaves at
// once; an idle flood's connection sends nothing), and whether takeSlot
// closed it to make room.
type inConn struct {
	net.Conn
	heard, evicted atomic.Bool
}

func (c *inConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.heard.Store(true)
	}
	return n, err
}

// maxInboundPerPeer bounds one peer's authenticated inbound connections:
// its current one and the one it replaces, which may not have failed yet
// (a half-open connection). A newer one closes the oldest, so a peer (a
// Byzantine replica has a certificate too) cannot fill the slots.
const maxInboundPerPeer = 2

type outFrame struct {
	frame []byte
	due   time.Time
	msg   uint64
	kind  string
	bytes int
}

// Listen binds the node's address and starts connecting to its peers.
func Listen(cfg Config) (*Transport, error) {
	if cfg.Codec == nil || cfg.Deliver == nil {
		return nil, errors.New("transport: Config needs Codec and Deliver")
	}
	if cfg.ID < 1 || int(cfg.ID) > cfg.N || cfg.N > MaxNodes {
		return nil, fmt.Errorf("transport: node %d out of 1..%d", cfg.ID, cfg.N)
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = defaultQueueLen
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.OnDrop == nil {
		cfg.OnDrop = func(Dropped) {}
	}
	if cfg.OnTraffic == nil {
		cfg.OnTraffic = func(Direction, string, int) {}
	}
	if cfg.OnRefused == nil {
		cfg.OnRefused = func(string) {}
	}
	if cfg.OnPeerDown == nil {
		cfg.OnPeerDown = func(ordo.NodeID) {}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("transport: %v listens: %w", cfg.ID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		cfg: cfg, ln: ln, peers: map[ordo.NodeID]*peer{}, ctx: ctx, cancel: cancel,
		rng:     rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.ID))),
		conns:   map[net.Conn]struct{}{},
		slots:   make(chan struct{}, 4*cfg.N+8),
		forging: make(chan struct{}, maxForging),
	}
	for id, addr := range cfg.Peers {
		if id < 1 || int(id) > cfg.N || id == cfg.ID {
			ln.Close()
			cancel()
			return nil, fmt.Errorf("transport: peer %d out of 1..%d or self", id, cfg.N)
		}
		t.peers[id] = &peer{id: id, addr: addr, q: make(chan outFrame, cfg.QueueLen), lost: make(chan struct{}, 1)}
		t.ids = append(t.ids, id)
	}
	sort.Slice(t.ids, func(i, j int) bool { return t.ids[i] < t.ids[j] })
	t.wg.Add(1)
	go t.accept()
	for _, id := range t.ids {
		t.wg.Add(1)
		go t.dialLoop(t.peers[id])
	}
	return t, nil
}

// Addr is the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Close stops every goroutine and closes every connection. Messages still
// queued are dropped.
func (t *Transport) Close() error {
	t.cancel()
	err := t.ln.Close()
	t.mu.Lock()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	return err
}

func (t *Transport) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		c.Close()
		return false
	}
	t.conns[c] = struct{}{}
	if ic, ok := c.(*inConn); ok {
		t.unauth = append(t.unauth, ic)
	}
	return true
}

func (t *Transport) untrack(c net.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.conns, c)
	t.authenticated(c)
	t.mu.Unlock()
}

// takeSlot takes an inbound slot for a new connection. With every slot
// taken it closes the oldest connection not yet through its handshake
// and hello that has sent nothing at all, and waits for its slot: a process holding idle connections
// (no certificate needed) otherwise filled the slots and kept restarted
// peers out for as long as it held them (a fresh user's trial: 64 idle
// connections a port; the handshake timeout did not help, the flood
// reconnected). A peer's handshake takes milliseconds; the flood's idle
// connections are the oldest. False when no connection can be closed so
// (the caller refuses the new one). A flood that dials faster than
// handshakes end can still crowd peers out: denial of service is not
// defended (docs/live.md), this only ends the cheap idle one.
func (t *Transport) takeSlot() bool {
	select {
	case t.slots <- struct{}{}:
		return true
	default:
	}
	t.mu.Lock()
	i := slices.IndexFunc(t.unauth, func(c *inConn) bool { return !c.heard.Load() })
	if i < 0 {
		t.mu.Unlock()
		return false
	}
	oldest := t.unauth[i]
	t.unauth = slices.Delete(t.unauth, i, i+1)
	oldest.evicted.Store(true)
	t.mu.Unlock()
	t.cfg.OnRefused("too many connections: the oldest unauthenticated closed")
	oldest.Close() // its serve returns and frees its slot
	select {
	case t.slots <- struct{}{}:
		return true
	case <-t.ctx.Done():
		return false
	case <-time.After(handshakeTimeout):
		return false
	}
}

// authenticated takes c off the unauthenticated list (t.mu held).
func (t *Transport) authenticated(c net.Conn) {
	if i := slices.IndexFunc(t.unauth, func(u *inConn) bool { return net.Conn(u) == c }); i >= 0 {
		t.unauth = slices.Delete(t.unauth, i, i+1)
	}
}

// SetFaults replaces the fault layer's setting.
func (t *Transport) SetFaults(f Faults) error {
	if err := f.Validate(t.cfg.ID, t.cfg.N); err != nil {
		return err
	}
	t.mu.Lock()
	t.faults = f
	t.mu.Unlock()
	return nil
}

// Faults returns the fault layer's setting.
func (t *Transport) Faults() Faults {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.faults
}

// Send queues e for its destination. It never blocks: a message the fault
// layer blocks or loses, one for a peer that is not connected, and one that
// finds the peer's queue full is dropped and reported. An error means the
// envelope cannot be framed at all (a bug of the caller).
func (t *Transport) Send(e Envelope) error {
	p, f, d, err := t.prepare(e, true)
	if err != nil || d.Reason != "" {
		return err
	}
	p.smu.Lock()
	defer p.smu.Unlock()
	if f.due.IsZero() {
		if f = t.sendDirect(p, f); f.frame == nil {
			return nil
		}
	}
	p.queued.Add(1)
	select {
	case p.q <- f:
	default:
		p.queued.Add(-1)
		d.Reason = ReasonQueueFull
		t.cfg.OnDrop(d)
	}
	return nil
}

// sendDirect writes f on p's connection from the caller's goroutine
// (p.smu held) when the connection is plain TCP and the writer is idle
// with nothing queued, and returns what is left to queue: nothing (nil
// frame) once written, the unwritten rest, or f whole. One non-blocking
// write, so a peer that stopped reading cannot hold up the caller (the
// node's event loop or its store's syncer); the rest is queued ahead of
// everything else, the queue being empty. This saves the wake-up of the
// writer goroutine on a message's critical path (`ordo bench kv
// --rounds`: segment B's p50 fell from 370–440 to 260–300 µs at 16
// clients on a loaded 2-core machine).
func (t *Transport) sendDirect(p *peer, f outFrame) outFrame {
	if p.raw == nil || p.queued.Load() != 0 {
		return f
	}
	n := writeOnce(p.raw, f.frame)
	if n == 0 {
		// Nothing written (an expired deadline, a full socket, a broken
		// connection): the writer takes the frame as it would have.
		return f
	}
	if n < len(f.frame) {
		f.frame = f.frame[n:]
		return f
	}
	t.cfg.OnTraffic(Out, f.kind, f.bytes)
	return outFrame{}
}

// prepare is what Send and SendForged share: the peer, the frame, and the
// node's network faults' decision (d.Reason set: dropped and reported,
// nothing to send). needConn: the frame goes over the peer's connection,
// so it is unreachable while that is down (a forgery dials its own).
func (t *Transport) prepare(e Envelope, needConn bool) (*peer, outFrame, Dropped, error) {
	p := t.peers[e.To]
	if p == nil {
		return nil, outFrame{}, Dropped{}, fmt.Errorf("transport: %v has no peer %v", t.cfg.ID, e.To)
	}
	e.Version = Version
	frame, err := e.AppendFrame(nil)
	if err != nil {
		return nil, outFrame{}, Dropped{}, err
	}
	d := Dropped{From: t.cfg.ID, To: e.To, Msg: e.Msg, Kind: e.Kind, Bytes: len(e.Payload)}
	t.mu.Lock()
	blocked := t.faults.blocksOut(e.To)
	lost := !blocked && t.faults.Loss > 0 && t.rng.Float64() < t.faults.Loss
	delay := time.Duration(t.faults.Delay)
	t.mu.Unlock()
	switch {
	case blocked:
		d.Reason = ReasonPartitionOut
	case lost:
		d.Reason = ReasonLoss
	case needConn && !p.connected.Load():
		d.Reason = ReasonUnreachable
	}
	if d.Reason != "" {
		t.cfg.OnDrop(d)
		return p, outFrame{}, d, nil
	}
	f := outFrame{frame: frame, msg: e.Msg, kind: e.Kind, bytes: len(e.Payload)}
	if delay > 0 {
		f.due = time.Now().Add(delay)
	}
	return p, f, d, nil
}

// dialLoop keeps one outbound connection to p, reconnecting with
// exponential backoff and full jitter. After a lost connection (ours, or
// the peer's to us) the first redial is immediate: if the peer's host
// refuses it, its process is gone, which OnPeerDown reports (section 5:
// unlike a timeout, this tells a crash from a slow or cut-off node).
func (t *Transport) dialLoop(p *peer) {
	defer t.wg.Done()
	backoff := minBackoff
	for t.ctx.Err() == nil {
		// Only a dial begun while a connection had existed can report
		// its loss: one begun before the peer first answered (its
		// refusal delivered late, after the peer's own connection to us
		// armed the hint) says nothing about a process that died.
		armed := p.armed.Load()
		conn, err := t.dial(p)
		if err != nil {
			msg := err.Error()
			p.lastErr.Store(&msg)
			if errors.Is(err, syscall.ECONNREFUSED) && armed && p.armed.CompareAndSwap(true, false) {
				t.cfg.Log.Info("peer down: connection refused", "peer", int(p.id))
				t.cfg.OnPeerDown(p.id)
			}
			t.mu.Lock()
			wait := minBackoff/2 + time.Duration(t.rng.Int64N(int64(backoff)))
			t.mu.Unlock()
			backoff = min(2*backoff, maxBackoff)
			select {
			case <-t.ctx.Done():
			case <-time.After(wait):
			case <-p.lost:
				// The peer's connection to us ended: redial now.
			}
			continue
		}
		backoff = minBackoff
		p.lastErr.Store(nil)
		p.armed.Store(true)
		t.cfg.Log.Debug("connected", "peer", int(p.id), "addr", p.addr)
		t.writeLoop(p, conn)
		t.cfg.Log.Debug("disconnected", "peer", int(p.id))
	}
}

func (t *Transport) dial(p *peer) (net.Conn, error) { return t.dialAs(p, t.cfg.ID) }

// dialAs connects to p with this node's certificate and a hello that
// claims to be node as (this node, but for SendForged).
func (t *Transport) dialAs(p *peer, as ordo.NodeID) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(t.ctx, dialTimeout)
	defer cancel()
	d := net.Dialer{}
	raw, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if !t.track(raw) {
		return nil, context.Canceled
	}
	conn := raw
	if t.cfg.TLS != nil {
		c := t.cfg.TLS.Clone()
		c.ServerName = NodeName(p.id) // the server must be the node we dial
		tc := tls.Client(raw, c)
		hctx, hcancel := context.WithTimeout(t.ctx, handshakeTimeout)
		err := tc.HandshakeContext(hctx)
		hcancel()
		if err != nil {
			t.untrack(raw)
			return nil, fmt.Errorf("tls handshake with %v: %w", p.id, err)
		}
		conn = tc
	}
	hello := Envelope{Version: Version, From: as, To: p.id, Kind: HelloKind}
	frame, _ := hello.AppendFrame(nil)
	raw.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := conn.Write(frame); err != nil {
		t.untrack(raw)
		return nil, err
	}
	return &trackedConn{Conn: conn, raw: raw}, nil
}

// maxForging bounds the forged connections one node has in flight.
const maxForging = 4

// ReasonForgeBusy is the drop reason of a forged message that found
// maxForging forged connections in flight.
const ReasonForgeBusy = "byzantine: forge busy"

// SendForged sends e as if node as sent it (a Byzantine node's forge,
// live/byzantine.go): over a connection of its own whose hello claims
// as. A peer with mutual TLS refuses the connection, since the
// certificate names this node (counted by its OnRefused as "tls
// identity"); without TLS the peer believes the claim. It never blocks:
// the connection is made by a goroutine, at most maxForging at once (one
// more is dropped and reported).
func (t *Transport) SendForged(e Envelope, as ordo.NodeID) error {
	e.From = as
	// The liar's own network faults apply to its forgeries too: a cut
	// liar forges to nobody.
	p, f, d, err := t.prepare(e, false)
	if err != nil || d.Reason != "" {
		return err
	}
	frame := f.frame
	select {
	case t.forging <- struct{}{}:
	default:
		d.Reason = ReasonForgeBusy
		t.cfg.OnDrop(d)
		return nil
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer func() { <-t.forging }()
		if wait := time.Until(f.due); !f.due.IsZero() && wait > 0 {
			time.Sleep(wait) // the liar's delay fault, as Send's writer waits
		}
		conn, err := t.dialAs(p, as)
		if err != nil {
			d.Reason = ReasonUnreachable
			t.cfg.OnDrop(d)
			return
		}
		tc := conn.(*trackedConn)
		defer t.untrack(tc.raw)
		defer conn.Close()
		tc.raw.SetDeadline(time.Now().Add(writeTimeout))
		if _, err := conn.Write(frame); err != nil {
			return // refused already: the peer closed the connection
		}
		t.cfg.OnTraffic(Out, e.Kind, len(e.Payload))
		// Until the peer closes it (a refusal) or the deadline.
		io.Copy(io.Discard, io.LimitReader(conn, 1<<10))
	}()
	return nil
}

// trackedConn remembers the raw connection registered for Close.
type trackedConn struct {
	net.Conn
	raw net.Conn
}

// writeLoop writes p's queue to conn until the connection breaks or the
// transport closes. A reader on the same connection notices a peer that
// closed it (the peer never writes on it) so the state is right even when
// there is nothing to send.
func (t *Transport) writeLoop(p *peer, conn net.Conn) {
	tc := conn.(*trackedConn)
	defer t.untrack(tc.raw)
	broken := make(chan struct{})
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
		close(broken)
		conn.Close()
	}()
	direct := false
	if t.cfg.TLS == nil {
		if sc, ok := tc.raw.(syscall.Conn); ok {
			if rc, err := sc.SyscallConn(); err == nil {
				p.smu.Lock()
				p.raw = rc
				p.smu.Unlock()
				direct = true
			}
		}
	}
	// lost drops a frame taken from the queue, with the connection.
	lost := func(f outFrame) {
		p.queued.Add(-1) // no longer queued nor in hand
		t.cfg.OnDrop(Dropped{From: t.cfg.ID, To: p.id, Msg: f.msg, Kind: f.kind, Bytes: f.bytes, Reason: ReasonConnLost})
	}
	p.connected.Store(true)
	defer func() {
		p.smu.Lock()
		p.raw = nil
		p.smu.Unlock()
		p.connected.Store(false)
		conn.Close()
		<-broken
		// What was queued for this connection is lost with it.
		for {
			select {
			case f := <-p.q:
				lost(f)
			default:
				return
			}
		}
	}()
	var timer *time.Timer
	for {
		var f outFrame
		select {
		case <-t.ctx.Done():
			return
		case <-broken:
			return
		case f = <-p.q:
		}
		if wait := time.Until(f.due); !f.due.IsZero() && wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
				defer timer.Stop()
			} else {
				timer.Reset(wait)
			}
			select {
			case <-t.ctx.Done():
				lost(f) // the held frame, like those still queued
				return
			case <-broken:
				lost(f)
				return
			case <-timer.C:
			}
		}
		tc.raw.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := conn.Write(f.frame)
		if err == nil && direct {
			// A direct send's raw write would see an expired deadline.
			tc.raw.SetWriteDeadline(time.Time{})
		}
		if err != nil {
			msg := err.Error()
			p.lastErr.Store(&msg)
			lost(f)
			return
		}
		p.queued.Add(-1) // the connection is the direct sends' again
		t.cfg.OnTraffic(Out, f.kind, f.bytes)
	}
}

func (t *Transport) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.cfg.Log.Warn("accept failed", "err", err)
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		c = &inConn{Conn: c}
		if !t.takeSlot() {
			// More connections than a cluster of N needs, every one
			// through its handshake: refuse.
			t.cfg.OnRefused("too many connections")
			c.Close()
			continue
		}
		if !t.track(c) {
			<-t.slots
			continue
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer func() { <-t.slots }()
			defer t.untrack(c)
			if err := t.serve(c); err != nil && t.ctx.Err() == nil {
				t.cfg.Log.Info("inbound connection closed", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// refusal is an error that refused a connection.
type refusal struct {
	reason string
	err    error
}

func (r *refusal) Error() string { return r.reason + ": " + r.err.Error() }

func (t *Transport) refuse(reason string, err error) error {
	t.cfg.OnRefused(reason)
	return &refusal{reason, err}
}

// refuseConn is refuse for inbound connection c, which an eviction may
// have closed (counted then, as too many connections).
func (t *Transport) refuseConn(c net.Conn, reason string, err error) error {
	if ic, ok := c.(*inConn); ok && ic.evicted.Load() {
		return &refusal{"evicted", err}
	}
	return t.refuse(reason, err)
}

// serve reads one inbound connection: handshake, hello, then frames until
// the connection ends or a frame fails to decode, which closes it (and only
// it).
func (t *Transport) serve(raw net.Conn) error {
	conn := raw
	raw.SetDeadline(time.Now().Add(handshakeTimeout))
	var certID ordo.NodeID
	if t.cfg.TLS != nil {
		tc := tls.Server(raw, t.cfg.TLS)
		if err := tc.HandshakeContext(t.ctx); err != nil {
			return t.refuseConn(raw, "tls handshake", err)
		}
		id, err := peerIdentity(tc.ConnectionState())
		if err != nil {
			return t.refuseConn(raw, "tls identity", err)
		}
		certID = id
		conn = tc
	}
	buf, err := ReadFrame(conn, nil)
	if err != nil {
		return t.refuseConn(raw, "hello", err)
	}
	hello, err := DecodeFrame(buf)
	if err != nil {
		return t.refuseConn(raw, "hello", err)
	}
	p := t.peers[hello.From]
	switch {
	case hello.Kind != HelloKind:
		return t.refuseConn(raw, "hello", fmt.Errorf("first frame is %q, not a hello", hello.Kind))
	case p == nil:
		return t.refuseConn(raw, "hello", fmt.Errorf("node %d is not a peer of %v", hello.From, t.cfg.ID))
	case hello.To != t.cfg.ID:
		return t.refuseConn(raw, "hello", fmt.Errorf("hello addressed to %v, this is %v", hello.To, t.cfg.ID))
	case t.cfg.TLS != nil && certID != hello.From:
		return t.refuseConn(raw, "tls identity", fmt.Errorf("certificate of %v claims to be %v", certID, hello.From))
	}
	raw.SetDeadline(time.Time{})
	t.mu.Lock()
	t.authenticated(raw)
	p.in = append(p.in, raw)
	var replaced net.Conn
	if len(p.in) > maxInboundPerPeer {
		replaced, p.in = p.in[0], p.in[1:]
	}
	t.mu.Unlock()
	if replaced != nil {
		t.cfg.OnRefused("too many connections: a peer's oldest closed")
		replaced.Close()
	}
	defer func() {
		t.mu.Lock()
		if i := slices.Index(p.in, raw); i >= 0 {
			p.in = slices.Delete(p.in, i, i+1)
		}
		t.mu.Unlock()
	}()
	p.inbound.Add(1)
	p.armed.Store(true)
	defer func() {
		p.inbound.Add(-1)
		select {
		case p.lost <- struct{}{}:
		default:
		}
	}()
	for {
		buf, err = ReadFrame(conn, buf)
		if err != nil {
			if err == io.EOF || t.ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrFrameTooLarge) {
				return t.refuse("bad frame", err)
			}
			return err
		}
		e, err := DecodeFrame(buf)
		if err != nil {
			return t.refuse("bad frame", err)
		}
		if e.From != hello.From || e.To != t.cfg.ID {
			return t.refuse("bad frame", fmt.Errorf("frame %v→%v on the connection of %v→%v", e.From, e.To, hello.From, t.cfg.ID))
		}
		if len(e.Vector) != t.cfg.N {
			return t.refuse("bad frame", fmt.Errorf("vector of %s in a cluster of %d", plural.Count(len(e.Vector), "entry"), t.cfg.N))
		}
		t.mu.Lock()
		blocked := t.faults.blocksIn(e.From)
		t.mu.Unlock()
		if blocked {
			t.cfg.OnDrop(Dropped{From: e.From, To: t.cfg.ID, Msg: e.Msg, Kind: e.Kind, Bytes: len(e.Payload), Reason: ReasonPartitionIn})
			continue
		}
		m, err := t.cfg.Codec.Decode(e.Kind, e.Payload)
		if err != nil {
			// The frame is sound, its payload is not: reject this message,
			// counted by reason, and keep the connection (framing is
			// intact). Nothing half-decoded reaches the node.
			t.cfg.OnDrop(Dropped{From: e.From, To: t.cfg.ID, Msg: e.Msg, Kind: e.Kind, Bytes: len(e.Payload), Reason: RejectReason(err)})
			continue
		}
		t.cfg.OnTraffic(In, e.Kind, len(e.Payload))
		t.cfg.Deliver(e, m)
	}
}

// PeerStatus is one peer's connection state as the admin endpoint shows it.
type PeerStatus struct {
	ID         ordo.NodeID `json:"id"`
	Addr       string      `json:"addr"`
	Out        bool        `json:"out"`   // our connection to it is up
	In         int         `json:"in"`    // its connections to us
	Queue      int         `json:"queue"` // frames waiting to be written
	BlockedOut bool        `json:"blocked_out,omitempty"`
	BlockedIn  bool        `json:"blocked_in,omitempty"`
	LastError  string      `json:"last_error,omitempty"`
}

// Peers reports every peer's state, in id order.
func (t *Transport) Peers() []PeerStatus {
	f := t.Faults()
	out := make([]PeerStatus, 0, len(t.ids))
	for _, id := range t.ids {
		p := t.peers[id]
		s := PeerStatus{ID: id, Addr: p.addr, Out: p.connected.Load(), In: int(p.inbound.Load()), Queue: len(p.q),
			BlockedOut: f.blocksOut(id), BlockedIn: f.blocksIn(id)}
		if e := p.lastErr.Load(); e != nil && !s.Out {
			s.LastError = *e
		}
		out = append(out, s)
	}
	return out
}
