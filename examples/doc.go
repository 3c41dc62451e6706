// Package examples holds the chapter's figures and exercises as diagram
// files (seed/), embedded so that `ordo tour` shows exactly the files that
// `ordo clock` reads: section 2's happens-before figures, section 3's
// Lamport and vector figures, and exercise 1.
package examples
