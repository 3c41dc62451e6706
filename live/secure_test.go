package live

import (
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 10, items 1 and 8, with real processes: `cluster up` is secure by
// default (mutual TLS, a 0600 admin token the cluster commands send and a
// bare request lacks), faults it sets reach the fault log from the nodes
// too, and once the cluster is down, operations on it fail clearly.
func TestLiveClusterIsSecureByDefaultAndStopsClearly(t *testing.T) {
	bin := buildOrdo(t)
	c, err := Up(UpOptions{N: 3, Protocol: "raft", Dir: t.TempDir(), Binary: bin, Seed: 1, LogLevel: "warn",
		Options:       map[string]string{"election_timeout_min": "150ms", "election_timeout_max": "300ms", "heartbeat": "50ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down() })
	if !c.Cfg.TLS || c.Cfg.AdminToken == "" {
		t.Fatalf("cluster file: tls %v, admin_token %q; want both by default", c.Cfg.TLS, c.Cfg.AdminToken)
	}
	st, err := os.Stat(filepath.Join(c.Dir, AdminTokenFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v, %v; want mode 0600", st, err)
	}
	if _, _, err := c.WaitLeader(0, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	nc, _ := c.Cfg.Node(1)
	resp, err := http.Get("http://" + nc.Admin + "/status")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /status without the token: %s, want 401", resp.Status)
	}
	// A second handle, as another `ordo cluster` command opens it, reads
	// the token from the directory.
	c2, err := Open(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	groups, _ := c2.ParseGroups("1/2,3")
	if err := c2.Partition(groups); err != nil {
		t.Fatal(err)
	}
	byAdmin := 0
	for _, e := range faultLog(t, c.Cfg) {
		if by, _ := e.Attrs.Get("by").(string); by == "admin" && e.Name == "faults" {
			byAdmin++
		}
	}
	if byAdmin != 3 {
		t.Fatalf("%d admin fault events in the fault log, want one per node (3)", byAdmin)
	}

	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	c3, err := Open(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var stopped ErrStopped
	if err := c3.RequireRunning(); !errors.As(err, &stopped) {
		t.Fatalf("RequireRunning on a stopped cluster: %v, want ErrStopped", err)
	}
	for _, args := range [][]string{{"partition", "1/2,3"}, {"heal"}, {"kill", "2"}, {"fault", "loss", "0.5"}, {"pause", "1"}, {"restart", "1"}} {
		out, err := exec.Command(bin, append([]string{"cluster"}, append(args, "--dir", c.Dir)...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is stopped") {
			t.Errorf("ordo cluster %s on a stopped cluster: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, _ := exec.Command(bin, "cluster", "status", "--dir", c.Dir).CombinedOutput()
	if !strings.Contains(string(out), "the cluster is stopped") {
		t.Errorf("ordo cluster status of a stopped cluster:\n%s", out)
	}
}
