package live

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/live/transport"
	"ordo/trace"
)

// testEcho is the gateway's test protocol: it answers a client call with
// the call's number, after writing it to its store (Write) and after a
// delay (Delay, a timer). It has no peers' messages: one node suffices.
type testEcho struct{ id ordo.NodeID }

type gwEchoReq struct {
	N     uint64
	Write bool
	Delay int64 // ms before the answer
}
type gwEchoResp struct {
	N    uint64
	Node ordo.NodeID
}

func (gwEchoReq) Kind() string  { return "echo-req" }
func (gwEchoResp) Kind() string { return "echo-resp" }

func init() {
	ordo.Register(&ordo.Protocol{
		Name:     "live-test-gateway",
		Doc:      "answers client API calls (the gateway's tests)",
		Messages: []ordo.Message{gwEchoReq{}, gwEchoResp{}},
		New:      func(c ordo.Config) (ordo.Node, error) { return &testEcho{id: c.ID}, nil },
	})
	RegisterClientAPI("live-test-gateway", echoAPI)
}

func (p *testEcho) Start(env ordo.Env) {}

func (p *testEcho) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	q, ok := m.(gwEchoReq)
	if !ok || !IsGateway(from) {
		return
	}
	if q.Write {
		env.Store().Put(fmt.Sprintf("n/%08d", q.N), binary.BigEndian.AppendUint64(nil, q.N))
	}
	if q.Delay > 0 {
		// Timer.Arg carries the gateway id and the number (n < 2^20).
		env.After(time.Duration(q.Delay)*time.Millisecond, ordo.Timer{Name: "answer", Arg: int64(from)<<20 | int64(q.N)})
		return
	}
	env.Send(from, gwEchoResp{N: q.N, Node: p.id})
}

func (p *testEcho) Fire(env ordo.Env, t ordo.Timer) {
	env.Send(ordo.NodeID(t.Arg>>20), gwEchoResp{N: uint64(t.Arg & (1<<20 - 1)), Node: p.id})
}

// echoAPI serves POST /echo {"N":1,"Write":true,"Delay":0} over the
// gateway: the errors' HTTP statuses are the gateway's.
func echoAPI(gw *Gateway) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var q gwEchoReq
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<10)).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m, err := gw.Call(req.Context(), q)
		if err != nil {
			code := http.StatusGatewayTimeout
			var ge *GatewayError
			if errors.As(err, &ge) {
				code = ge.HTTPStatus()
			}
			http.Error(w, err.Error(), code)
			return
		}
		json.NewEncoder(w).Encode(m)
	})
}

// echoNode starts one live-test-echo node with a client address (TLS and a
// client token when secure).
func echoNode(t *testing.T, secure bool, o Options) (*Runtime, *Config) {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "live-test-gateway", 1, nil)
	cfg.Nodes[0].Client = freeAddrs(t, 1)[0]
	if secure {
		if err := transport.GenerateDevCA(filepath.Join(dir, "tls"), 1); err != nil {
			t.Fatal(err)
		}
		cfg.TLS, cfg.TLSDir, cfg.ClientToken = true, "tls", ClientTokenFileName
		if _, err := GenerateAdminToken(filepath.Join(dir, ClientTokenFileName)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Write(filepath.Join(dir, ConfigFileName)); err != nil {
		t.Fatal(err)
	}
	o.Log = quietLog()
	rt, err := Start(cfg, 1, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Stop() })
	return rt, cfg
}

func gatewayEvents(t *testing.T, tr *trace.Trace) (recv, send, drop int) {
	t.Helper()
	for _, e := range tr.Events {
		if !IsGateway(e.Peer) {
			continue
		}
		switch e.Kind {
		case trace.Recv:
			recv++
		case trace.Send:
			send++
		case trace.Drop:
			drop++
		}
	}
	return
}

// Every call gets its own answer (64 at once, as many concurrent clients
// do), and the node's trace records each call's receive and answer from
// and to a gateway id; the merged trace passes trace.Validate.
func TestGatewayCallsAndTrace(t *testing.T) {
	rt, cfg := echoNode(t, false, Options{})
	const calls = 64
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := 1; i <= calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m, err := rt.gw.Call(ctx, gwEchoReq{N: uint64(i), Write: i%2 == 0})
			if err != nil {
				errs <- err
				return
			}
			if r := m.(gwEchoResp); r.N != uint64(i) || r.Node != 1 {
				errs <- fmt.Errorf("call %d answered %+v", i, r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := rt.Stop(); err != nil {
		t.Fatal(err)
	}
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatalf("the merged trace with gateway events: %v", err)
	}
	recv, send, drop := gatewayEvents(t, tr)
	if recv != calls || send != calls || drop != 0 {
		t.Fatalf("trace has %d gateway receives, %d sends, %d drops; want %d, %d, 0", recv, send, drop, calls, calls)
	}
}

// The durability contract holds for client answers: an answer that
// depends on a write whose fsync fails never leaves (the node stops,
// fail-stop), and the call learns that no answer will come (outcome
// unknown), within a bound.
func TestGatewayAnswerWaitsForFsync(t *testing.T) {
	rt, _ := echoNode(t, false, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := rt.gw.Call(ctx, gwEchoReq{N: 1, Write: true}); err != nil {
		t.Fatal(err)
	}
	rt.FailNextSync()
	start := time.Now()
	m, err := rt.gw.Call(ctx, gwEchoReq{N: 2, Write: true})
	if err == nil {
		t.Fatalf("the answer %+v left although the fsync of its write failed", m)
	}
	if !errors.Is(err, ErrNoAnswer) && !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("err = %v, want %v", err, ErrNoAnswer)
	}
	if ctx.Err() != nil {
		t.Fatalf("the call waited for its deadline (%v) instead of learning of the fail-stop", time.Since(start))
	}
	if _, err := rt.gw.Call(ctx, gwEchoReq{N: 3}); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("a call to a stopped node: err = %v, want %v", err, ErrShuttingDown)
	}
}

// Calls in flight are bounded (429 beyond), a call whose context ends
// gets its context's error and the late answer is dropped and counted,
// and a stopping node refuses new calls (503) and fails waiting ones.
func TestGatewayBoundsAndShutdown(t *testing.T) {
	rt, cfg := echoNode(t, false, Options{ClientCalls: 2})
	bg := context.Background()
	held := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := rt.gw.Call(bg, gwEchoReq{N: uint64(10 + i), Delay: 60_000})
			held <- err
		}()
	}
	waitFor(t, 5*time.Second, func() bool { return rt.gw.inflight.Load() == 2 }, func() string { return "waited 5s for " + "two calls in flight" })
	if _, err := rt.gw.Call(bg, gwEchoReq{N: 1}); !errors.Is(err, ErrBusy) || ErrBusy.HTTPStatus() != http.StatusTooManyRequests {
		t.Fatalf("a third call: err = %v, want %v (429)", err, ErrBusy)
	}

	// Over HTTP through the node's own server: the gateway's statuses.
	url := "http://" + rt.ClientAddr() + "/echo"
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post(url, "application/json", bytes.NewReader([]byte(`{"N":5}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("HTTP call beyond the bound: %s, want 429", resp.Status)
	}

	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- rt.Stop() }()
	for range 2 {
		select {
		case err := <-held:
			if !errors.Is(err, ErrNoAnswer) {
				t.Fatalf("a call waiting when the node stopped: err = %v, want %v", err, ErrNoAnswer)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a call waiting when the node stopped still waits after 5s")
		}
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := rt.gw.Call(bg, gwEchoReq{N: 2}); !errors.Is(err, ErrShuttingDown) || ErrShuttingDown.HTTPStatus() != http.StatusServiceUnavailable {
		t.Fatalf("a call after stop: err = %v, want %v (503)", err, ErrShuttingDown)
	}
	t.Logf("stop with 2 calls waiting took %v", time.Since(start))
	_ = cfg
}

// A caller that gives up gets its context's error; the answer that comes
// later is dropped, counted and traced (a drop to the gateway id).
func TestGatewayLateAnswerDropped(t *testing.T) {
	rt, cfg := echoNode(t, false, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := rt.gw.Call(ctx, gwEchoReq{N: 1, Delay: 300}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	waitFor(t, 5*time.Second, func() bool { return rt.gw.Late() == 1 }, func() string { return "waited 5s for " + "the late answer counted" })
	if err := rt.Stop(); err != nil {
		t.Fatal(err)
	}
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if recv, send, drop := gatewayEvents(t, tr); recv != 1 || send != 1 || drop != 1 {
		t.Fatalf("trace: %d gateway receives, %d sends, %d drops; want 1, 1, 1", recv, send, drop)
	}
}

// By default the client API is TLS under the cluster's CA with the client
// token: a wrong or missing token is 401, plain HTTP is refused, the right
// token is served.
func TestGatewayTLSAndToken(t *testing.T) {
	rt, cfg := echoNode(t, true, Options{})
	pem, err := os.ReadFile(filepath.Join(cfg.Path("tls"), "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tok, err := readToken("client token", cfg.Path(ClientTokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	post := func(scheme, token string) (int, error) {
		req, _ := http.NewRequest("POST", scheme+"://"+rt.ClientAddr()+"/echo", bytes.NewReader([]byte(`{"N":7}`)))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	for _, c := range []struct {
		token string
		want  int
	}{{tok, 200}, {"", 401}, {tok + "x", 401}, {"wrong", 401}} {
		if got, err := post("https", c.token); err != nil || got != c.want {
			t.Errorf("token %q: %d, %v; want %d", c.token, got, err, c.want)
		}
	}
	if code, err := post("http", tok); err == nil && code == 200 {
		t.Error("plain HTTP was served by a TLS client API")
	}
}

// A client address must be loopback unless TLS and a token protect it, and
// only servers have one.
func TestClientAddressValidated(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), "live-test-gateway", 2, nil)
	cfg.Nodes[0].Client = "10.1.2.3:2379"
	if err := cfg.Validate(); err == nil {
		t.Error("a non-loopback client address without TLS and a token passed")
	}
	cfg.TLS, cfg.TLSDir, cfg.ClientToken = true, "tls", ClientTokenFileName
	if err := cfg.Validate(); err != nil {
		t.Errorf("a non-loopback client address with TLS and a token: %v", err)
	}
	cfg.Nodes[1].Client = cfg.Nodes[0].Addr
	if err := cfg.Validate(); err == nil {
		t.Error("a client address equal to a peer address passed")
	}
	cfg.Nodes[1].Client = "127.0.0.1:x"
	if err := cfg.Validate(); err == nil {
		t.Error("a malformed client address passed")
	}
}

// CallMany: the messages enter the loop together, as events of one turn
// (their writes share one fsync), each answer at its message's index; the
// calls beyond the node's bound are refused busy, the rest served.
func TestGatewayCallMany(t *testing.T) {
	rt, _ := echoNode(t, false, Options{ClientCalls: 64})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs := make([]ordo.Message, 100)
	for i := range msgs {
		msgs[i] = gwEchoReq{N: uint64(i + 1), Write: true}
	}
	before := rt.store.Syncs()
	reps, errs := rt.gw.CallMany(ctx, msgs)
	if ctx.Err() != nil {
		t.Fatal("CallMany returned only when its context ended: its caller was not woken when the last answer came in")
	}
	busy := 0
	for i := range msgs {
		if errs[i] == ErrBusy {
			busy++
			continue
		}
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if r := reps[i].(gwEchoResp); r.N != uint64(i+1) {
			t.Fatalf("answer %d is %+v: out of order", i, r)
		}
	}
	if busy != 100-64 {
		t.Errorf("%d calls refused busy, want %d (the node's bound is 64)", busy, 100-64)
	}
	if n := rt.store.Syncs() - before; n < 1 || n > 2 {
		t.Errorf("64 writes in one CallMany took %d fsyncs, want 1 (one turn; 2 if a timer's turn slipped in)", n)
	}
	if rt.gw.inflight.Load() != 0 || len(rt.gw.calls) != 0 {
		t.Errorf("calls left registered: %d in flight, %d waiting", rt.gw.inflight.Load(), len(rt.gw.calls))
	}
}

// A CallMany whose context ends before every answer is in: the answers
// given are returned, the others end with the context's error and are
// forgotten.
func TestGatewayCallManyGivesUp(t *testing.T) {
	rt, _ := echoNode(t, false, Options{})
	// Long enough for two immediate answers on a loaded host, well short
	// of the third's delay.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	msgs := []ordo.Message{gwEchoReq{N: 1}, gwEchoReq{N: 2, Delay: 30000}, gwEchoReq{N: 3}}
	reps, errs := rt.gw.CallMany(ctx, msgs)
	for _, i := range []int{0, 2} {
		if errs[i] != nil || reps[i].(gwEchoResp).N != uint64(i+1) {
			t.Errorf("call %d: %v, %v; want its answer", i, reps[i], errs[i])
		}
	}
	if !errors.Is(errs[1], context.DeadlineExceeded) {
		t.Errorf("the unanswered call: %v, want the context's deadline", errs[1])
	}
	rt.gw.mu.Lock()
	left := len(rt.gw.calls)
	rt.gw.mu.Unlock()
	if left != 0 {
		t.Errorf("%d calls left registered", left)
	}
}
