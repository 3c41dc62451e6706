// Package lww is the chapter's warning about ordering by physical
// timestamps (section 2, "물리 시계의 문제" and "타임스탬프 기반 순서화의
// 위험"): a last-write-wins store keeps, of two writes to one key, the one
// with the larger timestamp of its writer's clock, so when the later
// writer's clock is slow, the later write is the one thrown away.
//
// Node is a three-node protocol that shows it: nodes 1 and 2 each write X
// once (node 1 at 100 ms, node 2 at 110 ms of their own monotonic time),
// stamped with their wall clock (Env.Now); node 3 is the store, noting
// "apply" for a write it keeps and "lost-write" for one it discards.
//
//	proto := lww.Protocol()
//	s, _ := sim.New(sim.Config{Protocol: proto, Nodes: 3, Seed: 1,
//		ClockOf: map[ordo.NodeID]sim.ClockModel{2: {Offset: -20 * time.Millisecond}}})
//	s.RunFor(time.Second) // n2's later write is noted "lost-write"
//
// The tour's scene 202 runs exactly this; a store with version vectors
// (clock.DVVSet) keeps both writes as siblings instead.
package lww
