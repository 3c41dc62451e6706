package sim

import (
	"sort"

	"ordo"
)

// KindStats counts one message kind.
type KindStats struct {
	Sent, Delivered, Dropped int
	Bytes                    int64
}

// Stats counts what the network carried.
type Stats struct {
	Kinds                    map[string]*KindStats
	Sent, Delivered, Dropped int
	Duplicated, Tampered     int
	Bytes                    int64
	// CrossBytes counts bytes on links marked as crossing a region or
	// provider boundary (for egress cost); see Network.Links.
	perKind []string
}

func (st *Stats) init() { st.Kinds = map[string]*KindStats{} }

func (st *Stats) kind(k string) *KindStats {
	ks := st.Kinds[k]
	if ks == nil {
		ks = &KindStats{}
		st.Kinds[k] = ks
		st.perKind = append(st.perKind, k)
	}
	return ks
}

func (st *Stats) sent(k string, size int, from, to ordo.NodeID) {
	ks := st.kind(k)
	ks.Sent++
	ks.Bytes += int64(size)
	st.Sent++
	st.Bytes += int64(size)
}

func (st *Stats) delivered(k string) { st.kind(k).Delivered++; st.Delivered++ }
func (st *Stats) dropped(k string)   { st.kind(k).Dropped++; st.Dropped++ }

// KindNames lists the message kinds seen, sorted, for stable reports.
func (st *Stats) KindNames() []string {
	out := append([]string(nil), st.perKind...)
	sort.Strings(out)
	return out
}
