package client

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkPut measures acknowledged puts (100-byte values, fsync on, a
// majority of 3 real server processes over TLS) from one goroutine: the
// put latency a single client sees (ns/op).
func BenchmarkPut(b *testing.B) { benchPut(b, 1) }

// BenchmarkPut64 is BenchmarkPut with 64 goroutines sharing one Client.
func BenchmarkPut64(b *testing.B) { benchPut(b, 64) }

func benchPut(b *testing.B, clients int) {
	bin := buildOrdo(b)
	c := upKV(b, bin, 3)
	cl, err := FromCluster(c.Dir)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	value := strings.Repeat("v", 100)
	ctx := context.Background()
	if _, err := cl.Put(ctx, "warm", value); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ResetTimer()
	if clients == 1 {
		for i := range b.N {
			if _, err := cl.Put(ctx, fmt.Sprintf("k%d", i%1000), value); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(max(clients/runtime.GOMAXPROCS(0), 1)) // goroutines = parallelism × GOMAXPROCS
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := cl.Put(ctx, fmt.Sprintf("k%d", i%1000), value); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
