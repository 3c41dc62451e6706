package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo/coord/coordtest"
	"ordo/live"
	"ordo/service/etcd"
)

// refusedEndpoint is a loopback address nothing listens on.
func refusedEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// A bad --etcd is refused before any node starts, in words that name the
// endpoint and what is wrong: a malformed URL, a port out of range,
// nothing listening, something listening that is not an answering etcd.
func TestClusterUpChecksEtcd(t *testing.T) {
	refused, silent := refusedEndpoint(t), coordtest.SilentEndpoint(t)
	for _, c := range []struct {
		etcd string
		want []string
	}{
		{"127.0.0.1:99999", []string{`"127.0.0.1:99999"`, "want http(s)://HOST:PORT"}},
		{"127.0.0.1:2379", []string{"want http(s)://HOST:PORT", "http://127.0.0.1:2379?"}},
		{"http://127.0.0.1:99999", []string{"port 99999", "1..65535"}},
		{"http://127.0.0.1:2379/v3", []string{"want http(s)://HOST:PORT"}},
		{refused, []string{refused, "cannot connect", "connection refused"}},
		{silent, []string{silent, "gives no etcd status"}},
		{refused + "," + silent, []string{refused, silent}},
	} {
		dir := filepath.Join(t.TempDir(), "c")
		out, err := run(t, "cluster", "up", "-n", "3", "--protocol", "lease", "--etcd", c.etcd, "--detach", "--dir", dir)
		if err == nil {
			run(t, "cluster", "down", "--dir", dir)
			t.Fatalf("--etcd %s accepted:\n%s", c.etcd, out)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("--etcd %s: error %q does not say %q", c.etcd, err, w)
			}
		}
		if _, serr := os.Stat(filepath.Join(dir, "cluster.yaml")); !os.IsNotExist(serr) {
			t.Errorf("--etcd %s: refused, yet %s/cluster.yaml exists (%v): something started", c.etcd, dir, serr)
		}
	}
}

// clusterName keeps the directory's name, readable and bounded, and adds
// an id of its own each time.
func TestClusterName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}-[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for _, dir := range []string{".ordo-cluster", "/tmp/x/my cluster!", "/", strings.Repeat("long", 20), "..."} {
		a, err := clusterName(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := clusterName(dir)
		if !re.MatchString(a) || strings.HasPrefix(a, ".") || a == b || seen[a] {
			t.Errorf("clusterName(%q) = %q then %q: want NAME-8HEX, no leading dot, a new id each time", dir, a, b)
		}
		seen[a] = true
	}
	if a, _ := clusterName(".ordo-cluster"); !strings.HasPrefix(a, "ordo-cluster-") {
		t.Errorf("clusterName(.ordo-cluster) = %q, want ordo-cluster-<id>", a)
	}
}

// Two clusters on one etcd (--etcd, as with a shared etcd) elect one
// leader each: each gets its own election prefix and fenced-store key, and
// etcd holds keys under both. A third cluster told to use the first's
// prefix is warned that keys already exist there. Without the namespaces
// the six servers would campaign in one election and one cluster would
// have no leader of its own.
func TestTwoClustersShareOneEtcd(t *testing.T) {
	bin := leaseOrdo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ec, err := etcd.Start(ctx, etcd.Options{N: 1, Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Stop() })
	ep := strings.Join(ec.Endpoints(), ",")
	up := func(dir string, extra ...string) string {
		t.Helper()
		args := append([]string{"cluster", "up", "-n", "3", "--protocol", "lease", "--etcd", ep, "--detach", "--dir", dir, "--log-level", "warn", "--insecure"}, extra...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		t.Cleanup(func() { exec.Command(bin, "cluster", "down", "--dir", dir).Run() })
		if err != nil {
			t.Fatalf("cluster up --dir %s: %v\n%s", dir, err, out)
		}
		return string(out)
	}
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "a"), filepath.Join(root, "b")}
	var prefixes []string
	for _, d := range dirs {
		out := up(d)
		c, err := live.Open(d)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Cfg.Options["prefix"]
		if !strings.HasPrefix(p, "/leader-election/"+filepath.Base(d)+"-") || !strings.Contains(out, p) {
			t.Fatalf("cluster %s: prefix %q, want /leader-election/%s-<id>/, said on up:\n%s", d, p, filepath.Base(d), out)
		}
		var key string
		for _, nd := range c.Cfg.Nodes {
			if nd.Protocol == "fenced-store" {
				key = nd.Options["key_prefix"]
			}
		}
		if key != "/ordo/fenced/"+strings.TrimPrefix(p, "/leader-election/") {
			t.Fatalf("cluster %s: fenced store key_prefix %q, want it beside prefix %s", d, key, p)
		}
		prefixes = append(prefixes, p)
	}
	if prefixes[0] == prefixes[1] {
		t.Fatalf("both clusters got prefix %s", prefixes[0])
	}
	for _, d := range dirs {
		c, err := live.Open(d)
		if err != nil {
			t.Fatal(err)
		}
		l, term, err := c.WaitLeader(0, nil, time.Minute)
		if err != nil {
			t.Fatalf("cluster %s elects no leader of its own: %v", d, err)
		}
		if !c.Cfg.Roster().IsServer(l) {
			t.Fatalf("cluster %s: leader %d is not one of its servers", d, l)
		}
		t.Logf("cluster %s: n%d leads (token %d)", filepath.Base(d), l, term)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: ec.Endpoints(), Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for _, p := range append(prefixes, "/ordo/fenced/"+strings.TrimPrefix(prefixes[0], "/leader-election/")) {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := cli.Get(rctx, p, clientv3.WithPrefix(), clientv3.WithCountOnly())
		rcancel()
		if err != nil || r.Count == 0 {
			t.Errorf("etcd under %s: %v keys (%v), want the cluster's own", p, r, err)
		}
	}
	out := up(filepath.Join(root, "c"), "-o", "prefix="+prefixes[0])
	if !strings.Contains(out, "warning: etcd already holds") || !strings.Contains(out, prefixes[0]) {
		t.Errorf("a cluster told to use cluster a's prefix %s is not warned:\n%s", prefixes[0], out)
	}
}
