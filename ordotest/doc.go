// Package ordotest is ordo's conformance kit for protocol authors: what a
// protocol must satisfy to run the same in the simulator and on a real
// cluster, and the tools to test one step of it at a time.
//
// The chapter's protocols (section 4's elections, section 5's failure
// detectors, section 1's reliable broadcast) are deterministic state
// machines written against ordo.Env. Two tools check that contract:
//
//   - Env, a recording ordo.Env for one-step tests in the style of
//     etcd-io/raft's paper tests: given this state and this input, exactly
//     these sends, timers, notes and storage writes. Each test cites the
//     section (of the chapter or the paper) whose rule it checks.
//   - Protocol(t, p), the kit: registration and codec, message round trips
//     on generated values, options, fresh nodes from New, determinism of a
//     seeded simulation in wire mode, and no runtime among the protocol
//     package's imports (.ci/run checks the last for every package that
//     registers a protocol).
//
// The storage contract suite (storage.go) runs against both storage
// backends.
//
// A one-step test (Raft, §5.2: a vote is durable before it is sent):
//
//	env := ordotest.ForProtocol(raft.Protocol, 1, ordo.NewRoster(3, 0, 0), 1)
//	n := env.NewNode(t, raft.Protocol, nil)
//	env.Start(n)
//	env.Receive(n, 2, raft.RequestVote{Term: 1, Candidate: 2})
//	// env.Sent:   [{To: 2, Msg: RequestVoteResp{Term: 1, Granted: true}}]
//	// env.Writes: the hard state, term 1 and votedFor n2
//
// And the kit, in each protocol package's tests:
//
//	func TestConformance(t *testing.T) { ordotest.Protocol(t, raft.Protocol) }
//
// docs/new-protocol.md is the recipe for a new protocol, in one page.
package ordotest
