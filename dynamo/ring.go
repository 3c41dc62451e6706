package dynamo

import (
	"fmt"
	"slices"
	"strconv"

	"ordo"
)

// Ring is consistent hashing with virtual nodes (Dynamo 2007, section
// 4.2): every server owns vnodes tokens on a 64-bit ring; a key belongs to
// the first n distinct servers met walking clockwise from its hash, its
// preference list.
type Ring struct {
	tokens []token // sorted by hash
	n      int
}

type token struct {
	hash   uint64
	server ordo.NodeID
}

// MaxVnodes bounds the tokens of one server.
const MaxVnodes = 256

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	// FNV-1a mixes short, similar strings poorly: finish with a
	// splitmix64 step so tokens spread over the ring.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// NewRing places vnodes tokens for each server; n is the preference
// list's length (n_replicas).
func NewRing(servers []ordo.NodeID, vnodes, n int) (*Ring, error) {
	if vnodes < 1 || vnodes > MaxVnodes {
		return nil, fmt.Errorf("dynamo: vnodes=%d out of range 1..%d", vnodes, MaxVnodes)
	}
	if n < 1 || n > len(servers) {
		return nil, fmt.Errorf("dynamo: n_replicas=%d out of range 1..%d (the number of servers)", n, len(servers))
	}
	r := &Ring{n: n}
	for _, s := range servers {
		for i := range vnodes {
			r.tokens = append(r.tokens, token{fnv(strconv.Itoa(int(s)) + "/" + strconv.Itoa(i)), s})
		}
	}
	slices.SortFunc(r.tokens, func(a, b token) int {
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return int(a.server) - int(b.server)
	})
	return r, nil
}

// Preference returns key's preference list: n distinct servers, the
// coordinator-to-be first.
func (r *Ring) Preference(key string) []ordo.NodeID { return r.Walk(key, r.n) }

// Walk returns the first n distinct servers met walking clockwise from
// key's hash: the preference list, then the stand-ins a sloppy quorum
// hands hints to.
func (r *Ring) Walk(key string, n int) []ordo.NodeID {
	h := fnv(key)
	i, _ := slices.BinarySearchFunc(r.tokens, h, func(t token, h uint64) int {
		if t.hash < h {
			return -1
		}
		if t.hash > h {
			return 1
		}
		return 0
	})
	out := make([]ordo.NodeID, 0, n)
	for j := 0; j < len(r.tokens) && len(out) < n; j++ {
		s := r.tokens[(i+j)%len(r.tokens)].server
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
