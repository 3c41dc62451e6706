package sim

import (
	"fmt"
	"testing"

	"ordo"
	"ordo/signature"
)

// The MAC key is per ordered pair: every link of a 6-node cluster has its
// own, a→b differs from b→a, another seed gives other keys, and none is
// the run key itself. Each is a pure function of seed and pair.
func TestAuthPairKeysDifferPerPair(t *testing.T) {
	const n = 6
	rk := runKey(1)
	seen := map[[32]byte]LinkKey{}
	for a := ordo.NodeID(1); a <= n; a++ {
		for b := ordo.NodeID(1); b <= n; b++ {
			if a == b {
				continue
			}
			k := pairKey(rk, a, b)
			if prev, dup := seen[k]; dup {
				t.Fatalf("links %v and %v->%v share a key", prev, a, b)
			}
			seen[k] = LinkKey{a, b}
			if k == rk {
				t.Fatalf("link %v->%v uses the run key", a, b)
			}
			if k != pairKey(runKey(1), a, b) {
				t.Fatalf("link %v->%v: key not a function of seed and pair", a, b)
			}
			if k == pairKey(runKey(2), a, b) {
				t.Fatalf("link %v->%v: seeds 1 and 2 give the same key", a, b)
			}
		}
	}
	if len(seen) != n*(n-1) {
		t.Fatalf("%d keys for %d links", len(seen), n*(n-1))
	}
}

// A MAC convinces its one receiver only: the tag of 1→2 does not check
// as 1→3, nor as 3→2. A signature of node 1 checks at every receiver
// (transferable) and as from no other sender. Tampered bytes fail both.
func TestAuthMACIsPerPairSignatureIsTransferable(t *testing.T) {
	for _, mode := range AuthModes {
		a := newAuth(mode, 7, 4, testKeys(7))
		w := &wireMsg{kind: "prepare", b: []byte("view 0 seq 1 digest d")}
		a.seal(1, 2, 10, w)
		if !a.check(1, 2, 10, w) {
			t.Fatalf("%s: the tag of 1->2 fails at 2", mode)
		}
		if a.check(3, 2, 10, w) {
			t.Fatalf("%s: the tag of 1->2 checks as from 3: a forgery passes", mode)
		}
		toOther := a.check(1, 3, 10, w)
		if mode == AuthMAC && toOther {
			t.Fatal("mac: the tag of 1->2 checks at 3: keys are not per pair")
		}
		if mode == AuthEd25519 && !toOther {
			t.Fatal("ed25519: node 1's signature fails at 3: not transferable")
		}
		w.b[0] ^= 1
		if a.check(1, 2, 10, w) {
			t.Fatalf("%s: a flipped bit passes", mode)
		}
	}
}

// A multicast is signed once (node keys: signature.TestSchemes):
// the second recipient's tag is the first's, and it verifies.
func TestAuthNodeKeysAndSignOnce(t *testing.T) {
	a := newAuth(AuthEd25519, 1, 4, testKeys(1))
	w1 := &wireMsg{kind: "commit", b: []byte{1, 2, 3}}
	w2 := &wireMsg{kind: "commit", b: []byte{1, 2, 3}}
	a.seal(1, 2, 1, w1)
	a.last[1].sig[0] ^= 0xff // the cached signature is what the next seal uses
	a.seal(1, 3, 2, w2)
	if w1.tag == w2.tag || a.check(1, 3, 2, w2) {
		t.Fatal("the second recipient's tag was signed again, not taken from the sign-once cache")
	}
	a.last[1].ok = false
	a.seal(1, 3, 2, w2)
	if w1.tag != w2.tag || !a.check(1, 3, 2, w2) {
		t.Fatal("signing the same message again gives another signature (ed25519 is deterministic)")
	}
}

// One message's authentication cost, sender and receiver together: a MAC
// tag and its check, or a signature and its verification, over PBFT-sized
// messages (prepare and commit about 20 bytes, a pre-prepare of one
// request about 40, a view-change or a batched pre-prepare up to a few
// KiB). Each op authenticates new bytes (no sign-once cache hit).
// docs/byzantine.md has the figures.
//
//	go test ./sim -run '^$' -bench Auth -benchtime 2000x
func BenchmarkAuth(b *testing.B) {
	for _, mode := range AuthModes {
		for _, size := range []int{32, 256, 1024, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mode, size), func(b *testing.B) {
				a := newAuth(mode, 1, 4, testKeys(1))
				w := &wireMsg{kind: "pre-prepare", b: make([]byte, size)}
				a.seal(1, 2, 1, w) // keys made outside the timing
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					w.b[i%size]++
					a.seal(1, 2, uint64(i), w)
					if !a.check(1, 2, uint64(i), w) {
						b.Fatal("check failed")
					}
				}
			})
		}
	}
	// The key derivations, paid once per pair (MAC) or node (ed25519).
	b.Run("pair-key", func(b *testing.B) {
		rk := runKey(1)
		for i := range b.N {
			pairKey(rk, 1, ordo.NodeID(i))
		}
	})
	b.Run("node-key", func(b *testing.B) {
		for i := range b.N {
			signature.New(signature.Ed25519, 1, []ordo.NodeID{ordo.NodeID(i)})
		}
	})
}

// testKeys are the ed25519 node keys of nodes 1..4 in a run of seed.
func testKeys(seed uint64) *signature.Keys {
	return signature.New(signature.Ed25519, seed, []ordo.NodeID{1, 2, 3, 4})
}
