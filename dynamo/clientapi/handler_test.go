package clientapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"ordo"
	"ordo/dynamo"
	"ordo/dynamo/clientapi"
	"ordo/ordotest"
)

// node is one dynamo server (N=1) behind a Caller, as the live gateway
// would drive it: one event at a time, the reply to the caller's id.
type node struct {
	mu  sync.Mutex
	env *ordotest.Env
	s   ordo.Node
}

// gateway stands for a gateway id: the test env knows the roster only.
const gateway = ordo.NodeID(2)

func newNode(t *testing.T, opts map[string]string) *node {
	env := ordotest.ForProtocol(dynamo.Protocol, 1, ordo.NewRoster(1, 1, 0), 1)
	o := map[string]string{"sync_every": "0s"}
	for k, v := range opts {
		o[k] = v
	}
	n := &node{env: env, s: env.NewNode(t, dynamo.Protocol, o)}
	env.Start(n.s)
	return n
}

func (n *node) call(ctx context.Context, m ordo.Message) (ordo.Message, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.env.Advance(1e6)
	n.env.Receive(n.s, gateway, m)
	if s := n.env.SentTo(gateway); len(s) == 1 {
		return s[0], nil
	}
	return nil, fmt.Errorf("no answer: %v", n.env.SentSummary())
}

type server struct {
	t  *testing.T
	ts *httptest.Server
}

func start(t *testing.T, opts map[string]string) *server {
	n := newNode(t, opts)
	var tags atomic.Int64 // handlers run concurrently
	h := clientapi.NewHandler(clientapi.Config{Call: n.call, Tag: func() string { return fmt.Sprintf("t%d", tags.Add(1)) }})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &server{t: t, ts: ts}
}

func (s *server) post(body string) (int, clientapi.Response) {
	s.t.Helper()
	resp, err := http.Post(s.ts.URL+"/v1/dynamo", "application/json", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r clientapi.Response
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		s.t.Fatalf("%s: answer not JSON: %v", body, err)
	}
	return resp.StatusCode, r
}

func (s *server) do(q clientapi.Request) (int, clientapi.Response) {
	s.t.Helper()
	b, err := json.Marshal(q)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.post(string(b))
}

func str(s string) *string { return &s }

func values(r clientapi.Response) string {
	var v []string
	for _, s := range r.Siblings {
		if s.Deleted {
			v = append(v, "(deleted)")
		} else {
			v = append(v, s.Value)
		}
	}
	return strings.Join(v, ",")
}

// Get, put, siblings, a put with the merged context, delete.
func TestGetPutDelete(t *testing.T) {
	s := start(t, nil)
	code, r := s.do(clientapi.Request{Op: "get", Key: "x"})
	if code != 200 || r.Status != "not-found" || len(r.Context) == 0 {
		t.Fatalf("get of a new key: %d %+v", code, r)
	}
	empty := r.Context
	if code, r := s.do(clientapi.Request{Op: "put", Key: "x", Value: str("A")}); code != 200 || r.Vec != "[1]" {
		t.Fatalf("put: %d %+v", code, r)
	}
	// Two writes from the same stale context: siblings.
	s.do(clientapi.Request{Op: "put", Key: "x", Value: str("B"), Context: empty})
	code, r = s.do(clientapi.Request{Op: "get", Key: "x"})
	if code != 200 || r.Status != "ok" || values(r) != "B,A" {
		t.Fatalf("get: %d %+v, want siblings B, A", code, r)
	}
	if code, w := s.do(clientapi.Request{Op: "put", Key: "x", Value: str("AB"), Context: r.Context}); code != 200 || w.Vec != "[3]" {
		t.Fatalf("resolving put: %d %+v", code, w)
	}
	code, r = s.do(clientapi.Request{Op: "get", Key: "x"})
	if values(r) != "AB" {
		t.Fatalf("after the resolving put: %+v", r)
	}
	if code, d := s.do(clientapi.Request{Op: "delete", Key: "x", Context: r.Context}); code != 200 || d.Status != "ok" {
		t.Fatalf("delete: %d %+v", code, d)
	}
	code, r = s.do(clientapi.Request{Op: "get", Key: "x"})
	if code != 200 || r.Status != "not-found" || values(r) != "(deleted)" {
		t.Fatalf("get after delete: %d %+v", code, r)
	}
}

// Refusals: each a 4xx with the reason.
func TestRefusals(t *testing.T) {
	s := start(t, nil)
	_, g := s.do(clientapi.Request{Op: "get", Key: "x"})
	forged := append([]byte(nil), g.Context...)
	forged[len(forged)-1] ^= 1
	other, _ := json.Marshal(clientapi.Request{Op: "put", Key: "y", Value: str("v"), Context: g.Context})
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"op":"put","key":"x","value":"v","context":"` + clientapi.ContextString(forged) + `"}`, 400, "forged context"},
		{string(other), 400, "forged context"}, // x's context for key y
		{`{"op":"put","key":"x","value":"v","context":"AAAA"}`, 400, "malformed context"},
		{`{"op":"put","key":"x","value":"v","context":"not base64!"}`, 400, "malformed request"},
		{`{"op":"put","key":"x"}`, 400, "needs a value"},
		{`{"op":"delete","key":"x"}`, 400, "needs the context"},
		{`{"op":"get"}`, 400, "needs a key"},
		{`{"op":"cas","key":"x"}`, 400, "unknown op"},
		{`{"op":"get","key":"x","extra":1}`, 400, "unknown field"},
		{`{"op":"get","key":"x"} {}`, 400, "trailing"},
		{`{"op":"put","key":"x","value":"v","value":"w"}`, 400, `field "value" given twice`},
		{`{"op":"get","key":"x","item":"a"}`, 400, "means nothing"},
		{``, 400, "empty request"},
		{`{"op":"get","key":"` + strings.Repeat("k", dynamo.MaxKeyLen+1) + `"}`, 413, "key of 129 bytes"},
		{`{"op":"put","key":"x","value":"` + strings.Repeat("v", dynamo.MaxValueLen+1) + `"}`, 413, "value of 1025 bytes"},
		{`{"op":"put","key":"x","value":"` + strings.Repeat("v", clientapi.MaxBodyBytes) + `"}`, 413, "larger than"},
		{`{"op":"cart-add","key":"c","item":"Apple"}`, 400, "needs an item"},
		{`{"op":"cart-add","key":"c","item":"apple"}`, 400, "resolution=merge"},
	} {
		code, r := s.post(c.body)
		if code != c.code || r.Status != "bad-request" || !strings.Contains(r.Error, c.want) {
			t.Errorf("%.80s: %d %+v, want %d and %q", c.body, code, r, c.code, c.want)
		}
	}
	resp, _ := http.Post(s.ts.URL+"/v1/dynamo", "text/plain", strings.NewReader(`{}`))
	if resp.StatusCode != 415 {
		t.Errorf("text/plain: %d, want 415", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Post(s.ts.URL+"/v1/dynamo", "application/json", bytes.NewReader([]byte("{\"op\":\"get\",\"key\":\"\xff\"}")))
	if resp.StatusCode != 400 {
		t.Errorf("not UTF-8: %d, want 400", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Get(s.ts.URL + "/v1/dynamo")
	if resp.StatusCode != 405 {
		t.Errorf("GET /v1/dynamo: %d, want 405", resp.StatusCode)
	}
	resp.Body.Close()
}

// Carts on an observed-remove bucket: add, remove, show; a removed item
// stays removed; an absent item's remove says so.
func TestCart(t *testing.T) {
	s := start(t, map[string]string{"resolution": "merge", "merge": "orset"})
	if code, r := s.do(clientapi.Request{Op: "cart-show", Key: "c"}); code != 200 || r.Status != "not-found" || r.Merge != "orset" {
		t.Fatalf("show of a new cart: %d %+v", code, r)
	}
	for _, it := range []string{"apple", "pear", "apple"} {
		if code, r := s.do(clientapi.Request{Op: "cart-add", Key: "c", Item: it}); code != 200 || r.Status != "ok" {
			t.Fatalf("add %s: %d %+v", it, code, r)
		}
	}
	if _, r := s.do(clientapi.Request{Op: "cart-remove", Key: "c", Item: "apple"}); strings.Join(r.Items, ",") != "pear" {
		t.Fatalf("remove apple: %+v", r)
	}
	if code, r := s.do(clientapi.Request{Op: "cart-remove", Key: "c", Item: "plum"}); code != 200 || r.Status != "not-found" || !strings.Contains(r.Error, "not in cart") {
		t.Fatalf("remove plum: %d %+v", code, r)
	}
	if _, r := s.do(clientapi.Request{Op: "cart-show", Key: "c"}); r.Status != "ok" || strings.Join(r.Items, ",") != "pear" {
		t.Fatalf("show: %+v", r)
	}
	// A get shows the cart's encoding: one merged value.
	if _, r := s.do(clientapi.Request{Op: "get", Key: "c"}); len(r.Siblings) != 1 || !strings.Contains(r.Siblings[0].Value, "+pear#") {
		t.Fatalf("get of a cart: %+v", r)
	}
}

// The node's refusals and failures map to the documented statuses.
func TestCallerErrors(t *testing.T) {
	for _, c := range []struct {
		rep    dynamo.Reply
		err    error
		op     string
		code   int
		status string
	}{
		{rep: dynamo.Reply{Status: dynamo.StatusBusy, Err: "1024 requests in flight"}, op: "get", code: 429, status: "busy"},
		{rep: dynamo.Reply{Status: dynamo.StatusUnavailable, Err: "1 of 3"}, op: "get", code: 503, status: "unavailable"},
		{rep: dynamo.Reply{Status: dynamo.StatusUnavailable, Err: "1 of 3"}, op: "put", code: 504, status: "unknown"},
		{err: context.DeadlineExceeded, op: "put", code: 504, status: "unknown"},
		{err: context.DeadlineExceeded, op: "get", code: 503, status: "unavailable"},
	} {
		calls := 0
		h := clientapi.NewHandler(clientapi.Config{Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
			calls++
			if c.err != nil {
				return nil, c.err
			}
			return c.rep, nil
		}})
		body := `{"op":"get","key":"x"}`
		if c.op == "put" {
			body = `{"op":"put","key":"x","value":"v"}`
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/dynamo", strings.NewReader(body)))
		var r clientapi.Response
		json.Unmarshal(w.Body.Bytes(), &r)
		if w.Code != c.code || r.Status != c.status || r.Error == "" {
			t.Errorf("%+v: %d %+v, want %d %s", c, w.Code, r, c.code, c.status)
		}
		if c.op == "put" && calls != 1 {
			t.Errorf("%+v: a write was sent %d times, want once", c, calls)
		}
	}
}

// Concurrent cart adds through the API: each is a get and a put with the
// get's context, so adds that read the same version become siblings, and
// the bucket's merge keeps every item.
func TestConcurrentCartAdds(t *testing.T) {
	s := start(t, map[string]string{"resolution": "merge", "merge": "orset"})
	var wg sync.WaitGroup
	const n = 12
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(clientapi.Request{Op: "cart-add", Key: "c", Item: fmt.Sprintf("i%02d", i)})
			resp, err := http.Post(s.ts.URL+"/v1/dynamo", "application/json", bytes.NewReader(b))
			if err != nil {
				t.Error(err)
				return
			}
			if resp.StatusCode != 200 {
				t.Errorf("add i%02d: %d", i, resp.StatusCode)
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	_, r := s.do(clientapi.Request{Op: "cart-show", Key: "c"})
	if len(r.Items) != n {
		t.Fatalf("after %d concurrent adds: %v", n, r.Items)
	}
}
