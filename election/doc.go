// Package election is the one interface every leader-election protocol of
// ordo offers, from the chapter's section 4 ("리더 선출": Bully, Ring and the
// modern, Raft-style election) and section 5 ("네트워크 파티션": split brain
// and the quorum that prevents it).
//
// Conventions that checkers, renderers and the live runtime rely on:
//
//   - Every protocol notes its role changes with env.Note:
//     "leader" (attrs "term", "token"), "follower" (attrs "term", and
//     "leader" when known, 0 when not) and "candidate" (attr "term").
//     Only these three notes are role transitions; other notes (e.g.
//     "precandidate", "fence") do not change the role.
//   - A node acts as leader from its "leader" note until its next
//     "follower" or "candidate" note, or its crash (a restart is a new
//     incarnation that starts as a follower).
//   - The "token" of a leader note is a fencing token (Kleppmann): every
//     later leadership has a larger one, so a protected resource (Fence)
//     can refuse a deposed leader that still believes in itself.
//   - A resource that checks tokens notes "fence" with attrs "token" and
//     "accepted" (and "seq", the write's place in its own order); a
//     writer noting the answer on the resource's behalf (live, where the
//     resource is an external service) adds "resource", its node id. The
//     fencing checker reads those notes, in seq order when they have one.
//   - Messages are plain structs with exported fields, a value-receiver
//     Kind() and Size(), all listed in the protocol's Messages.
//   - Durable state (terms, votes, epochs) goes through env.Store(), and
//     is written before any message that depends on it is sent.
package election
