// Package clock implements the chapter's section 2 ("시간과 순서") and
// section 3 ("논리 시계"): Lamport clocks, vector clocks and their
// comparison (happens-before, concurrency).
package clock
