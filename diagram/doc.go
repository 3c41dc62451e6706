// Package diagram reads hand-drawn space-time diagrams, the exercises of the
// chapter's section 2 ("Happens-Before 관계") and section 3 ("논리 시계"),
// in a small text format, and computes every event's Lamport and vector
// timestamp by the chapter's rules, checks timestamps claimed in the file,
// and answers happens-before questions with the chain that proves them.
//
// The format, one statement per line, `#` starts a comment:
//
//	P1: a b=2 c          # a process and its events, in order
//	P2: d e f=[2,3]      # an event may carry a claimed Lamport (=2) or vector (=[2,3]) stamp
//	a -> d               # a message: send event -> receive event (→ also works)
//	f -> c
//
// Rules: process and event names are unique words (letters, digits, _ . -);
// a message joins events of two different processes; an event may send
// several messages (a multicast) and may receive several (it merges all of
// them before ticking: the chapter's vector figure has one such event); an
// event may both receive and send (a relay: its messages carry the stamp
// after the receive rule); the same message may not be written twice; and
// happens-before must be acyclic. Vector entries follow the order in which
// the processes are declared.
package diagram
