package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo/live/transport"
	"ordo/service/etcd"
)

// refusesStrangers checks that the running etcd recorded in edir (a
// cluster's embedded one) refuses a plain HTTP client and a TLS client
// without a certificate, and serves one with a node's certificate from
// edir/tls.
func refusesStrangers(t *testing.T, edir string) {
	t.Helper()
	st, err := etcd.ReadState(edir)
	if err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(edir, etcdTLSDir)
	node1 := transport.TLSFilesIn(certs, 1)
	mine, err := etcd.ClientTLS(node1.CA, node1.Cert, node1.Key)
	if err != nil {
		t.Fatal(err)
	}
	noCert, err := etcd.ClientTLS(node1.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	plain := []string{strings.Replace(st.Endpoints[0], "https://", "http://", 1)}
	for _, c := range []struct {
		name string
		cfg  clientv3.Config
		ok   bool
	}{
		{"node 1's certificate", clientv3.Config{Endpoints: st.Endpoints, TLS: mine}, true},
		{"TLS without a certificate", clientv3.Config{Endpoints: st.Endpoints, TLS: noCert}, false},
		{"plain HTTP", clientv3.Config{Endpoints: plain}, false},
	} {
		c.cfg.Logger = zap.NewNop()
		cli, err := clientv3.New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err = cli.Get(ctx, "/leader-election/", clientv3.WithPrefix())
		cancel()
		cli.Close()
		if (err == nil) != c.ok {
			t.Errorf("%s: get err %v, want success %v", c.name, err, c.ok)
		}
	}
}

// --insecure keeps the embedded etcd in plain HTTP (and says so), and the
// external-etcd TLS flags are checked before anything starts.
func TestClusterUpEtcdTLSFlags(t *testing.T) {
	bin := leaseOrdo(t)
	dir := filepath.Join(t.TempDir(), "c")
	out, err := exec.Command(bin, "cluster", "up", "-n", "1", "--protocol", "lease", "--insecure", "--detach", "--dir", dir, "--log-level", "warn").CombinedOutput()
	t.Cleanup(func() {
		exec.Command(bin, "cluster", "down", "--dir", dir).Run()
		etcd.StopDir(filepath.Join(dir, "etcd"))
	})
	if err != nil {
		t.Fatalf("cluster up --insecure: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "etcd: http://127.0.0.1:") || !strings.Contains(string(out), "plain HTTP: --insecure") {
		t.Fatalf("cluster up --insecure does not say its etcd is plain HTTP:\n%s", out)
	}
	if cfg, err := os.ReadFile(filepath.Join(dir, "cluster.yaml")); err != nil || strings.Contains(string(cfg), "tls_dir: /") {
		t.Fatalf("cluster.yaml (%v) gives the services a tls_dir under --insecure:\n%s", err, cfg)
	}

	ca := filepath.Join(t.TempDir(), "tls")
	if err := transport.GenerateDevCA(ca, 1); err != nil {
		t.Fatal(err)
	}
	n1 := transport.TLSFilesIn(ca, 1)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--etcd", "https://127.0.0.1:1"}, "give --etcd-ca"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--etcd-ca", n1.CA}, "http endpoints"},
		{[]string{"--etcd", "https://127.0.0.1:1", "--etcd-ca", n1.CA, "--etcd-cert", n1.Cert}, "both or neither"},
		{[]string{"--etcd", "https://127.0.0.1:1", "--etcd-ca", filepath.Join(ca, "missing.pem")}, "missing.pem"},
		{[]string{"--etcd", "https://127.0.0.1:1", "--etcd-ca", n1.Key}, "no PEM certificate"},
		{[]string{"--etcd-ca", n1.CA}, "external etcd"},
	} {
		args := append([]string{"cluster", "up", "-n", "1", "--protocol", "lease", "--dir", t.TempDir()}, c.args...)
		out, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want it to say %q\n%s", c.args, err, c.want, out)
		}
	}
}

// externalTLS turns the flags into the adapters' options, absolute.
func TestExternalTLSOptions(t *testing.T) {
	ca := t.TempDir()
	if err := transport.GenerateDevCA(ca, 1); err != nil {
		t.Fatal(err)
	}
	n1 := transport.TLSFilesIn(ca, 1)
	opts := map[string]string{}
	if err := (externalTLS{ca: n1.CA, cert: n1.Cert, key: n1.Key}).options([]string{"https://127.0.0.1:1", "https://127.0.0.1:2"}, opts); err != nil {
		t.Fatal(err)
	}
	if opts["tls_ca"] != n1.CA || opts["tls_cert"] != n1.Cert || opts["tls_key"] != n1.Key {
		t.Fatalf("options %v", opts)
	}
	if err := (externalTLS{ca: n1.CA}).options([]string{"https://127.0.0.1:1", "http://127.0.0.1:2"}, map[string]string{}); err == nil {
		t.Fatal("mixed http and https accepted")
	}
	plain := map[string]string{}
	if err := (externalTLS{}).options([]string{"http://127.0.0.1:1"}, plain); err != nil || len(plain) != 0 {
		t.Fatalf("plain endpoints: %v, %v", plain, err)
	}
}
