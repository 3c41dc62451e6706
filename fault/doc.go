// Package fault is the chapter's section 5 ("partial failure", "network
// partition") as data: one type for an entry of a fault schedule (crash,
// restart, partition, one-way cut, bridge, star, heal, pause, resume, clock
// step and drift, loss, and the storage faults of a failing disk), one
// parser per notation with one meaning, and one seeded generator of random
// schedules with named profiles (Jepsen's nemesis, as data rather than as
// code that acts).
//
// A schedule says what happens and when; the interpreters make it happen:
// the simulator's here (Schedule.Inject, Apply; used by lab for ordo elect
// and ordo explore), the live cluster's in its fault layer. The notations
// name servers (1..N) by default; Members adds the clients and the
// service nodes (issue 15: a model of etcd, a fenced store) numbered after
// them, which a partition, a cut, a pause or a clock fault may name and a
// crash may not (the model keeps its state in memory: Members.CheckKind).
// No random fault picks a client; the hostile profile strikes services
// (GenerateFor), never by a crash.
//
// Notations (each parser's doc gives its errors):
//
//	1,2/3,4,5      partition: every server in exactly one group, ≥ 2 groups
//	1,2->3         one-way cut: messages from 1 and 2 to 3 are lost
//	1/3 via 2      bridge: 1 and 3 cannot talk, both reach 2
//	hub 1          star: every server but 1 reaches only 1
//
// Usage:
//
//	groups, err := fault.ParseGroups("1,2/3,4,5", 5)
//	f, err := fault.Parse("partition", "1,2/3,4,5@1s", 5)
//	sched := fault.Generate(seed, fault.Hostile, 5, 10*time.Second)
//	lease := fault.Members{Servers: 3, Services: []string{"coord", "fenced-store"}}
//	f, err = lease.Parse(fault.Cut, "1->4@2s") // server 1's messages to coord are lost
//	sched = fault.GenerateFor(seed, fault.Hostile, lease, 12*time.Second)
//	for _, f := range sched { fmt.Println(f) } // "1.2s bridge 1,4/2,5 via 3", ...
//	err = sched.Inject(s) // s a *sim.Sim: each fault at its time
package fault
