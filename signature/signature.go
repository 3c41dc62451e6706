package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"

	"ordo"
)

// The schemes of New.
const (
	Ed25519 = "ed25519"
	Oracle  = "oracle"
)

// MaxKeys bounds the nodes one Keys holds keys for.
const MaxKeys = 1 << 12

// Keys holds every node's key of one run. It is read-only once made, so
// safe for concurrent use.
type Keys struct {
	ed     bool
	priv   map[ordo.NodeID]ed25519.PrivateKey
	pub    map[ordo.NodeID]ed25519.PublicKey
	oracle map[ordo.NodeID][]byte
}

// New derives the keys of nodes ids in a run of seed under scheme
// (Ed25519 or Oracle). It panics on another scheme or more than MaxKeys
// nodes: callers pass constants and rosters already bounded.
func New(scheme string, seed uint64, ids []ordo.NodeID) *Keys {
	if len(ids) > MaxKeys {
		panic(fmt.Sprintf("signature: %d nodes, at most %d", len(ids), MaxKeys))
	}
	k := &Keys{}
	switch scheme {
	case Ed25519:
		k.ed = true
		k.priv = make(map[ordo.NodeID]ed25519.PrivateKey, len(ids))
		k.pub = make(map[ordo.NodeID]ed25519.PublicKey, len(ids))
	case Oracle:
		k.oracle = make(map[ordo.NodeID][]byte, len(ids))
	default:
		panic(fmt.Sprintf("signature: scheme %q, want %s or %s", scheme, Ed25519, Oracle))
	}
	for _, id := range ids {
		s := nodeSeed(seed, id)
		if k.ed {
			priv := ed25519.NewKeyFromSeed(s[:])
			k.priv[id], k.pub[id] = priv, priv.Public().(ed25519.PublicKey)
		} else {
			k.oracle[id] = s[:]
		}
	}
	return k
}

// nodeSeed is SHA-256("ordo signing key" ‖ seed ‖ id), little-endian.
func nodeSeed(seed uint64, id ordo.NodeID) [32]byte {
	var b [16 + 16]byte
	copy(b[:], "ordo signing key")
	binary.LittleEndian.PutUint64(b[16:], seed)
	binary.LittleEndian.PutUint64(b[24:], uint64(id))
	return sha256.Sum256(b[:])
}

// Sign is node id's signature over b (64 bytes); nil when id has no key.
func (k *Keys) Sign(id ordo.NodeID, b []byte) []byte {
	if k.ed {
		priv, ok := k.priv[id]
		if !ok {
			return nil
		}
		return ed25519.Sign(priv, b)
	}
	key, ok := k.oracle[id]
	if !ok {
		return nil
	}
	m := hmac.New(sha512.New, key)
	m.Write(b)
	return m.Sum(nil)
}

// Verify reports whether sig is node id's signature over b.
func (k *Keys) Verify(id ordo.NodeID, b, sig []byte) bool {
	if len(sig) > ordo.MaxSignature {
		return false
	}
	if k.ed {
		pub, ok := k.pub[id]
		return ok && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, b, sig)
	}
	key, ok := k.oracle[id]
	if !ok || len(sig) != sha512.Size {
		return false
	}
	m := hmac.New(sha512.New, key)
	m.Write(b)
	return hmac.Equal(m.Sum(nil), sig)
}

// For is node id's ordo.Signer: it signs as id and verifies anyone.
func (k *Keys) For(id ordo.NodeID) ordo.Signer { return nodeSigner{k, id} }

type nodeSigner struct {
	k  *Keys
	id ordo.NodeID
}

func (s nodeSigner) Sign(b []byte) []byte { return s.k.Sign(s.id, b) }

func (s nodeSigner) Verify(signer ordo.NodeID, b, sig []byte) bool {
	return s.k.Verify(signer, b, sig)
}
