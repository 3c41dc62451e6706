package etcd

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo/live/transport"
)

// With CA/Cert/Key, two members serve only mutual TLS: they elect a
// leader over TLS peer links, the launcher's client (the CA's certificate)
// writes and reads, and a client without a certificate, with one from
// another CA, or in plain HTTP is refused; the state file lets RestartDir
// reach them again.
func TestEtcdMutualTLSRefusesStrangers(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("runs real etcd member processes; skipped with -short (never under CI=true)")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca, other := filepath.Join(dir, "ca"), filepath.Join(dir, "other")
	if err := transport.GenerateDevCA(ca, 2); err != nil {
		t.Fatal(err)
	}
	if err := transport.GenerateDevCA(other, 1); err != nil {
		t.Fatal(err)
	}
	mine, theirs := transport.TLSFilesIn(ca, 1), transport.TLSFilesIn(other, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{N: 2, Dir: filepath.Join(dir, "etcd"), Binary: bin, CA: mine.CA, Cert: mine.Cert, Key: mine.Key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	for _, ep := range c.Endpoints() {
		if !strings.HasPrefix(ep, "https://") {
			t.Fatalf("endpoint %s, want https", ep)
		}
	}
	good, err := c.Client(c.Endpoints()...)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if _, err := good.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("put with the CA's certificate: %v", err)
	}

	// Another node's certificate from the same CA is accepted too.
	node2, err := ClientTLS(mine.CA, transport.TLSFilesIn(ca, 2).Cert, transport.TLSFilesIn(ca, 2).Key)
	if err != nil {
		t.Fatal(err)
	}
	noCert, err := ClientTLS(mine.CA, "", "")
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := ClientTLS(mine.CA, theirs.Cert, theirs.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		scheme string
		tls    *tls.Config
		ok     bool
	}{
		{"node 2's certificate", "https", node2, true},
		{"no certificate", "https", noCert, false},
		{"a certificate from another CA", "https", otherCA, false},
		{"plain HTTP", "http", nil, false},
	} {
		eps := c.Endpoints()
		for i := range eps {
			eps[i] = tc.scheme + strings.TrimPrefix(eps[i], "https")
		}
		cli, err := clientv3.New(clientv3.Config{Endpoints: eps, Logger: zap.NewNop(), TLS: tc.tls})
		if err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		_, perr := cli.Put(cctx, "k", tc.name)
		g, gerr := cli.Get(cctx, "k")
		ccancel()
		cli.Close()
		switch {
		case tc.ok && (perr != nil || gerr != nil || len(g.Kvs) != 1):
			t.Errorf("%s: put %v, get %v, %v: want both to work", tc.name, perr, g, gerr)
		case !tc.ok && (perr == nil || gerr == nil):
			t.Errorf("%s: put %v, get %v: want both refused", tc.name, perr, gerr)
		default:
			t.Logf("%s: put: %v", tc.name, perr)
		}
	}
	got, err := good.Get(ctx, "k")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "node 2's certificate" {
		t.Fatalf("get k = %v, %v; want the value node 2 wrote and no stranger's", got, err)
	}

	st, err := ReadState(filepath.Join(dir, "etcd"))
	if err != nil || st.CA != mine.CA || st.Cert != mine.Cert || st.Key != mine.Key {
		t.Fatalf("state %+v, %v: want the certificate files recorded", st, err)
	}
}

func TestParseMemberCerts(t *testing.T) {
	m := Member{Name: "etcd1", Dir: "/tmp/x/etcd1", Peer: "https://127.0.0.1:1", Client: "https://127.0.0.1:2",
		Cluster: "etcd1=https://127.0.0.1:1", Token: "t", Log: "/tmp/x/etcd1.log", Level: "warn",
		CA: "/tmp/tls/ca.pem", Cert: "/tmp/tls/node1.pem", Key: "/tmp/tls/node1-key.pem"}
	got, err := ParseMember(m.Args())
	if err != nil || got != m {
		t.Fatalf("ParseMember(Args()) = %+v, %v; want %+v", got, err, m)
	}
	for name, edit := range map[string]func(*Member){
		"ca alone":          func(m *Member) { m.Cert, m.Key = "", "" },
		"no key":            func(m *Member) { m.Key = "" },
		"relative cert":     func(m *Member) { m.Cert = "node1.pem" },
		"http with certs":   func(m *Member) { m.Client = "http://127.0.0.1:2" },
		"certs and autotls": func(m *Member) { m.TLS = true },
		"long path":         func(m *Member) { m.CA = "/" + strings.Repeat("a", maxPathLen) },
	} {
		bad := m
		edit(&bad)
		if _, err := ParseMember(bad.Args()); err == nil {
			t.Errorf("%s: ParseMember accepted %+v", name, bad)
		}
	}
}
