// Command ordo runs, shows and checks the ideas of the distributed-systems
// chapter, every section of it: `ordo tour` walks the chapter section by
// section; `ordo sim`, `clock`, `trace`, `elect`, `explore` and `bench` run
// the simulator (sections 1–5, exercises 1–2); `ordo node` and `ordo
// cluster` run the same protocols as real processes (exercise 3).
package main
