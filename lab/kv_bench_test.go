package lab

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkKVSim: the 5-node kv database in the simulator under a
// closed-loop load (no faults), by clients and value size. Reported:
// completed operations per CPU-second of the process (ops/cpu-s) and per
// simulated second. `ordo bench kv-sim` prints the same table.
func BenchmarkKVSim(b *testing.B) {
	for _, clients := range []int{1, 16} {
		for _, size := range []int{16, 1024, 64 << 10} {
			b.Run(fmt.Sprintf("clients=%d/value=%d", clients, size), func(b *testing.B) {
				var ops, cpu float64
				for i := 0; i < b.N; i++ {
					r, err := KVSim(KVSimConfig{Nodes: 5, Clients: clients, Concurrency: 1, Keys: 100, ValueSize: size, Reads: 50, Duration: 2 * time.Second, Seed: uint64(i + 1)})
					if err != nil {
						b.Fatal(err)
					}
					ops += float64(r.Ops)
					cpu += r.CPUSeconds
				}
				b.ReportMetric(ops/cpu, "ops/cpu-s")
				b.ReportMetric(ops/float64(b.N)/2, "ops/sim-s")
			})
		}
	}
}
