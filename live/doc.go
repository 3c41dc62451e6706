// Package live is ordo's real runtime: the same protocol nodes the simulator
// drives, run as real processes over real TCP with real timers, a real disk
// (fsync before a write is acknowledged) and real crashes (SIGKILL).
//
// It implements the chapter's section 1 — the eight fallacies are about real
// networks, so here the network is real and the fault layer of package
// live/transport breaks it on demand — and the chapter's exercise 3: a
// 5-node system that survives partitions and the failure of its leader
// (`ordo cluster up`, `ordo cluster chaos`).
//
// Each node runs one event loop goroutine: protocol code still sees one
// event at a time and needs no lock. Each node writes its own trace file,
// stamped by the same trace.Stamper as the simulator; Merge joins them into
// one trace.Trace that the checkers and diagrams read.
//
// A server whose protocol serves clients (kv) also serves a client API on
// its own address (gateway.go): each HTTP request becomes a message from a
// fresh gateway id (>= GatewayBase) injected into the loop, and the node's
// answer, a send to that id, is held for the turn's fsync like any send.
//
// A protocol that relies on a service (the lease election on etcd, issue
// 15) has service nodes in its cluster file (role: service, no process):
// each node's runtime reaches the real system through the adapter
// registered for the service's protocol (service.go, RegisterService), and
// the service's replies come back into the loop as messages from the
// service's id (service_runtime.go).
package live
