package clientapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"ordo/internal/plural"
	kvclient "ordo/kv/client"
	"ordo/pbft"
)

// ErrNoQuorum: fewer than f+1 replicas gave one answer before the
// deadline; a write's outcome is unknown.
var ErrNoQuorum = errors.New("pbft: fewer than f+1 replicas agree")

// ErrRefused: f+1 replicas refused the request (400), or the API refused
// it before any replica saw it.
var ErrRefused = errors.New("pbft: refused")

// ClientConfig configures a Client.
type ClientConfig struct {
	// Endpoints are the replicas' client API addresses in replica order
	// (endpoint i is replica i+1): "host:port" or an http(s) URL.
	Endpoints []string
	// TLS, when set, speaks HTTPS to "host:port" endpoints and verifies
	// the replicas with it (RootCAs: the cluster's CA).
	TLS *tls.Config
	// Token is the cluster's client token, sent as a bearer token.
	Token string
	// F is the number of faulty replicas tolerated: a result is accepted
	// from F+1 matching answers (-1 or unset with Auto: (n-1)/3).
	F int
	// Timeout bounds one operation, retries included (default 5s), when
	// its context has no earlier deadline.
	Timeout time.Duration
	// Retry is how long one attempt waits for f+1 matching answers before
	// it asks the replicas that have not answered again, with the same
	// timestamp (default 1s).
	Retry time.Duration
}

// Bounds and defaults of the client.
const (
	DefaultClientTimeout = 5 * time.Second
	DefaultRetry         = time.Second
	maxRespBytes         = 64 << 10
)

// Client is a PBFT client: it sends each request to every replica and
// accepts the result f+1 of them answer alike. Safe for concurrent use;
// each request has its own timestamp.
type Client struct {
	cfg       ClientConfig
	hc        *http.Client
	endpoints []string
	id        uint32
	ts        atomic.Int64
}

// NewClient returns a client of the replicas in c.Endpoints, with a
// random client id. It opens no connection until the first request.
func NewClient(c ClientConfig) (*Client, error) {
	n := len(c.Endpoints)
	if n == 0 {
		return nil, errors.New("pbft client: no endpoints")
	}
	if c.F < 0 {
		c.F = (n - 1) / 3
	}
	if c.F >= n {
		return nil, fmt.Errorf("pbft client: f=%d of %s: f+1 matching answers cannot come", c.F, plural.Count(n, "replica"))
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultClientTimeout
	}
	if c.Retry <= 0 {
		c.Retry = DefaultRetry
	}
	scheme := "http"
	if c.TLS != nil {
		scheme = "https"
	}
	cl := &Client{cfg: c, id: 1 + rand.Uint32N(1<<32-1)}
	// Timestamps grow across the processes of one client id too: a
	// fresh process starts from the wall clock.
	cl.ts.Store(time.Now().UnixNano())
	for _, e := range c.Endpoints {
		if strings.Contains(e, "://") {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("pbft client: endpoint %q: want host:port or an http(s) URL", e)
			}
			cl.endpoints = append(cl.endpoints, u.Scheme+"://"+u.Host)
			continue
		}
		if _, _, err := net.SplitHostPort(e); err != nil {
			return nil, fmt.Errorf("pbft client: endpoint %q: %v", e, err)
		}
		cl.endpoints = append(cl.endpoints, scheme+"://"+e)
	}
	tr := kvclient.Transport(c.TLS, kvclient.DefaultConnectTimeout, 4)
	cl.hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return cl, nil
}

// ClusterConfig is the ClientConfig of the cluster in dir (what `ordo
// cluster up --protocol pbft` wrote: cluster.yaml, tls/ca.pem,
// client.token), with the F its replicas run with: their option f
// (-o f=...), else (n-1)/3. A cluster run unsafely with more liars than
// n allows (-n 3 -o f=1 -o unsafe_quorum=2) has its client wait for
// f+1 = 2 matching answers too, not for the one of (n-1)/3 = 0, which
// would take a lying replica's word alone.
func ClusterConfig(dir string) (ClientConfig, error) {
	k, err := kvclient.ClusterConfig(dir)
	if err != nil {
		return ClientConfig{}, err
	}
	f, err := clusterF(dir, len(k.Endpoints))
	if err != nil {
		return ClientConfig{}, err
	}
	return ClientConfig{Endpoints: k.Endpoints, TLS: k.TLS, Token: k.Token, F: f}, nil
}

// clusterF is the f the n replicas of the cluster in dir run with: their
// options resolved as a replica resolves them, then pbft.QuorumsFor.
func clusterF(dir string, n int) (int, error) {
	given, err := kvclient.ClusterOptions(dir)
	if err != nil {
		return 0, err
	}
	o, err := pbft.Protocol.Resolve(given)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", filepath.Join(dir, "cluster.yaml"), err)
	}
	qs, err := pbft.QuorumsFor(n, o.Int("f"), o.Int("unsafe_quorum"))
	if err != nil {
		return 0, fmt.Errorf("%s: %v", filepath.Join(dir, "cluster.yaml"), err)
	}
	return qs.F, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// F is the number of faulty replicas the client tolerates.
func (c *Client) F() int { return c.cfg.F }

// Result is an accepted answer: what f+1 replicas said alike, which
// replicas said it, and what the others said (by replica; an answer that
// came after the f+1th is not waited for).
type Result struct {
	Response
	Agree    []int
	Disagree map[int]string
}

// Get reads key (ordered like a write).
func (c *Client) Get(ctx context.Context, key string) (Result, error) {
	return c.Do(ctx, Request{Op: OpGet, Key: key})
}

// Put sets key to value.
func (c *Client) Put(ctx context.Context, key, value string) (Result, error) {
	return c.Do(ctx, Request{Op: OpPut, Key: key, Value: &value})
}

// Delete removes key.
func (c *Client) Delete(ctx context.Context, key string) (Result, error) {
	return c.Do(ctx, Request{Op: OpDelete, Key: key})
}

// answer is one replica's answer of one attempt.
type answer struct {
	replica int
	code    int
	resp    Response
	err     error
	// conn: some of the request was written to the replica, so it may
	// have reached it (kvclient.TraceSent: a call refused at the dial, or
	// given up before its handshake ended, did not).
	conn bool
}

// malformed reports a replica's reply that its API found answers nothing
// (bad-reply: another request's, or no kv answer): a lying or broken
// replica, not an outage. An answer that is no API answer at all (a
// proxy's error page) is an error, like no answer: the replica's API did
// not write it.
func (a answer) malformed() bool { return a.err == nil && a.resp.Status == StatusBadReply }

// key is what must match for two answers to agree: the outcome, not
// who said it or in which view.
func (a answer) key() string {
	r := a.resp
	return fmt.Sprintf("%d %s %q %d %d %q", a.code, r.Status, r.Value, r.Rev, r.ModRev, r.Error)
}

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	if a.malformed() {
		// Not "500 bad-reply": the replica answered, and its answer
		// answers nothing (the API's error says so).
		return a.resp.Error
	}
	s := fmt.Sprintf("%d %s", a.code, a.resp.Status)
	if a.resp.Value != "" {
		s += fmt.Sprintf(" value %q", a.resp.Value)
	}
	if a.resp.Rev != 0 {
		s += fmt.Sprintf(" rev %d", a.resp.Rev)
	}
	if a.resp.Error != "" {
		s += ": " + a.resp.Error
	}
	return s
}

// definite reports an answer a replica gives only once it executed the
// request (or refused it): the ones that are counted toward f+1.
func (a answer) definite() bool {
	return a.err == nil && (a.code == http.StatusOK || a.code == http.StatusBadRequest || a.code == http.StatusInternalServerError)
}

// Do runs q (its Client and Timestamp are set here) at every replica and
// returns the answer f+1 replicas gave alike: ok or not-found (nil
// error), or a refusal (ErrRefused). Without f+1 matching answers by the
// deadline it returns ErrNoQuorum naming every replica's last answer, and
// saying so when the replicas' answers disagreed or one was malformed (a
// Byzantine-fault symptom, not an outage).
func (c *Client) Do(ctx context.Context, q Request) (Result, error) {
	q.Client, q.Timestamp = c.id, c.ts.Add(1)
	body, err := EncodeRequest(q)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	n := len(c.endpoints)
	final := make([]*answer, n) // definite answers, kept across attempts
	last := make([]answer, n)   // the latest answer of each replica
	for i := range last {
		last[i] = answer{replica: i + 1, err: errNoAnswer}
	}
	// reached: some attempt may have handed the request to a replica
	// (a call that got a connection).
	reached := false
	for {
		next := time.NewTimer(c.cfg.Retry) // the next attempt, at the earliest
		actx, cancel := context.WithTimeout(ctx, c.cfg.Retry)
		ch := make(chan answer, n)
		asked := 0
		for i := range n {
			if final[i] != nil {
				continue
			}
			asked++
			go func(i int) { ch <- c.post(actx, i, body) }(i)
		}
		var won *Result
		for range asked {
			a := <-ch
			if a.conn {
				reached = true
			}
			if a.err == nil || !isContext(a.err) || isNoAnswer(last[a.replica-1]) {
				// An attempt cut off by its deadline says less than what
				// the replica said before it (connection refused, 401).
				last[a.replica-1] = a
			}
			if a.definite() {
				final[a.replica-1] = &a
			}
			if unauthorized(last) > c.cfg.F {
				cancel()
				return Result{}, fmt.Errorf("%w: %s: %s the client token (401): the cluster's client.token is not this client's (nothing was ordered)", ErrRefused, q.Op, plural.Count(unauthorized(last), "replica refused", "replicas refused"))
			}
			if r, ok := c.agreed(final); ok {
				won = &r
				break
			}
		}
		cancel() // the calls still out give up
		if won != nil {
			next.Stop()
			if won.Status == StatusBadRequest {
				return *won, fmt.Errorf("%w: %s", ErrRefused, won.Error)
			}
			return *won, nil
		}
		if ctx.Err() != nil {
			next.Stop()
			return Result{}, c.noQuorum(q, final, last, reached)
		}
		// Wait out the rest of the attempt before asking again: a
		// replica that refused the connection at once is asked again
		// after Retry, not in a tight loop. (Not <-actx.Done(): cancel
		// above has closed it already, and the loop asked thousands of
		// times a second, at full CPU, while replicas were down.)
		select {
		case <-next.C:
		case <-ctx.Done():
			next.Stop()
			return Result{}, c.noQuorum(q, final, last, reached)
		}
	}
}

// agreed finds f+1 matching definite answers.
func (c *Client) agreed(final []*answer) (Result, bool) {
	groups := map[string][]*answer{}
	for _, a := range final {
		if a != nil {
			groups[a.key()] = append(groups[a.key()], a)
		}
	}
	for k, g := range groups {
		if len(g) < c.cfg.F+1 || g[0].malformed() {
			continue
		}
		r := Result{Response: g[0].resp, Disagree: map[int]string{}}
		r.Replica = 0 // f+1 replicas said it, not one
		for _, a := range final {
			switch {
			case a == nil:
			case a.key() == k:
				r.Agree = append(r.Agree, a.replica)
			default:
				r.Disagree[a.replica] = a.String()
			}
		}
		sort.Ints(r.Agree)
		return r, true
	}
	return Result{}, false
}

// noQuorum is ErrNoQuorum with every replica's last answer, and what the
// definite answers (final) show: when they disagree, or one is
// malformed, a replica lied or is broken, which the error says first.
func (c *Client) noQuorum(q Request, final []*answer, last []answer, reached bool) error {
	var parts []string
	for _, a := range last {
		parts = append(parts, fmt.Sprintf("replica %d: %s", a.replica, a))
	}
	outcome := "outcome unknown (a replica may have executed it)"
	switch {
	case q.Op == OpGet:
		outcome = "nothing changed (a get)"
	case !reached:
		outcome = "nothing changed (no replica took the request: every connection was refused)"
	}
	why := "more than f replicas down, cut off or lying? see ordo cluster status"
	if d := disagreement(final); d != "" {
		why = d + ": a Byzantine-fault symptom, a replica lies or is broken (see ordo cluster status)"
	}
	return fmt.Errorf("%w (f=%d: %s needed; %s); %s: %s", ErrNoQuorum, c.cfg.F, plural.Count(c.cfg.F+1, "matching answer"), why, outcome, strings.Join(parts, "; "))
}

// disagreement says how the replicas' answers disagree ("" when they do
// not): the replicas whose answer was malformed, and those whose definite
// answers differ.
func disagreement(final []*answer) string {
	var bad []int
	groups := map[string]bool{}
	var answered []int
	for _, a := range final {
		switch {
		case a == nil:
		case a.malformed():
			bad = append(bad, a.replica)
		default:
			groups[a.key()] = true
			answered = append(answered, a.replica)
		}
	}
	var s []string
	if len(bad) > 0 {
		s = append(s, fmt.Sprintf("%s from %s %s", plural.Noun(len(bad), "a malformed reply", "malformed replies"), plural.Noun(len(bad), "replica", "replicas"), joinInts(bad)))
	}
	if len(groups) > 1 {
		s = append(s, fmt.Sprintf("replicas %s gave %d different answers", joinInts(answered), len(groups)))
	}
	switch {
	case len(s) == 0:
		return ""
	case len(groups) > 1 || len(answered) > 0:
		return "the answers disagree: " + strings.Join(s, "; ")
	}
	return strings.Join(s, "; ") // malformed replies only
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// isContext reports an attempt that ended by its own deadline.
func isContext(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// isNoAnswer reports a replica not heard from yet.
func isNoAnswer(a answer) bool { return a.err == errNoAnswer }

// errNoAnswer is a replica's last answer before it gave one.
var errNoAnswer = errors.New("no answer")

// unauthorized counts the replicas whose last answer was 401.
func unauthorized(last []answer) int {
	n := 0
	for _, a := range last {
		if a.code == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

// post sends body to replica i+1 and reads its answer.
func (c *Client) post(ctx context.Context, i int, body []byte) answer {
	a := answer{replica: i + 1}
	ep := c.endpoints[i]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep+"/v1/pbft", bytes.NewReader(body))
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	req, sent := kvclient.TraceSent(req)
	resp, err := c.hc.Do(req)
	a.conn = sent()
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it names the URL again
		}
		a.err = fmt.Errorf("%s: %w", ep, err)
		return a
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRespBytes+1))
	switch {
	case err != nil:
		a.err = fmt.Errorf("%s: reading the answer: %v", ep, err)
	case len(data) > maxRespBytes:
		a.err = fmt.Errorf("%s: answer larger than %d bytes", ep, maxRespBytes)
	case resp.StatusCode == http.StatusUnauthorized:
		a.err = fmt.Errorf("%s: 401 wrong client token (the replica refused the cluster's client.token)", ep)
		a.code = http.StatusUnauthorized
	default:
		if json.Unmarshal(data, &a.resp) != nil || a.resp.Status == "" {
			a.err = fmt.Errorf("%s: %d, not a pbft client API answer: %.200q", ep, resp.StatusCode, data)
		}
		a.code = resp.StatusCode
	}
	return a
}
