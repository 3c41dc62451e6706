// Package failover measures leader failover after a crash (kill -9) on
// real processes: ordo's lease election over a real etcd, etcd's own
// election recipe (go.etcd.io/etcd/client/v3/concurrency) as a baseline,
// and ordo's Raft-style election for reference, in interleaved rounds of
// the same run so that their ratios hold on a shared, noisy machine
// (issue 15; chapter section 4, "현대적 리더 선출 → 외부 서비스 활용": when the
// leader fails its ephemeral key disappears and the others re-elect).
//
// Every system is timed the same way: from the instant just before the
// SIGKILL of the leading process to the instant the next leader knows it
// leads (etcd's recipe: Campaign returns in another candidate process,
// which reports its wall clock; ordo: the new leader's "leader" note in
// the merged trace, on the cluster's wall-clock time base). All processes
// run on this machine, so the wall clocks are one clock.
//
//	rep, err := failover.Run(ctx, failover.Options{
//		Dir: dir, TTLs: []time.Duration{2 * time.Second, 5 * time.Second}, Rounds: 20,
//		Systems: []string{failover.EtcdElection, failover.OrdoLease, failover.OrdoRaft},
//	})
//	for _, row := range rep.Rows { fmt.Println(row.System, row.TTL, row.P50Ms, row.MaxMs) }
//
// The processes are the ordo binary's (Options.Binary): `ordo node` for
// ordo's nodes, `ordo service etcd-member` for etcd and `ordo service
// etcd-campaign` for etcd's candidates.
package failover
