package trace

import (
	"encoding/json"
	"fmt"

	"ordo"
	"ordo/clock"
	"ordo/internal/plural"
)

// Validate checks that t is causally consistent, so that what Relation and
// Chain read off it is an answer and not an artefact of a damaged file:
//
//   - ids count from 0, kinds are known, nodes are in range;
//   - a process event's vector, when present, has one entry per node, and
//     either all process events carry a vector or none does;
//   - on each node, Lamport stamps strictly increase, and so does the
//     node's own vector entry; its other entries change only by merging
//     the vector of a message it receives (section 3's rules: an entry
//     larger than that would claim knowledge of events no message brought);
//   - a recv with a message id names a send of that id that appears
//     earlier in the trace, from the recv's peer and addressed to the
//     recv's node, with a smaller Lamport stamp; message ids of sends are
//     unique. A recv with message id 0 is a runtime hint (ordo.PeerDown)
//     and has no send.
//
// Both runtimes write events in an order consistent with causality, so
// every trace ordo produces passes. Read applies the same checks line by
// line.
//
// The error is a *ValidationError naming the first bad event.
func (t *Trace) Validate() error {
	if t.Meta.Nodes < 1 || t.Meta.Nodes > MaxNodes {
		return fmt.Errorf("trace: nodes=%d out of range 1..%d", t.Meta.Nodes, MaxNodes)
	}
	v := newValidator(t.Meta.Nodes)
	for i := range t.Events {
		if err := v.check(t.Events[:i], &t.Events[i]); err != nil {
			return &ValidationError{Event: i, Err: err}
		}
	}
	return nil
}

// ValidationError is Validate's error: which event is wrong, and why. A
// tool that built the trace from other files (live.Merge) maps Event back
// to the file and line it came from.
type ValidationError struct {
	Event int // index in Trace.Events
	Err   error
}

func (e *ValidationError) Error() string { return fmt.Sprintf("trace e%d: %v", e.Event, e.Err) }
func (e *ValidationError) Unwrap() error { return e.Err }

// validator carries what the checks of one event need from the events
// before it.
type validator struct {
	nodes   int
	vectors int8 // 0 unknown yet, 1 all process events carry one, -1 none
	lamport []uint64
	seen    []bool
	known   []clock.Vector // per node: the vector of its last process event
	sends   map[uint64]int // message id -> index of its send
}

func newValidator(nodes int) *validator {
	return &validator{nodes: nodes, sends: map[uint64]int{}}
}

// check validates e, the event after prev (the events already accepted).
func (v *validator) check(prev []Event, e *Event) error {
	if e.ID != len(prev) {
		return fmt.Errorf("event id %d, expected %d (ids count from 0 without gaps)", e.ID, len(prev))
	}
	switch e.Kind {
	case Start, Send, Recv, Drop, Timer, Note, Crash, Restart, Pause, Resume, Fault:
	default:
		return fmt.Errorf("unknown event kind %q", e.Kind)
	}
	if e.Kind != Fault && (e.Node < 1 || int(e.Node) > v.nodes) {
		return fmt.Errorf("node %d out of range 1..%d", e.Node, v.nodes)
	}
	if e.Body != nil {
		switch b := *e.Body; {
		case e.Kind != Send:
			return fmt.Errorf("a %s with a message body: only a send carries one", e.Kind)
		case len(b) > MaxBody:
			return fmt.Errorf("message body of %d bytes: at most %d", len(b), MaxBody)
		case !json.Valid(b):
			return fmt.Errorf("message body is not JSON")
		}
	}
	if len(e.Vector) > v.nodes {
		return fmt.Errorf("vector has %s for %s", plural.Count(len(e.Vector), "entry", "entries"), plural.Count(v.nodes, "node"))
	}
	if !e.Kind.Stamped() {
		return nil
	}
	if v.seen == nil {
		v.lamport = make([]uint64, v.nodes)
		v.seen = make([]bool, v.nodes)
		v.known = make([]clock.Vector, v.nodes)
	}
	i := int(e.Node) - 1
	if e.Kind == Send && e.Msg != 0 {
		if s, dup := v.sends[e.Msg]; dup {
			return fmt.Errorf("message %d is sent again (first by e%d): message ids are unique", e.Msg, s)
		}
	}
	var send *Event
	if e.Kind == Recv && e.Msg != 0 {
		s, ok := v.sends[e.Msg]
		if !ok {
			return fmt.Errorf("recv of message %d, which no earlier event sends (a receive comes after its send)", e.Msg)
		}
		send = &prev[s]
		if send.Node != e.Peer {
			return fmt.Errorf("recv of message %d from %v, but e%d sent it from %v", e.Msg, e.Peer, s, send.Node)
		}
		if send.Peer != e.Node {
			return fmt.Errorf("recv of message %d at %v, but e%d sent it to %v", e.Msg, e.Node, s, send.Peer)
		}
		if e.Lamport <= send.Lamport {
			return fmt.Errorf("recv of message %d has Lamport stamp %d, not after its send e%d's %d (C = max(C, msg.C) + 1)", e.Msg, e.Lamport, s, send.Lamport)
		}
	}
	if v.seen[i] && e.Lamport <= v.lamport[i] {
		return fmt.Errorf("%v's Lamport stamp %d does not increase (it was %d): each event ticks the clock", e.Node, e.Lamport, v.lamport[i])
	}
	if err := v.checkVector(e, send); err != nil {
		return err
	}
	v.seen[i] = true
	v.lamport[i] = e.Lamport
	if e.Kind == Send && e.Msg != 0 {
		v.sends[e.Msg] = len(prev)
	}
	return nil
}

// checkVector applies section 3's vector rules to e (sent by send, when a
// receive): the node's own entry grows, every other entry is what the node
// knew, merged with what the message carried.
func (v *validator) checkVector(e *Event, send *Event) error {
	has := int8(-1)
	if len(e.Vector) > 0 {
		has = 1
	}
	switch {
	case v.vectors == 0:
		v.vectors = has
	case v.vectors != has && has < 0:
		return fmt.Errorf("no vector stamp, but earlier process events carry one (vectors are on all process events or on none)")
	case v.vectors != has:
		return fmt.Errorf("a vector stamp, but earlier process events carry none (vectors are on all process events or on none)")
	}
	if has < 0 {
		return nil
	}
	if len(e.Vector) != v.nodes {
		return fmt.Errorf("vector has %s for %s", plural.Count(len(e.Vector), "entry", "entries"), plural.Count(v.nodes, "node"))
	}
	i := int(e.Node) - 1
	k := v.known[i]
	at := func(x clock.Vector, j int) uint64 {
		if x == nil {
			return 0
		}
		return x[j]
	}
	if e.Vector[i] <= at(k, i) {
		return fmt.Errorf("vector %v: %v's own entry %d does not increase (it was %d)", e.Vector, e.Node, e.Vector[i], at(k, i))
	}
	if send != nil && send.Vector[i] >= e.Vector[i] {
		return fmt.Errorf("vector %v: the message's vector %v already knows this event of %v", e.Vector, send.Vector, e.Node)
	}
	for j := range e.Vector {
		if j == i {
			continue
		}
		want := at(k, j)
		if send != nil {
			want = max(want, send.Vector[j])
		}
		if e.Vector[j] != want {
			how := "what it knew"
			if send != nil {
				how = "what it knew merged with the message's vector " + send.Vector.String()
			}
			return fmt.Errorf("vector %v: entry for %v is %d, but %s gives %d", e.Vector, ordo.NodeID(j+1), e.Vector[j], how, want)
		}
	}
	v.known[i] = e.Vector
	return nil
}
