package trace

import (
	"fmt"
	"slices"

	"ordo/clock"
)

// Relation answers the chapter's question for two events: a → b, b → a, or
// a ∥ b. Both must be process events (Kind.Stamped). It is read off the
// vector stamps, which the runtime maintains by the chapter's rules.
func (t *Trace) Relation(a, b int) (clock.Order, error) {
	ea, eb, err := t.pair(a, b)
	if err != nil {
		return 0, err
	}
	if a == b {
		return clock.Equal, nil
	}
	if len(ea.Vector) == 0 || len(eb.Vector) == 0 {
		// A trace without vector stamps: walk the happens-before graph
		// itself (slower, but the same answer).
		next := t.successors()
		switch {
		case reaches(next, a, b):
			return clock.Before, nil
		case reaches(next, b, a):
			return clock.After, nil
		}
		return clock.Concurrent, nil
	}
	o := clock.Compare(ea.Vector, eb.Vector)
	if o == clock.Equal {
		// Two distinct events never share a vector stamp: each process
		// event ticks its own entry.
		return 0, fmt.Errorf("events e%d and e%d carry the same vector %v: the trace is corrupt", a, b, ea.Vector)
	}
	return o, nil
}

func (t *Trace) pair(a, b int) (*Event, *Event, error) {
	for _, id := range []int{a, b} {
		if id < 0 || id >= len(t.Events) {
			return nil, nil, fmt.Errorf("no event e%d: the trace has e0..e%d", id, len(t.Events)-1)
		}
		if !t.Events[id].Kind.Stamped() {
			return nil, nil, fmt.Errorf("e%d is a %s, not a process event; happens-before is defined on process events", id, t.Events[id].Kind)
		}
	}
	return &t.Events[a], &t.Events[b], nil
}

// Chain returns a path of events from a to b along the two edges of
// happens-before: program order on one node, and send → receive of one
// message. It returns nil when a does not happen before b.
func (t *Trace) Chain(a, b int) ([]int, error) {
	o, err := t.Relation(a, b)
	if err != nil {
		return nil, err
	}
	if o != clock.Before {
		return nil, nil
	}
	next := t.successors()
	target := t.Events[b].Vector
	path := ShortestPath(a, b, func(x int) []int { return next[x] }, func(x int) bool {
		// Only events that b knows of can lie on a path to b.
		o := clock.Compare(t.Events[x].Vector, target)
		return o == clock.Before || o == clock.Equal
	})
	if path != nil {
		return path, nil
	}
	return nil, fmt.Errorf("vector stamps say e%d → e%d but no chain of events links them: the trace is corrupt", a, b)
}

// successors maps each process event to the events directly after it in
// happens-before: the next event on its node, and for a send, its receives.
func (t *Trace) successors() map[int][]int {
	next := map[int][]int{}
	last := map[int]int{}
	sends := map[uint64]int{}
	for i := range t.Events {
		e := &t.Events[i]
		if !e.Kind.Stamped() {
			continue
		}
		if p, ok := last[int(e.Node)]; ok {
			next[p] = append(next[p], i)
		}
		last[int(e.Node)] = i
		// Message id 0 links nothing: a runtime hint, a gateway call, a
		// service's reply.
		switch {
		case e.Msg == 0:
		case e.Kind == Send:
			sends[e.Msg] = i
		case e.Kind == Recv:
			if s, ok := sends[e.Msg]; ok {
				next[s] = append(next[s], i)
			}
		}
	}
	return next
}

// reaches reports whether a path of successor edges leads from a to b.
func reaches(next map[int][]int, a, b int) bool {
	// Successors lie later in the trace: nothing past b can lead back to it.
	return ShortestPath(a, b, func(x int) []int { return next[x] }, func(x int) bool { return x <= b }) != nil
}

// ShortestPath returns a shortest path a, ..., b in the graph whose edges
// next gives, through nodes keep accepts (nil: every node), or nil when
// there is none. Happens-before chains of traces and of hand-drawn
// diagrams are both found with it.
func ShortestPath(a, b int, next func(int) []int, keep func(int) bool) []int {
	prev := map[int]int{a: -1}
	queue := []int{a}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == b {
			var path []int
			for x := b; x != -1; x = prev[x] {
				path = append(path, x)
			}
			slices.Reverse(path)
			return path
		}
		for _, nx := range next(cur) {
			if _, seen := prev[nx]; seen || keep != nil && !keep(nx) {
				continue
			}
			prev[nx] = cur
			queue = append(queue, nx)
		}
	}
	return nil
}
