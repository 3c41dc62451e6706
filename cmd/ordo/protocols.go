package main

// Every protocol package registers itself with ordo.Register in init; the
// binary imports them all here for that side effect.
import (
	_ "ordo/broadcast"
	_ "ordo/detect"
	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
	_ "ordo/kv"
	_ "ordo/register"
)
