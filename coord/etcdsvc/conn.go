package etcdsvc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo"
	"ordo/coord"
	"ordo/live"
)

// Bounds of one connection.
const (
	// MaxQueue is how many requests wait for a worker; one more is
	// answered ErrUnavailable at once.
	MaxQueue = 256
	// Workers is how many calls to etcd one connection has in flight.
	Workers = 4
	// MaxWatches is how many watches one connection keeps pending.
	MaxWatches = 256
	// MaxEndpoints bounds the endpoints option.
	MaxEndpoints = 16
	// closeWait bounds how long Close waits for its goroutines.
	closeWait = 5 * time.Second
)

func init() {
	live.RegisterService(coord.Name, DialCoord)
	live.RegisterService(coord.FencedName, DialFenced)
}

// conn is one node's connection to etcd for one service node.
type conn struct {
	self, id ordo.NodeID
	cli      *clientv3.Client
	timeout  time.Duration
	deliver  func(ordo.Message) bool
	handle   func(ctx context.Context, m ordo.Message) ordo.Message
	watching bool // the coordination service: Watch and Unwatch are served
	health   *health

	ctx    context.Context
	cancel context.CancelFunc
	queue  chan ordo.Message
	refuse chan ordo.Message // answers made without etcd (queue full, bad request)
	wg     sync.WaitGroup

	mu      sync.Mutex
	watches map[uint64]context.CancelFunc

	// watchesSent counts the Watches taken, watchesRead those whose
	// first read is done (tests wait for it to order their next step).
	watchesSent, watchesRead atomic.Int64
}

// DialCoord is the live.ServiceDial of "coord".
func DialCoord(ctx context.Context, self, id ordo.NodeID, opts ordo.Options, deliver func(ordo.Message) bool) (live.ServiceConn, error) {
	c, err := dial(ctx, self, id, opts, deliver)
	if err != nil {
		return nil, err
	}
	c.handle, c.watching = c.coordCall, true
	c.run()
	return c, nil
}

// DialFenced is the live.ServiceDial of "fenced-store". Options: fencing
// (bool), key_prefix (the store's key is key_prefix + id; default
// FencedPrefix), endpoints, timeout.
func DialFenced(ctx context.Context, self, id ordo.NodeID, opts ordo.Options, deliver func(ordo.Message) bool) (live.ServiceConn, error) {
	fencing, err := boolOpt(opts, "fencing", true)
	if err != nil {
		return nil, err
	}
	prefix := FencedPrefix
	if v, ok := opts["key_prefix"]; ok {
		if err := coord.CheckFencedPrefix(v); err != nil {
			return nil, fmt.Errorf("etcdsvc: %w", err)
		}
		prefix = v
	}
	c, err := dial(ctx, self, id, opts, deliver)
	if err != nil {
		return nil, err
	}
	f := fenced{c: c, key: FencedKey(prefix, id), fencing: fencing}
	c.handle = f.call
	c.run()
	return c, nil
}

// Endpoints parses the endpoints option: comma-separated client URLs.
func Endpoints(s string) ([]string, error) {
	var eps []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("etcdsvc: no etcd endpoints (option endpoints, e.g. http://127.0.0.1:2379)")
	}
	if len(eps) > MaxEndpoints {
		return nil, fmt.Errorf("etcdsvc: %d endpoints, at most %d", len(eps), MaxEndpoints)
	}
	return eps, nil
}

func boolOpt(opts ordo.Options, name string, def bool) (bool, error) {
	v, ok := opts[name]
	if !ok || v == "" {
		return def, nil
	}
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("etcdsvc: option %s=%q: want true or false", name, v)
}

func dial(ctx context.Context, self, id ordo.NodeID, opts ordo.Options, deliver func(ordo.Message) bool) (*conn, error) {
	if deliver == nil {
		return nil, fmt.Errorf("etcdsvc: dial without deliver")
	}
	eps, err := Endpoints(opts["endpoints"])
	if err != nil {
		return nil, err
	}
	timeout := time.Second
	if v := opts["timeout"]; v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 || timeout > time.Hour {
			return nil, fmt.Errorf("etcdsvc: option timeout=%q: want a duration in (0, 1h]", v)
		}
	}
	tc, err := tlsConfig(self, eps, opts)
	if err != nil {
		return nil, err
	}
	// No dial timeout: New does not wait for a connection (etcd may be
	// down now and up later); each call has its own deadline instead.
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, Logger: zap.NewNop(), Context: context.WithoutCancel(ctx), TLS: tc})
	if err != nil {
		return nil, fmt.Errorf("etcdsvc: client for %s: %w", strings.Join(eps, ","), err)
	}
	c := &conn{self: self, id: id, cli: cli, timeout: timeout, deliver: deliver, health: newHealth(os.Stderr, self, id, eps),
		queue: make(chan ordo.Message, MaxQueue), refuse: make(chan ordo.Message, MaxQueue), watches: map[uint64]context.CancelFunc{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

func (c *conn) run() {
	c.wg.Add(Workers + 1)
	for range Workers {
		go c.work()
	}
	go func() {
		defer c.wg.Done()
		for {
			select {
			case m := <-c.refuse:
				if !c.deliver(m) {
					return
				}
			case <-c.ctx.Done():
				return
			}
		}
	}()
}

func (c *conn) work() {
	defer c.wg.Done()
	for {
		select {
		case m := <-c.queue:
			r := c.handle(c.ctx, m)
			if c.ctx.Err() != nil {
				return // closed while the call was in flight: nobody listens
			}
			if r != nil {
				c.answered(m, r)
			}
			if r != nil && !c.deliver(r) {
				return
			}
		case <-c.ctx.Done():
			return
		}
	}
}

// Send implements live.ServiceConn: it never blocks. A Watch starts its
// own goroutine (bounded by MaxWatches); every other request waits in the
// queue for a worker, and a request the full queue cannot take is
// answered ErrUnavailable.
func (c *conn) Send(m ordo.Message) {
	if c.ctx.Err() != nil {
		return
	}
	req, ok := coord.ReqOf(m)
	if !ok {
		return // not a request (a Reply or Deleted sent to a service): nothing to answer
	}
	if w, ok := m.(coord.Watch); ok && c.watching {
		if err := coord.Check(w); err != nil {
			c.answer(coord.Reply{Req: req, Err: coord.ErrBadRequest})
			return
		}
		c.startWatch(w)
		return
	}
	select {
	case c.queue <- m:
	default:
		c.answer(coord.Reply{Req: req, Err: coord.ErrUnavailable})
	}
}

// answer queues a reply made without etcd; if even that queue is full the
// reply is dropped and the node's own timeout covers it.
func (c *conn) answer(r coord.Reply) {
	select {
	case c.refuse <- r:
	default:
	}
}

// Close implements live.ServiceConn: it cancels every call and watch,
// waits (boundedly) for the goroutines and closes the client.
func (c *conn) Close() error {
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
	}
	return c.cli.Close()
}

// call is the deadline of one call to etcd.
func (c *conn) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// invalid are etcd's answers to a request it will never take (its
// InvalidArgument errors that this API can provoke).
var invalid = []error{rpctypes.ErrEmptyKey, rpctypes.ErrKeyNotFound, rpctypes.ErrTooManyOps, rpctypes.ErrDuplicateKey,
	rpctypes.ErrFutureRev, rpctypes.ErrLeaseTTLTooLarge, rpctypes.ErrRequestTooLarge, rpctypes.ErrLeaseExist}

// Code maps an etcd client error to a Reply error: the lease is gone, the
// revision compacted, a request etcd calls invalid; anything else
// (deadline, no leader, connection refused) is ErrUnavailable: the
// outcome is unknown.
func Code(err error) uint8 {
	switch {
	case err == nil:
		return coord.OK
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		return coord.ErrNoLease
	case errors.Is(err, rpctypes.ErrCompacted):
		return coord.ErrCompacted
	}
	for _, bad := range invalid {
		if errors.Is(err, bad) {
			return coord.ErrBadRequest
		}
	}
	return coord.ErrUnavailable
}

// ---- coord -----------------------------------------------------------------

func (c *conn) coordCall(ctx context.Context, m ordo.Message) ordo.Message {
	req, _ := coord.ReqOf(m)
	if err := coord.Check(m); err != nil {
		return coord.Reply{Req: req, Err: coord.ErrBadRequest}
	}
	cctx, cancel := c.call(ctx)
	defer cancel()
	fail := func(err error) ordo.Message { return coord.Reply{Req: req, Err: c.code(err)} }
	switch m := m.(type) {
	case coord.Grant:
		r, err := c.cli.Grant(cctx, m.TTL)
		if err != nil {
			return fail(err)
		}
		return coord.Reply{Req: req, Rev: r.ResponseHeader.GetRevision(), Lease: int64(r.ID), TTL: r.TTL}
	case coord.KeepAlive:
		r, err := c.cli.KeepAliveOnce(cctx, clientv3.LeaseID(m.Lease))
		if err != nil {
			return fail(err)
		}
		return coord.Reply{Req: req, Rev: r.ResponseHeader.GetRevision(), Lease: int64(r.ID), TTL: r.TTL}
	case coord.TimeToLive:
		r, err := c.cli.TimeToLive(cctx, clientv3.LeaseID(m.Lease))
		if err != nil {
			return fail(err)
		}
		if r.TTL == -1 {
			// etcd answers a lease it does not know with TTL -1, no error.
			return coord.Reply{Req: req, Err: coord.ErrNoLease}
		}
		// Below -1: overdue by more than a second and not yet revoked;
		// "due" is all a caller needs to know (and all a Reply carries).
		return coord.Reply{Req: req, Lease: int64(r.ID), TTL: max(r.TTL, 0)}
	case coord.Revoke:
		r, err := c.cli.Revoke(cctx, clientv3.LeaseID(m.Lease))
		if err != nil {
			return fail(err)
		}
		return coord.Reply{Req: req, Rev: r.Header.GetRevision(), Lease: m.Lease}
	case coord.Create:
		var put []clientv3.OpOption
		if m.Lease != 0 {
			put = append(put, clientv3.WithLease(clientv3.LeaseID(m.Lease)))
		}
		r, err := c.cli.Txn(cctx).
			If(clientv3.Compare(clientv3.CreateRevision(m.Key), "=", 0)).
			Then(clientv3.OpPut(m.Key, m.Value, put...)).
			Else(clientv3.OpGet(m.Key)).Commit()
		if err != nil {
			return fail(err)
		}
		rev := r.Header.GetRevision()
		if r.Succeeded {
			return coord.Reply{Req: req, Rev: rev, Succeeded: true, Found: true, Key: m.Key, Value: m.Value, CreateRev: rev, ModRev: rev, KeyLease: m.Lease}
		}
		out := coord.Reply{Req: req, Rev: rev}
		if len(r.Responses) == 1 {
			if g := r.Responses[0].GetResponseRange(); g != nil && len(g.Kvs) == 1 {
				out = fill(out, g.Kvs[0].Key, g.Kvs[0].Value, g.Kvs[0].CreateRevision, g.Kvs[0].ModRevision, g.Kvs[0].Lease)
			}
		}
		return out
	case coord.Get:
		r, err := c.cli.Get(cctx, m.Key)
		if err != nil {
			return fail(err)
		}
		out := coord.Reply{Req: req, Rev: r.Header.GetRevision()}
		if len(r.Kvs) == 1 {
			kv := r.Kvs[0]
			out = fill(out, kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Lease)
		}
		return out
	case coord.Find:
		opts := []clientv3.OpOption{clientv3.WithPrefix()}
		if m.Last {
			opts = append(opts, clientv3.WithLastCreate()...)
		} else {
			opts = append(opts, clientv3.WithFirstCreate()...)
		}
		if m.Below > 1 {
			opts = append(opts, clientv3.WithMaxCreateRev(m.Below-1))
		}
		r, err := c.cli.Get(cctx, m.Prefix, opts...)
		if err != nil {
			return fail(err)
		}
		out := coord.Reply{Req: req, Rev: r.Header.GetRevision()}
		// Below 1 cannot be said to etcd (WithMaxCreateRev(0) is no
		// bound): no key has a create revision below 1.
		if len(r.Kvs) == 1 && (m.Below == 0 || r.Kvs[0].CreateRevision < m.Below) {
			kv := r.Kvs[0]
			out = fill(out, kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Lease)
		}
		return out
	case coord.Delete:
		if m.Rev == 0 {
			r, err := c.cli.Delete(cctx, m.Key)
			if err != nil {
				return fail(err)
			}
			return coord.Reply{Req: req, Rev: r.Header.GetRevision(), Succeeded: r.Deleted > 0}
		}
		r, err := c.cli.Txn(cctx).
			If(clientv3.Compare(clientv3.CreateRevision(m.Key), "=", m.Rev)).
			Then(clientv3.OpDelete(m.Key)).Commit()
		if err != nil {
			return fail(err)
		}
		return coord.Reply{Req: req, Rev: r.Header.GetRevision(), Succeeded: r.Succeeded}
	case coord.Unwatch:
		c.mu.Lock()
		stop, ok := c.watches[m.Req]
		delete(c.watches, m.Req)
		c.mu.Unlock()
		if ok {
			stop()
		}
		return coord.Reply{Req: req, Succeeded: ok}
	}
	return coord.Reply{Req: req, Err: coord.ErrBadRequest} // a Write: the fenced store's
}

func fill(r coord.Reply, key, value []byte, create, mod, lease int64) coord.Reply {
	r.Found, r.Key, r.Value, r.CreateRev, r.ModRev, r.KeyLease = true, string(key), string(value), create, mod, lease
	return r
}

// startWatch registers w and runs it in its own goroutine: a Get, then
// (the key present at revision h) a watch of its deletes from
// max(w.Rev, h+1). Exactly one answer unless Unwatch or Close cancels it.
func (c *conn) startWatch(w coord.Watch) {
	c.mu.Lock()
	if _, dup := c.watches[w.Req]; dup {
		c.mu.Unlock()
		return
	}
	if len(c.watches) >= MaxWatches {
		c.mu.Unlock()
		c.answer(coord.Reply{Req: w.Req, Err: coord.ErrBadRequest})
		return
	}
	ctx, stop := context.WithCancel(c.ctx)
	c.watches[w.Req] = stop
	c.watchesSent.Add(1)
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer stop()
		r := c.watch(ctx, w)
		c.mu.Lock()
		_, mine := c.watches[w.Req]
		delete(c.watches, w.Req)
		c.mu.Unlock()
		if r != nil && mine && ctx.Err() == nil {
			c.deliver(r)
		}
	}()
}

func (c *conn) watch(ctx context.Context, w coord.Watch) ordo.Message {
	// Fail rather than wait on a member cut off from its cluster.
	ctx = clientv3.WithRequireLeader(ctx)
	gctx, cancel := c.call(ctx)
	g, err := c.cli.Get(gctx, w.Key)
	cancel()
	c.watchesRead.Add(1)
	if err != nil {
		return coord.Reply{Req: w.Req, Err: c.code(err)}
	}
	c.health.ok(time.Now())
	if len(g.Kvs) == 0 {
		return coord.Deleted{Req: w.Req, Key: w.Key}
	}
	from := max(w.Rev, g.Header.GetRevision()+1)
	for wr := range c.cli.Watch(ctx, w.Key, clientv3.WithRev(from), clientv3.WithFilterPut()) {
		if wr.CompactRevision != 0 {
			return coord.Reply{Req: w.Req, Err: coord.ErrCompacted}
		}
		if err := wr.Err(); err != nil {
			return coord.Reply{Req: w.Req, Err: c.code(err)}
		}
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypeDelete {
				return coord.Deleted{Req: w.Req, Key: w.Key, Rev: ev.Kv.ModRevision}
			}
		}
	}
	// The channel closes when ctx ends (Unwatch, Close): nobody waits.
	return coord.Reply{Req: w.Req, Err: coord.ErrUnavailable}
}
