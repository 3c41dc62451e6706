package lease

import (
	"fmt"
	"time"
	"unicode/utf8"

	"ordo"
	"ordo/coord"
)

// Options of the "lease" protocol.
var Options = []ordo.Option{
	{Name: "ttl", Default: "2s", Help: "session lease TTL, whole seconds ≥ 2 (etcd's minimum on its defaults)"},
	{Name: "keepalive", Default: "0s", Help: "interval of keepalives and of the followers' leader poll (0: ttl/3, as etcd's client)"},
	{Name: "max_drift_ppm", Default: "50000", Help: "bound assumed on each clock's rate error (µs/s): the fail-closed margin is ttl·2·drift + the largest round trip of the session"},
	{Name: "probe", Default: "50ms", Help: "how often a waiting candidate asks how long its predecessor's lease has left, near its end, so that it revokes the lease once it has certainly expired instead of waiting for etcd's lessor (which looks every 500 ms); 0: wait for the lessor, as etcd's own recipe"},
	{Name: "write_every", Default: "200ms", Help: "how often a leader writes its fencing token to the fenced store (its leader act)"},
	{Name: "prefix", Default: "/leader-election/", Help: "key prefix of the election (the chapter's /leader-election/)"},
	{Name: "unsafe_no_fail_closed", Default: "false", Help: "DELIBERATELY BROKEN: act as leader until the service says the lease is gone (no local deadline)"},
	{Name: "unsafe_no_margin", Default: "false", Help: "DELIBERATELY BROKEN: lease deadline = last keepalive reply + the full TTL, no margin for drift or round trip"},
	{Name: "leader_bound", Default: "0s", Help: "checkers: how long after the last fault a leader must be agreed on (eventual-leader); 0: 4·ttl"},
}

// Bounds of the options (TIGER_STYLE: every number has a limit).
const (
	// MaxDriftPPM keeps the margin (2·drift of the TTL) under 40% of it.
	MaxDriftPPM = 200_000
	// MinWriteEvery bounds a leader's write rate.
	MinWriteEvery = time.Millisecond
	// MinProbe bounds the rate of TimeToLive probes a waiting candidate
	// sends (one per probe near the end of its predecessor's lease).
	MinProbe = 5 * time.Millisecond
	// MaxPrefixBytes leaves room for the lease id in the key.
	MaxPrefixBytes = coord.MaxKeyBytes - 32
)

type config struct {
	ttl         time.Duration // whole seconds
	keepalive   time.Duration
	driftPPM    int64
	writeEvery  time.Duration
	probe       time.Duration // 0: no probing
	prefix      string
	noFailClose bool
	noMargin    bool
}

func parse(o ordo.Options) (config, error) {
	c := config{
		ttl:         o.Duration("ttl"),
		keepalive:   o.Duration("keepalive"),
		driftPPM:    int64(o.Int("max_drift_ppm")),
		writeEvery:  o.Duration("write_every"),
		probe:       o.Duration("probe"),
		prefix:      o.String("prefix"),
		noFailClose: o.Bool("unsafe_no_fail_closed"),
		noMargin:    o.Bool("unsafe_no_margin"),
	}
	if c.ttl%time.Second != 0 || c.ttl < coord.MinTTLSeconds*time.Second || c.ttl > coord.MaxTTLSeconds*time.Second {
		return c, fmt.Errorf("lease: ttl %v: want whole seconds in %ds..%ds (etcd leases count seconds)", c.ttl, coord.MinTTLSeconds, coord.MaxTTLSeconds)
	}
	if c.keepalive == 0 {
		c.keepalive = c.ttl / 3
	}
	if c.keepalive < time.Millisecond || c.keepalive > c.ttl/2 {
		return c, fmt.Errorf("lease: keepalive %v: want 1ms..ttl/2 (%v), so a lost keepalive does not cost the lease", c.keepalive, c.ttl/2)
	}
	if c.driftPPM < 0 || c.driftPPM > MaxDriftPPM {
		return c, fmt.Errorf("lease: max_drift_ppm %d out of 0..%d", c.driftPPM, MaxDriftPPM)
	}
	if c.probe != 0 && (c.probe < MinProbe || c.probe > c.keepalive) {
		return c, fmt.Errorf("lease: probe %v: want 0 (off) or %v..keepalive (%v)", c.probe, MinProbe, c.keepalive)
	}
	if c.writeEvery < MinWriteEvery || c.writeEvery > c.ttl {
		return c, fmt.Errorf("lease: write_every %v: want %v..ttl (%v)", c.writeEvery, MinWriteEvery, c.ttl)
	}
	if c.prefix == "" || len(c.prefix) > MaxPrefixBytes || !utf8.ValidString(c.prefix) {
		return c, fmt.Errorf("lease: prefix of %d bytes: want 1..%d bytes of UTF-8", len(c.prefix), MaxPrefixBytes)
	}
	return c, nil
}

// driftMargin is the part of the margin owed to clock rates: the node's
// clock may run slow by drift (its TTL lasts longer in true time) and the
// service's fast by as much (it expires the lease early), so the node
// gives up ttl·2·drift of it.
func (c config) driftMargin() time.Duration { return c.drift(c.ttl) }

// drift is how far two clocks within max_drift_ppm of true time can drift
// apart over d: d·2·drift.
func (c config) drift(d time.Duration) time.Duration {
	return time.Duration(int64(d) / 1_000_000 * 2 * c.driftPPM)
}

// second is one second of the service's clock measured on this node's,
// rounded up by both clocks' rate error (probe.go).
func (c config) second() time.Duration { return time.Second + c.drift(time.Second) }
