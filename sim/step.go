package sim

import (
	"slices"
	"time"

	"ordo"
	"ordo/trace"
)

// Stepped is what one Step processed: one queue item.
type Stepped struct {
	// At is the item's true time since the run began (the clock after
	// the step).
	At time.Duration `json:"at_ns"`
	// Kind names the item: "deliver" (a message, or a runtime hint such
	// as ordo.PeerDown, reaches Node), "timer" (a timer of Node fires),
	// "action" (a function scheduled with At: a fault, a check, a client
	// request), "sync" (an NTP sync of Node's clock) or "drain" (a busy
	// Node is free again and handles what it held back).
	Kind string `json:"kind"`
	// Node is the node the item is for; None for an action.
	Node ordo.NodeID `json:"node"`
	// From is a delivery's sender; None for every other kind.
	From ordo.NodeID `json:"from,omitempty"`
	// Events are the trace events the step appended, in order: a slice of
	// Trace().Events (do not modify it), nil in an untraced run or when
	// the step recorded nothing (a timer of a crashed incarnation, say).
	Events []trace.Event `json:"events"`
}

// Step processes exactly one queue item, the next in (time, scheduling
// order), as one iteration of RunUntil does, and returns what it
// processed. ok is false, with nothing processed, when the queue is empty,
// or when the run's event bound (Config.MaxEvents) is reached: then err is
// the ErrEventLimit that RunUntil would return. Step never moves the clock
// past the item it processes (unlike RunUntil, which ends at its t).
func (s *Sim) Step() (st Stepped, ok bool, err error) {
	if s.q.len() == 0 {
		return Stepped{}, false, nil
	}
	if !s.next() {
		return Stepped{}, false, ErrEventLimit{Limit: s.limit, Traced: s.cfg.Trace}
	}
	it := &s.cur
	st = Stepped{At: it.at, Node: it.to}
	switch it.kind {
	case itemDeliver:
		st.Kind, st.From = "deliver", it.from
	case itemTimer:
		st.Kind = "timer"
	case itemAction:
		st.Kind, st.Node = "action", ordo.None
	case itemSync:
		st.Kind = "sync"
	case itemDrain:
		st.Kind = "drain"
	}
	tr := s.Trace()
	before := 0
	if tr != nil {
		before = len(tr.Events)
	}
	s.dispatch(it)
	s.cur = item{}
	if tr != nil && len(tr.Events) > before {
		st.Events = slices.Clip(tr.Events[before:])
	}
	return st, true, nil
}

// Pending reports when the next queue item is due (true time since the
// run began), and false when the queue is empty: the item Step would
// process next.
func (s *Sim) Pending() (at time.Duration, ok bool) {
	if s.q.len() == 0 {
		return 0, false
	}
	return s.q.peekAt(), true
}

// NodeState returns the protocol state of node id as data: the value of
// its ordo.StateReporter's State. ok is false when the node is down
// (crashed, or absent: not yet joined or left), and when its protocol does
// not implement ordo.StateReporter. A paused node is up and reports the
// state it froze in. It panics, like every per-node accessor, when id is
// not a node of the cluster.
func (s *Sim) NodeState(id ordo.NodeID) (state any, ok bool) {
	ns := s.node(id)
	if !ns.up {
		return nil, false
	}
	r, ok := ns.node.(ordo.StateReporter)
	if !ok {
		return nil, false
	}
	return r.State(), true
}

// Absent reports whether id is outside the cluster: it has not joined yet
// (Config.Absent) or it has left (Leave). An absent node is not Up.
func (s *Sim) Absent(id ordo.NodeID) bool { return s.node(id).absent }

// Link returns the behaviour of the link from → to now: its override
// (Config.Network.Links, SetLink) or the network's default.
func (s *Sim) Link(from, to ordo.NodeID) Link {
	s.node(from)
	s.node(to)
	return *s.net.link(from, to)
}
