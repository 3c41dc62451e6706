package transport

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"ordo"
	"ordo/internal/bounded"
)

// Signer signs as one node with the private key of its TLS certificate,
// and verifies any node of the cluster against the public key of that
// node's certificate (ordo.Signer): PBFT's view-change certificates, live.
// Each certificate is checked once, at load, to be issued by the
// cluster's CA for that node's name, so a signature verifies as node i
// only if the holder of node i's key made it. ECDSA P-256 over SHA-256,
// ASN.1 encoded: at most 72 bytes.
type Signer struct {
	key  crypto.Signer
	pubs map[ordo.NodeID]*ecdsa.PublicKey
}

var _ ordo.Signer = (*Signer)(nil)

// maxCertFile bounds a certificate file read for its public key.
const maxCertFile = 1 << 16

// LoadSigner loads node self's key (files.Key) and the certificates of
// nodes ids (each TLSFilesIn(dir, id).Cert), verifying each against the
// CA (files.CA) and its node's name. Its own key and certificate must
// load; a peer whose certificate does not is left without a key (no
// signature verifies as it) and named in skipped, one error a peer, for
// the caller to log: a protocol that never signs must not stop for it.
func LoadSigner(files TLSFiles, dir string, self ordo.NodeID, ids []ordo.NodeID) (s *Signer, skipped []error, err error) {
	pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing key: loading %s: %v", files.Key, err)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("signing key: %s is not a signing key", files.Key)
	}
	if _, ok := key.Public().(*ecdsa.PublicKey); !ok {
		return nil, nil, fmt.Errorf("signing key: %s is not an ECDSA key", files.Key)
	}
	caPEM, err := bounded.ReadFile(files.CA, maxCertFile)
	if err != nil {
		return nil, nil, fmt.Errorf("signing key: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("signing key: %s holds no certificate", files.CA)
	}
	s = &Signer{key: key, pubs: make(map[ordo.NodeID]*ecdsa.PublicKey, len(ids))}
	for _, id := range ids {
		path := TLSFilesIn(dir, id).Cert
		if id == self {
			path = files.Cert
		}
		pub, err := nodeKey(path, id, roots)
		switch {
		case err != nil && id == self:
			return nil, nil, err
		case err != nil:
			skipped = append(skipped, err)
		default:
			s.pubs[id] = pub
		}
	}
	return s, skipped, nil
}

// nodeKey reads the certificate at path, checks that the CA issued it for
// node id, and returns its public key.
func nodeKey(path string, id ordo.NodeID, roots *x509.CertPool) (*ecdsa.PublicKey, error) {
	b, err := bounded.ReadFile(path, maxCertFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("signing key: %s holds no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %s: %v", path, err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("signing key: %s is not issued by the cluster's CA: %v", path, err)
	}
	if got, ok := nodeOfName(c.Subject.CommonName); !ok || got != id {
		return nil, fmt.Errorf("signing key: %s names %q, want %s", path, c.Subject.CommonName, NodeName(id))
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signing key: %s does not hold an ECDSA key", path)
	}
	return pub, nil
}

// Sign implements ordo.Signer: ECDSA over SHA-256(b); nil if the key
// fails (it does not, for a key that loaded).
func (s *Signer) Sign(b []byte) []byte {
	h := sha256.Sum256(b)
	sig, err := s.key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil
	}
	return sig
}

// Verify implements ordo.Signer.
func (s *Signer) Verify(signer ordo.NodeID, b, sig []byte) bool {
	pub, ok := s.pubs[signer]
	if !ok || len(sig) > ordo.MaxSignature {
		return false
	}
	h := sha256.Sum256(b)
	return ecdsa.VerifyASN1(pub, h[:], sig)
}
