package failover

import (
	"math/rand/v2"
	"os"
	"time"
)

// settle is how long every system runs steadily before its leader is
// killed: candidates have campaigned, leases have been kept alive. Each
// kill then waits a further jitter, uniform in [0, settle), so that it
// lands at a random phase of the leader's keepalives and of etcd's
// lease-expiry checks (every 500 ms) rather than at the phase the
// previous round's rhythm set.
const settle = time.Second

// jitter is the random part of a wait before a kill, from r.
func jitter(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(settle))) }

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
