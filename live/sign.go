package live

import (
	"log/slog"

	"ordo"
	"ordo/live/transport"
	"ordo/signature"
)

// Signatures (ordo.Signer), live: a node signs with the private key of its
// TLS certificate and verifies the others against their certificates,
// each checked against the cluster's CA at start (transport.LoadSigner).
// A cluster without TLS (--insecure) signs with keys derived from its
// seed (signature.Ed25519), which its cluster file holds: there a
// signature proves no more than its links do, which is nothing.

func newSigner(cfg *Config, id ordo.NodeID, tlsFiles *transport.TLSFiles, log *slog.Logger) (ordo.Signer, error) {
	ids := make([]ordo.NodeID, 0, len(cfg.Nodes))
	for _, p := range cfg.Nodes {
		ids = append(ids, ordo.NodeID(p.ID))
	}
	if tlsFiles == nil {
		return signature.New(signature.Ed25519, cfg.Seed, ids).For(id), nil
	}
	s, skipped, err := transport.LoadSigner(*tlsFiles, cfg.Path(cfg.TLSDir), id, ids)
	for _, e := range skipped {
		log.Warn("no signature of this peer will verify", "err", e)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

var _ ordo.Signer = (*Runtime)(nil)

// Sign implements ordo.Signer.
func (r *Runtime) Sign(b []byte) []byte { return r.signer.Sign(b) }

// Verify implements ordo.Signer.
func (r *Runtime) Verify(signer ordo.NodeID, b, sig []byte) bool {
	return r.signer.Verify(signer, b, sig)
}
