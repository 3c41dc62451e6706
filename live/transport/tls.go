package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ordo"
)

// Section 1's fourth fallacy: the network is not secure. By default (all
// but `ordo cluster up --insecure`) every link is mutual TLS under a
// development CA that ordo generates: a peer
// without a certificate from that CA is refused during the handshake, and a
// peer whose certificate names another node than the one it claims to be is
// refused after it.

// NodeName is the name a node's certificate carries (Common Name and DNS
// name): "node-3.ordo".
func NodeName(id ordo.NodeID) string { return fmt.Sprintf("node-%d.ordo", int(id)) }

// nodeOfName parses NodeName's output.
func nodeOfName(s string) (ordo.NodeID, bool) {
	s, ok := strings.CutPrefix(s, "node-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".ordo")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxNodes {
		return 0, false
	}
	return ordo.NodeID(n), true
}

// TLSFiles are the PEM files of one node.
type TLSFiles struct {
	CA   string // the CA certificate every node trusts
	Cert string // this node's certificate
	Key  string // this node's private key
}

// TLSFilesIn names the files GenerateDevCA writes for node id under dir.
func TLSFilesIn(dir string, id ordo.NodeID) TLSFiles {
	return TLSFiles{
		CA:   filepath.Join(dir, "ca.pem"),
		Cert: filepath.Join(dir, fmt.Sprintf("node%d.pem", int(id))),
		Key:  filepath.Join(dir, fmt.Sprintf("node%d-key.pem", int(id))),
	}
}

// GenerateDevCA writes a development CA (ca.pem, ca-key.pem) and a
// certificate and key for each of nodes 1..n into dir. ECDSA P-256, valid
// for a year. It is for local clusters, not production.
func GenerateDevCA(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ordo development CA", Organization: []string{"ordo"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER); err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, "ca-key.pem"), caKey); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		id := ordo.NodeID(i)
		if err := IssueCert(caCert, caKey, NodeName(id), TLSFilesIn(dir, id)); err != nil {
			return err
		}
	}
	return nil
}

// IssueCert writes a certificate for name, signed by the CA, valid for
// loopback addresses, usable as client and server.
func IssueCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, files TLSFiles) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"ordo"}},
		DNSNames:     []string{name, "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writePEM(files.Cert, "CERTIFICATE", der); err != nil {
		return err
	}
	return writeKey(files.Key, key)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("transport: no randomness for a certificate serial: " + err.Error())
	}
	return n
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der)
}

// LoadTLS builds the mutual-TLS configuration of one node: it presents its
// own certificate, trusts only the CA, and requires and verifies a client
// certificate from every peer.
func LoadTLS(files TLSFiles) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: loading %s: %v", files.Cert, err)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		return nil, fmt.Errorf("tls: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("tls: %s holds no certificate", files.CA)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// peerIdentity returns the node a verified TLS peer's certificate names.
func peerIdentity(cs tls.ConnectionState) (ordo.NodeID, error) {
	if len(cs.PeerCertificates) == 0 {
		return 0, errors.New("peer presented no certificate")
	}
	c := cs.PeerCertificates[0]
	if id, ok := nodeOfName(c.Subject.CommonName); ok {
		return id, nil
	}
	return 0, fmt.Errorf("peer certificate names %q, not an ordo node", c.Subject.CommonName)
}
