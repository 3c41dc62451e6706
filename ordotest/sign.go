package ordotest

import (
	"ordo"
	"ordo/signature"
)

// Keys are the signing keys every Env of roster signs with (ordo.Signer):
// the oracle scheme of package signature under one fixed seed, so the
// Envs of one test share keys whatever seeds their random sources. A test
// signs as any node with them — a hand-written liar's own signature, or a
// forgery that must not verify as another's.
func Keys(roster *ordo.Roster) *signature.Keys {
	ids := make([]ordo.NodeID, 0, roster.MaxID())
	for id := ordo.NodeID(1); id <= roster.MaxID(); id++ {
		ids = append(ids, id)
	}
	return signature.New(signature.Oracle, 0, ids)
}

var _ ordo.Signer = (*Env)(nil)

// Sign implements ordo.Signer.
func (e *Env) Sign(b []byte) []byte { return e.signKeys().Sign(e.id, b) }

// Verify implements ordo.Signer.
func (e *Env) Verify(signer ordo.NodeID, b, sig []byte) bool {
	return e.signKeys().Verify(signer, b, sig)
}

func (e *Env) signKeys() *signature.Keys {
	if e.keys == nil {
		e.keys = Keys(e.roster)
	}
	return e.keys
}
