package lab

import (
	"testing"
	"time"

	_ "ordo/pbft"
)

// PBFT's messages per request grow with n² (prepare and commit are
// all-to-all), Raft's with n: the shape issue 14 asks the simulator to
// show (deterministic from the seed, so a count, never a timing).
func TestReplicationLoadMessagesGrowQuadratically(t *testing.T) {
	per := map[int]float64{}
	for _, n := range []int{4, 7} {
		r, err := ReplicationLoad(ReplicationLoadConfig{Protocol: "pbft", Nodes: n, Clients: 2, Duration: time.Second, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops < 10 || r.P50Ms <= 0 || r.P99Ms < r.P50Ms || r.BytesPerOp <= 0 {
			t.Fatalf("pbft n=%d: %+v", n, r)
		}
		per[n] = r.MessagesPerOp
	}
	// Linear growth would give 7/4 = 1.75; n² gives about 3.
	if g := per[7] / per[4]; g < 2.5 {
		t.Errorf("pbft messages per request %.1f at n=4, %.1f at n=7: grew ×%.2f, want about (7/4)² ≈ 3", per[4], per[7], g)
	}
	kv, err := ReplicationLoad(ReplicationLoadConfig{Protocol: "kv", Nodes: 4, Clients: 2, Duration: time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if kv.Ops < 10 || kv.MessagesPerOp >= per[4] {
		t.Errorf("kv at n=4: %+v; want operations, and fewer messages per operation than pbft's %.1f", kv, per[4])
	}
	for _, bad := range []ReplicationLoadConfig{{Protocol: "bully", Nodes: 4, Clients: 1, Duration: time.Second}, {Protocol: "pbft", Nodes: 4, Clients: 0, Duration: time.Second}, {Protocol: "kv", Nodes: 3, Clients: 1}} {
		if _, err := ReplicationLoad(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// Batching (PBFT section 5.1): under 16 clients the primary's batches
// share the all-to-all prepare and commit among their requests, so PBFT
// sends fewer messages per request than with batch=1 (one request per
// sequence number). Seed 1; a count, never a timing.
func TestReplicationLoadBatchingSharesMessages(t *testing.T) {
	per := map[string]float64{}
	for _, b := range []string{"64", "1"} {
		r, err := ReplicationLoad(ReplicationLoadConfig{Protocol: "pbft", Nodes: 4, Clients: 16, Duration: time.Second, Seed: 1, Options: map[string]string{"batch": b}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops < 100 || r.Failed != 0 {
			t.Fatalf("batch=%s: %+v", b, r)
		}
		per[b] = r.MessagesPerOp
	}
	// 16 clients, 2 batches in flight: batches of several requests, so
	// well under the unbatched count (about 0.4 of it, measured).
	if per["64"] > 0.7*per["1"] {
		t.Errorf("messages per request %.1f batched, %.1f with batch=1: want batching to share them", per["64"], per["1"])
	}
}
