package broadcast

import "ordo"

// State is a broadcast node's state as data (ordo.StateReporter).
type State struct {
	Sender bool `json:"sender"` // this node broadcasts; the others receive
	// Received counts the values delivered here (this incarnation).
	Received int `json:"received"`
	// The sender's: Next is the next sequence number to broadcast (1..,
	// Messages+1 when every value went out), Messages how many it
	// broadcasts, Unacked how many values some peer has not acknowledged,
	// Done whether every value went out and was acknowledged by all.
	Next     int  `json:"next,omitempty"`
	Messages int  `json:"messages,omitempty"`
	Unacked  int  `json:"unacked,omitempty"`
	Done     bool `json:"done,omitempty"`
}

var _ ordo.StateReporter = (*Node)(nil)

// State implements ordo.StateReporter: a State value. It reads n only.
func (n *Node) State() any {
	st := State{Received: n.Received}
	if n.unacked != nil { // Start ran as the sender
		st.Sender, st.Next, st.Messages, st.Unacked, st.Done = true, n.next, n.messages, n.pending, n.Done()
	}
	return st
}
