package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"ordo"
)

// DistKind names a latency distribution.
type DistKind string

const (
	Constant    DistKind = "constant"    // always A
	Uniform     DistKind = "uniform"     // uniform in [A, B]
	Normal      DistKind = "normal"      // mean A, standard deviation B, never below 0
	Exponential DistKind = "exponential" // A plus an exponential tail of mean B
)

// Dist is a latency distribution.
type Dist struct {
	Kind DistKind
	A, B time.Duration
}

func (d Dist) validate() error {
	switch d.Kind {
	case "", Constant, Normal, Exponential:
	case Uniform:
		if d.B < d.A {
			return fmt.Errorf("uniform latency needs min ≤ max, got %v > %v", d.A, d.B)
		}
	default:
		return fmt.Errorf("unknown latency distribution %q (valid: constant, uniform, normal, exponential)", d.Kind)
	}
	if d.A < 0 || d.B < 0 {
		return fmt.Errorf("latency must not be negative")
	}
	return nil
}

func (d Dist) sample(r *rand.Rand) time.Duration {
	switch d.Kind {
	case Uniform:
		if d.B == d.A {
			return d.A
		}
		return d.A + time.Duration(r.Int64N(int64(d.B-d.A)+1))
	case Normal:
		v := float64(d.A) + r.NormFloat64()*float64(d.B)
		return time.Duration(math.Max(0, v))
	case Exponential:
		return d.A + time.Duration(r.ExpFloat64()*float64(d.B))
	}
	return d.A
}

// Mean is the distribution's mean (for reports).
func (d Dist) Mean() time.Duration {
	switch d.Kind {
	case Uniform:
		return (d.A + d.B) / 2
	case Exponential:
		return d.A + d.B
	}
	return d.A
}

// Presets are the chapter's latencies (section 1, fallacy 2: "지연 시간은
// 0이다"), one-way: a LAN round trip of about 0.5 ms, a same-datacenter hop
// of 0.5 ms, and Seoul–US West at about 150 ms round trip.
var Presets = map[string]Dist{
	"zero":             {Kind: Constant},
	"loopback":         {Kind: Constant, A: 50 * time.Microsecond},
	"lan":              {Kind: Normal, A: 250 * time.Microsecond, B: 50 * time.Microsecond},
	"datacenter":       {Kind: Normal, A: 500 * time.Microsecond, B: 100 * time.Microsecond},
	"intercontinental": {Kind: Normal, A: 75 * time.Millisecond, B: 5 * time.Millisecond},
}

// PresetNames lists the latency presets, sorted.
func PresetNames() []string {
	var n []string
	for k := range Presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Preset looks up a latency preset by name; the error lists the valid ones.
func Preset(name string) (Dist, error) {
	if d, ok := Presets[name]; ok {
		return d, nil
	}
	return Dist{}, fmt.Errorf("unknown latency preset %q (valid: %s)", name, strings.Join(PresetNames(), ", "))
}

// Link is the behaviour of one direction between two nodes.
type Link struct {
	Latency   Dist
	Loss      float64 // probability a message is lost
	Duplicate float64 // probability a message is delivered twice
	// Bandwidth in bytes per second (0: unlimited). Messages queue behind
	// each other on the link, so size matters.
	Bandwidth int64
	// Tamper is the probability that a message is altered in flight.
	Tamper float64
}

func (l Link) validate() error {
	if err := l.Latency.validate(); err != nil {
		return err
	}
	// A slice, not a map: with two bad values the error must name the
	// same one on every run.
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss", l.Loss}, {"duplicate", l.Duplicate}, {"tamper", l.Tamper}} {
		if p.v < 0 || p.v > 1 || math.IsNaN(p.v) {
			return fmt.Errorf("%s probability %v out of range [0, 1]", p.name, p.v)
		}
	}
	if l.Bandwidth < 0 {
		return fmt.Errorf("bandwidth must not be negative")
	}
	return nil
}

// LinkKey names one direction of a link.
type LinkKey struct{ From, To ordo.NodeID }

// Network is the network model: a default link, per-direction overrides,
// and whether links keep order.
type Network struct {
	Default Link
	Links   map[LinkKey]Link
	// FIFO keeps each direction in order (as TCP does); off, jitter
	// reorders messages (as UDP may).
	FIFO bool
	// Authenticated links detect tampering (MACs): an altered message is
	// dropped rather than delivered. The defence of fallacy 4.
	Authenticated bool
	// Auth is how authenticated links authenticate in wire mode: AuthMAC
	// (per-pair HMACs; "" is the same) or AuthEd25519 (signatures; wire
	// mode only). auth.go says what each proves and costs.
	Auth string
	// Tamperer alters a message in flight; nil uses the reflective default
	// (change one integer or string field). In wire mode bytes are
	// flipped instead (see wire.go).
	Tamperer func(m ordo.Message, r *rand.Rand) ordo.Message
}

func (n *Network) validate(nodes int) error {
	if err := n.Default.validate(); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	keys := make([]LinkKey, 0, len(n.Links))
	for k := range n.Links {
		keys = append(keys, k)
	}
	// Sorted, so that with two bad links the error names the same one on
	// every run.
	slices.SortFunc(keys, func(a, b LinkKey) int {
		if a.From != b.From {
			return int(a.From) - int(b.From)
		}
		return int(a.To) - int(b.To)
	})
	for _, k := range keys {
		l := n.Links[k]
		if k.From < 1 || int(k.From) > nodes || k.To < 1 || int(k.To) > nodes || k.From == k.To {
			return fmt.Errorf("network: link %d->%d: nodes must be distinct and in 1..%d", k.From, k.To, nodes)
		}
		if err := l.validate(); err != nil {
			return fmt.Errorf("network: link %d->%d: %w", k.From, k.To, err)
		}
	}
	return nil
}

// netState is the network's mutable state during a run. Per-link tables
// are dense slices indexed by from*(n+1)+to, allocated only when a feature
// needs them, so the common case does no map lookups per message.
type netState struct {
	cfg     *Network
	n       int
	blocked []bool  // a partition cuts from → to
	cut     bool    // any link blocked
	over    []*Link // per-link overrides (nil: none at all)
	// busy is when a bandwidth-limited link is free again; last is the
	// latest arrival on a FIFO link.
	busy []time.Duration
	last []time.Duration
	// burst is an extra loss probability on every link (the nemesis's loss
	// bursts).
	burst float64
	wire  *wireState // wire mode's buffers, for tampering with bytes
}

func (ns *netState) init(cfg *Network, n int) {
	ns.cfg = cfg
	ns.n = n
	ns.blocked = make([]bool, (n+1)*(n+1))
	for k, l := range cfg.Links {
		ns.setLink(k.From, k.To, l)
	}
	if cfg.FIFO {
		ns.last = make([]time.Duration, (n+1)*(n+1))
	}
}

func (ns *netState) idx(from, to ordo.NodeID) int { return int(from)*(ns.n+1) + int(to) }

func (ns *netState) setLink(from, to ordo.NodeID, l Link) {
	if ns.over == nil {
		ns.over = make([]*Link, (ns.n+1)*(ns.n+1))
	}
	ns.over[ns.idx(from, to)] = &l
}

// link returns the behaviour of from → to.
func (ns *netState) link(from, to ordo.NodeID) *Link {
	if ns.over != nil {
		if l := ns.over[ns.idx(from, to)]; l != nil {
			return l
		}
	}
	return &ns.cfg.Default
}

func (ns *netState) isBlocked(from, to ordo.NodeID) bool {
	return ns.cut && ns.blocked[ns.idx(from, to)]
}

func (ns *netState) setBlocked(from, to ordo.NodeID, b bool) {
	ns.blocked[ns.idx(from, to)] = b
	if b {
		ns.cut = true
	}
}

// route decides the fate of one sent message: cut, lost, tampered, queued
// behind earlier messages on a slow link, delayed, duplicated.
func (ns *netState) route(s *Sim, src *nodeState, to ordo.NodeID, m ordo.Message, id uint64, size int) {
	from := src.id
	l := ns.link(from, to)
	if ns.isBlocked(from, to) {
		s.fallacy.add(FallacyReliable)
		s.drop(from, to, id, m.Kind(), size, "partition")
		return
	}
	if (l.Loss > 0 && s.rng.Float64() < l.Loss) || (ns.burst > 0 && s.rng.Float64() < ns.burst) {
		s.fallacy.add(FallacyReliable)
		s.drop(from, to, id, m.Kind(), size, "loss")
		return
	}
	depart := s.now
	if l.Bandwidth > 0 {
		// The link sends one message at a time: this one starts when the
		// previous one has left, and takes size/bandwidth to leave.
		if ns.busy == nil {
			ns.busy = make([]time.Duration, (ns.n+1)*(ns.n+1))
		}
		k := ns.idx(from, to)
		start := max(s.now, ns.busy[k])
		if start > s.now {
			s.fallacy.add(FallacyBandwidth)
		}
		depart = start + time.Duration(float64(size)/float64(l.Bandwidth)*float64(time.Second))
		ns.busy[k] = depart
	}
	lat := l.Latency.sample(s.rng)
	if lat > 0 {
		s.fallacy.add(FallacyLatency)
	}
	if l.Tamper > 0 && s.rng.Float64() < l.Tamper {
		s.fallacy.add(FallacySecure)
		s.stats.Tampered++
		if ns.cfg.Authenticated && !s.cfg.Wire { // wire mode: the receiver's MAC check drops it
			s.drop(from, to, id, m.Kind(), size, "tampered: authentication failed")
			return
		}
		m = ns.tamper(m, s.rng)
	}
	s.enqueueDelivery(src, to, m, id, size, ns.arrival(from, to, depart+lat))
	if l.Duplicate > 0 && s.rng.Float64() < l.Duplicate {
		s.stats.duplicated(m.Kind())
		s.enqueueDelivery(src, to, m, id, size, ns.arrival(from, to, depart+l.Latency.sample(s.rng)))
	}
}

// arrival applies FIFO order: on a FIFO link nothing overtakes what was
// sent before it (ties keep scheduling order, which is sending order).
func (ns *netState) arrival(from, to ordo.NodeID, at time.Duration) time.Duration {
	if ns.last != nil {
		k := ns.idx(from, to)
		at = max(at, ns.last[k])
		ns.last[k] = at
	}
	return at
}

func (ns *netState) tamper(m ordo.Message, r *rand.Rand) ordo.Message {
	if w, ok := m.(*wireMsg); ok {
		return ns.wire.tamperBytes(w, r) // wire mode: the bytes are altered
	}
	if ns.cfg.Tamperer != nil {
		return ns.cfg.Tamperer(m, r)
	}
	return TamperFields(m, r)
}
