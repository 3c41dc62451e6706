package client

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
	"strings"
	"sync"
	"time"

	"ordo/dynamo/clientapi"
	kvclient "ordo/kv/client"
)

// Errors; see the package doc.
var (
	ErrRefused     = errors.New("dynamo: refused")
	ErrUnavailable = errors.New("dynamo: unavailable")
	ErrUnknown     = errors.New("dynamo: outcome unknown")
	ErrNotFound    = errors.New("dynamo: not found")
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
	// Timeout bounds one operation, attempts at several servers included
	// (default 5s), when its context has no earlier deadline.
	Timeout time.Duration
}

// Bounds of the client.
const (
	DefaultTimeout = 5 * time.Second
	// maxRespBytes bounds a JSON answer: 2*MaxSiblingsCap siblings of
	// the largest value, escaped, and the rest.
	maxRespBytes = 8 << 20
)

// Client talks to a dynamo cluster's client API. Any server coordinates
// any key; the client starts with the next server in turn and moves on
// from one that is down, busy or unavailable. It is safe for concurrent
// use.
type Client struct {
	cfg       Config
	hc        *http.Client
	endpoints []string

	mu   sync.Mutex
	next int
}

// New returns a client of the servers in c.Endpoints. It opens no
// connection until the first request.
func New(c Config) (*Client, error) {
	if len(c.Endpoints) == 0 {
		return nil, errors.New("dynamo client: no endpoints")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	scheme := "http"
	if c.TLS != nil {
		scheme = "https"
	}
	// Clients start at a random server (then take turns), so that many
	// of them spread over the cluster.
	cl := &Client{cfg: c, next: rand.IntN(len(c.Endpoints))}
	for _, e := range c.Endpoints {
		if strings.Contains(e, "://") {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("dynamo client: endpoint %q: want host:port or an http(s) URL", e)
			}
			cl.endpoints = append(cl.endpoints, u.Scheme+"://"+u.Host)
			continue
		}
		if _, _, err := net.SplitHostPort(e); err != nil {
			return nil, fmt.Errorf("dynamo client: endpoint %q: %v", e, err)
		}
		cl.endpoints = append(cl.endpoints, scheme+"://"+e)
	}
	tr := kvclient.Transport(c.TLS, kvclient.DefaultConnectTimeout, 16)
	cl.hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return cl, nil
}

// FromCluster returns a client of the cluster in dir (what `ordo cluster
// up --protocol dynamo` wrote: cluster.yaml, tls/ca.pem, client.token).
func FromCluster(dir string) (*Client, error) {
	cfg, err := ClusterConfig(dir)
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

// ClusterConfig is the Config FromCluster uses (to adjust before New).
// The cluster file is read as the kv database's client reads it: the
// servers' client addresses, TLS and the client token.
func ClusterConfig(dir string) (Config, error) {
	k, err := kvclient.ClusterConfig(dir)
	if err != nil {
		return Config{}, err
	}
	return Config{Endpoints: k.Endpoints, TLS: k.TLS, Token: k.Token}, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Sibling is one version of a key: a value or a tombstone.
type Sibling = clientapi.Sibling

// Result is what a get returns: every sibling (tombstones marked), the
// context to write with, and whether any sibling is a value.
type Result struct {
	Siblings []Sibling
	Context  []byte
	Found    bool
	// Merge names a merging bucket's cart (orset, union), else "".
	Merge string
}

// Values are the siblings that are values, not tombstones.
func (r Result) Values() []string {
	var out []string
	for _, s := range r.Siblings {
		if !s.Deleted {
			out = append(out, s.Value)
		}
	}
	return out
}

// Get reads key: every sibling and one context.
func (c *Client) Get(ctx context.Context, key string) (Result, error) {
	r, err := c.do(ctx, clientapi.Request{Op: clientapi.OpGet, Key: key})
	if err != nil {
		return Result{}, err
	}
	return Result{Siblings: r.Siblings, Context: r.Context, Found: r.Status == clientapi.StatusOK, Merge: r.Merge}, nil
}

// Put writes value with the context of a get (nil: a blind write, a
// sibling of whatever key holds); it returns the write's version vector.
func (c *Client) Put(ctx context.Context, key, value string, context []byte) (vec string, err error) {
	r, err := c.do(ctx, clientapi.Request{Op: clientapi.OpPut, Key: key, Value: &value, Context: context})
	return r.Vec, err
}

// Delete writes a tombstone over what the context of a get covers; it
// returns the tombstone's version vector.
func (c *Client) Delete(ctx context.Context, key string, context []byte) (vec string, err error) {
	r, err := c.do(ctx, clientapi.Request{Op: clientapi.OpDelete, Key: key, Context: context})
	return r.Vec, err
}

// CartAdd adds item to cart key and returns the cart's items as written.
func (c *Client) CartAdd(ctx context.Context, key, item string) ([]string, error) {
	r, err := c.do(ctx, clientapi.Request{Op: clientapi.OpCartAdd, Key: key, Item: item})
	return r.Items, err
}

// CartRemove removes item from cart key (ErrNotFound: it is not there)
// and returns the cart's items as written.
func (c *Client) CartRemove(ctx context.Context, key, item string) ([]string, error) {
	r, err := c.do(ctx, clientapi.Request{Op: clientapi.OpCartRemove, Key: key, Item: item})
	if err == nil && r.Status == clientapi.StatusNotFound {
		return r.Items, fmt.Errorf("%w: %s", ErrNotFound, r.Error)
	}
	return r.Items, err
}

// CartShow returns cart key's items; found is false for a cart never
// written or deleted.
func (c *Client) CartShow(ctx context.Context, key string) (items []string, found bool, err error) {
	r, err := c.do(ctx, clientapi.Request{Op: clientapi.OpCartShow, Key: key})
	return r.Items, r.Status == clientapi.StatusOK, err
}

// do sends q to one server after another until one gives a definite
// answer: ok or not-found (nil error), a refusal, an unknown outcome.
// A 503 or 429 (nothing changed) or a failed connection moves on to the
// next server; a write that reached a server and got no answer is
// ErrUnknown and is not sent again.
func (c *Client) do(ctx context.Context, q clientapi.Request) (clientapi.Response, error) {
	body, err := clientapi.EncodeRequest(q)
	if err != nil {
		return clientapi.Response{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	write := q.Op != clientapi.OpGet && q.Op != clientapi.OpCartShow
	c.mu.Lock()
	first := c.next
	c.next = (c.next + 1) % len(c.endpoints)
	c.mu.Unlock()
	// Why each server could not serve it, all of them in the error: a
	// server's own answer (fewer than R replicas) says more than the
	// next one's refused connection.
	var tried []string
	for i := range len(c.endpoints) {
		ep := c.endpoints[(first+i)%len(c.endpoints)]
		r, code, err := c.post(ctx, ep, body)
		switch {
		case err != nil && errors.Is(err, errNotSent):
			tried = append(tried, err.Error())
			continue
		case err != nil && write:
			return r, fmt.Errorf("%w: %s: %v", ErrUnknown, ep, err)
		case err != nil:
			tried = append(tried, err.Error())
			continue
		}
		switch code {
		case http.StatusOK:
			return r, nil
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			tried = append(tried, fmt.Sprintf("%s: %d %s", ep, code, r.Error))
			continue
		case http.StatusGatewayTimeout:
			return r, fmt.Errorf("%w: %s", ErrUnknown, strings.TrimPrefix(r.Error, "outcome unknown: "))
		case http.StatusUnauthorized:
			return r, fmt.Errorf("%w: 401 wrong client token (the server refused the cluster's client.token)", ErrRefused)
		}
		if code >= 400 && code < 500 {
			return r, fmt.Errorf("%w: %d %s", ErrRefused, code, r.Error)
		}
		last := fmt.Sprintf("%s: %d %s", ep, code, r.Error)
		if write {
			return r, fmt.Errorf("%w: %s", ErrUnknown, last)
		}
		tried = append(tried, last)
	}
	return clientapi.Response{}, fmt.Errorf("%w: no server could serve it: %s", ErrUnavailable, strings.Join(tried, "; "))
}

// errNotSent marks a request that never reached a server (the
// connection failed): safe to send elsewhere, even a write.
var errNotSent = errors.New("not sent")

func (c *Client) post(ctx context.Context, ep string, body []byte) (clientapi.Response, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep+"/v1/dynamo", bytes.NewReader(body))
	if err != nil {
		return clientapi.Response{}, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return clientapi.Response{}, 0, fmt.Errorf("%w: %s: %v", errNotSent, ep, err)
		}
		return clientapi.Response{}, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRespBytes+1))
	if err != nil {
		return clientapi.Response{}, 0, fmt.Errorf("%s: reading the answer: %v", ep, err)
	}
	if len(data) > maxRespBytes {
		return clientapi.Response{}, 0, fmt.Errorf("%s: answer larger than %d bytes", ep, maxRespBytes)
	}
	var r clientapi.Response
	if err := json.Unmarshal(data, &r); err != nil || r.Status == "" {
		return clientapi.Response{}, 0, fmt.Errorf("%s: %d, not a dynamo client API answer: %.200q", ep, resp.StatusCode, data)
	}
	return r, resp.StatusCode, nil
}
