package live

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/clock"
	"ordo/election/raft"
	"ordo/live/transport"
)

// droppedAbsurd reads node id's count of messages rejected as absurd
// (ordo_dropped_total{reason="rejected: absurd"}).
func droppedAbsurd(t *testing.T, c *Cluster, id ordo.NodeID) int {
	t.Helper()
	nc, _ := c.Cfg.Node(id)
	resp, err := c.client.Get("http://" + nc.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	want := `ordo_dropped_total{reason="` + transport.ReasonRejected + ordo.ReasonAbsurd + `"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, want); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

// Issue 10: one forged frame carrying term 2^64−1 used to wedge a cluster
// for good (term+1 wraps). Sent by a certified peer over mutual TLS, well
// formed, it is now rejected and counted, and the cluster keeps a leader
// in a sane term.
func TestLiveRejectsAbsurdTermFromCertifiedPeer(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 3, true)
	l, term, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The test acts as the leader l (its certificate) towards follower f.
	f := l%3 + 1
	tcfg := transport.Config{ID: l, N: 3, Listen: "127.0.0.1:0", Peers: map[ordo.NodeID]string{}, Codec: raft.Protocol.Codec,
		Deliver: func(transport.Envelope, ordo.Message) {}, OnDrop: func(d transport.Dropped) { t.Logf("test peer dropped %+v", d) },
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	nc, _ := c.Cfg.Node(f)
	tcfg.Peers[f] = nc.Addr
	if c.Cfg.TLS {
		if tcfg.TLS, err = transport.LoadTLS(transport.TLSFilesIn(c.Cfg.Path(c.Cfg.TLSDir), l)); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("the cluster runs without TLS: the forged frames come from an uncertified peer")
	}
	tr, err := transport.Listen(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	// Send drops while the connection is not up ("peer unreachable").
	for up := time.Now().Add(10 * time.Second); !tr.Peers()[0].Out; {
		if time.Now().After(up) {
			t.Fatalf("the test peer did not connect to n%d: %+v", f, tr.Peers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	forged := []ordo.Message{
		raft.Heartbeat{Term: math.MaxUint64, Leader: l},
		raft.RequestVote{Term: math.MaxUint64, Candidate: l},
		raft.PreVote{Term: ordo.MaxTerm + 1, Candidate: l},
	}
	for i, m := range forged {
		payload, err := raft.Protocol.Codec.Encode(m) // Encode does not validate: a forger's bytes
		if err != nil {
			t.Fatal(err)
		}
		e := transport.Envelope{From: l, To: f, Msg: uint64(1<<40 + i), Kind: m.Kind(), Lamport: 1, Vector: make(clock.Vector, 3), Payload: payload}
		if err := tr.Send(e); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for droppedAbsurd(t, c, f) < len(forged) {
		if time.Now().After(deadline) {
			resp, _ := c.client.Get("http://" + nc.Admin + "/metrics")
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			log, _ := os.ReadFile(filepath.Join(c.Cfg.Path(nc.Dir), "node.log"))
			t.Fatalf("n%d counted %d absurd messages of %d sent\npeers %+v\n%s\n%s", f, droppedAbsurd(t, c, f), len(forged), tr.Peers(), body, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Nobody believed it: a leader, every term far below the bound.
	l2, term2, err := c.WaitLeader(0, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range c.Servers() {
		s, err := c.Status(id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Term < 0 || s.Term > term+1000 {
			t.Fatalf("n%d is in term %d after the forged frames (term was %d)", id, s.Term, term)
		}
	}
	t.Logf("n%d counted %d absurd messages; leader n%d term %d before, n%d term %d after", f, droppedAbsurd(t, c, f), l, term, l2, term2)
}

// A store holding an absurd term (a corrupt or hand-edited file) stops
// that node with an error naming the file and the way to recover; the
// other nodes keep working.
func TestLiveAbsurdStoredTermStopsThatNode(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 3, false)
	l, _, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f := l%3 + 1
	if err := c.Stop(f); err != nil {
		t.Fatal(err)
	}
	nc, _ := c.Cfg.Node(f)
	dir := c.Cfg.Path(nc.Dir)
	st, err := OpenDiskStorage(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	var hs [16]byte
	binary.BigEndian.PutUint64(hs[:], math.MaxUint64)
	st.Put("raft/hardstate", hs[:])
	st.EndBatch()
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	storeFile := st.Path()
	st.Close()

	err = c.Restart(f)
	deadline := time.Now().Add(10 * time.Second)
	for c.alive(f) {
		if time.Now().After(deadline) {
			t.Fatalf("n%d runs on a hard state of term 2^64-1 (restart: %v)", f, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "node.log"))
	for _, want := range []string{storeFile, `"raft/hardstate"`, "exceeds the bound", "restore", "wipe"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("node.log lacks %q:\n%s", want, log)
		}
	}
	t.Logf("node.log:\n%s", log)
	if strings.Contains(string(log), "goroutine ") {
		t.Errorf("node.log holds a stack trace:\n%s", log)
	}
	var others []ordo.NodeID
	for _, id := range c.Servers() {
		if id != f {
			others = append(others, id)
		}
	}
	if _, _, err := c.WaitLeader(0, others, 5*time.Second); err != nil {
		t.Fatalf("the other nodes lost their leader: %v", err)
	}
}

// One data directory, one node: a second process on a running node's
// directory refuses to start, naming the holder.
func TestLiveSecondProcessOnOneDirRefused(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 3, false)
	if _, _, err := c.WaitLeader(0, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	pid := c.State.Pids[1]
	out, err := exec.Command(bin, "node", "--config", filepath.Join(c.Dir, ConfigFileName), "--id", "1").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("a second node 1 ran: %v\n%s", err, out)
	}
	for _, want := range []string{ErrDirInUse.Error(), "pid " + strconv.Itoa(pid)} {
		if !strings.Contains(string(out), want) {
			t.Errorf("refusal lacks %q:\n%s", want, out)
		}
	}
	if _, err := c.Status(1); err != nil {
		t.Errorf("the running node 1 was harmed: %v", err)
	}
}

// The lock is per directory, not per name: the same directory through an
// alias is refused, a released lock can be taken again.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	a, err := lockDir(filepath.Join(dir, "n"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(filepath.Join(dir, ".", "n")+"/", 2); !errors.Is(err, ErrDirInUse) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v, want %v naming pid %d", err, ErrDirInUse, os.Getpid())
	}
	a.release()
	b, err := lockDir(filepath.Join(dir, "n"), 2)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.release()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// `cluster up` never deletes a stopped run's traces unless told (Fresh).
func TestUpKeepsAStoppedRun(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "node1", TraceFileName)
	os.MkdirAll(filepath.Dir(trace), 0o755)
	os.WriteFile(trace, []byte("a stopped run's trace\n"), 0o644)
	_, err := Up(UpOptions{N: 1, Protocol: "raft", Dir: dir, Binary: "/nonexistent/ordo", Insecure: true})
	if err == nil || !strings.Contains(err.Error(), "--fresh") || !strings.Contains(err.Error(), "node1/") {
		t.Fatalf("up over a stopped run: %v, want a refusal naming node1/ and --fresh", err)
	}
	if b, _ := os.ReadFile(trace); string(b) != "a stopped run's trace\n" {
		t.Fatalf("the stopped run's trace was touched: %q", b)
	}
	// Told to, it replaces the run (and then fails on the binary).
	_, err = Up(UpOptions{N: 1, Protocol: "raft", Dir: dir, Binary: "/nonexistent/ordo", Insecure: true, Fresh: true})
	if _, statErr := os.Stat(trace); !os.IsNotExist(statErr) {
		t.Fatalf("with Fresh the old trace is still there (up: %v)", err)
	}
}

// state.json's pids are signalled: a corrupt file must not become
// kill(-1). decodeState refuses pids and node ids out of range.
func TestDecodeStateBounds(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"binary":"/bin/ordo","pids":{"1":4242,"3":0}}`: true,
		`{"binary":"x","pids":{"1":-1}}`:                 false,
		`{"binary":"x","pids":{"4":10}}`:                 false,
		`{"binary":"x","pids":{"1":99999999999}}`:        false,
		`{"binary":"x","pids":{}} {}`:                    false,
		`{"binary":"x","pidz":{}}`:                       false,
	} {
		if _, err := decodeState([]byte(in), 3); (err == nil) != ok {
			t.Errorf("%s: error %v, want ok=%v", in, err, ok)
		}
	}
}

// Whatever state.json holds, what decodeState accepts is in range.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"binary":"/bin/ordo","pids":{"1":4242,"3":0},"partition":"1/2,3"}`))
	f.Add([]byte(`{"pids":{"1":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b, 3)
		if err != nil {
			return
		}
		for id, pid := range s.Pids {
			if id < 1 || id > 3 || pid < 0 || pid > maxPid {
				t.Fatalf("accepted pid %d of node %d", pid, id)
			}
		}
	})
}
