package sim

import (
	"maps"
	"slices"
)

// KindStats counts one message kind.
type KindStats struct {
	Sent, Delivered, Dropped int
	// Duplicated counts the extra copies the network made: each is
	// delivered or dropped like a sent message, so
	// Sent + Duplicated = Delivered + Dropped + InFlight().
	Duplicated int
	Bytes      int64
}

// InFlight is how many copies were still on their way when the run ended
// (neither delivered nor dropped).
func (ks *KindStats) InFlight() int { return ks.Sent + ks.Duplicated - ks.Delivered - ks.Dropped }

// Stats counts what the network carried.
type Stats struct {
	Kinds                    map[string]*KindStats
	Sent, Delivered, Dropped int
	Duplicated, Tampered     int
	// Malformed counts messages dropped because their bytes did not
	// decode, AuthFailed those whose MAC failed (wire mode), or whose
	// forged sender an authenticated link refused (adversary.go).
	Malformed, AuthFailed int
	// Byzantine counts the lies Byzantine nodes told (adversary.go):
	// messages silenced, equivocated, replaced by garbage, replayed or
	// forged; ByzantineBy by behaviour (nil until the first lie).
	Byzantine   int
	ByzantineBy map[Behaviour]int
	Bytes       int64
	// Events counts process events (start, send, recv, timer, note, crash,
	// ...): what the trace holds or would hold with tracing on.
	Events int64
	// recent caches kind lookups: a protocol has a handful of kinds whose
	// names are constants, so a short scan beats hashing every message.
	recent []kindEntry
}

type kindEntry struct {
	name string
	ks   *KindStats
}

func (st *Stats) init() { st.Kinds = map[string]*KindStats{} }

func (st *Stats) kind(k string) *KindStats {
	for i := range st.recent {
		if st.recent[i].name == k {
			return st.recent[i].ks
		}
	}
	ks := st.Kinds[k]
	if ks == nil {
		ks = &KindStats{}
		st.Kinds[k] = ks
	}
	if len(st.recent) < 16 {
		st.recent = append(st.recent, kindEntry{k, ks})
	}
	return ks
}

func (st *Stats) sent(k string, size int) {
	ks := st.kind(k)
	ks.Sent++
	ks.Bytes += int64(size)
	st.Sent++
	st.Bytes += int64(size)
}

func (st *Stats) delivered(k string)  { st.kind(k).Delivered++; st.Delivered++ }
func (st *Stats) dropped(k string)    { st.kind(k).Dropped++; st.Dropped++ }
func (st *Stats) duplicated(k string) { st.kind(k).Duplicated++; st.Duplicated++ }

// InFlight is how many copies of every kind were still on their way when
// the run ended: Sent + Duplicated - Delivered - Dropped.
func (st *Stats) InFlight() int { return st.Sent + st.Duplicated - st.Delivered - st.Dropped }

// KindNames lists the message kinds seen, sorted, for stable reports.
func (st *Stats) KindNames() []string { return slices.Sorted(maps.Keys(st.Kinds)) }
