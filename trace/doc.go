// Package trace holds the record of a run: every send, receive, drop, timer,
// note, crash and restart, stamped with Lamport and vector timestamps. It
// implements the chapter's section 2 "Happens-Before 관계": given any two
// events it answers a → b, b → a or a ∥ b, with the chain that proves it.
package trace
