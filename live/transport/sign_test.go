package transport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo"
)

// A node signs with its certificate's key; the others verify it as that
// node only. A peer certificate that another CA issued, or that names
// another node, gives that peer no key (no signature verifies as it) and
// is reported, not fatal; the node's own key must load.
func TestLoadSigner(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	if err := GenerateDevCA(dir, 4); err != nil {
		t.Fatal(err)
	}
	if err := GenerateDevCA(other, 4); err != nil {
		t.Fatal(err)
	}
	ids := []ordo.NodeID{1, 2, 3, 4}
	load := func(self ordo.NodeID) (*Signer, []error) {
		t.Helper()
		s, skipped, err := LoadSigner(TLSFilesIn(dir, self), dir, self, ids)
		if err != nil {
			t.Fatal(err)
		}
		return s, skipped
	}
	s1, skipped := load(1)
	s2, _ := load(2)
	if len(skipped) != 0 {
		t.Fatalf("skipped %v", skipped)
	}
	b := []byte("pbft prepare 1 2 abcd")
	sig := s1.Sign(b)
	if len(sig) == 0 || len(sig) > ordo.MaxSignature {
		t.Fatalf("signature of %d bytes", len(sig))
	}
	if !s2.Verify(1, b, sig) || !s1.Verify(1, b, sig) {
		t.Fatal("node 1's signature does not verify")
	}
	if s2.Verify(2, b, sig) || s2.Verify(1, []byte("other"), sig) || s2.Verify(9, b, sig) {
		t.Fatal("a signature verifies as another node, over other bytes, or as an unknown node")
	}

	// Node 3's certificate from another CA; node 4's replaced by node 2's.
	copyFile(t, filepath.Join(other, "node3.pem"), filepath.Join(dir, "node3.pem"))
	copyFile(t, filepath.Join(dir, "node2.pem"), filepath.Join(dir, "node4.pem"))
	s1, skipped = load(1)
	if len(skipped) != 2 || !strings.Contains(skipped[0].Error(), "node3.pem") || !strings.Contains(skipped[1].Error(), "node4.pem") {
		t.Fatalf("skipped %v, want node3.pem (another CA) and node4.pem (another name)", skipped)
	}
	forged, _, err := LoadSigner(TLSFilesIn(other, 3), other, 3, ids)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Verify(3, b, forged.Sign(b)) {
		t.Fatal("a signature by another CA's node 3 verifies as node 3")
	}
	if s1.Verify(4, b, s2.Sign(b)) {
		t.Fatal("node 2's signature verifies as node 4")
	}
	if _, _, err := LoadSigner(TLSFilesIn(dir, 3), dir, 3, ids); err == nil {
		t.Fatal("a node whose own certificate another CA issued loaded")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSigner: what a live PBFT vote's signature costs, signing and
// verifying a prepare's statement with a node's ECDSA P-256 key.
func BenchmarkSigner(b *testing.B) {
	dir := b.TempDir()
	if err := GenerateDevCA(dir, 2); err != nil {
		b.Fatal(err)
	}
	s, _, err := LoadSigner(TLSFilesIn(dir, 1), dir, 1, []ordo.NodeID{1, 2})
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("pbft prepare\x00\x02\x10\x1001234567890abcdef")
	sig := s.Sign(msg)
	b.Run("sign", func(b *testing.B) {
		for range b.N {
			s.Sign(msg)
		}
	})
	b.Run("verify", func(b *testing.B) {
		for range b.N {
			if !s.Verify(1, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
}
