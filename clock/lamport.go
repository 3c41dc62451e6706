package clock

// Lamport is a Lamport clock following the chapter's rules: tick on every
// event, put the counter on every message sent, and on receipt set
// C = max(C, msg.C) + 1. Not safe for concurrent use.
type Lamport struct {
	c uint64
}

// Tick records a local or send event and returns its timestamp.
func (l *Lamport) Tick() uint64 {
	l.c++
	return l.c
}

// Receive records the receipt of a message stamped remote and returns the
// receive event's timestamp.
func (l *Lamport) Receive(remote uint64) uint64 {
	l.c = max(l.c, remote) + 1
	return l.c
}

// Now returns the current counter without ticking.
func (l *Lamport) Now() uint64 { return l.c }
