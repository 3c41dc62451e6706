// Package liveload measures a replicated service on real processes under
// the load lab.ReplicationLoad applies in the simulator (issue 14, the
// chapter's section 5: what PBFT's all-to-all phases cost beside Raft on
// a real machine; issue 12: the Dynamo-style store at two quorum sizes):
// a live cluster on loopback with closed-loop client nodes and no pause;
// its merged trace is measured by lab.LoadOfTrace.
//
//	r, err := liveload.Run(ctx, liveload.Options{ReplicationLoadConfig: lab.ReplicationLoadConfig{
//		Protocol: "pbft", Nodes: 4, Clients: 16, Duration: 10 * time.Second}, Dir: dir})
//	fmt.Println(r.SimOpsPerS, r.P99Ms) // operations per second, ms
package liveload
