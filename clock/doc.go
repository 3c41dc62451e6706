// Package clock implements the chapter's section 2 ("시간과 순서") and
// section 3 ("논리 시계"): Lamport clocks (with a concurrency-safe variant
// for the live runtime), vector clocks in a dense form for a fixed set of
// processes and a sparse form for changing membership, their comparison
// (happens-before or concurrent), hybrid logical clocks (Kulkarni et al.)
// that stay close to physical time, and dotted version vector sets for a
// replicated store (section 3 "실제 사용 예", the DynamoDB example).
//
// Every clock is for use from one goroutine except AtomicLamport.
package clock
