package election

import (
	"encoding/binary"
	"fmt"

	"ordo"
)

// LoadWords reads the durable value under key as words big-endian uint64s
// (a term and a vote, an epoch). ok is false when the key was never
// written. A value of the wrong length, or whose first word (a term or an
// epoch) exceeds ordo.MaxTerm, or whose second word (a node id) is not a
// node id, is not believed: the node fail-stops with ordo.Corrupt, which
// the runtimes turn into a clean stop naming the store file and key.
// Believing it would wrap term+1 or spread the absurd value to every peer.
func LoadWords(env ordo.Env, key string, words int) (w []uint64, ok bool) {
	v, ok := env.Store().Get(key)
	if !ok {
		return nil, false
	}
	if len(v) != 8*words {
		panic(ordo.Corrupt{Key: key, Err: fmt.Errorf("%d bytes, want %d", len(v), 8*words)})
	}
	w = make([]uint64, words)
	for i := range w {
		w[i] = binary.BigEndian.Uint64(v[8*i:])
	}
	if err := ordo.CheckTerm("term", w[0]); err != nil {
		panic(ordo.Corrupt{Key: key, Err: err})
	}
	if words > 1 {
		if err := ordo.CheckNode("node", ordo.NodeID(w[1])); err != nil || w[1] > ordo.MaxNodeID {
			panic(ordo.Corrupt{Key: key, Err: fmt.Errorf("second word %d is not a node id", w[1])})
		}
	}
	return w, true
}

// CanIncrement reports whether a term or epoch n may be increased: below
// ordo.MaxTerm. At the bound a node refuses to campaign (and notes why)
// rather than wrap to 0; only a forged or corrupt value gets there, since
// messages and stores above the bound are refused.
func CanIncrement(env ordo.Env, n uint64) bool {
	if n < ordo.MaxTerm {
		return true
	}
	env.Note("term-exhausted", "term", n, "bound", uint64(ordo.MaxTerm))
	return false
}
