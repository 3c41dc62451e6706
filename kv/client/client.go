package client

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ordo"
	"ordo/kv"
	"ordo/kv/api"
)

// Errors. A write that returns ErrUnknown may or may not have taken
// effect; every other error means it did not.
var (
	// ErrUnknown: no server gave a definite answer to a write before the
	// deadline, and one may have applied it (a timeout, a lost
	// connection, a leader lost while the write was in flight).
	ErrUnknown = errors.New("kv: outcome unknown")
	// ErrUnavailable: no server could serve the request before the
	// deadline (no leader, no majority, every server down); nothing
	// changed. The message says "no leader reachable" when servers
	// answered but none knew a leader.
	ErrUnavailable = errors.New("kv: unavailable")
	// ErrNotFound: the key is absent (Get, Delete).
	ErrNotFound = errors.New("kv: key not found")
	// ErrRefused: the server refused the request (bad request, oversize,
	// wrong token, a membership change the leader's strict
	// reconfiguration check refused); nothing changed, and retrying at
	// once will not help.
	ErrRefused = errors.New("kv: refused")
)

// Config configures a Client.
type Config struct {
	// Endpoints are the servers' client API addresses: "host:port" or a
	// URL ("https://host:port"). At least one.
	Endpoints []string
	// TLS, when set, speaks HTTPS to "host:port" endpoints and verifies
	// the servers with it (RootCAs: the cluster's CA).
	TLS *tls.Config
	// Token is the cluster's client token, sent as a bearer token.
	Token string
	// Timeout bounds one operation, retries included (default 5s), when
	// its context has no earlier deadline.
	Timeout time.Duration
	// AttemptTimeout bounds one HTTP attempt (default 2s): a server that
	// hangs (paused, cut off) is given up for the next.
	AttemptTimeout time.Duration
	// ConnectTimeout bounds making a connection to a server, the TCP
	// connect and the TLS handshake (default DefaultConnectTimeout, at
	// most AttemptTimeout). A paused server's kernel still accepts
	// connections but the server never completes a handshake: without
	// this bound the first attempt at it would wait the whole
	// AttemptTimeout before the next server is tried. (Over a connection
	// already made, or without TLS, a paused server is given up at
	// AttemptTimeout: its silence looks like a slow commit.)
	ConnectTimeout time.Duration
	// MaxConns bounds the connections kept per server (default 64).
	MaxConns int
	// Unbatched sends every request in an HTTP request of its own. By
	// default puts and deletes that goroutines make at the same time
	// share HTTP requests (POST /v1/kv/batch; batch.go).
	Unbatched bool
	// BatchInflight bounds the batches in flight to one server (default
	// DefaultBatchInflight, at most 64): a write that finds them all
	// busy joins the next.
	BatchInflight int
	// Linger is the longest a batch waits for writers of the last round
	// that have not queued again (default DefaultLinger; negative: never
	// waits). A lone writer never waits: its last round had one writer.
	Linger time.Duration
}

// Defaults of Config.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultAttemptTimeout = 2 * time.Second
	// DefaultConnectTimeout is Config.ConnectTimeout's default: a
	// handshake takes milliseconds, on loopback or across a LAN.
	DefaultConnectTimeout = 500 * time.Millisecond
	DefaultMaxConns       = 64
	// maxRespBytes bounds a JSON answer: a range of MaxRangeBytes,
	// escaped, and the rest.
	maxRespBytes = 4 << 20
	// maxSnapshotBytes bounds a snapshot download.
	maxSnapshotBytes = 1 << 30
	// maxHops bounds the not-leader redirects one attempt follows.
	maxHops = 3
)

// Client talks to a kv cluster's client API. It is safe for concurrent
// use by many goroutines, which share its connection pool and its cached
// leader. Each write in flight holds a session of its own (the servers
// keep one sequence number per session, as in the Raft thesis, section
// 6.3, so a session carries one write at a time); sessions are reused.
type Client struct {
	cfg    Config
	hc     *http.Client
	scheme string

	smu      sync.Mutex
	sessions []*session // idle sessions

	bmu      sync.Mutex
	batchers map[string]*batcher // by endpoint (batch.go)
	stats    batchStats

	mu        sync.Mutex
	endpoints []string // base URLs ("https://127.0.0.1:2379")
	leader    int      // index into endpoints of the last known leader, -1: unknown
	next      int      // round robin when the leader is unknown
}

// New returns a client of the servers in c.Endpoints. It opens no
// connection until the first request.
func New(c Config) (*Client, error) {
	if len(c.Endpoints) == 0 {
		return nil, errors.New("kv client: no endpoints")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	c.ConnectTimeout = min(c.ConnectTimeout, c.AttemptTimeout)
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.BatchInflight <= 0 {
		c.BatchInflight = DefaultBatchInflight
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.Linger > maxLinger {
		return nil, fmt.Errorf("kv client: Linger %v: at most %v", c.Linger, maxLinger)
	}
	if c.BatchInflight > maxBatchInflight {
		return nil, fmt.Errorf("kv client: BatchInflight %d: at most %d", c.BatchInflight, maxBatchInflight)
	}
	cl := &Client{cfg: c, scheme: "http", leader: -1, batchers: map[string]*batcher{}}
	if c.TLS != nil {
		cl.scheme = "https"
	}
	for _, e := range c.Endpoints {
		u, err := cl.baseURL(e)
		if err != nil {
			return nil, err
		}
		cl.endpoints = append(cl.endpoints, u)
	}
	tr := Transport(c.TLS, c.ConnectTimeout, c.MaxConns)
	tr.MaxIdleConns = c.MaxConns * len(c.Endpoints)
	cl.hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return cl, nil
}

// Transport is the HTTP transport of ordo's store clients (this one,
// pbft/clientapi's and dynamo/client's): keep-alive connections, at most
// maxIdle idle ones per server, each made within connect (the TCP
// connect and the TLS handshake: see Config.ConnectTimeout), no proxy (a
// cluster on loopback is never behind one), no compression (small JSON).
func Transport(tlsCfg *tls.Config, connect time.Duration, maxIdle int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: connect,
		MaxIdleConnsPerHost: maxIdle,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// TraceSent returns req traced, and a func that says whether some of the
// request was written to a connection, so it may have reached the
// server: a connection refused, or one whose TLS handshake failed or
// timed out (a paused server), carried nothing. For every store client
// that tells "unavailable" (nothing changed) from "outcome unknown".
func TraceSent(req *http.Request) (*http.Request, func() bool) {
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}))
	return req, wrote.Load
}

// session is a client session: a random id and the last sequence number
// it used. One write at a time uses it.
type session struct{ id, seq uint64 }

// maxIdleSessions bounds the sessions a client keeps for reuse (the
// servers remember a bounded number too: their "sessions" option).
const maxIdleSessions = 256

// acquire takes an idle session or makes a new one (a random id).
func (c *Client) acquire() (*session, error) {
	c.smu.Lock()
	if n := len(c.sessions); n > 0 {
		s := c.sessions[n-1]
		c.sessions = c.sessions[:n-1]
		c.smu.Unlock()
		return s, nil
	}
	c.smu.Unlock()
	var b [8]byte
	for {
		if _, err := crand.Read(b[:]); err != nil {
			return nil, err
		}
		if id := binary.LittleEndian.Uint64(b[:]) >> 1; id != 0 { // positive as an int64 too
			return &session{id: id}, nil
		}
	}
}

func (c *Client) release(s *session) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if len(c.sessions) < maxIdleSessions {
		c.sessions = append(c.sessions, s)
	}
}

// baseURL turns an endpoint into a base URL.
func (c *Client) baseURL(e string) (string, error) {
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("kv client: endpoint %q: want host:port or an http(s) URL", e)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	if _, _, err := net.SplitHostPort(e); err != nil {
		return "", fmt.Errorf("kv client: endpoint %q: %v", e, err)
	}
	return c.scheme + "://" + e, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() {
	c.hc.CloseIdleConnections()
	c.bmu.Lock()
	defer c.bmu.Unlock()
	for _, b := range c.batchers {
		b.closeConns()
	}
}

// Result is a key's value and revisions.
type Result struct {
	Value string
	// Rev is the log index the operation was applied or read at.
	Rev uint64
	// ModRev is the log index of the key's last change (Get, Watch).
	ModRev uint64
	Found  bool
}

// Pair is a key of a range.
type Pair = kv.Pair

// ReadOption chooses how a read is served.
type ReadOption func(*kv.Request)

// Lease reads from the leader while its lease holds, without a round to
// a majority (safe while clocks drift less than the lease's margin).
func Lease() ReadOption { return func(r *kv.Request) { r.Read = kv.ReadLease } }

// Serializable reads from whichever server answers, possibly stale.
func Serializable() ReadOption { return func(r *kv.Request) { r.Read = kv.ReadSerializable } }

// Put sets key to value and returns the write's revision.
func (c *Client) Put(ctx context.Context, key, value string) (rev uint64, err error) {
	r, err := c.do(ctx, kv.Request{Op: kv.OpPut, Key: key, Value: value})
	return r.Rev, err
}

// Get reads key (linearizable unless told otherwise). An absent key is
// Result{Found: false} and no error.
func (c *Client) Get(ctx context.Context, key string, opts ...ReadOption) (Result, error) {
	q := kv.Request{Op: kv.OpGet, Key: key}
	for _, o := range opts {
		o(&q)
	}
	r, err := c.do(ctx, q)
	if err != nil {
		return Result{}, err
	}
	return Result{Value: r.Value, Rev: r.Rev, ModRev: r.ModRev, Found: r.Status == kv.StatusOK}, nil
}

// Delete removes key; deleted is false if it was absent.
func (c *Client) Delete(ctx context.Context, key string) (deleted bool, rev uint64, err error) {
	r, err := c.do(ctx, kv.Request{Op: kv.OpDelete, Key: key})
	return err == nil && r.Status == kv.StatusOK, r.Rev, err
}

// CAS sets key to value if its current value is *expect, or, with expect
// nil, if key is absent. On a mismatch swapped is false and current is
// the key's value (Found false: absent).
func (c *Client) CAS(ctx context.Context, key string, expect *string, value string) (swapped bool, current Result, err error) {
	q := kv.Request{Op: kv.OpCAS, Key: key, Value: value}
	if expect != nil {
		q.Expect, q.Exists = *expect, true
	}
	r, err := c.do(ctx, q)
	if err != nil {
		return false, Result{}, err
	}
	if r.Status == kv.StatusMismatch {
		return false, Result{Value: r.Value, Rev: r.Rev, ModRev: r.ModRev, Found: r.ModRev != 0 || r.Value != ""}, nil
	}
	return true, Result{Value: value, Rev: r.Rev, Found: true}, nil
}

// Range reads the keys in [start, end) (end "": to the last key), at most
// limit of them (0: the server's bound); more says it stopped before end.
func (c *Client) Range(ctx context.Context, start, end string, limit int, opts ...ReadOption) (pairs []Pair, more bool, err error) {
	if limit < 0 || limit > api.MaxRange {
		return nil, false, fmt.Errorf("%w: limit %d out of 0..%d", ErrRefused, limit, api.MaxRange)
	}
	q := kv.Request{Op: kv.OpRange, Key: start, End: end, Limit: uint32(limit)}
	for _, o := range opts {
		o(&q)
	}
	r, err := c.do(ctx, q)
	return r.Pairs, r.More, err
}

// MemberAdd adds server id to the cluster's voters (one at a time).
func (c *Client) MemberAdd(ctx context.Context, id int) error {
	_, err := c.do(ctx, kv.Request{Op: kv.OpMember, Value: "add", Node: ordo.NodeID(id)})
	return err
}

// MemberRemove removes server id from the cluster's voters.
func (c *Client) MemberRemove(ctx context.Context, id int) error {
	_, err := c.do(ctx, kv.Request{Op: kv.OpMember, Value: "remove", Node: ordo.NodeID(id)})
	return err
}

// Transfer asks the leader to hand its leadership to server id.
func (c *Client) Transfer(ctx context.Context, id int) error {
	_, err := c.do(ctx, kv.Request{Op: kv.OpMove, Node: ordo.NodeID(id)})
	return err
}

// do runs one request to a definite answer: it follows not-leader hints,
// moves on from servers that are down, busy or unavailable, and retries a
// write with its session and sequence number (so that it applies once)
// until the deadline. Definite answers (ok, not-found, mismatch) return
// with a nil error.
func (c *Client) do(ctx context.Context, q kv.Request) (kv.Response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	write := isWrite(q.Op)
	if write {
		// The session is reused after any outcome: a later write's higher
		// sequence number tells the servers this one is given up, so an
		// unknown one cannot apply after it (the machine refuses a stale
		// sequence number).
		s, err := c.acquire()
		if err != nil {
			return kv.Response{}, err
		}
		defer c.release(s)
		s.seq++
		q.Session, q.Seq = s.id, s.seq
	}
	body, err := api.EncodeRequest(q)
	if err != nil {
		return kv.Response{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	// Puts and deletes share HTTP requests (batch.go): their answers
	// carry no value, so a batch's answer stays small.
	batched := !c.cfg.Unbatched && (q.Op == kv.OpPut || q.Op == kv.OpDelete)
	maybe := false    // a write attempt may have reached a server
	noLeader := false // a server answered that it is not the leader
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				break
			}
		}
		ep := c.pick()
		for hop := 0; hop <= maxHops; hop++ {
			var resp api.Response
			var code int
			var sent bool
			var err error
			if batched {
				resp, code, sent, err = c.postBatched(ctx, ep, body)
			} else {
				resp, code, sent, err = c.post(ctx, ep, body)
			}
			if err != nil {
				last = err
				maybe = maybe || (write && sent)
				c.forgetLeader(ep)
				break
			}
			st, _ := api.ParseStatus(resp.Status)
			switch code {
			case http.StatusOK:
				c.setLeader(ep, q)
				return toKV(resp, st), nil
			case http.StatusMisdirectedRequest: // not the leader: follow its hint
				last = fmt.Errorf("%s: not the leader", ep)
				noLeader = true
				if next, ok := c.hint(resp); ok && next != ep {
					ep = next
					continue
				}
				c.forgetLeader(ep)
			case http.StatusGatewayTimeout: // unknown: the retry (same seq) finds out
				last = fmt.Errorf("%s: %s", ep, resp.Error)
				maybe = maybe || write
				c.forgetLeader(ep)
			case http.StatusServiceUnavailable, http.StatusTooManyRequests:
				last = fmt.Errorf("%s: %s", ep, resp.Error)
				c.forgetLeader(ep)
			case http.StatusUnauthorized:
				return kv.Response{}, fmt.Errorf("%w: %s: %s: 401 wrong client token (the server refused the cluster's client.token)", ErrRefused, describe(q), hostOf(ep))
			case http.StatusConflict: // a membership change the leader refused
				return kv.Response{}, fmt.Errorf("%w: %s: refused by the leader at %s: %s", ErrRefused, describe(q), hostOf(ep), resp.Error)
			default: // 400, 413, ...: retrying will not help
				return kv.Response{}, fmt.Errorf("%w: %s: %s: %s (HTTP %d)", ErrRefused, describe(q), ep, resp.Error, code)
			}
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	if maybe {
		return kv.Response{}, fmt.Errorf("%w: %s: no definite answer before the deadline (last: %v)", ErrUnknown, describe(q), last)
	}
	if noLeader {
		// Servers answered, but none led and no leader they named
		// answered: an election, a majority down, or cut off from it.
		return kv.Response{}, fmt.Errorf("%w: %s: no leader reachable before the deadline: the servers that answered are not the leader, and no leader answered (an election, or no majority up and connected) (last: %v)", ErrUnavailable, describe(q), last)
	}
	return kv.Response{}, fmt.Errorf("%w: %s: no server answered before the deadline (last: %v)", ErrUnavailable, describe(q), last)
}

// describe names a request in an error: its op and what it is about
// (the key, the range, the member), never an empty key.
func describe(q kv.Request) string {
	switch q.Op {
	case kv.OpMember:
		return fmt.Sprintf("member %s n%d", q.Value, int(q.Node))
	case kv.OpMove:
		return fmt.Sprintf("transfer to n%d", int(q.Node))
	case kv.OpRange:
		if q.End == "" {
			return fmt.Sprintf("range from %q", q.Key)
		}
		return fmt.Sprintf("range [%q, %q)", q.Key, q.End)
	case kv.OpSnap:
		return "snapshot"
	}
	return fmt.Sprintf("%s %q", q.Op, q.Key)
}

// hostOf is an endpoint's host:port.
func hostOf(ep string) string {
	if _, h, ok := strings.Cut(ep, "://"); ok {
		return h
	}
	return ep
}

func isWrite(op kv.Op) bool {
	switch op {
	case kv.OpPut, kv.OpDelete, kv.OpCAS, kv.OpMember, kv.OpMove:
		return true
	}
	return false
}

func toKV(r api.Response, st kv.Status) kv.Response {
	out := kv.Response{Status: st, Value: r.Value, Rev: r.Rev, ModRev: r.ModRev, More: r.More, Leader: ordo.NodeID(r.Leader), Err: r.Error}
	for _, p := range r.Pairs {
		out.Pairs = append(out.Pairs, kv.Pair{Key: p.Key, Value: p.Value, Rev: p.Rev})
	}
	return out
}

// backoff waits a little before a retry: 5ms doubling to 200ms.
func backoff(ctx context.Context, attempt int) error {
	d := min(5*time.Millisecond<<min(attempt-1, 6), 200*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// post sends one attempt. sent reports whether the request may have
// reached the server (false only when the connection could not be made).
func (c *Client) post(ctx context.Context, ep string, body []byte) (r api.Response, code int, sent bool, err error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep+"/v1/kv", bytes.NewReader(body))
	if err != nil {
		return r, 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.roundTrip(req, &r)
}

// roundTrip sends req and decodes its JSON answer into r.
func (c *Client) roundTrip(req *http.Request, r *api.Response) (api.Response, int, bool, error) {
	data, code, sent, err := c.exchange(req, maxRespBytes)
	if err != nil {
		return *r, 0, sent, err
	}
	if err := decodeResponse(data, code, r); err != nil {
		return *r, 0, true, err
	}
	return *r, code, true, nil
}

// decodeResponse decodes an answer's body (HTTP status code) into r.
func decodeResponse(data []byte, code int, r *api.Response) error {
	if err := json.Unmarshal(data, r); err != nil {
		return fmt.Errorf("HTTP %d with a body that is not the API's JSON: %.200q", code, data)
	}
	return nil
}

// authorize adds the client token to req, if the client has one.
func (c *Client) authorize(req *http.Request) {
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
}

// readAnswer reads an answer's body, at most limit bytes.
func readAnswer(body io.Reader, limit int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	return data, nil
}

// exchange sends req with the client token and reads its answer's body,
// at most limit bytes. sent reports whether the request may have reached
// the server (TraceSent).
func (c *Client) exchange(req *http.Request, limit int) (data []byte, code int, sent bool, err error) {
	c.authorize(req)
	req, wrote := TraceSent(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, wrote(), err
	}
	defer resp.Body.Close()
	if data, err = readAnswer(resp.Body, limit); err != nil {
		return nil, 0, true, err
	}
	return data, resp.StatusCode, true, nil
}

// pick is the endpoint to try: the cached leader, else the next in turn.
func (c *Client) pick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader >= 0 {
		return c.endpoints[c.leader]
	}
	ep := c.endpoints[c.next%len(c.endpoints)]
	c.next++
	return ep
}

// setLeader caches ep as the leader after a linearizable answer from it.
func (c *Client) setLeader(ep string, q kv.Request) {
	if q.Read == kv.ReadSerializable && !isWrite(q.Op) {
		return // any server answers those
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.endpoints {
		if e == ep {
			c.leader = i
			return
		}
	}
}

func (c *Client) forgetLeader(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader >= 0 && c.endpoints[c.leader] == ep {
		c.leader = -1
	}
}

// hint is the endpoint a not-leader answer points to: its leader's
// address, added to the endpoints if new (bounded by the cluster's size).
func (c *Client) hint(r api.Response) (string, bool) {
	if r.LeaderAddr == "" {
		return "", false
	}
	ep, err := c.baseURL(r.LeaderAddr)
	if err != nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.endpoints {
		if e == ep {
			c.leader = i
			return ep, true
		}
	}
	if len(c.endpoints) < 4*len(c.cfg.Endpoints)+8 {
		c.endpoints = append(c.endpoints, ep)
		c.leader = len(c.endpoints) - 1
	}
	return ep, true
}

// Watch waits until key's revision exceeds after (a change: put or
// delete) and returns the key's state then (Found false: deleted) with
// ModRev the revision of the change. An absent key's revision is the last
// delete of any key: a watch from a revision at which key was absent may
// answer Found false for another key's delete (watch again from ModRev;
// ordo kv watch does). Start from a read's Rev to see the changes after
// the read. It
// polls the servers (long polls of at most 30s) until ctx ends, which is
// its only deadline (Config.Timeout does not apply): then ctx's error.
func (c *Client) Watch(ctx context.Context, key string, after uint64) (Result, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Result{}, err
			}
		}
		ep := c.pick()
		wait := 30 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			wait = max(min(wait, time.Until(dl)), time.Millisecond)
		}
		actx, cancel := context.WithTimeout(ctx, wait+c.cfg.AttemptTimeout)
		u := ep + "/v1/watch?" + url.Values{"key": {key}, "after": {strconv.FormatUint(after, 10)}, "timeout": {wait.String()}}.Encode()
		req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
		if err != nil {
			cancel()
			return Result{}, err
		}
		var r api.Response
		r, code, _, err := c.roundTrip(req, &r)
		cancel()
		if err != nil {
			c.forgetLeader(ep)
			continue
		}
		st, _ := api.ParseStatus(r.Status)
		switch {
		case code == http.StatusOK && st == kv.StatusTimeout:
			attempt = -1 // a quiet key, not a failure: poll again at once
		case code == http.StatusOK:
			return Result{Value: r.Value, Rev: r.Rev, ModRev: r.ModRev, Found: st == kv.StatusOK}, nil
		case code == http.StatusMisdirectedRequest:
			if _, ok := c.hint(r); !ok {
				c.forgetLeader(ep)
			}
		case code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests || code == http.StatusGatewayTimeout:
			c.forgetLeader(ep)
		default:
			return Result{}, fmt.Errorf("%w: %s: %s (HTTP %d)", ErrRefused, ep, r.Error, code)
		}
	}
}

// Snapshot writes the database's snapshot (the state machine's, as the
// leader serves it after a ReadIndex round: it holds every write
// acknowledged before the call) to w and returns its revision (the log
// index it was taken at) and its size. It follows the leader; a body cut
// short (the server streams it in parts) is an error.
func (c *Client) Snapshot(ctx context.Context, w io.Writer) (rev uint64, n int64, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	var last error
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 && backoff(ctx, attempt) != nil {
			break
		}
		ep := c.pick()
		rev, n, retry, err := c.snapshotFrom(ctx, ep, w)
		if err == nil || !retry {
			return rev, n, err
		}
		last = err
	}
	return 0, 0, fmt.Errorf("%w: snapshot: no server answered before the deadline (last: %v)", ErrUnavailable, last)
}

func (c *Client) snapshotFrom(ctx context.Context, ep string, w io.Writer) (rev uint64, n int64, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/v1/snapshot", nil)
	if err != nil {
		return 0, 0, false, err
	}
	c.authorize(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.forgetLeader(ep)
		return 0, 0, true, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
		var r api.Response
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxRespBytes))
		json.Unmarshal(data, &r)
		switch resp.StatusCode {
		case http.StatusMisdirectedRequest:
			if _, ok := c.hint(r); !ok {
				c.forgetLeader(ep)
			}
			return 0, 0, true, fmt.Errorf("%s: not the leader", ep)
		case http.StatusTooManyRequests:
			// The leader is busy (another backup is being read): the same
			// leader, later.
			return 0, 0, true, fmt.Errorf("%s: %s: %s", ep, r.Status, r.Error)
		case http.StatusOK, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			c.forgetLeader(ep)
			return 0, 0, true, fmt.Errorf("%s: %s: %s", ep, r.Status, r.Error)
		}
		return 0, 0, false, fmt.Errorf("%w: %s: %s (HTTP %d)", ErrRefused, ep, r.Error, resp.StatusCode)
	}
	rev, err = strconv.ParseUint(resp.Header.Get("X-Ordo-Rev"), 10, 64)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%s: snapshot without a revision (X-Ordo-Rev)", ep)
	}
	n, err = io.Copy(w, io.LimitReader(resp.Body, maxSnapshotBytes))
	if err != nil {
		return 0, n, false, fmt.Errorf("snapshot from %s: %w", ep, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return 0, n, false, fmt.Errorf("snapshot from %s: %d of %d bytes", ep, n, resp.ContentLength)
	}
	return rev, n, false, nil
}

// EndpointStatus is one server's answer to GET /v1/status (or why none
// came).
type EndpointStatus struct {
	Endpoint string
	Status   map[string]any // the server's status fields (id, role, term, leader, ...)
	// Code is the HTTP status of the answer (0: none came, the server is
	// down or unreachable); Err says why there is no Status. A 401 is a
	// wrong client token, not a server down.
	Code int
	Err  error
}

// Status asks every endpoint for its status, in parallel.
func (c *Client) Status(ctx context.Context) []EndpointStatus {
	c.mu.Lock()
	eps := append([]string(nil), c.endpoints[:len(c.cfg.Endpoints)]...)
	c.mu.Unlock()
	out := make([]EndpointStatus, len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Endpoint = ep
			actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(actx, http.MethodGet, ep+"/v1/status", nil)
			c.authorize(req)
			resp, err := c.hc.Do(req)
			if err != nil {
				out[i].Err = err
				return
			}
			defer resp.Body.Close()
			out[i].Code = resp.StatusCode
			data, _ := io.ReadAll(io.LimitReader(resp.Body, maxRespBytes))
			if resp.StatusCode != http.StatusOK {
				var r api.Response
				msg := strings.TrimSpace(string(data))
				if json.Unmarshal(data, &r) == nil && r.Error != "" {
					msg = r.Error
				}
				if resp.StatusCode == http.StatusUnauthorized {
					out[i].Err = fmt.Errorf("%w: 401 wrong client token (the server refused the cluster's client.token)", ErrRefused)
				} else {
					out[i].Err = fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, msg)
				}
				return
			}
			out[i].Err = json.Unmarshal(data, &out[i].Status)
		}()
	}
	wg.Wait()
	return out
}
