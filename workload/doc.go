// Package workload paces the simulated clients of the chapter's
// replicated stores (section 5's quorum register, exercise 3's database):
// a client runs a few logical processes, each with at most one operation
// in flight, and issues operations either in a closed loop (a process
// issues its next operation a think time after its last one ended) or in
// an open loop (one operation every 1/rate seconds, to the first idle
// process, whether or not earlier ones returned). The choice matters to
// what a run measures: a closed loop slows down with the system, an open
// loop keeps pushing (Schroeder, Wierman and Harchol-Balter, "Open versus
// closed", NSDI 2006).
//
//	p := workload.Pacer{Rate: 0, Think: 20 * time.Millisecond}
//	p.Start(env, 2, 50*time.Millisecond)       // in Start: both processes begin at 50ms
//	if p.Fire(env, t, client) { return }        // in Fire: a pacing timer
//	p.Done(env, proc)                           // when proc's operation ended
package workload
