package signature

import (
	"bytes"
	"testing"

	"ordo"
)

// Each scheme: a node's signature verifies as that node only, over those
// bytes only; it is the same from the same seed and differs across seeds;
// an unknown node neither signs nor verifies; an oversize signature is
// refused before any work.
func TestSchemes(t *testing.T) {
	ids := []ordo.NodeID{1, 2, 3}
	for _, scheme := range []string{Ed25519, Oracle} {
		t.Run(scheme, func(t *testing.T) {
			k := New(scheme, 7, ids)
			b := []byte("pbft prepare 1 2 abcd")
			sig := k.Sign(1, b)
			if len(sig) != 64 {
				t.Fatalf("signature of %d bytes, want 64", len(sig))
			}
			if !k.Verify(1, b, sig) {
				t.Fatal("a node's own signature does not verify")
			}
			if k.Verify(2, b, sig) {
				t.Fatal("node 1's signature verifies as node 2's")
			}
			if k.Verify(1, []byte("pbft prepare 1 2 abce"), sig) {
				t.Fatal("a signature verifies over other bytes")
			}
			bad := bytes.Clone(sig)
			bad[0] ^= 1
			if k.Verify(1, b, bad) {
				t.Fatal("a flipped signature verifies")
			}
			if !bytes.Equal(New(scheme, 7, ids).Sign(1, b), sig) {
				t.Fatal("the same seed gives another signature")
			}
			if other := New(scheme, 8, ids); other.Verify(1, b, sig) {
				t.Fatal("another seed's key verifies the signature")
			}
			if k.Sign(9, b) != nil || k.Verify(9, b, sig) {
				t.Fatal("a node without a key signs or verifies")
			}
			if k.Verify(1, b, make([]byte, ordo.MaxSignature+1)) {
				t.Fatal("an oversize signature verifies")
			}
			var s ordo.Signer = k.For(2)
			if !s.Verify(2, b, s.Sign(b)) || s.Verify(1, b, s.Sign(b)) {
				t.Fatal("For signs as another node")
			}
		})
	}
}

func TestUnknownSchemePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown scheme was accepted")
		}
	}()
	New("rsa", 1, nil)
}

// BenchmarkSchemes: one signature made and checked under each scheme
// (compare live/transport's BenchmarkSigner, ECDSA P-256).
func BenchmarkSchemes(b *testing.B) {
	msg := []byte("pbft prepare\x00\x02\x10\x1001234567890abcdef")
	for _, scheme := range []string{Ed25519, Oracle} {
		k := New(scheme, 1, []ordo.NodeID{1})
		sig := k.Sign(1, msg)
		b.Run(scheme+"/sign", func(b *testing.B) {
			for range b.N {
				k.Sign(1, msg)
			}
		})
		b.Run(scheme+"/verify", func(b *testing.B) {
			for range b.N {
				if !k.Verify(1, msg, sig) {
					b.Fatal("does not verify")
				}
			}
		})
	}
}
