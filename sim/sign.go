package sim

import (
	"ordo"
	"ordo/signature"
)

// Signatures (ordo.Signer): every node of a run has a key derived from the
// seed — ed25519 when the network authenticates with ed25519 signatures
// (Network.Auth), else the signature package's oracle scheme, which only
// the simulator can compute (unforgeable by any node, and cheap enough for
// 10 000-seed campaigns). Both sign in 64 bytes, so a run is the same,
// byte for byte, under either. A Byzantine node signs its lies with its
// own key (adversary.Liar.Sign), never with another's.

// keys are the run's signing keys, made on first use: a protocol that
// never signs never pays for them.
func (s *Sim) keys() *signature.Keys {
	if s.signKeys == nil {
		scheme := signature.Oracle
		if s.cfg.Network.Auth == AuthEd25519 {
			scheme = signature.Ed25519
		}
		ids := make([]ordo.NodeID, 0, len(s.nodes))
		for i := 1; i < len(s.nodes); i++ {
			ids = append(ids, ordo.NodeID(i))
		}
		s.signKeys = signature.New(scheme, s.cfg.Seed, ids)
	}
	return s.signKeys
}

var _ ordo.Signer = (*nodeState)(nil)

// Sign implements ordo.Signer.
func (n *nodeState) Sign(b []byte) []byte { return n.sim.keys().Sign(n.id, b) }

// Verify implements ordo.Signer.
func (n *nodeState) Verify(signer ordo.NodeID, b, sig []byte) bool {
	return n.sim.keys().Verify(signer, b, sig)
}
