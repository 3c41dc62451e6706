package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"

	"ordo"
)

// maxPEMBytes bounds a certificate, key or CA file read here.
const maxPEMBytes = 1 << 20

// maxPathLen bounds a certificate path given to a member.
const maxPathLen = 4096

// secure reports whether the member speaks TLS (https URLs): auto TLS or
// certificates.
func (m Member) secure() bool { return m.TLS || m.CA != "" }

// checkCerts accepts no certificate files, or all three, absolute, and
// not together with auto TLS.
func checkCerts(ca, cert, key string, auto bool) error {
	if ca == "" && cert == "" && key == "" {
		return nil
	}
	if ca == "" || cert == "" || key == "" {
		return fmt.Errorf("--ca %q --cert %q --key %q: give all three or none", ca, cert, key)
	}
	if auto {
		return fmt.Errorf("--tls (auto TLS) and --ca/--cert/--key: choose one")
	}
	for _, p := range []string{ca, cert, key} {
		if len(p) > maxPathLen || !filepath.IsAbs(p) {
			return fmt.Errorf("certificate path %.80q: want an absolute path of at most %d bytes", p, maxPathLen)
		}
	}
	return nil
}

// ClientTLS is the TLS configuration of a client of members started with
// certificates (Options.CA, Cert, Key): it trusts only the CA file and
// presents cert/key (PEM files; cert and key may both be empty for a
// client without a certificate, which such members refuse). Errors name
// the file that is missing, too large or not PEM.
func ClientTLS(ca, cert, key string) (*tls.Config, error) {
	caPEM, err := ordo.ReadInput(ca, nil, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("etcd: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("etcd: CA file %s holds no PEM certificate", ca)
	}
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert == "" && key == "" {
		return c, nil
	}
	certPEM, err := ordo.ReadInput(cert, nil, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("etcd: certificate file: %w", err)
	}
	keyPEM, err := ordo.ReadInput(key, nil, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("etcd: key file: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("etcd: certificate %s with key %s: %w", cert, key, err)
	}
	c.Certificates = []tls.Certificate{pair}
	return c, nil
}

// clientConfig is the TLS of the launcher's own client: none, auto TLS
// (unverified) or the members' CA and certificate.
func clientConfig(auto bool, ca, cert, key string) (*tls.Config, error) {
	if ca != "" {
		return ClientTLS(ca, cert, key)
	}
	return clientTLS(auto), nil
}
