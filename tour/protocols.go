package tour

// The protocols the scenes run register themselves in init; the tour
// imports them so that any program calling it (the CLI, a web page) has
// them.
import (
	_ "ordo/broadcast"
	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
	_ "ordo/kv"
)
