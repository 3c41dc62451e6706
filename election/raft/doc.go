// Package raft is the chapter's "현대적 리더 선출" (section 4), Raft's leader
// election (Ongaro & Ousterhout, section 5.2; Ongaro's thesis, 9.6 PreVote
// and 6.2 CheckQuorum): terms, randomized election timeouts, RequestVote
// with a majority, heartbeats, and the term and vote persisted before any
// answer. Under the partition of section 5 only the side with a majority
// can elect, so there is never more than one leader per term.
//
// Election only: the state machine carries lastLogIndex/lastLogTerm and
// a commit index so that log replication can be added without reshaping it.
//
// Safety in true time, not only per term: a leader holds a lease counted
// in heartbeat rounds. Followers refuse to vote while they have heard from
// a leader within the minimum election timeout, so a leader that has not
// had a round acknowledged by a majority for (almost) that long steps down
// before anyone else can be elected (CheckQuorum with leases).
package raft
