package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/live"
	"ordo/live/transport"
	"ordo/service/etcd"
)

// etcdTLSDir is the directory, inside the cluster's etcd directory, of
// the embedded etcd's development CA: its own, not DIR/tls, because the
// etcd must serve before live.Up writes DIR/tls (the cluster file names
// the etcd's endpoints), and because it lives and dies with DIR/etcd
// (ordo cluster start restarts the etcd with the same files).
const etcdTLSDir = "tls"

// etcdCerts writes into dir a development CA, a certificate for every
// possible node id (1..live.MaxClusterNodes: the node's adapter presents
// transport.TLSFilesIn(dir, self) to etcd) and one for the etcd member
// itself (etcd.pem, "etcd.ordo", valid for loopback), and returns the
// member's files. All keys are 0600 in a 0700 directory.
func etcdCerts(dir string) (transport.TLSFiles, error) {
	if err := transport.GenerateDevCA(dir, live.MaxClusterNodes); err != nil {
		return transport.TLSFiles{}, err
	}
	ca := filepath.Join(dir, "ca.pem")
	caPEM, err := ordo.ReadInput(ca, nil, 1<<20)
	if err != nil {
		return transport.TLSFiles{}, err
	}
	keyPEM, err := ordo.ReadInput(filepath.Join(dir, "ca-key.pem"), nil, 1<<20)
	if err != nil {
		return transport.TLSFiles{}, err
	}
	cb, _ := pem.Decode(caPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return transport.TLSFiles{}, fmt.Errorf("%s: the CA just written is not PEM", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return transport.TLSFiles{}, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return transport.TLSFiles{}, err
	}
	files := transport.TLSFiles{CA: ca, Cert: filepath.Join(dir, "etcd.pem"), Key: filepath.Join(dir, "etcd-key.pem")}
	return files, transport.IssueCert(cert, key, "etcd.ordo", files)
}

// externalTLS are --etcd-ca, --etcd-cert, --etcd-key.
type externalTLS struct{ ca, cert, key string }

func (f externalTLS) any() bool { return f.ca != "" || f.cert != "" || f.key != "" }

// options checks the files against the endpoints (https needs --etcd-ca,
// http takes none; cert and key together), loads them once so that a bad
// file is refused before any node starts, and sets the adapters' options
// tls_ca, tls_cert, tls_key (absolute paths) in opts.
func (f externalTLS) options(eps []string, opts map[string]string) error {
	https := 0
	for _, e := range eps {
		if len(e) >= 8 && e[:8] == "https://" {
			https++
		}
	}
	switch {
	case https > 0 && https < len(eps):
		return fmt.Errorf("--etcd mixes http and https endpoints")
	case https == 0 && f.any():
		return fmt.Errorf("--etcd-ca/--etcd-cert/--etcd-key with http endpoints: use https:// endpoints, or drop them")
	case https == 0:
		return nil
	case f.ca == "":
		return fmt.Errorf("--etcd %s is https: give --etcd-ca (the CA its certificate chains to), and --etcd-cert with --etcd-key if it asks for client certificates", eps[0])
	case (f.cert == "") != (f.key == ""):
		return fmt.Errorf("--etcd-cert and --etcd-key: give both or neither")
	}
	for _, p := range []*string{&f.ca, &f.cert, &f.key} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if _, err := etcd.ClientTLS(f.ca, f.cert, f.key); err != nil {
		return fmt.Errorf("--etcd-ca/--etcd-cert/--etcd-key: %w", err)
	}
	opts["tls_ca"] = f.ca
	if f.cert != "" {
		opts["tls_cert"], opts["tls_key"] = f.cert, f.key
	}
	return nil
}

// flagString is the value of cmd's flag name ("" when the command has
// no such flag).
func flagString(cmd *cobra.Command, name string) string {
	if fl := cmd.Flags().Lookup(name); fl != nil {
		return fl.Value.String()
	}
	return ""
}

// flagBool is cmd's bool flag name (false when the command has none).
func flagBool(cmd *cobra.Command, name string) bool { return flagBoolDefault(cmd, name, false) }

func flagBoolDefault(cmd *cobra.Command, name string, def bool) bool {
	fl := cmd.Flags().Lookup(name)
	if fl == nil {
		return def
	}
	return fl.Value.String() == "true"
}
