package broadcast

import (
	"fmt"
	"sort"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

func init() { check.Register(allDelivered{}) }

// allDelivered checks reliable broadcast's promises on a trace: every value
// broadcast is delivered by every node that stayed up, no node delivers a
// value twice, and no node delivers a value that was not broadcast (an
// altered message, fallacy 4).
type allDelivered struct{}

func (allDelivered) Name() string { return "all-delivered" }
func (allDelivered) Doc() string {
	return "every broadcast value is delivered exactly once, unaltered, by every node that stayed up"
}

// Applies refuses runs of other protocols: their traces have no
// "broadcast" and "deliver" notes, and "0 values" is no pass.
func (allDelivered) Applies(m *trace.Meta) error {
	if m.Protocol != "" && m.Protocol != "broadcast" {
		return fmt.Errorf("all-delivered judges reliable broadcast, and this is a run of %s", m.Protocol)
	}
	return nil
}

type sent struct {
	value int64
	event int
}

func (allDelivered) Check(t *trace.Trace) check.Result {
	r := check.Result{Check: "all-delivered", OK: true}
	bcast := map[int64]sent{} // seq → what was broadcast
	type key struct {
		node ordo.NodeID
		seq  int64
	}
	got := map[key]int{} // first delivery event
	started := map[ordo.NodeID]bool{}
	crashed := map[ordo.NodeID]bool{}
	fail := func(ev []int, format string, args ...any) {
		r.OK = false
		if len(r.Violations) < 1000 {
			r.Violations = append(r.Violations, check.Violation{Message: fmt.Sprintf(format, args...), Events: ev})
		}
	}
	for i := range t.Events {
		e := &t.Events[i]
		switch e.Kind {
		case trace.Start:
			started[e.Node] = true
		case trace.Crash:
			crashed[e.Node] = true
		case trace.Note:
			seq, ok1 := e.Attrs.Int("seq")
			val, ok2 := e.Attrs.Int("value")
			switch e.Name {
			case "broadcast":
				if !ok1 || !ok2 {
					fail([]int{e.ID}, "broadcast note without seq and value")
					continue
				}
				if _, dup := bcast[seq]; !dup {
					bcast[seq] = sent{val, e.ID}
				}
			case "deliver":
				if !ok1 || !ok2 {
					fail([]int{e.ID}, "deliver note without seq and value")
					continue
				}
				k := key{e.Node, seq}
				if first, dup := got[k]; dup {
					fail([]int{first, e.ID}, "%v delivered seq %d twice", e.Node, seq)
					continue
				}
				got[k] = e.ID
				b, ok := bcast[seq]
				if !ok {
					fail([]int{e.ID}, "%v delivered seq %d value %d, which was never broadcast", e.Node, seq, val)
				} else if b.value != val {
					fail([]int{b.event, e.ID}, "%v delivered seq %d with value %d, but %d was broadcast: the message was altered", e.Node, seq, val, b.value)
				}
			}
		}
	}
	var stayed []ordo.NodeID
	for id := range started {
		if !crashed[id] {
			stayed = append(stayed, id)
		}
	}
	sort.Slice(stayed, func(a, b int) bool { return stayed[a] < stayed[b] })
	seqs := make([]int64, 0, len(bcast))
	for s := range bcast {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	missing := 0
	for _, s := range seqs {
		for _, id := range stayed {
			if _, ok := got[key{id, s}]; !ok {
				missing++
				fail([]int{bcast[s].event}, "%v never delivered seq %d", id, s)
			}
		}
	}
	r.Summary = fmt.Sprintf("%d values, %d nodes stayed up, %d deliveries missing, %d violations", len(seqs), len(stayed), missing, len(r.Violations))
	return r
}
