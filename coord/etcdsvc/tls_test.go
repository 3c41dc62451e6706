package etcdsvc

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

	"ordo"
	"ordo/coord"
	"ordo/live/transport"
	"ordo/service/etcd"
)

// An etcd that requires client certificates (what ordo cluster up
// starts): the adapter of a node with tls_dir works; a clientv3 client
// without a certificate or with one from another CA is refused; an
// adapter whose CA is another one does not trust etcd's certificate (no
// call succeeds); and a missing or mismatched file, TLS options on http
// or https without them fail the dial with an error naming the cause.
func TestMutualTLSWithEtcd(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("runs a real etcd member process; skipped with -short (never under CI=true)")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	ca, other := filepath.Join(root, "tls"), filepath.Join(root, "other")
	if err := transport.GenerateDevCA(ca, 3); err != nil {
		t.Fatal(err)
	}
	if err := transport.GenerateDevCA(other, 3); err != nil {
		t.Fatal(err)
	}
	srv := transport.TLSFilesIn(ca, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := etcd.Start(ctx, etcd.Options{N: 1, Dir: filepath.Join(root, "etcd"), Binary: bin, CA: srv.CA, Cert: srv.Cert, Key: srv.Key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	eps := strings.Join(c.Endpoints(), ",")

	grant := func(t *testing.T, dir string, wantOK bool) {
		t.Helper()
		in := &inbox{}
		conn := dialTest(t, coord.Protocol, map[string]string{"endpoints": eps, "timeout": "2s", "tls_dir": dir}, in)
		defer conn.Close()
		conn.Send(coord.Grant{Req: 1, TTL: 5})
		r := in.waitFor(t, 1)[0].(coord.Reply)
		if ok := r.Err == coord.OK && r.Lease != 0; ok != wantOK {
			t.Fatalf("grant with tls_dir %s = %+v, want success %v", dir, r, wantOK)
		}
	}
	t.Run("node certificate", func(t *testing.T) { grant(t, ca, true) })
	t.Run("adapter trusting another CA", func(t *testing.T) { grant(t, other, false) })

	t.Run("clientv3 strangers refused", func(t *testing.T) {
		theirs := transport.TLSFilesIn(other, 1)
		otherCert, err := tls.LoadX509KeyPair(theirs.Cert, theirs.Key)
		if err != nil {
			t.Fatal(err)
		}
		base, err := tlsConfig(1, c.Endpoints(), ordo.Options{"tls_dir": ca})
		if err != nil {
			t.Fatal(err)
		}
		noCert := base.Clone()
		noCert.Certificates = nil
		wrongCA := base.Clone()
		wrongCA.Certificates = []tls.Certificate{otherCert}
		for name, tc := range map[string]*tls.Config{"own certificate": base, "no certificate": noCert, "another CA's certificate": wrongCA} {
			cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), Logger: zap.NewNop(), TLS: tc})
			if err != nil {
				t.Fatal(err)
			}
			cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = cli.Put(cctx, "/stranger", name)
			ccancel()
			cli.Close()
			if (err == nil) != (tc == base) {
				t.Errorf("%s: put err %v", name, err)
			}
		}
	})

	t.Run("bad options fail the dial", func(t *testing.T) {
		broken := filepath.Join(root, "broken")
		if err := os.MkdirAll(broken, 0o700); err != nil {
			t.Fatal(err)
		}
		// ca.pem of the cluster, node1's pair from another CA.
		for src, dst := range map[string]string{
			filepath.Join(ca, "ca.pem"):           filepath.Join(broken, "ca.pem"),
			filepath.Join(other, "node1.pem"):     filepath.Join(broken, "node1.pem"),
			filepath.Join(other, "node1-key.pem"): filepath.Join(broken, "node1-key.pem"),
		} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			opts ordo.Options
			want string
		}{
			{ordo.Options{"endpoints": eps, "tls_dir": filepath.Join(root, "none")}, "CA file"},
			{ordo.Options{"endpoints": eps, "tls_dir": broken}, "not a client certificate of CA"},
			{ordo.Options{"endpoints": eps, "tls_dir": "tls"}, "absolute"},
			{ordo.Options{"endpoints": eps}, "is https: give tls_dir"},
			{ordo.Options{"endpoints": strings.ReplaceAll(eps, "https:", "http:"), "tls_dir": ca}, "not https"},
			{ordo.Options{"endpoints": eps, "tls_dir": ca, "tls_ca": srv.CA}, "one or the other"},
			{ordo.Options{"endpoints": eps, "tls_ca": srv.CA, "tls_cert": srv.Cert}, "both or neither"},
			{ordo.Options{"endpoints": eps, "tls_cert": srv.Cert, "tls_key": srv.Key}, "without tls_ca"},
		} {
			for _, dial := range []func(context.Context, ordo.NodeID, ordo.NodeID, ordo.Options, func(ordo.Message) bool) (liveConn, error){dialCoordConn, dialFencedConn} {
				conn, err := dial(ctx, 1, 4, tc.opts, func(ordo.Message) bool { return true })
				if err == nil {
					conn.Close()
					t.Errorf("options %v accepted", tc.opts)
					continue
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("options %v: error %q, want it to say %q", tc.opts, err, tc.want)
				}
			}
		}
	})

	// Explicit files (an external etcd): CA, certificate and key.
	t.Run("tls_ca tls_cert tls_key", func(t *testing.T) {
		n2 := transport.TLSFilesIn(ca, 2)
		in := &inbox{}
		conn := dialTest(t, coord.FencedProtocol, map[string]string{"endpoints": eps, "tls_ca": n2.CA, "tls_cert": n2.Cert, "tls_key": n2.Key}, in)
		defer conn.Close()
		conn.Send(coord.Write{Req: 1, Token: 7, Writer: 1, Value: "v"})
		if r := in.waitFor(t, 1)[0].(coord.Reply); r.Err != coord.OK || r.Highest != 7 {
			t.Fatalf("fenced write over TLS = %+v, want accepted", r)
		}
	})
}

type liveConn interface{ Close() error }

func dialCoordConn(ctx context.Context, self, id ordo.NodeID, o ordo.Options, d func(ordo.Message) bool) (liveConn, error) {
	return DialCoord(ctx, self, id, o, d)
}

func dialFencedConn(ctx context.Context, self, id ordo.NodeID, o ordo.Options, d func(ordo.Message) bool) (liveConn, error) {
	return DialFenced(ctx, self, id, o, d)
}
