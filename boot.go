package ordo

import (
	"encoding/binary"
	"fmt"
)

// NextBoot counts one more boot of the node under the storage key and
// returns the new count (1 on the first boot), written in the event's
// batch before anything depends on it. Protocols number what must differ
// across restarts with it (a client's op ids and sessions, a server's
// rounds) without a write per number. A stored count of the wrong length,
// or at or above limit, is not believed: the node fail-stops with Corrupt
// (a count read as 0 would reuse an earlier incarnation's numbers).
func NextBoot(env Env, key string, limit uint64) uint64 {
	var boot uint64
	if b, ok := env.Store().Get(key); ok {
		if len(b) != 8 {
			panic(Corrupt{Key: key, Err: fmt.Errorf("%d bytes, want 8", len(b))})
		}
		if boot = binary.BigEndian.Uint64(b); boot >= limit {
			panic(Corrupt{Key: key, Err: fmt.Errorf("boot count %d at or above %d", boot, limit)})
		}
	}
	boot++
	env.Store().Put(key, binary.BigEndian.AppendUint64(nil, boot))
	return boot
}
