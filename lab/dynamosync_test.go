package lab

import (
	"testing"

	"ordo/dynamo"
)

// The acceptance line's structure in the simulator: a replica that was
// down while K keys were written converges; the bytes grow with K, and
// for K = 1 stay within one path of the tree plus a few keys' objects in
// stores of every size, far below a listing of the store. Byte counts
// are structural (the same seed gives the same bytes), not timings.
func TestDynamoSyncBytesFollowDifferencesNotStore(t *testing.T) {
	stores := []int{2_000, 20_000}
	if testing.Short() {
		stores = stores[:1]
	}
	for _, store := range stores {
		bytes := map[int]int64{}
		for _, k := range []int{0, 1, 300} {
			r, err := DynamoSync(DynamoSyncConfig{Store: store, Differ: k, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("store %d, K=%d: %d bytes, %d messages, %d rounds, converged in %v (flat %d); replay: ordo bench dynamo-sync --store %d --differ %d --seed 1",
				store, k, r.Bytes, r.Messages, r.Rounds, r.Converge, r.Flat, store, k)
			if !r.Converged || r.Written != k {
				t.Fatalf("store %d, K=%d: converged %v, %d writes acknowledged", store, k, r.Converged, r.Written)
			}
			bytes[k] = r.Bytes
			// A path: Fanout 8-byte hashes (and framing) per level, the
			// leaf's few keys, the objects there and back.
			if bound := int64(r.Depth*(dynamo.Fanout*8+16)+1024) * int64(r.Rounds); k <= 1 && r.Bytes > bound {
				t.Errorf("store %d, K=%d: %d bytes, beyond %d rounds of one path and a few keys (%d)", store, k, r.Bytes, r.Rounds, bound)
			}
			if k == 1 && r.Bytes*10 > r.Flat {
				t.Errorf("store %d, K=1: %d bytes, not far below a whole-store listing (%d)", store, r.Bytes, r.Flat)
			}
		}
		if bytes[300] <= bytes[1] || bytes[1] <= bytes[0] {
			t.Errorf("store %d: bytes %v do not grow with K", store, bytes)
		}
	}
}
