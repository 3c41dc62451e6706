package failover

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"ordo/live"
	"ordo/service/etcd"
)

// startOrdoLease starts ordo's lease election (protocol "lease", default
// options but the TTL, and probe=0 for OrdoLeaseNoProbe) as system sys on
// a live cluster of o.Candidates servers whose service nodes (coord,
// fenced-store) reach etcd cluster c.
func startOrdoLease(o Options, c *etcd.Cluster, ttl time.Duration, sys string) (*ordoCluster, error) {
	secs := int(ttl / time.Second)
	opts := map[string]string{"ttl": ttl.String()}
	svc := map[string]string{"endpoints": strings.Join(c.Endpoints(), ",")}
	stream := uint64(secs)
	if sys == OrdoLeaseNoProbe {
		// The same etcd as ordo-lease: keys of its own (neither prefix
		// may hold the other), or each would follow the other's leader.
		opts["probe"] = "0s"
		opts["prefix"] = "/leader-election-noprobe/"
		svc["key_prefix"] = "/ordo/fenced-noprobe/"
		stream += uint64(MaxTTL / time.Second) // its own random stream
	}
	up := live.UpOptions{N: o.Candidates, Protocol: "lease", Options: opts,
		ServiceOptions: svc,
		Dir:            filepath.Join(o.Dir, fmt.Sprintf("%s-ttl%ds", sys, secs)), Binary: o.Binary,
		Seed: o.Seed, LogLevel: "warn", DieWithParent: true, Fresh: true}
	return startOrdoCluster(up, Row{System: sys, TTL: ttl.String()}, within(ttl), stream,
		[]string{"single-leader", "one-leader-per-term", "fencing"})
}
