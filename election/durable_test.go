package election

import (
	"encoding/binary"
	"math"
	"testing"

	"ordo"
	"ordo/ordotest"
)

// loadOrCorrupt runs LoadWords on a store holding b, reporting an
// ordo.Corrupt panic (any other panic fails the test).
func loadOrCorrupt(t *testing.T, b []byte, words int) (w []uint64, ok, corrupt bool) {
	t.Helper()
	env := ordotest.NewEnv(1, nil, 1)
	env.Store().Put("k", b)
	defer func() {
		if p := recover(); p != nil {
			c, isCorrupt := p.(ordo.Corrupt)
			if !isCorrupt || c.Key != "k" {
				t.Fatalf("LoadWords(%x) panicked with %v, want ordo.Corrupt{Key: \"k\"}", b, p)
			}
			corrupt = true
		}
	}()
	w, ok = LoadWords(env, "k", words)
	return w, ok, false
}

func words(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint64(b, x)
	}
	return b
}

// What a store holds is believed only within the bounds: a term or epoch
// up to ordo.MaxTerm, a node id up to ordo.MaxNodeID, the right length.
func TestLoadWordsBounds(t *testing.T) {
	for _, tc := range []struct {
		b       []byte
		n       int
		corrupt bool
	}{
		{words(7), 1, false},
		{words(ordo.MaxTerm), 1, false},
		{words(ordo.MaxTerm + 1), 1, true},
		{words(math.MaxUint64), 1, true},
		{words(3, 2), 2, false},
		{words(3, ordo.MaxNodeID+1), 2, true},
		{words(3, math.MaxUint64), 2, true}, // NodeID -1
		{words(3)[:7], 1, true},
		{words(3, 2), 1, true},
		{nil, 1, true},
	} {
		_, ok, corrupt := loadOrCorrupt(t, tc.b, tc.n)
		if corrupt != tc.corrupt || (!corrupt && !ok) {
			t.Errorf("%x as %d words: corrupt=%v ok=%v, want corrupt=%v", tc.b, tc.n, corrupt, ok, tc.corrupt)
		}
	}
}

// A store's bytes either load within the bounds or stop the node with
// ordo.Corrupt; nothing else (no other panic, no absurd value).
func FuzzLoadWords(f *testing.F) {
	f.Add(words(1, 2), uint8(2))
	f.Add(words(math.MaxUint64), uint8(1))
	f.Add([]byte{1, 2, 3}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		nw := int(n%2) + 1
		w, ok, corrupt := loadOrCorrupt(t, b, nw)
		if corrupt {
			return
		}
		if !ok || len(w) != nw || w[0] > ordo.MaxTerm || (nw == 2 && w[1] > ordo.MaxNodeID) {
			t.Fatalf("%x loaded as %v (ok %v)", b, w, ok)
		}
	})
}
