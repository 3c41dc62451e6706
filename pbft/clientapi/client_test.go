package clientapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ordo"
	"ordo/kv"
	"ordo/pbft"
	"ordo/pbft/clientapi"
)

// replica is a fake replica's gateway: it answers every request with the
// kv answer value says (or never, silent).
func replica(t *testing.T, id ordo.NodeID, value func() string, silent bool) string {
	call := func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		req := m.(pbft.Request)
		if silent {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		res, err := kv.CommandCodec.Encode(kv.Response{Status: kv.StatusOK, Value: value(), Rev: 3})
		if err != nil {
			t.Fatal(err)
		}
		return pbft.Reply{Client: req.Client, Timestamp: req.Timestamp, Result: string(res)}, nil
	}
	s := httptest.NewServer(clientapi.NewHandler(clientapi.Config{Call: call, ID: id, Timeout: time.Second}))
	t.Cleanup(s.Close)
	return s.URL
}

func honest() string { return "1" }

// equivocator is a replica whose reply's result is what Reply.Equivocate
// tells an odd-numbered client: "forged", no kv answer at all.
func equivocator(t *testing.T, id ordo.NodeID) string {
	call := func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		req := m.(pbft.Request)
		return pbft.Reply{Client: req.Client, Timestamp: req.Timestamp, Result: "forged"}, nil
	}
	s := httptest.NewServer(clientapi.NewHandler(clientapi.Config{Call: call, ID: id, Timeout: time.Second}))
	t.Cleanup(s.Close)
	return s.URL
}

// PBFT's client rule (section 4.1): f+1 matching replies, whoever lies.
func TestClientAcceptsFPlusOneMatching(t *testing.T) {
	eps := []string{
		replica(t, 1, honest, false),
		replica(t, 2, honest, true), // silent
		replica(t, 3, honest, false),
		replica(t, 4, func() string { return "forged" }, false),
	}
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 3 * time.Second, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Get(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if r.Value != "1" || len(r.Agree) != 2 {
		t.Fatalf("accepted %+v, want value 1 from two replicas", r)
	}
	if r.Agree[0] != 1 || r.Agree[1] != 3 || r.Disagree[1] != "" || r.Disagree[3] != "" {
		t.Fatalf("agree %v disagree %v, want 1 and 3 agreeing (2 silent, 4 lying)", r.Agree, r.Disagree)
	}
}

// Two liars of four (more than f = 1) that tell different lies, and a
// silent replica: no answer has f+1 voices, and the error says what each
// replica said.
func TestClientNoQuorum(t *testing.T) {
	eps := []string{
		replica(t, 1, honest, false),
		replica(t, 2, honest, true),
		replica(t, 3, func() string { return "a" }, false),
		replica(t, 4, func() string { return "b" }, false),
	}
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 700 * time.Millisecond, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Get(context.Background(), "x")
	if !errors.Is(err, clientapi.ErrNoQuorum) || !strings.Contains(err.Error(), `replica 3: 200 ok value "a"`) || !strings.Contains(err.Error(), "replica 2:") {
		t.Fatalf("err %v, want ErrNoQuorum naming each replica's answer", err)
	}
	if !strings.Contains(err.Error(), "the answers disagree: replicas 1, 3, 4 gave 3 different answers: a Byzantine-fault symptom") {
		t.Fatalf("err %v, want it to say the answers disagree, a Byzantine-fault symptom", err)
	}
}

// A replica whose reply is malformed (an equivocating replica's "forged"
// result) is named as a malformed reply that disagrees, not as "500
// unavailable" or a codec error, whether f+1 others agree or not.
func TestClientNamesAMalformedReply(t *testing.T) {
	slow := func() string { time.Sleep(100 * time.Millisecond); return "1" } // replica 4 answers first
	eps := []string{
		replica(t, 1, honest, false),
		replica(t, 2, honest, true), // silent
		replica(t, 3, slow, false),
		equivocator(t, 4),
	}
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 3 * time.Second, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Get(context.Background(), "x")
	if err != nil || r.Value != "1" {
		t.Fatalf("%+v, %v: want 1 from replicas 1 and 3", r, err)
	}
	if d := r.Disagree[4]; !strings.HasPrefix(d, "malformed reply: its result is not a kv answer") || strings.Contains(d, "500") || strings.Contains(d, "unavailable") {
		t.Errorf("replica 4's answer described as %q, want a malformed reply", d)
	}

	// Two liars of four: no f+1, and the error says why.
	eps[2] = equivocator(t, 3)
	c2, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 700 * time.Millisecond, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = c2.Put(context.Background(), "x", "2")
	want := "the answers disagree: malformed replies from replicas 3, 4: a Byzantine-fault symptom, a replica lies or is broken"
	if !errors.Is(err, clientapi.ErrNoQuorum) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "replica 4: malformed reply: its result is not a kv answer") {
		t.Fatalf("err %v, want ErrNoQuorum saying %q", err, want)
	}
	if strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "unavailable") || strings.Contains(err.Error(), "down, cut off") {
		t.Fatalf("err %v reads like an outage", err)
	}
}

// A reply for another request, or whose result is no kv answer, is a
// 500, never accepted.
func TestAnswerRefusesAMismatchedReply(t *testing.T) {
	r := pbft.Request{Client: pbft.ExternalBase + 1, Timestamp: 5}
	for _, m := range []ordo.Message{
		pbft.Reply{Client: r.Client, Timestamp: 4},
		pbft.Reply{Client: r.Client, Timestamp: 5, Result: "not kv"},
		pbft.Prepare{},
	} {
		if code, resp := clientapi.Answer(2, r, m); code != 500 || resp.Status != clientapi.StatusBadReply || resp.Replica != 2 || !strings.HasPrefix(resp.Error, "malformed reply: ") {
			t.Errorf("%+v: %d %+v, want 500 bad-reply from replica 2", m, code, resp)
		}
	}
}

// A wrong client token is said at once (f+1 replicas answered 401), not
// retried until the deadline; a stopped replica's refused connection is
// not hidden behind the last attempt's deadline; a get that gets no
// quorum says nothing changed.
func TestClientWrongTokenAndDownReplicas(t *testing.T) {
	var asked atomic.Int32
	eps := answering(t, 4, &asked, http.StatusUnauthorized, `{"status":"unauthorized","error":"wrong token"}`)
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 5 * time.Second, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Put(context.Background(), "x", "1")
	if !errors.Is(err, clientapi.ErrRefused) || !strings.Contains(err.Error(), "client token") {
		t.Fatalf("err %v, want ErrRefused naming the client token", err)
	}
	if n := asked.Load(); n > 4 {
		t.Errorf("a wrong token was asked %d times of 4 replicas: retried", n)
	}

	// Four replicas that refuse connections (closed servers).
	down := closedEndpoints(4)
	c2, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: down, F: -1, Timeout: 700 * time.Millisecond, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = c2.Get(context.Background(), "x")
	if !errors.Is(err, clientapi.ErrNoQuorum) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("err %v, want ErrNoQuorum saying connection refused and nothing changed", err)
	}
	if strings.Contains(err.Error(), "disagree") || strings.Contains(err.Error(), "Byzantine") {
		t.Errorf("replicas that are down called liars: %v", err)
	}
	if strings.Count(err.Error(), down[0]) != 1 {
		t.Errorf("replica 1's address appears %d times in %v", strings.Count(err.Error(), down[0]), err)
	}
}

// A lone replica (f = 0) that refuses the token: the error agrees with
// the count ("1 replica refused", not "1 replicas").
func TestClientWrongTokenOfOneReplica(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"status":"unauthorized","error":"wrong token"}`))
	}))
	t.Cleanup(s.Close)
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: []string{s.URL}, F: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Put(context.Background(), "x", "1")
	if !errors.Is(err, clientapi.ErrRefused) || !strings.Contains(err.Error(), "1 replica refused the client token") {
		t.Fatalf("err %v, want 1 replica refused the client token", err)
	}
	if _, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: []string{s.URL}, F: 1}); err == nil || !strings.Contains(err.Error(), "f=1 of 1 replica:") {
		t.Fatalf("f=1 of one replica: %v", err)
	}
}

// An answer that is no API answer at all (a proxy's plain-text 502) is an
// outage, not a lie: the replica's API did not write it, so the error does
// not call it a Byzantine-fault symptom (it did, a reviewer).
func TestClientProxyErrorIsNoLie(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	eps := []string{proxy.URL, proxy.URL, replica(t, 3, honest, true), replica(t, 4, honest, true)}
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 500 * time.Millisecond, Retry: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Get(context.Background(), "x")
	if !errors.Is(err, clientapi.ErrNoQuorum) || strings.Contains(err.Error(), "Byzantine") || strings.Contains(err.Error(), "malformed repl") || !strings.Contains(err.Error(), "not a pbft client API answer") {
		t.Fatalf("err %v, want no quorum naming the non-API answers, no lie", err)
	}
}

// A put no replica took (every connection refused: a stopped cluster)
// changed nothing, and says so, where it said "outcome unknown (a replica
// may have executed it)"; a put one replica took and did not answer
// (silent) is still unknown.
func TestClientPutNoReplicaTookChangedNothing(t *testing.T) {
	down := closedEndpoints(4)
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: down, F: -1, Timeout: 700 * time.Millisecond, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Put(context.Background(), "x", "1")
	if !errors.Is(err, clientapi.ErrNoQuorum) || !strings.Contains(err.Error(), "nothing changed (no replica took the request") || strings.Contains(err.Error(), "outcome unknown") {
		t.Fatalf("err %v, want ErrNoQuorum saying nothing changed", err)
	}

	eps := append([]string{replica(t, 1, honest, true)}, down[1:]...)
	c2, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: 700 * time.Millisecond, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = c2.Put(context.Background(), "x", "1")
	if !errors.Is(err, clientapi.ErrNoQuorum) || !strings.Contains(err.Error(), "outcome unknown") {
		t.Fatalf("err %v, want ErrNoQuorum with the outcome unknown (replica 1 took it)", err)
	}
}

// Replicas that answer at once without executing (503, connections
// refused) are asked again after Retry, not in a tight loop: the loop
// waited on its attempt's context after cancelling it, so ordo kv on a
// stopped cluster spun at full CPU, tens of thousands of calls in a few
// seconds.
func TestClientRetriesAfterRetryNotInATightLoop(t *testing.T) {
	var calls atomic.Int32
	eps := answering(t, 4, &calls, http.StatusServiceUnavailable, `{"status":"unavailable","error":"not now"}`)
	c, err := clientapi.NewClient(clientapi.ClientConfig{Endpoints: eps, F: -1, Timeout: time.Second, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Put(context.Background(), "x", "1")
	if !errors.Is(err, clientapi.ErrNoQuorum) {
		t.Fatalf("err %v, want ErrNoQuorum", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("gave up after %v, want about the 1s timeout", d)
	}
	// 1s / 200ms: about 5 attempts of 4 calls each.
	if n := calls.Load(); n > 4*8 {
		t.Errorf("%d calls in 1s with Retry 200ms: a tight loop", n)
	}
}

// closedEndpoints are the URLs of n servers that refuse connections (each
// started and closed: a stopped replica).
func closedEndpoints(n int) []string {
	var down []string
	for range n {
		s := httptest.NewServer(http.NotFoundHandler())
		down = append(down, s.URL)
		s.Close()
	}
	return down
}

// answering are the URLs of n servers that answer every request with
// code and the JSON body, counting the requests in calls.
func answering(t *testing.T, n int, calls *atomic.Int32, code int, body string) []string {
	var eps []string
	for range n {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write([]byte(body))
		}))
		t.Cleanup(s.Close)
		eps = append(eps, s.URL)
	}
	return eps
}
