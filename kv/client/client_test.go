package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ordo"
	"ordo/kv" // also the "kv" protocol, which live.Up checks
	"ordo/kv/api"
	"ordo/live"
)

// buildOrdo builds the ordo binary (whose nodes serve the kv client API).
func buildOrdo(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ordo")
	if out, err := exec.Command("go", "build", "-o", bin, "ordo/cmd/ordo").CombinedOutput(); err != nil {
		t.Fatalf("go build ordo: %v\n%s", err, out)
	}
	return bin
}

// upKV starts an n-server kv database as real processes (TLS and a client
// token, as `ordo cluster up --protocol kv` does by default).
func upKV(t testing.TB, bin string, n int) *live.Cluster {
	t.Helper()
	c, err := live.Up(live.UpOptions{N: n, Protocol: "kv", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn", ClientAPI: true,
		Options:       map[string]string{"election_timeout_min": "150ms", "election_timeout_max": "300ms", "heartbeat": "50ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	if _, _, err := c.WaitLeader(0, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func fromCluster(t *testing.T, c *live.Cluster) *Client {
	t.Helper()
	cl, err := FromCluster(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Exercise 3's database through the Go client: put, get, CAS, range and
// delete against three real server processes over TLS with the token; a
// wrong token is refused (401), and bad requests get their HTTP codes.
func TestClientAgainstRealCluster(t *testing.T) {
	bin := buildOrdo(t)
	c := upKV(t, bin, 3)
	cl := fromCluster(t, c)
	ctx := context.Background()

	rev, err := cl.Put(ctx, "x", "1")
	if err != nil || rev == 0 {
		t.Fatalf("put: rev %d, %v", rev, err)
	}
	r, err := cl.Get(ctx, "x")
	if err != nil || !r.Found || r.Value != "1" {
		t.Fatalf("get x: %+v, %v", r, err)
	}
	if r, err := cl.Get(ctx, "absent"); err != nil || r.Found {
		t.Fatalf("get absent: %+v, %v", r, err)
	}
	old := "1"
	if ok, _, err := cl.CAS(ctx, "x", &old, "2"); err != nil || !ok {
		t.Fatalf("cas 1→2: %v, %v", ok, err)
	}
	if ok, cur, err := cl.CAS(ctx, "x", &old, "3"); err != nil || ok || cur.Value != "2" {
		t.Fatalf("cas 1→3 after 2: swapped %v, current %+v, %v", ok, cur, err)
	}
	if ok, _, err := cl.CAS(ctx, "y", nil, "new"); err != nil || !ok {
		t.Fatalf("cas create y: %v, %v", ok, err)
	}
	pairs, more, err := cl.Range(ctx, "", "", 0)
	if err != nil || more || len(pairs) != 2 || pairs[0].Key != "x" || pairs[1].Value != "new" {
		t.Fatalf("range: %+v more=%v, %v", pairs, more, err)
	}
	if del, _, err := cl.Delete(ctx, "y"); err != nil || !del {
		t.Fatalf("delete y: %v, %v", del, err)
	}
	if del, _, err := cl.Delete(ctx, "y"); err != nil || del {
		t.Fatalf("delete y again: %v, %v", del, err)
	}
	// Every server answers a serializable read once it has applied.
	for _, ep := range cl.endpoints[:3] {
		one, err := New(Config{Endpoints: []string{ep}, TLS: cl.cfg.TLS, Token: cl.cfg.Token})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			r, err := one.Get(ctx, "x", Serializable())
			if err == nil && r.Value == "2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s serves x = %+v, %v; want 2", ep, r, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		one.Close()
	}

	// A wrong token: refused, not retried.
	bad, err := New(Config{Endpoints: cl.cfg.Endpoints, TLS: cl.cfg.TLS, Token: "not-the-token", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.Put(ctx, "x", "9"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("put with a wrong token: %v, want ErrRefused (401)", err)
	}

	// Raw requests: the documented status codes, and the node survives.
	raw := func(method, path, body string) int {
		req, _ := http.NewRequest(method, cl.endpoints[0]+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cl.cfg.Token)
		resp, err := cl.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/v1/kv", `{"op":"get","key":"x"`, 400},
		{"POST", "/v1/kv", `{"op":"explode","key":"x"}`, 400},
		{"POST", "/v1/kv", `{"op":"get","key":"x","extra":1}`, 400},
		{"POST", "/v1/kv", `{"op":"put","key":"` + strings.Repeat("k", api.MaxKeyBytes+1) + `","value":"v"}`, 413},
		{"POST", "/v1/kv", `{"op":"put","key":"k","value":"` + strings.Repeat("v", api.MaxValueBytes+1) + `"}`, 413},
		{"POST", "/v1/kv", strings.Repeat(" ", api.MaxBodyBytes+1), 413},
		{"GET", "/v1/watch?key=x&after=notanumber", "", 400},
		{"GET", "/v1/nothing", "", 404},
		{"GET", "/v1/kv", "", 405},
		{"POST", "/v1/status", "", 405},
		{"POST", "/v1/kv", "{\"op\":\"put\",\"key\":\"\xff\",\"value\":\"x\",\"session\":1,\"seq\":1}", 400},
		{"GET", "/v1/status", "", 200},
	} {
		if got := raw(c.method, c.path, c.body); got != c.want {
			t.Errorf("%s %s %.40q: %d, want %d", c.method, c.path, c.body, got, c.want)
		}
	}
	if r, err := cl.Get(ctx, "x"); err != nil || r.Value != "2" {
		t.Fatalf("after the bad requests: get x = %+v, %v", r, err)
	}
	if got := len(c.Running()); got != 3 {
		t.Fatalf("%d of 3 servers run after the bad requests", got)
	}
	var snap bytes.Buffer
	if rev, n, err := cl.Snapshot(ctx, &snap); err != nil || rev == 0 || n == 0 {
		t.Fatalf("snapshot: rev %d, %d bytes, %v", rev, n, err)
	}
	// A backup larger than one reply streams from the leader, whole, and
	// holds the last acknowledged write.
	big := strings.Repeat("b", 200_000)
	for i := range 6 {
		if _, err := cl.Put(ctx, fmt.Sprint("big-", i), big); err != nil {
			t.Fatal(err)
		}
	}
	lastRev, err := cl.Put(ctx, "last", "acknowledged")
	if err != nil {
		t.Fatal(err)
	}
	snap.Reset()
	rev, n, err := cl.Snapshot(ctx, &snap)
	if err != nil || n < 1_200_000 || n != int64(snap.Len()) || rev < lastRev {
		t.Fatalf("a backup of over a reply (%d bytes): rev %d (the last write at %d), %d bytes, %v", kv.MaxSnapReply, rev, lastRev, n, err)
	}
	m := kv.NewMachine(kv.DefaultMachineConfig)
	if err := m.Restore(rev, snap.Bytes()); err != nil {
		t.Fatalf("the streamed backup does not restore: %v", err)
	}
	if v, _, ok := m.Get("last"); !ok || v != "acknowledged" || m.Len() < 8 {
		t.Fatalf("the streamed backup lacks the last write (%q, %v) or keys (%d)", v, ok, m.Len())
	}
	// Concurrent backups wait their turn (busy, retried) instead of cutting
	// each other short.
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			var b bytes.Buffer
			_, n, err := cl.Snapshot(ctx, &b)
			if err == nil && n != int64(snap.Len()) {
				err = fmt.Errorf("%d bytes, want %d", n, snap.Len())
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("one of three concurrent backups: %v", err)
		}
	}

	// Leadership transfer and membership, through the client.
	leader, term, err := c.WaitLeader(0, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	to := leader%3 + 1
	if err := cl.Transfer(ctx, int(to)); err != nil {
		t.Fatalf("transfer to n%d: %v", to, err)
	}
	if l, _, err := c.WaitLeader(term, nil, 5*time.Second); err != nil || l != to {
		t.Fatalf("after the transfer to n%d: leader n%d, %v", to, l, err)
	}
	other := to%3 + 1
	if err := cl.MemberRemove(ctx, int(other)); err != nil {
		t.Fatalf("remove n%d: %v", other, err)
	}
	if err := cl.MemberRemove(ctx, int(other)); !errors.Is(err, ErrRefused) {
		t.Fatalf("remove n%d twice: %v, want ErrRefused", other, err)
	}
	if err := cl.MemberAdd(ctx, int(other)); err != nil {
		t.Fatalf("add n%d back: %v", other, err)
	}
	if _, err := cl.Put(ctx, "x", "after-membership"); err != nil {
		t.Fatal(err)
	}

	// The strict reconfiguration check: with one server down, removing
	// another is refused by the leader at once (409), naming the node and
	// the reason, not retried until the deadline and called unavailable.
	leader, _, err = c.WaitLeader(0, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	down := leader%3 + 1
	third := down%3 + 1
	if err := c.Kill(down); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // past the 3 heartbeats (150 ms) the check counts a server as up
	patient, err := New(Config{Endpoints: cl.cfg.Endpoints, TLS: cl.cfg.TLS, Token: cl.cfg.Token, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer patient.Close()
	err = patient.MemberRemove(ctx, int(third))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "strict reconfiguration check") ||
		!strings.Contains(err.Error(), fmt.Sprintf("member remove n%d", third)) || strings.Contains(err.Error(), `""`) {
		t.Fatalf("remove n%d with n%d down: %v; want refused at once by the strict check", third, down, err)
	}
}

// Exercise 3: writers keep writing while the leader is killed with
// SIGKILL. Writes resume under the new leader, every acknowledged write
// is read back afterwards, and the killed server restarts and catches up
// (it serves the last value from its own state).
func TestWritesSurviveLeaderKill(t *testing.T) {
	bin := buildOrdo(t)
	c := upKV(t, bin, 3)
	cl := fromCluster(t, c)
	leader, _, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	const writers = 4
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // key → value acknowledged
		unknown atomic.Int64
		afterK  atomic.Int64 // acks after the kill
		killed  atomic.Bool
		killAt  time.Time
		firstAt atomic.Int64 // ns after killAt of the first ack of a write sent after the kill
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k, v := fmt.Sprintf("w%d/%d", w, i), fmt.Sprintf("v%d", i)
				sentAfter := killed.Load()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := cl.Put(ctx, k, v)
				cancel()
				switch {
				case err == nil:
					mu.Lock()
					acked[k] = v
					mu.Unlock()
					if sentAfter {
						afterK.Add(1)
						firstAt.CompareAndSwap(0, int64(time.Since(killAt)))
					}
				case errors.Is(err, ErrUnknown):
					unknown.Add(1)
				case errors.Is(err, ErrUnavailable):
				default:
					t.Errorf("put %s: %v", k, err)
					return
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	killAt = time.Now()
	killed.Store(true)
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for afterK.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Restart(leader); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if afterK.Load() < 20 {
		t.Fatalf("only %d writes acknowledged in 10s after the leader n%d was killed", afterK.Load(), leader)
	}
	ctx := context.Background()
	lost := 0
	for k, v := range acked {
		r, err := cl.Get(ctx, k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if r.Value != v {
			lost++
			t.Errorf("acknowledged %s=%s reads %+v", k, v, r)
		}
	}
	t.Logf("%d writes acknowledged (%d sent after the kill of n%d, the first acknowledged %v after it), %d unknown, %d lost",
		len(acked), afterK.Load(), leader, time.Duration(firstAt.Load()).Round(time.Millisecond), unknown.Load(), lost)

	// The restarted server catches up: it serves the last write itself.
	last, err := cl.Put(ctx, "last", "yes")
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := c.Cfg.Node(leader)
	one, err := New(Config{Endpoints: []string{nc.Client}, TLS: cl.cfg.TLS, Token: cl.cfg.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	deadline = time.Now().Add(10 * time.Second)
	for {
		r, err := one.Get(ctx, "last", Serializable())
		if err == nil && r.Value == "yes" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted n%d does not serve the write at rev %d: %+v, %v", leader, last, r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A server that is shutting down answers a waiting request within a bound
// (503: a watch changed nothing) instead of leaving it hanging, and a
// client then finds the other servers.
func TestShutdownAnswersWithinBound(t *testing.T) {
	bin := buildOrdo(t)
	c := upKV(t, bin, 3)
	cl := fromCluster(t, c)
	ctx := context.Background()
	if _, err := cl.Put(ctx, "k", "1"); err != nil {
		t.Fatal(err)
	}
	target := ordo.NodeID(1)
	nc, _ := c.Cfg.Node(target)
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", cl.scheme+"://"+nc.Client+"/v1/watch?key=k&after=1000000&timeout=60s", nil)
		req.Header.Set("Authorization", "Bearer "+cl.cfg.Token)
		resp, err := cl.hc.Do(req)
		if err != nil {
			done <- 0 // the connection closed without an answer
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(300 * time.Millisecond) // the watch waits at the node
	start := time.Now()
	if err := c.Stop(target); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != http.StatusServiceUnavailable {
			t.Fatalf("the waiting watch got %d from a stopping server, want 503", code)
		}
		t.Logf("watch answered %d %v after the stop began", code, time.Since(start))
	case <-time.After(10 * time.Second):
		t.Fatal("a watch on a stopping server still hangs after 10s")
	}
	if _, err := cl.Put(ctx, "k", "2"); err != nil {
		t.Fatalf("put with one server stopped: %v", err)
	}
}

// A leader cut off from the majority (partition {leader} | {others})
// answers a read and a write within a bound (not-leader, unavailable or
// unknown: never ok, never a hang), and the client finds the new leader
// on the majority side.
func TestIsolatedLeaderAnswersWithinBound(t *testing.T) {
	bin := buildOrdo(t)
	c := upKV(t, bin, 3)
	cl := fromCluster(t, c)
	ctx := context.Background()
	if _, err := cl.Put(ctx, "k", "1"); err != nil {
		t.Fatal(err)
	}
	leader, _, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rest []ordo.NodeID
	for _, id := range c.Servers() {
		if id != leader {
			rest = append(rest, id)
		}
	}
	if err := c.Partition([][]ordo.NodeID{{leader}, rest}); err != nil {
		t.Fatal(err)
	}
	nc, _ := c.Cfg.Node(leader)
	for _, body := range []string{`{"op":"get","key":"k"}`, `{"op":"put","key":"k","value":"2","session":77,"seq":1}`} {
		start := time.Now()
		req, _ := http.NewRequest("POST", cl.scheme+"://"+nc.Client+"/v1/kv", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cl.cfg.Token)
		resp, err := cl.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		switch resp.StatusCode {
		case http.StatusMisdirectedRequest, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			t.Errorf("%s to the cut-off leader n%d: %d after %v; want 421, 503 or 504", body, leader, resp.StatusCode, took)
		}
		if took > api.DefaultTimeout+2*time.Second {
			t.Errorf("%s to the cut-off leader took %v", body, took)
		}
		t.Logf("%s to the cut-off leader: %d after %v", body, resp.StatusCode, took.Round(time.Millisecond))
	}
	// The client moves on to the majority side's leader.
	if _, err := cl.Put(ctx, "k", "3"); err != nil {
		t.Fatalf("put during the partition: %v", err)
	}
	if r, err := cl.Get(ctx, "k"); err != nil || r.Value != "3" {
		t.Fatalf("get during the partition: %+v, %v", r, err)
	}
}

// With --netns (each server in its own network namespace, partitions in
// the kernel) the client API still listens on the host's loopback: the
// client writes through a kernel partition to the majority's leader.
func TestClientAPIWithNetns(t *testing.T) {
	if err := live.CheckNetns(); err != nil {
		t.Skip(err)
	}
	bin := buildOrdo(t)
	c, err := live.Up(live.UpOptions{N: 3, Protocol: "kv", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn", ClientAPI: true, Netns: true,
		Options:       map[string]string{"election_timeout_min": "150ms", "election_timeout_max": "300ms", "heartbeat": "50ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	leader, _, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cl := fromCluster(t, c)
	ctx := context.Background()
	if _, err := cl.Put(ctx, "n", "1"); err != nil {
		t.Fatal(err)
	}
	var rest []ordo.NodeID
	for _, id := range c.Servers() {
		if id != leader {
			rest = append(rest, id)
		}
	}
	if err := c.Partition([][]ordo.NodeID{{leader}, rest}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Put(ctx, "n", "2"); err != nil {
		t.Fatalf("put across a kernel partition of the old leader n%d: %v", leader, err)
	}
	if r, err := cl.Get(ctx, "n"); err != nil || r.Value != "2" {
		t.Fatalf("get: %+v, %v", r, err)
	}
}
