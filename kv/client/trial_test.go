package client

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
	"ordo/kv/api"
)

// The client-side defects a fresh user's trial found, each pinned against
// the real handler (kv/api) over real HTTP, with a scripted server behind.

// serve runs api.NewHandler over answer and returns a client of it.
func serve(t *testing.T, answer func(kv.Request) kv.Response, timeout time.Duration) *Client {
	t.Helper()
	h := api.NewHandler(api.Config{Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		return answer(m.(kv.Request)), nil
	}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{Endpoints: []string{srv.URL}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Values of the worst characters to encode, at the value bound, are
// accepted: the client's encoding fits the server's body bound.
func TestPutMaximalValuesOfEveryCharacter(t *testing.T) {
	var got atomic.Value
	// Generous deadlines: 1.5 MB bodies under the race detector on a
	// loaded machine take seconds, and speed is not what is tested.
	c := serve(t, func(q kv.Request) kv.Response { got.Store(q); return kv.Response{Status: kv.StatusOK, Rev: 9} }, time.Minute)
	c.cfg.AttemptTimeout = 30 * time.Second
	for _, ch := range []string{"<", "&", "\x01", `"`, "\u2028"} {
		v := strings.Repeat(ch, api.MaxValueBytes/len(ch))
		if _, err := c.Put(context.Background(), "k", v); err != nil {
			t.Errorf("put of %d × %q: %v", len(v)/len(ch), ch, err)
		} else if q, _ := got.Load().(kv.Request); q.Value != v {
			t.Errorf("put of %q: the server got another value", ch)
		}
		if _, _, err := c.CAS(context.Background(), strings.Repeat(ch, api.MaxKeyBytes/len(ch)), &v, v); err != nil {
			t.Errorf("cas of %q at the bounds: %v", ch, err)
		}
	}
}

// A membership change the leader refuses (strict reconfiguration check)
// is reported at once as refused, naming the node and the leader's reason,
// not retried until the deadline and reported unavailable.
func TestMembershipRefusalReportedAtOnce(t *testing.T) {
	why := "remove 3 refused: 2 of the 4 voters after it answered within 150ms, 4 needed (strict reconfiguration check)"
	var calls atomic.Int64
	c := serve(t, func(q kv.Request) kv.Response {
		calls.Add(1)
		return kv.Response{Status: kv.StatusUnavailable, Err: why}
	}, 30*time.Second)
	err := c.MemberRemove(context.Background(), 3)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "member remove n3") {
		t.Fatalf("refused removal: %v; want ErrRefused naming n3 and the reason", err)
	}
	if strings.Contains(err.Error(), `""`) || calls.Load() != 1 {
		t.Errorf("refused removal: %v after %d calls; want one call and no empty key", err, calls.Load())
	}
}

// A server that answers not-leader without knowing a leader (cut off from
// a majority) makes the error say no leader is reachable, not that no
// server answered; other operations name what they were, never an empty
// key.
func TestNoLeaderReachable(t *testing.T) {
	c := serve(t, func(q kv.Request) kv.Response {
		return kv.Response{Status: kv.StatusNotLeader, Err: "not the leader"}
	}, 300*time.Millisecond)
	_, err := c.Get(context.Background(), "x")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no leader reachable") {
		t.Errorf("get with no leader: %v; want unavailable: no leader reachable", err)
	}
	// A follower that names a leader which does not answer (killed, cut
	// off): no leader reachable either.
	h := api.NewHandler(api.Config{
		Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
			return kv.Response{Status: kv.StatusNotLeader, Leader: 2, Err: "not the leader"}, nil
		},
		LeaderAddr: func(ordo.NodeID) string { return "127.0.0.1:1" }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	stale, err := New(Config{Endpoints: []string{srv.URL}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	if _, err := stale.Get(context.Background(), "x"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no leader reachable") {
		t.Errorf("get with a dead leader named: %v; want unavailable: no leader reachable", err)
	}
	err = c.Transfer(context.Background(), 2)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "transfer to n2") || strings.Contains(err.Error(), `""`) {
		t.Errorf("transfer with no leader: %v; want it named, without an empty key", err)
	}
}

// Status tells a wrong client token (401) from a server that is down.
func TestStatusWrongToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"status":"unauthorized","error":"missing or wrong client token (the cluster's client.token)"}` + "\n"))
	}))
	defer srv.Close()
	c, err := New(Config{Endpoints: []string{srv.URL, "127.0.0.1:1"}, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.Status(context.Background())
	if st[0].Code != 401 || !errors.Is(st[0].Err, ErrRefused) || !strings.Contains(st[0].Err.Error(), "401 wrong client token") {
		t.Errorf("status with a wrong token: code %d, %v; want 401 wrong client token", st[0].Code, st[0].Err)
	}
	if st[1].Code != 0 || st[1].Err == nil {
		t.Errorf("status of a server that is down: code %d, %v; want no code and an error", st[1].Code, st[1].Err)
	}
}
