package viz

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ordo/trace"
)

// ShiVizRegex is the first line of a log ShiViz loads from a file: how to
// parse each event (a description line, then "host {clock}"). The second
// line, the multiple-executions delimiter, is left empty.
const ShiVizRegex = `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`

// ShiViz writes t as a ShiViz log. ShiViz requires each host's own clock
// entry to start at 1 and rise by one per event, and every clock to be
// consistent with the causal order; so the clocks are recomputed here from
// the trace's causal structure (program order per node, send → receive by
// message id) over the stamped events, in trace order, rather than copied,
// which keeps the log valid even for traces whose nodes restarted.
func ShiViz(w io.Writer, t *trace.Trace) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n\n", ShiVizRegex)
	n := t.Meta.Nodes
	vc := make([][]uint64, n+1)
	for i := range vc {
		vc[i] = make([]uint64, n+1)
	}
	sent := map[uint64][]uint64{}
	for i := range t.Events {
		e := &t.Events[i]
		if !e.Kind.Stamped() {
			continue
		}
		id := int(e.Node)
		if id < 1 || id > n {
			return fmt.Errorf("viz: event e%d on node %d of %d", e.ID, id, n)
		}
		v := vc[id]
		if e.Kind == trace.Recv {
			if sv, ok := sent[e.Msg]; ok {
				for j := range v {
					v[j] = max(v[j], sv[j])
				}
			}
		}
		v[id]++
		if e.Kind == trace.Send {
			sent[e.Msg] = append([]uint64(nil), v...)
		}
		fmt.Fprintf(bw, "%s\nn%d %s\n", shivizEvent(e), id, shivizClock(v))
	}
	return bw.Flush()
}

func shivizEvent(e *trace.Event) string {
	d := e.Describe()
	// One line per event; the description is the event group of the regex.
	return strings.ReplaceAll(strings.ReplaceAll(d, "\n", " "), "\r", " ")
}

// shivizClock renders {"n1":3,"n2":1} with the non-zero entries, in node
// order.
func shivizClock(v []uint64) string {
	var b strings.Builder
	b.WriteByte('{')
	for j := 1; j < len(v); j++ {
		if v[j] == 0 {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		b.WriteString(`"n` + strconv.Itoa(j) + `":` + strconv.FormatUint(v[j], 10))
	}
	b.WriteByte('}')
	return b.String()
}
