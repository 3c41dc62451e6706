package main

// Every protocol package registers itself with ordo.Register in init; the
// binary imports them all here for that side effect.
import (
	_ "ordo/agreement/naive" // and the byzantine-agreement checker
	_ "ordo/broadcast"
	_ "ordo/coord"         // the services the lease election needs (simulator models)
	_ "ordo/coord/etcdsvc" // and their live adapters to a real etcd
	_ "ordo/detect"
	_ "ordo/dynamo"
	_ "ordo/election/bully"
	_ "ordo/election/lease"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
	_ "ordo/kv"
	_ "ordo/pbft"
	_ "ordo/register"
)
