package viz

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"ordo/trace"
)

// ShiVizRegex is the first line of a log ShiViz loads from a file: how to
// parse each event (a description line, then "host {clock}"). The second
// line, the multiple-executions delimiter, is left empty.
const ShiVizRegex = `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`

// FaultHost is the ShiViz host that carries a trace's cluster-wide faults
// (partitions, heals, kills by the cluster commands), which belong to no
// node.
const FaultHost = "cluster"

// ShiViz writes t as a ShiViz log. Every event is in it: process events
// on their node's host, a dropped message on its sender's host, a
// cluster-wide fault on the host FaultHost, each described in words
// (DescribeShiViz) with the message's tag and the event's time, so that
// ImportShiViz reads the log back into the same trace.
//
// ShiViz requires each host's own clock entry to start at 1 and rise by
// one per event, and every clock to be consistent with the causal order;
// so the clocks are recomputed here from the trace's causal structure
// (program order per node, send → receive by message id), in trace order,
// rather than copied, which keeps the log valid even for traces whose
// nodes restarted. ShiViz draws a message arrow only where it can infer one
// from a clock increase: it cannot draw a drop, a duplicate delivery or a
// fault as such; they are events with those words.
func ShiViz(w io.Writer, t *trace.Trace) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n\n", ShiVizRegex)
	n := t.Meta.Nodes
	hosts := n + 1 // index n+1: FaultHost
	vc := make([][]uint64, hosts+1)
	for i := range vc {
		vc[i] = make([]uint64, hosts+1)
	}
	sent := map[uint64][]uint64{}
	for i := range t.Events {
		e := &t.Events[i]
		id := int(e.Node)
		switch {
		case e.Kind == trace.Fault:
			id = hosts
		case id < 1 || id > n:
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
		fmt.Fprintf(bw, "%s\n%s %s\n", DescribeShiViz(e, &t.Meta), shivizHost(id, &t.Meta), shivizClock(v, &t.Meta))
	}
	return bw.Flush()
}

// shivizHost names host id: the node's name when the trace has names
// (an imported log), else nK; FaultHost after the nodes.
func shivizHost(id int, m *trace.Meta) string {
	if id > m.Nodes {
		return FaultHost
	}
	return shivizWord(nodeName(id, m)) // the regex's host is \S*
}

func nodeName(id int, m *trace.Meta) string {
	if id >= 1 && id <= len(m.Names) && m.Names[id-1] != "" {
		return m.Names[id-1]
	}
	return "n" + strconv.Itoa(id)
}

// MsgTag is a message id in words: #N.S for the S-th message node N sent
// (the ids both runtimes give, node<<40 | sequence), else #ID.
func MsgTag(id uint64) string {
	if node, seq := id>>40, id&(1<<40-1); node >= 1 && node <= trace.MaxNodes && seq > 0 {
		return "#" + strconv.FormatUint(node, 10) + "." + strconv.FormatUint(seq, 10)
	}
	return "#" + strconv.FormatUint(id, 10)
}

// DescribeShiViz is e in one line of words, as the ShiViz log carries it:
// "e7 n1 sends Ping #1.3 to n2 at 1.5ms", "e9 n2 receives Ping #1.3 from
// n1 at 2ms", "e12 Ping #1.4 from n1 to n3 dropped (partition) at 3ms",
// "e20 fault partition groups=[[1 2] [3]] at 4ms", "e3 n1 note leader
// term=2 at 1ms". No stamps: the log's clocks carry the order.
func DescribeShiViz(e *trace.Event, m *trace.Meta) string {
	var b strings.Builder
	fmt.Fprintf(&b, "e%d ", e.ID)
	node := nodeName(int(e.Node), m)
	switch e.Kind {
	case trace.Start:
		b.WriteString(node + " starts")
	case trace.Restart:
		b.WriteString(node + " restarts")
	case trace.Crash:
		b.WriteString(node + " crashes")
	case trace.Pause:
		b.WriteString(node + " pauses")
	case trace.Resume:
		b.WriteString(node + " resumes")
	case trace.Send:
		fmt.Fprintf(&b, "%s sends %s %s to %s", node, shivizWord(e.MsgKind), MsgTag(e.Msg), nodeName(int(e.Peer), m))
	case trace.Recv:
		fmt.Fprintf(&b, "%s receives %s %s from %s", node, shivizWord(e.MsgKind), MsgTag(e.Msg), nodeName(int(e.Peer), m))
	case trace.Drop:
		fmt.Fprintf(&b, "%s %s from %s to %s dropped", shivizWord(e.MsgKind), MsgTag(e.Msg), node, nodeName(int(e.Peer), m))
	case trace.Timer:
		b.WriteString(node + " timer " + shivizWord(e.Name))
	case trace.Note:
		b.WriteString(node + " note " + shivizWord(e.Name))
	case trace.Fault:
		b.WriteString("fault " + shivizWord(e.Name))
	default:
		b.WriteString(node + " " + shivizWord(string(e.Kind)))
	}
	switch e.Kind {
	case trace.Drop, trace.Crash, trace.Restart, trace.Pause, trace.Resume:
		if e.Name != "" {
			b.WriteString(" (" + oneLine(e.Name) + ")")
		}
	}
	for _, a := range e.Attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	fmt.Fprintf(&b, " at %v", time.Duration(e.T))
	return oneLine(b.String())
}

// shivizWord keeps a name one word (the importer splits on spaces).
func shivizWord(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), "_")
}

// oneLine keeps a description on its line of the log.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// shivizClock renders {"n1":3,"n2":1} with the non-zero entries, in node
// order, FaultHost last.
func shivizClock(v []uint64, m *trace.Meta) string {
	var b strings.Builder
	b.WriteByte('{')
	for j := 1; j < len(v); j++ {
		if v[j] == 0 {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		name, _ := json.Marshal(shivizHost(j, m))
		b.Write(name)
		b.WriteString(`:` + strconv.FormatUint(v[j], 10))
	}
	b.WriteByte('}')
	return b.String()
}
