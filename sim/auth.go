package sim

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"

	"ordo"
	"ordo/signature"
)

// Authenticated links in wire mode (Network.Authenticated, Network.Auth):
// how a receiver knows who sent the bytes it got. Two variants, the two of
// PBFT (Castro and Liskov, OSDI 1999, section 3 and 4.1; Castro's thesis,
// chapter 3, "BFT: an algorithm without signatures"):
//
//   - "mac" (the default): one HMAC-SHA256 key per ordered pair of nodes,
//     the key of link a→b being HMAC-SHA256(run key, "pair" ‖ a ‖ b), the
//     run key derived from the seed. The tag covers sender, receiver,
//     message id, kind and bytes. Only a and b could have made it, and only
//     b can check it: a MAC proves nothing to a third node.
//   - "ed25519": each node has a key pair derived from the seed and its id
//     (ed25519.NewKeyFromSeed); the sender signs (sender, kind, bytes) and
//     every receiver verifies against the public key of the sender the
//     message claims. The recipient and the simulator's message id are
//     left out on purpose: a signed message is then the same for every
//     recipient (one signature per multicast, as PBFT signs once and sends
//     to all) and transferable — any node can forward it to any other as
//     proof of what its signer said, which is what view-change
//     certificates need. A replay therefore verifies, as it passes the
//     MAC check too (the replayer re-seals): only the protocol's views,
//     sequence numbers and timestamps refuse it.
//
// Either way a forged sender fails the check (the forger has neither the
// claimed sender's pair key nor its private key), tampered bytes fail it,
// and garbage passes it (the liar authenticated the garbage as itself) to
// fail the decoder. The tag is not counted in a message's size, so the two
// variants give the same run, byte for byte in the trace; they differ in
// the simulator's CPU time only (docs/byzantine.md has the figures).
// Ed25519 signatures are deterministic (RFC 8032), so runs stay
// reproducible from the seed. Live, links are mutual TLS instead, with
// certificates from the cluster's CA (live/transport/tls.go).

// The authentication variants of Network.Auth.
const (
	AuthMAC     = "mac"
	AuthEd25519 = "ed25519"
)

// AuthModes lists Network.Auth's values, the default first.
var AuthModes = []string{AuthMAC, AuthEd25519}

// authState is the run's link authentication (wire mode only).
type authState struct {
	sig     bool     // ed25519; else per-pair MACs
	runKey  [32]byte // derived from the seed; no protocol sees it
	pairs   map[LinkKey]hash.Hash
	sum     []byte
	hdr     []byte          // the MAC's header: from, to, id, kind
	keys    *signature.Keys // ed25519: the run's node keys, those the nodes sign votes with (sign.go)
	last    []lastSig       // by node id: the last message each signed
	scratch []byte          // the signed message
}

// maxPairKeys bounds the cached pair MACs (each a keyed HMAC state of a
// few hundred bytes). Full, the cache is emptied: keys are recomputed from
// the seed, so forgetting them changes nothing but time.
const maxPairKeys = 1 << 12

// maxLastSig bounds the message a node's sign-once cache copies: a larger
// one is signed again for each recipient (messages this large are rare).
const maxLastSig = 1 << 12

// lastSig is one sender's last signed message: a multicast encodes the
// same bytes once per recipient and is signed once.
type lastSig struct {
	ok   bool
	kind string
	b    []byte
	sig  [ed25519.SignatureSize]byte
}

// newAuth is the authentication of a run with seed among nodes 1..size;
// under AuthEd25519 it signs with keys, the run's ed25519 node keys
// (signature.Ed25519), which must hold nodes 1..size.
func newAuth(mode string, seed uint64, size int, keys *signature.Keys) *authState {
	a := &authState{runKey: runKey(seed)}
	if mode == AuthEd25519 {
		a.sig, a.keys = true, keys
		a.last = make([]lastSig, size+1)
	}
	return a
}

// runKey is the run's secret, from the seed: a run is reproducible.
func runKey(seed uint64) [32]byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	return sha256.Sum256(append([]byte("ordo sim link key "), b[:]...))
}

// pairKey is the MAC key of the link from → to: HMAC-SHA256 of the run key
// over "pair" ‖ from ‖ to (little-endian uint64s). Directional: a→b and
// b→a have different keys.
func pairKey(runKey [32]byte, from, to ordo.NodeID) [sha256.Size]byte {
	m := hmac.New(sha256.New, runKey[:])
	var b [4 + 16]byte
	copy(b[:], "pair")
	binary.LittleEndian.PutUint64(b[4:], uint64(from))
	binary.LittleEndian.PutUint64(b[12:], uint64(to))
	m.Write(b[:])
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

// pairMAC is the keyed MAC of from → to, reset.
func (a *authState) pairMAC(from, to ordo.NodeID) hash.Hash {
	k := LinkKey{from, to}
	m, ok := a.pairs[k]
	if !ok {
		if a.pairs == nil || len(a.pairs) >= maxPairKeys {
			a.pairs = make(map[LinkKey]hash.Hash)
		}
		key := pairKey(a.runKey, from, to)
		m = hmac.New(sha256.New, key[:])
		a.pairs[k] = m
	}
	m.Reset()
	return m
}

// mac computes the tag of kind and b as sent from → to with message id.
func (a *authState) mac(from, to ordo.NodeID, id uint64, kind string, b []byte, out []byte) {
	h := binary.LittleEndian.AppendUint64(a.hdr[:0], uint64(from))
	h = binary.LittleEndian.AppendUint64(h, uint64(to))
	h = binary.LittleEndian.AppendUint64(h, id)
	h = append(append(h, kind...), 0)
	a.hdr = h
	m := a.pairMAC(from, to)
	m.Write(h)
	m.Write(b)
	a.sum = m.Sum(a.sum[:0])
	copy(out, a.sum)
}

// signed is the message a signature covers: a domain, the sender, the kind
// and the bytes (not the recipient: a signature is transferable).
func (a *authState) signed(from ordo.NodeID, kind string, b []byte) []byte {
	s := append(a.scratch[:0], "ordo sim signature\x00"...)
	s = binary.LittleEndian.AppendUint64(s, uint64(from))
	s = append(s, kind...)
	s = append(s, 0)
	s = append(s, b...)
	a.scratch = s
	return s
}

// seal writes w's tag as sent from → to with message id.
func (a *authState) seal(from, to ordo.NodeID, id uint64, w *wireMsg) {
	if !a.sig {
		a.mac(from, to, id, w.kind, w.b, w.tag[:sha256.Size])
		return
	}
	l := &a.last[from]
	if l.ok && l.kind == w.kind && string(l.b) == string(w.b) {
		w.tag = l.sig // the same message to another recipient
		return
	}
	copy(w.tag[:], a.keys.Sign(from, a.signed(from, w.kind, w.b)))
	l.ok = len(w.b) <= maxLastSig
	if l.ok {
		l.kind, l.b, l.sig = w.kind, append(l.b[:0], w.b...), w.tag
	}
}

// check reports whether w's tag is right for a message from the sender it
// claims to to with message id.
func (a *authState) check(from, to ordo.NodeID, id uint64, w *wireMsg) bool {
	if !a.sig {
		var t [sha256.Size]byte
		a.mac(from, to, id, w.kind, w.b, t[:])
		return hmac.Equal(t[:], w.tag[:sha256.Size])
	}
	return a.keys.Verify(from, a.signed(from, w.kind, w.b), w.tag[:])
}

// validateAuth checks Network.Auth against the rest of the configuration.
func validateAuth(n *Network, wire bool) error {
	switch n.Auth {
	case "", AuthMAC:
	case AuthEd25519:
		if !wire {
			return fmt.Errorf("network: auth %s signs the encoded bytes: it needs wire mode", n.Auth)
		}
	default:
		return fmt.Errorf("network: auth %q: want %s (per-pair MACs, the default) or %s (signatures)", n.Auth, AuthMAC, AuthEd25519)
	}
	if n.Auth != "" && !n.Authenticated {
		return fmt.Errorf("network: auth %s needs authenticated links (authenticated: true)", n.Auth)
	}
	return nil
}
