// Command ordo runs, shows and checks the ideas of the distributed-systems
// chapter, every section of it: `ordo tour` walks the chapter section by
// section; `ordo sim`, `elect`, `explore` and `bench` run protocols in the
// simulator (sections 1, 4, 5); `ordo clock` and `ordo trace` compute, check
// and draw timestamps and happens-before (sections 2–3, exercises 1–2);
// `ordo node` and `ordo cluster` run the same protocols as real processes
// (exercise 3).
package main
