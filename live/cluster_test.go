package live

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	_ "ordo/election/raft"
	"ordo/internal/spawn"
	"ordo/live/transport"
)

// buildOrdo builds the ordo binary into a temporary directory.
func buildOrdo(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ordo")
	out, err := exec.Command("go", "build", "-o", bin, "ordo/cmd/ordo").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ordo: %v\n%s", err, out)
	}
	return bin
}

// upCluster starts n real node processes that die with the test.
func upCluster(t *testing.T, bin string, n int, tlsOn bool) *Cluster {
	t.Helper()
	c, err := Up(UpOptions{N: n, Protocol: "raft", Dir: t.TempDir(), Binary: bin, Insecure: !tlsOn, Seed: 1, LogLevel: "warn",
		Options:       map[string]string{"election_timeout_min": "150ms", "election_timeout_max": "300ms", "heartbeat": "50ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	return c
}

// Reference: exercise 3 and section 5 — five real processes survive the
// SIGKILL of their leader and the partition {1,2} | {3,4,5}.
func TestLiveClusterSurvivesKillAndPartition(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 5, false)
	const electionMax = 300 * time.Millisecond

	l, term, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	killAt := c.now()
	if err := c.Kill(l); err != nil {
		t.Fatal(err)
	}
	l2, term2, err := c.WaitLeader(term, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l2 == l {
		t.Fatalf("the killed node n%d leads", l)
	}

	// The old leader restarts from its disk with its persisted term and
	// rejoins as a follower of the new leader.
	if err := c.Restart(l); err != nil {
		t.Fatal(err)
	}
	// The status follows the node's notes: the first, with the term read
	// from disk, may come a moment after the admin endpoint answers (a
	// loaded host: seen under the full suite).
	var s Status
	for wait := time.Now().Add(3 * time.Second); ; {
		if s, err = c.Status(l); err != nil {
			t.Fatal(err)
		}
		if s.Boot == 2 && s.Term >= term || time.Now().After(wait) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.Boot != 2 || s.Term < term {
		t.Fatalf("restarted n%d: boot %d, term %d; want boot 2 and its persisted term ≥ %d", l, s.Boot, s.Term, term)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err = c.Status(l)
		if err == nil && s.Role == "follower" && s.Leader == l2 && s.Term == term2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n%d did not rejoin as a follower of n%d in term %d: %+v", l, l2, term2, s)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The chapter's partition: {1,2} | {3,4,5}.
	minority, majority := []ordo.NodeID{1, 2}, []ordo.NodeID{3, 4, 5}
	if err := c.Partition([][]ordo.NodeID{minority, majority}); err != nil {
		t.Fatal(err)
	}
	l3, term3, err := c.WaitLeader(0, majority, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Watch for a while: at most one leader at a time, and none in the
	// minority once the majority has one.
	until := time.Now().Add(4 * electionMax)
	for time.Now().Before(until) {
		var leaders []ordo.NodeID
		for _, nv := range c.View() {
			if nv.Up && nv.Status.Role == "leader" {
				leaders = append(leaders, nv.ID)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("two leaders during the partition: %v", leaders)
		}
		for _, id := range leaders {
			if id == 1 || id == 2 {
				t.Fatalf("minority node n%d leads while n%d leads the majority", id, l3)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	// After healing: one leader that all five follow.
	deadline = time.Now().Add(5 * time.Second)
	for {
		v := c.View()
		ok := true
		for _, nv := range v {
			ok = ok && nv.Up && nv.Status.Leader != 0 && nv.Status.Leader == v[0].Status.Leader && nv.Status.Term == v[0].Status.Term
		}
		if ok && v[0].Status.Term >= term3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no common leader after healing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tr, err := c.DownAndMerge()
	if err != nil {
		t.Fatal(err)
	}
	assertTraceSound(t, tr)
	failover := election.FailoverMs(tr, killAt, term, l, nil)
	t.Logf("SIGKILL of n%d (term %d) → n%d leads term %d, acknowledged by a majority after %.1f ms", l, term, l2, term2, failover)
	if failover < 0 || failover > float64(2*electionMax/time.Millisecond) {
		t.Errorf("failover %.1f ms, want a new leader within twice the election timeout (%v)", failover, 2*electionMax)
	}
	res, err := check.Run(tr, []string{"one-leader-per-term", "single-leader"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s: %s %+v", r.Check, r.Summary, r.Violations)
		}
	}
}

// Section 1, fallacy 4 (the network is secure): with --tls a process
// without a valid certificate is refused, and the cluster is unharmed.
func TestLiveTLSRefusesUncertifiedPeer(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 3, true)
	if _, _, err := c.WaitLeader(0, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	nc, _ := c.Cfg.Node(1)
	hello := transport.Envelope{From: 2, To: 1, Kind: transport.HelloKind}
	frame, _ := hello.AppendFrame(nil)
	// Plain TCP claiming to be node 2.
	conn, err := net.Dial("tcp", nc.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(frame)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	io.ReadAll(conn)
	conn.Close()
	// TLS with no client certificate.
	if tc, err := tls.Dial("tcp", nc.Addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}); err == nil {
		tc.Write(frame)
		tc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Fatal("a TLS client without a certificate was served")
		}
		tc.Close()
	}
	resp, err := http.Get("http://" + nc.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var refused []string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "ordo_refused_connections_total{") {
			refused = append(refused, line)
		}
	}
	if len(refused) == 0 {
		t.Fatalf("no refused connection counted; metrics:\n%s", body)
	}
	t.Logf("refused: %v", refused)
	// The cluster still works over its certified links.
	l, term, err := c.WaitLeader(0, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Kill(l)
	if _, _, err := c.WaitLeader(term, nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// A stopped cluster starts again from its data (ordo cluster start): every
// node boots a second time with the term it persisted, a leader is
// elected, the merged trace holds both runs, and a running cluster is not
// started twice.
func TestStoppedClusterStartsAgain(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 3, false)
	_, term, err := c.WaitLeader(0, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	if err := c.RequireRunning(); err == nil || !strings.Contains(err.Error(), "ordo cluster start") {
		t.Fatalf("a stopped cluster: %v, want the hint to start it", err)
	}
	c2, err := Open(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c2.DieWithParent = true
	if err := c2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Down() })
	if _, _, err := c2.WaitLeader(term, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, id := range c2.Servers() {
		s, err := c2.Status(id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Boot != 2 || s.Term < term {
			t.Fatalf("n%d after start: boot %d term %d, want boot 2, term >= %d", id, s.Boot, s.Term, term)
		}
	}
	if err := c2.Start(); err == nil || !strings.Contains(err.Error(), "runs") {
		t.Fatalf("starting a running cluster: %v", err)
	}
}

// The nodes one launcher runs share the machine's CPUs (spawn.Share); a
// valid GOMAXPROCS in the launcher's environment reaches them unchanged,
// an invalid one does not turn the share off.
func TestNodesShareTheMachinesCPUs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the nodes' environment from /proc")
	}
	bin := buildOrdo(t)
	check := func(t *testing.T, c *Cluster, want string) {
		t.Helper()
		for _, id := range c.Processes() {
			pid := c.State.Pids[int(id)]
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range strings.Split(string(b), "\x00") {
				if v, ok := strings.CutPrefix(kv, "GOMAXPROCS="); ok {
					got = append(got, v)
				}
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("n%d (pid %d): GOMAXPROCS %q, want [%s]", id, pid, got, want)
			}
		}
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		t.Run("shared", func(t *testing.T) {
			c := upCluster(t, bin, 3, false)
			check(t, c, strconv.Itoa(spawn.Share(runtime.GOMAXPROCS(0), 3)))
		})
		// A value the Go runtime would ignore is not taken for the
		// user's choice (helper-98's trial: "GOMAXPROCS=" turned the
		// share off and every node ran at Go's default).
		t.Run("invalid environment", func(t *testing.T) {
			t.Setenv("GOMAXPROCS", "abc")
			c := upCluster(t, bin, 3, false)
			check(t, c, strconv.Itoa(spawn.Share(runtime.GOMAXPROCS(0), 3)))
		})
	}
	t.Run("environment", func(t *testing.T) {
		t.Setenv("GOMAXPROCS", "3")
		c := upCluster(t, bin, 3, false)
		check(t, c, "3")
		// A restarted node is spawned the same way.
		if err := c.Restart(2); err != nil {
			t.Fatal(err)
		}
		check(t, c, "3")
	})
}
