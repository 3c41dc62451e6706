package etcdsvc

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"path/filepath"

	"ordo"
	"ordo/live/transport"
)

// maxPEMBytes bounds a CA, certificate or key file.
const maxPEMBytes = 1 << 20

// tlsConfig is node self's TLS to etcd from the options, nil for plain
// HTTP. tls_dir names the cluster's files: self presents
// tls_dir/node<self>.pem (transport.TLSFilesIn) and trusts only
// tls_dir/ca.pem, and the pair is checked against that CA here, so that
// a wrong file fails the node's start rather than every later call.
// tls_ca (+ tls_cert, tls_key) name an external etcd's files. TLS needs
// https endpoints and https endpoints need TLS. Errors name the option
// and the file.
func tlsConfig(self ordo.NodeID, eps []string, opts ordo.Options) (*tls.Config, error) {
	dir, ca, cert, key := opts["tls_dir"], opts["tls_ca"], opts["tls_cert"], opts["tls_key"]
	var files transport.TLSFiles
	switch {
	case dir != "" && (ca != "" || cert != "" || key != ""):
		return nil, fmt.Errorf("etcdsvc: option tls_dir and tls_ca/tls_cert/tls_key: give one or the other")
	case dir != "":
		if !filepath.IsAbs(dir) {
			return nil, fmt.Errorf("etcdsvc: option tls_dir=%q: want an absolute path", dir)
		}
		files = transport.TLSFilesIn(dir, self)
	case (cert == "") != (key == ""):
		return nil, fmt.Errorf("etcdsvc: options tls_cert=%q tls_key=%q: give both or neither", cert, key)
	case cert != "" && ca == "":
		return nil, fmt.Errorf("etcdsvc: option tls_cert without tls_ca: the CA that etcd's certificate chains to is needed")
	default:
		files = transport.TLSFiles{CA: ca, Cert: cert, Key: key}
	}
	on := files.CA != ""
	for _, e := range eps {
		u, err := url.Parse(e)
		if err != nil {
			return nil, fmt.Errorf("etcdsvc: endpoint %q: %v", e, err)
		}
		switch {
		case on && u.Scheme != "https":
			return nil, fmt.Errorf("etcdsvc: endpoint %s is not https while TLS options are set: it would carry the node's requests in the clear", e)
		case !on && u.Scheme == "https":
			return nil, fmt.Errorf("etcdsvc: endpoint %s is https: give tls_dir or tls_ca (and tls_cert, tls_key if etcd asks for client certificates)", e)
		}
	}
	if !on {
		return nil, nil
	}
	caPEM, err := ordo.ReadInput(files.CA, nil, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("etcdsvc: node %d: CA file: %w", self, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("etcdsvc: node %d: CA file %s holds no PEM certificate", self, files.CA)
	}
	// Never InsecureSkipVerify: etcd's certificate must chain to the CA
	// and name the endpoint's host.
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if files.Cert == "" {
		return c, nil
	}
	certPEM, err := ordo.ReadInput(files.Cert, nil, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("etcdsvc: node %d: certificate file: %w", self, err)
	}
	keyPEM, err := ordo.ReadInput(files.Key, nil, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("etcdsvc: node %d: key file: %w", self, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("etcdsvc: node %d: certificate %s with key %s: %w", self, files.Cert, files.Key, err)
	}
	if dir != "" {
		// The cluster's own files: a certificate the CA did not sign is
		// a broken directory, refused now rather than by etcd later.
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err == nil {
			_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		}
		if err != nil {
			return nil, fmt.Errorf("etcdsvc: node %d: certificate %s is not a client certificate of CA %s: %w", self, files.Cert, files.CA, err)
		}
	}
	c.Certificates = []tls.Certificate{pair}
	return c, nil
}
