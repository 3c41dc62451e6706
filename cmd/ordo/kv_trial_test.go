package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ordo"
	"ordo/kv"
	"ordo/kv/api"
	"ordo/kv/client"
)

// The `ordo kv` defects a fresh user's trial found, each pinned in
// process against the real client API handler (kv/api) over HTTP, with a
// small scripted database behind it that keeps revisions as the kv
// machine does (an absent key's revision is the last delete of any key).

type fakeKV struct {
	mu         sync.Mutex
	applied    uint64
	lastDelete uint64
	keys       map[string]fakeVal
	changed    chan struct{} // closed at each change
	watches    int           // watch calls received
}

type fakeVal struct {
	v   string
	rev uint64
}

func newFakeKV() *fakeKV { return &fakeKV{keys: map[string]fakeVal{}, changed: make(chan struct{})} }

// apply runs writes as one batch of log entries ("k=v" puts, "-k" deletes)
// and wakes the watches once, after the last.
func (f *fakeKV) apply(ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, op := range ops {
		f.applied++
		if k, ok := strings.CutPrefix(op, "-"); ok {
			delete(f.keys, k)
			f.lastDelete = f.applied
			continue
		}
		k, v, _ := strings.Cut(op, "=")
		f.keys[k] = fakeVal{v, f.applied}
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// waitWatches waits until n watch calls have arrived.
func (f *fakeKV) waitWatches(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		got := f.watches
		f.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d watch calls arrived, want %d", got, n)
		}
	}
}

func (f *fakeKV) call(ctx context.Context, m ordo.Message) (ordo.Message, error) {
	q := m.(kv.Request)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch q.Op {
	case kv.OpGet:
		if v, ok := f.keys[q.Key]; ok {
			return kv.Response{Status: kv.StatusOK, Value: v.v, Rev: f.applied, ModRev: v.rev}, nil
		}
		return kv.Response{Status: kv.StatusNotFound, Rev: f.applied}, nil
	case kv.OpWatch:
		f.watches++
		for {
			v, ok := f.keys[q.Key]
			rev := f.lastDelete
			if ok {
				rev = v.rev
			}
			if rev > q.After {
				if ok {
					return kv.Response{Status: kv.StatusOK, Value: v.v, Rev: f.applied, ModRev: v.rev}, nil
				}
				return kv.Response{Status: kv.StatusNotFound, Rev: f.applied, ModRev: f.lastDelete}, nil
			}
			ch := f.changed
			f.mu.Unlock()
			select {
			case <-ch:
				f.mu.Lock()
			case <-ctx.Done():
				f.mu.Lock()
				return nil, ctx.Err()
			}
		}
	case kv.OpMember:
		return kv.Response{Status: kv.StatusUnavailable, Err: fmt.Sprintf("%s %d refused: 2 of the 4 voters after it answered within 150ms, 4 needed (strict reconfiguration check)", q.Value, int(q.Node))}, nil
	case kv.OpPut:
		f.applied++
		f.keys[q.Key] = fakeVal{q.Value, f.applied}
		return kv.Response{Status: kv.StatusOK, Rev: f.applied}, nil
	case kv.OpSnap:
		return kv.BackupPart{Rev: f.applied, Total: uint64(len("snapshot bytes")), Data: "snapshot bytes"}, nil
	}
	return kv.Response{Status: kv.StatusOK, Rev: f.applied}, nil
}

// clusterDir writes a cluster file naming one server's client address
// (plain HTTP, no token): what `ordo kv` reads.
func clusterDir(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	y := fmt.Sprintf("nodes:\n  - {id: 1, client: %q}\n", srv.Listener.Addr().String())
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fakeCluster(t *testing.T) (*fakeKV, string) {
	f := newFakeKV()
	return f, clusterDir(t, api.NewHandler(api.Config{Call: f.call, Status: func() any {
		return map[string]any{"id": 1, "role": "leader", "term": 3, "leader": 1}
	}}))
}

// kvRun runs `ordo kv ARGS...` in process.
func kvRun(args ...string) (string, error) {
	cmd := newKVCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// kvRunAsync runs kvRun in the background; the result comes on the channel.
func kvRunAsync(args ...string) <-chan string {
	done := make(chan string, 1)
	go func() {
		out, err := kvRun(args...)
		done <- fmt.Sprintf("%s|err=%v", out, err)
	}()
	return done
}

func waitDone(t *testing.T, done <-chan string) string {
	t.Helper()
	select {
	case s := <-done:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not end")
		return ""
	}
}

// A watch of an absent key waits for the key's first change after the
// watch started: a delete of another key (which moves an absent key's
// revision) is not reported as a delete of this one.
func TestKVWatchAbsentKeyWaits(t *testing.T) {
	f, dir := fakeCluster(t)
	f.apply("o=1", "-o") // a delete before the watch: revision 2
	done := kvRunAsync("watch", "k", "--count", "1", "--cluster", dir)
	f.waitWatches(t, 1)
	f.apply("p=1", "-p") // another key's delete
	f.waitWatches(t, 2)
	f.apply("k=v")
	if got := waitDone(t, done); got != "rev 5 k v\n|err=<nil>" {
		t.Errorf("watch of an absent key: %q; want only the put at 5", got)
	}
}

// A watch prints the change's revision (the key's mod revision), not the
// revision the server had applied when it answered.
func TestKVWatchPrintsTheChangesRevision(t *testing.T) {
	f, dir := fakeCluster(t)
	f.apply("k=a", "x=1", "x=2")
	done := kvRunAsync("watch", "k", "--count", "2", "--cluster", dir)
	f.waitWatches(t, 1)
	f.apply("k=b", "x=3", "x=4") // k changes at 4; applied 6
	f.waitWatches(t, 2)
	f.apply("-k", "x=5") // k deleted at 7; applied 8
	if got := waitDone(t, done); got != "rev 4 k b\nrev 7 k deleted\n|err=<nil>" {
		t.Errorf("watch: %q; want rev 4 (put) and rev 7 (delete)", got)
	}
}

// --timeout bounds a watch's wait for a change: an error (exit 2) saying
// so, not a wait of the long poll's 30 s or forever.
func TestKVWatchTimeout(t *testing.T) {
	_, dir := fakeCluster(t)
	got := waitDone(t, kvRunAsync("watch", "k", "--after", "999999", "--timeout", "300ms", "--cluster", dir))
	if !strings.Contains(got, "no change of k within 300ms") {
		t.Errorf("watch with --timeout: %q; want no change within 300ms", got)
	}
	if out, err := kvRun("watch", "", "--cluster", dir); err == nil || !strings.Contains(err.Error(), "the key is empty") {
		t.Errorf(`watch "": %q, %v; want the key is empty`, out, err)
	}
}

// A refused membership change is reported at once with the node and the
// leader's reason (exit 2), not as "unavailable" after --timeout.
func TestKVMemberRefused(t *testing.T) {
	_, dir := fakeCluster(t)
	_, err := kvRun("member", "remove", "3", "--timeout", "30s", "--cluster", dir)
	if !errors.Is(err, client.ErrRefused) || !strings.Contains(err.Error(), "member remove n3") ||
		!strings.Contains(err.Error(), "strict reconfiguration check") || strings.Contains(err.Error(), `""`) {
		t.Errorf("refused member remove: %v", err)
	}
}

// kv status says 401 wrong client token (exit 2) rather than DOWN.
func TestKVStatusWrongToken(t *testing.T) {
	dir := clusterDir(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"status":"unauthorized","error":"missing or wrong client token (the cluster's client.token)"}` + "\n"))
	}))
	out, err := kvRun("status", "--cluster", dir)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 2 || !strings.Contains(out, "401 wrong client token") || strings.Contains(out, "DOWN") {
		t.Errorf("status with a wrong token: %q, %v; want 401 wrong client token, exit 2", out, err)
	}
	_, dir = fakeCluster(t)
	if out, err := kvRun("status", "--cluster", dir); err != nil || !strings.Contains(out, "leader") {
		t.Errorf("status: %q, %v", out, err)
	}
}

// The small ones: --limit -1 refused, --dir as --cluster, index as a
// read level, the snapshot file's size printed.
func TestKVSmallFixes(t *testing.T) {
	f, dir := fakeCluster(t)
	f.apply("k=v")
	if _, err := kvRun("range", "--limit", "-1", "--cluster", dir); err == nil || !strings.Contains(err.Error(), "--limit -1") {
		t.Errorf("range --limit -1: %v; want refused", err)
	}
	if out, err := kvRun("get", "k", "--dir", dir); err != nil || out != "v\n" {
		t.Errorf("get with --dir: %q, %v", out, err)
	}
	for _, level := range []string{"index", "linearizable", "lease", "serializable"} {
		if out, err := kvRun("get", "k", "--read", level, "--cluster", dir); err != nil || out != "v\n" {
			t.Errorf("get --read %s: %q, %v", level, out, err)
		}
	}
	snap := filepath.Join(t.TempDir(), "s.snap")
	out, err := kvRun("snapshot", "save", snap, "--cluster", dir)
	fi, serr := os.Stat(snap)
	if err != nil || serr != nil || !strings.Contains(out, fmt.Sprintf("%d bytes", fi.Size())) {
		t.Errorf("snapshot save: %q, %v, %v; want the file's size", out, err, serr)
	}
}

// VALUE - reads the value from standard input, whole and bounded: a value
// of more than about 128 KiB does not fit the shell's argument list (a
// fresh user's trial found no other way to put one).
func TestKVPutValueFromStdin(t *testing.T) {
	f, dir := fakeCluster(t)
	run := func(stdin string, args ...string) error {
		cmd := newKVCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs(args)
		return cmd.Execute()
	}
	big := strings.Repeat("v", 200_000)
	if err := run(big, "put", "big", "-", "--cluster", dir); err != nil {
		t.Fatalf("put big -: %v", err)
	}
	f.mu.Lock()
	got := f.keys["big"].v
	f.mu.Unlock()
	if got != big {
		t.Fatalf("put big - stored %d bytes, want %d", len(got), len(big))
	}
	if err := run(strings.Repeat("v", api.MaxValueBytes+1), "put", "huge", "-", "--cluster", dir); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("a value over the bound from stdin: %v", err)
	}
	if err := run("x", "put", "dash", "--cluster", dir); err == nil || !strings.Contains(err.Error(), "KEY VALUE") {
		t.Fatalf("put with no VALUE: %v", err)
	}
	if out, err := kvRun("put", "--help"); err != nil || !strings.Contains(out, "VALUE - reads the value from standard input") {
		t.Fatalf("put --help: %v\n%s", err, out)
	}
}

// kv status marks a server that is not in the configuration of the
// leader of the highest term: a removed server never hears of its own
// removal (the leader stops talking to it), so by its own account it is
// a follower of the old configuration. A deposed leader's configuration
// is not the one judged by.
func TestKVStatusMarksRemovedServer(t *testing.T) {
	dir := t.TempDir()
	status := []map[string]any{
		{"id": 1, "role": "leader", "term": 2, "leader": 1, "voters": []int{1, 2, 3}}, // deposed, has not heard
		{"id": 2, "role": "leader", "term": 3, "leader": 2, "voters": []int{2, 3}},
		{"id": 3, "role": "follower", "term": 3, "leader": 2, "voters": []int{2, 3}},
	}
	y := "nodes:\n"
	for i := range status {
		srv := httptest.NewServer(api.NewHandler(api.Config{Call: newFakeKV().call, Status: func() any { return status[i] }}))
		t.Cleanup(srv.Close)
		y += fmt.Sprintf("  - {id: %d, client: %q}\n", i+1, srv.Listener.Addr().String())
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := kvRun("status", "--cluster", dir)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "not a voter: removed from the leader's configuration 2,3") ||
		strings.Contains(lines[2], "not a voter") || strings.Contains(lines[3], "not a voter") {
		t.Errorf("status with n1 out of the term-3 leader's configuration:\n%s", out)
	}
}
