package rsm

// Machine is a deterministic state machine a replication protocol feeds
// with committed commands, in log order, exactly once each per replica.
type Machine interface {
	// Apply applies cmd, the command committed at log index (1-based,
	// increasing by one from the last applied or restored index), and
	// returns its result (nil for none). It must be deterministic: the
	// same commands from the same state give the same results and state
	// on every replica. A command the machine cannot decode is applied as
	// a no-op that returns an error result, never a panic: it was
	// committed, so every replica must agree on what it did.
	Apply(index uint64, cmd []byte) (result []byte)
	// Snapshot returns the machine's whole state as of the last applied
	// index: canonical bytes, equal on replicas with equal state.
	Snapshot() []byte
	// Restore replaces the state with one taken by Snapshot (at index,
	// which the next Apply continues from). An error (malformed bytes)
	// leaves the state unchanged.
	Restore(index uint64, snapshot []byte) error
}
