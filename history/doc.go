// Package history is the client-history convention of ordo's traces: what
// clients asked of a replicated store and what they were answered, the
// raw material of the consistency checkers (linearizability, no lost
// write). It is the chapter's client's-eye view of replication: a client
// sees only invocations and responses, and a response that never comes
// (a timeout, a crash) leaves the outcome unknown — the chapter's section
// 5 ambiguity of partial failure, recorded rather than guessed.
//
// A client node records each operation as trace notes through the
// helpers below; the runtime stamps every note with the event's time
// (true time in the simulator, wall time since the cluster's epoch live),
// so the client never reads a clock for its history:
//
//	op := history.Op{ID: id, Process: p, F: history.Put, Key: "x", Value: "c6-17"}
//	history.Invoke(env, op)
//	...                                  // later, when the reply arrives
//	history.OK(env, op, "")              // or history.Info(env, op, "timeout")
//
// FromTrace (or a Reader fed event by event) turns a trace back into
// Operations, refusing histories that break the convention (a completion
// without an invoke, an id invoked twice, a process with two operations in
// flight) with an error naming the event.
//
// The outcomes follow Jepsen's convention (Kingsbury, "Jepsen" analyses;
// Herlihy and Wing 1990 for the histories themselves): ok (it happened,
// with this result), fail (it certainly did not take effect) and info
// (unknown: it may or may not have taken effect, at any time after its
// invocation).
package history
