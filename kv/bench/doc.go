// Package bench measures exercise 3's database beside etcd on the same
// machine and in the same run (issue 11, `ordo bench kv`): throughput and
// latency of acknowledged puts under a closed-loop load, and the time from
// a SIGKILL of the leader to the next acknowledged write — the figure
// section 4's "automatic recovery when the leader fails" is judged by,
// read by its tail (section 5: p99, not the average).
//
// A System starts a cluster and returns a Driver (Put, Leader, Kill,
// Restart, Close); the package knows neither ordo nor etcd, so the same
// load, clocks and percentiles (package measure) judge both. Cells are
// nodes × clients; each cell is repeated with the two systems interleaved
// (the order alternates every repetition) and the median of the per-rep
// ratios is reported, so a noisy neighbour on a shared machine hits both.
//
//	res, err := bench.Run(ctx, bench.Config{
//		Nodes: []int{3}, Clients: []int{1, 16}, Duration: 10 * time.Second,
//		Warmup: 2 * time.Second, Reps: 3, Dir: dir,
//		Ordo: ordoSystem, Etcd: etcdSystem,
//	})
//	bench.WriteTable(os.Stdout, res)
//	bench.WriteSVG(f, res) // latency over time, failover periods shaded
package bench
