package register

import (
	"encoding/binary"
	"fmt"

	"ordo"
)

// nextBoot counts one more boot of this node under key and returns the
// new count (1 on the first boot), stored before anything depends on it.
// A stored count of the wrong length, or at or above limit, is not
// believed: the node fail-stops with ordo.Corrupt (a count read as 0 would
// reuse the rounds or op ids of an earlier incarnation).
func nextBoot(env ordo.Env, key string, limit uint64) uint64 {
	var boot uint64
	if b, ok := env.Store().Get(key); ok {
		if len(b) != 8 {
			panic(ordo.Corrupt{Key: key, Err: fmt.Errorf("%d bytes, want 8", len(b))})
		}
		if boot = binary.BigEndian.Uint64(b); boot >= limit {
			panic(ordo.Corrupt{Key: key, Err: fmt.Errorf("boot count %d at or above %d", boot, limit)})
		}
	}
	boot++
	env.Store().Put(key, binary.BigEndian.AppendUint64(nil, boot))
	return boot
}
