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
// options but the TTL) on a live cluster of o.Candidates servers whose
// service nodes (coord, fenced-store) reach etcd cluster c.
func startOrdoLease(o Options, c *etcd.Cluster, ttl time.Duration) (*ordoCluster, error) {
	secs := int(ttl / time.Second)
	up := live.UpOptions{N: o.Candidates, Protocol: "lease", Options: map[string]string{"ttl": ttl.String()},
		ServiceOptions: map[string]string{"endpoints": strings.Join(c.Endpoints(), ",")},
		Dir:            filepath.Join(o.Dir, fmt.Sprintf("ordo-lease-ttl%ds", secs)), Binary: o.Binary,
		Seed: o.Seed, LogLevel: "warn", DieWithParent: true, Fresh: true}
	return startOrdoCluster(up, Row{System: OrdoLease, TTL: ttl.String()}, within(ttl), uint64(secs),
		[]string{"single-leader", "one-leader-per-term", "fencing"})
}
