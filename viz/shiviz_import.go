package viz

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ordo"
	"ordo/clock"
	"ordo/trace"
)

// GoVectorRegex parses the logs GoVector writes (a "host {clock}" line,
// then the event's line): the regex ShiViz is given for them.
const GoVectorRegex = `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`

// Bounds of an imported log.
const (
	// MaxImportBytes bounds the log read.
	MaxImportBytes = 256 << 20
	// MaxImportHosts bounds the hosts (nodes of the trace).
	MaxImportHosts = 256
	// MaxImportEvents bounds the events.
	MaxImportEvents = 1 << 21
	// maxImportEntries bounds events × hosts: the imported trace holds a
	// vector of one entry per host for every event.
	maxImportEntries = 1 << 26
	maxHostName      = 256
)

// ImportOptions say how to read a log. The zero value reads a ShiViz log
// (its first line the regex, its second the delimiter) or, when the first
// line is no regex, a GoVector log.
type ImportOptions struct {
	// Regex overrides the parser regex: named groups host, clock and
	// event, written (?<name>...) as ShiViz does or (?P<name>...); RE2
	// syntax (no lookaround, no backreference).
	Regex string
	// Delimiter overrides the multiple-executions delimiter (a regex;
	// empty: one execution).
	Delimiter string
	// Execution picks one execution of a log with a delimiter (0-based).
	Execution int
}

// ImportReport says what an import found and inferred.
type ImportReport struct {
	Regex      string
	Executions int      // in the log (1 without a delimiter)
	Hosts      []string // node i is Hosts[i-1]
	Events     int      // events of the log
	// Messages are the send → receive pairs: for a GoVector log, inferred
	// from clock increases as ShiViz does (an event whose clock rises for
	// another host, not through another such rise, received from that
	// host's event); for ordo's own export, read from the message tags.
	Messages int
	// SplitSends counts events that sent to several hosts (a broadcast):
	// ordo sends one message per event, so each further receiver gets a
	// send event of its own right after the original.
	SplitSends int
	// SplitReceives counts events that received from several hosts at
	// once, split likewise into one receive per sender.
	SplitReceives int
	// Unpaired counts receives of ordo's own export whose send is not in
	// the log (its tag names no send): imported as local notes.
	Unpaired int
	// Ordo is true when the log is ordo's own export (ShiViz): event kinds,
	// message kinds, tags and times come back from the descriptions.
	Ordo bool
}

// logEvent is one matched event of the log.
type logEvent struct {
	line  int // of the match's start, 1-based in the file
	host  int // 0-based host index
	own   uint64
	clock map[int]uint64 // host index → entry
	text  string
	// inferred
	from []int    // direct senders' event indexes (transitive reduction)
	to   []int    // receivers' event indexes
	ordo ordoDesc // the description, read back (ordo's own export)
}

// ImportShiViz reads a GoVector or ShiViz log into a trace: one node per
// host (in order of first appearance), events in an order consistent with
// every clock (file order where the clocks allow), messages paired as
// ImportReport says, Lamport and vector stamps computed by ordo from that
// structure. Errors name the line: a line the regex does not match, a clock
// that is not a JSON object of integers, that lacks its own host, whose own
// entry does not rise by one per event from 1, that goes backwards, that
// knows an event its host never logged, or clocks that describe a cycle.
// Source: ShiViz's log format and its inference of messages from vector
// clocks (Beschastnikh et al., "Debugging Distributed Systems", CACM 2016).
func ImportShiViz(r io.Reader, o ImportOptions) (*trace.Trace, ImportReport, error) {
	var rep ImportReport
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, rep, err
	}
	if len(data) > MaxImportBytes {
		return nil, rep, fmt.Errorf("the log is larger than %d bytes", MaxImportBytes)
	}
	text := strings.ReplaceAll(string(ordo.TrimBOM(data)), "\r\n", "\n")
	body, bodyLine := text, 1
	regex, delim := o.Regex, o.Delimiter
	if first, rest, _ := strings.Cut(text, "\n"); isShiVizHeader(first) {
		second, after, found := strings.Cut(rest, "\n")
		if !found {
			second, after = rest, ""
		}
		body, bodyLine = after, 3
		if regex == "" {
			regex = first
		}
		if delim == "" {
			delim = second
		}
	}
	if regex == "" {
		regex = GoVectorRegex
	}
	rep.Regex = regex
	re, err := compileShiViz(regex)
	if err != nil {
		return nil, rep, fmt.Errorf("regex %q: %v", regex, err)
	}
	for _, g := range []string{"host", "clock", "event"} {
		if re.SubexpIndex(g) < 0 {
			return nil, rep, fmt.Errorf("regex %q has no group named %s (ShiViz needs host, clock and event)", regex, g)
		}
	}
	// Executions.
	rep.Executions = 1
	if strings.TrimSpace(delim) != "" {
		dre, err := compileShiViz(delim)
		if err != nil {
			return nil, rep, fmt.Errorf("delimiter %q: %v", delim, err)
		}
		locs := dre.FindAllStringIndex(body, -1)
		starts := []int{0}
		ends := []int{}
		for _, l := range locs {
			if l[0] == l[1] {
				continue
			}
			ends = append(ends, l[0])
			starts = append(starts, l[1])
		}
		ends = append(ends, len(body))
		var keep [][2]int
		for i := range starts {
			if strings.TrimSpace(body[starts[i]:ends[i]]) != "" {
				keep = append(keep, [2]int{starts[i], ends[i]})
			}
		}
		rep.Executions = len(keep)
		if o.Execution < 0 || o.Execution >= len(keep) {
			return nil, rep, fmt.Errorf("execution %d: the log holds %d (numbered from 0)", o.Execution, len(keep))
		}
		k := keep[o.Execution]
		bodyLine += strings.Count(body[:k[0]], "\n")
		body = body[k[0]:k[1]]
	} else if o.Execution != 0 {
		return nil, rep, fmt.Errorf("execution %d: the log has no delimiter, so one execution", o.Execution)
	}
	evs, hosts, err := matchEvents(body, bodyLine, re)
	if err != nil {
		return nil, rep, err
	}
	if len(evs) == 0 {
		return nil, rep, errors.New("the log holds no event the regex matches")
	}
	rep.Hosts, rep.Events = hosts, len(evs)
	byHost, err := checkClocks(evs, hosts)
	if err != nil {
		return nil, rep, err
	}
	order, err := causalOrder(evs, byHost)
	if err != nil {
		return nil, rep, err
	}
	nodes, ok := ordoHosts(hosts)
	if ok {
		ok = parseOrdoDescs(evs)
	}
	rep.Ordo = ok
	var t *trace.Trace
	if ok {
		t, err = buildOrdo(evs, order, nodes, &rep)
	} else {
		inferMessages(evs, byHost)
		t, err = buildForeign(evs, order, hosts, &rep)
	}
	if err != nil {
		return nil, rep, err
	}
	if err := t.Validate(); err != nil {
		return nil, rep, fmt.Errorf("imported trace: %v", err)
	}
	return t, rep, nil
}

// isShiVizHeader reports whether line is a ShiViz parser regex.
func isShiVizHeader(line string) bool {
	for _, g := range []string{"host", "clock", "event"} {
		if !strings.Contains(line, "(?<"+g+">") && !strings.Contains(line, "(?P<"+g+">") {
			return false
		}
	}
	return true
}

var jsGroup = regexp.MustCompile(`\(\?<([A-Za-z_])`)

// compileShiViz compiles a ShiViz (JavaScript) regex as RE2: named groups
// (?<name>) become (?P<name>); ^ and $ match at line ends, as ShiViz's "m"
// flag makes them.
func compileShiViz(s string) (*regexp.Regexp, error) {
	if len(s) > 4096 {
		return nil, errors.New("longer than 4096 bytes")
	}
	re, err := regexp.Compile("(?m)" + jsGroup.ReplaceAllString(s, "(?P<$1"))
	if err != nil {
		return nil, fmt.Errorf("%v (ordo reads RE2 syntax: no lookaround, no backreference)", err)
	}
	return re, nil
}

// matchEvents applies re to body (whose first line is line bodyLine of the
// file): every non-blank text must be part of a match.
func matchEvents(body string, bodyLine int, re *regexp.Regexp) ([]logEvent, []string, error) {
	hi, ci, ei := re.SubexpIndex("host"), re.SubexpIndex("clock"), re.SubexpIndex("event")
	var evs []logEvent
	var hosts []string
	hostIdx := map[string]int{}
	line, at := bodyLine, 0 // line of body[at]
	lineOf := func(pos int) int {
		line += strings.Count(body[at:pos], "\n")
		at = pos
		return line
	}
	prev := 0
	for _, m := range re.FindAllStringSubmatchIndex(body, -1) {
		if m[0] == m[1] {
			continue
		}
		if gap := body[prev:m[0]]; strings.TrimSpace(gap) != "" {
			off := len(gap) - len(strings.TrimLeft(gap, " \t\n"))
			l := lineOf(prev + off)
			return nil, nil, fmt.Errorf("line %d: text the regex does not match: %q", l, logLine(gap[off:]))
		}
		prev = m[1]
		l := lineOf(m[0])
		if len(evs) >= MaxImportEvents {
			return nil, nil, fmt.Errorf("line %d: more than %d events", l, MaxImportEvents)
		}
		group := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return body[m[2*i]:m[2*i+1]]
		}
		host := group(hi)
		if host == "" || len(host) > maxHostName {
			return nil, nil, fmt.Errorf("line %d: host %q: want 1 to %d bytes", l, host, maxHostName)
		}
		h, ok := hostIdx[host]
		if !ok {
			if len(hosts) >= MaxImportHosts {
				return nil, nil, fmt.Errorf("line %d: more than %d hosts", l, MaxImportHosts)
			}
			h = len(hosts)
			hostIdx[host] = h
			hosts = append(hosts, host)
		}
		evs = append(evs, logEvent{line: l, host: h, text: strings.TrimSpace(group(ei))})
		e := &evs[len(evs)-1]
		raw, err := parseClock(group(ci))
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: clock %s: %v", l, logLine(group(ci)), err)
		}
		e.clock = make(map[int]uint64, len(raw))
		for name, v := range raw {
			g, ok := hostIdx[name]
			if !ok {
				// A host known before it logs (its events come later in
				// the file): give it its index now.
				if len(hosts) >= MaxImportHosts {
					return nil, nil, fmt.Errorf("line %d: more than %d hosts", l, MaxImportHosts)
				}
				if name == "" || len(name) > maxHostName {
					return nil, nil, fmt.Errorf("line %d: clock names host %q: want 1 to %d bytes", l, name, maxHostName)
				}
				g = len(hosts)
				hostIdx[name] = g
				hosts = append(hosts, name)
			}
			if v > 0 {
				e.clock[g] = v
			}
		}
		own, ok := e.clock[h]
		if !ok {
			return nil, nil, fmt.Errorf("line %d: the clock of host %s lacks its own entry", l, host)
		}
		e.own = own
	}
	if rest := body[prev:]; strings.TrimSpace(rest) != "" {
		off := len(rest) - len(strings.TrimLeft(rest, " \t\n"))
		return nil, nil, fmt.Errorf("line %d: text the regex does not match: %q", lineOf(prev+off), logLine(rest[off:]))
	}
	if len(evs)*len(hosts) > maxImportEntries {
		return nil, nil, fmt.Errorf("%d events × %d hosts is more than %d clock entries", len(evs), len(hosts), maxImportEntries)
	}
	return evs, hosts, nil
}

func logLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// parseClock reads {"host": n, ...}: non-negative integers up to
// ordo.MaxIndex.
func parseClock(s string) (map[string]uint64, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw map[string]json.Number
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON object of host → count: %v", err)
	}
	if dec.More() {
		return nil, errors.New("text after the JSON object")
	}
	if raw == nil {
		return nil, errors.New("null, want a JSON object")
	}
	out := make(map[string]uint64, len(raw))
	for k, n := range raw {
		v, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil || v > ordo.MaxIndex {
			return nil, fmt.Errorf("entry %q is %s: want an integer 0..%d", k, n, uint64(ordo.MaxIndex))
		}
		out[k] = v
	}
	return out, nil
}

// checkClocks checks ShiViz's rules and returns each host's events in
// order of its own entry (file order): own entry 1, 2, 3…; no entry goes
// backwards; no clock knows an event its host never logged.
func checkClocks(evs []logEvent, hosts []string) ([][]int, error) {
	byHost := make([][]int, len(hosts))
	for i := range evs {
		e := &evs[i]
		seq := byHost[e.host]
		if want := uint64(len(seq)) + 1; e.own != want {
			return nil, fmt.Errorf("line %d: host %s's own clock entry is %d, want %d (it starts at 1 and rises by one per event)", e.line, hosts[e.host], e.own, want)
		}
		if len(seq) > 0 {
			p := &evs[seq[len(seq)-1]]
			for g, v := range p.clock {
				if e.clock[g] < v {
					return nil, fmt.Errorf("line %d: host %s's clock entry for %s goes back from %d (line %d) to %d", e.line, hosts[e.host], hosts[g], v, p.line, e.clock[g])
				}
			}
		}
		byHost[e.host] = append(seq, i)
	}
	for i := range evs {
		e := &evs[i]
		for g, v := range e.clock {
			if v > uint64(len(byHost[g])) {
				return nil, fmt.Errorf("line %d: the clock knows event %d of host %s, which logs %d", e.line, v, hosts[g], len(byHost[g]))
			}
		}
	}
	return byHost, nil
}

// causalOrder is a total order of the events consistent with every clock
// (an event after each event its clock knows), the file's order where the
// clocks leave a choice (Kahn's algorithm with the file position as
// priority).
func causalOrder(evs []logEvent, byHost [][]int) ([]int, error) {
	indeg := make([]int, len(evs))
	next := make([][]int, len(evs))
	for i := range evs {
		e := &evs[i]
		for g, v := range e.clock {
			if g == e.host {
				if v > 1 {
					p := byHost[g][v-2]
					next[p] = append(next[p], i)
					indeg[i]++
				}
				continue
			}
			p := byHost[g][v-1]
			next[p] = append(next[p], i)
			indeg[i]++
		}
	}
	var ready posHeap
	for i := range evs {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	heap.Init(&ready)
	order := make([]int, 0, len(evs))
	for ready.Len() > 0 {
		i := heap.Pop(&ready).(int)
		order = append(order, i)
		for _, j := range next[i] {
			if indeg[j]--; indeg[j] == 0 {
				heap.Push(&ready, j)
			}
		}
	}
	if len(order) < len(evs) {
		for i := range evs {
			if indeg[i] > 0 {
				return nil, fmt.Errorf("line %d: the clocks describe a cycle (this event knows an event that knows one after it on its own host)", evs[i].line)
			}
		}
	}
	return order, nil
}

type posHeap []int

func (h posHeap) Len() int           { return len(h) }
func (h posHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h posHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *posHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *posHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// inferMessages pairs sends and receives as ShiViz does: an event whose
// clock rises for another host received from that host's event with the
// new entry, unless that rise came through another such event (the rise
// is known to one of the other candidates: a transitive rise).
func inferMessages(evs []logEvent, byHost [][]int) {
	for i := range evs {
		e := &evs[i]
		var prev map[int]uint64
		if e.own > 1 {
			prev = evs[byHost[e.host][e.own-2]].clock
		}
		var cands []int
		for g, v := range e.clock {
			if g != e.host && v > prev[g] {
				cands = append(cands, byHost[g][v-1])
			}
		}
		for _, c := range cands {
			ce := &evs[c]
			direct := true
			for _, d := range cands {
				if d != c && evs[d].clock[ce.host] >= ce.own {
					direct = false // c is known through d
					break
				}
			}
			if direct {
				e.from = append(e.from, c)
			}
		}
		slices.Sort(e.from) // file position: deterministic
		for _, c := range e.from {
			evs[c].to = append(evs[c].to, i)
		}
	}
	for i := range evs {
		slices.Sort(evs[i].to)
	}
}

// buildForeign makes the trace of a foreign (GoVector) log: a send per
// receiver of an event, a receive per sender, other events notes.
func buildForeign(evs []logEvent, order []int, hosts []string, rep *ImportReport) (*trace.Trace, error) {
	n := len(hosts)
	t := &trace.Trace{Meta: trace.Meta{Format: trace.FormatVersion, Runtime: "import", Nodes: n, Names: hosts}}
	stamps := make([]trace.Stamper, n)
	for i := range stamps {
		stamps[i] = trace.NewStamper(i+1, n)
	}
	seq := make([]uint64, n)
	msgOf := map[[2]int]uint64{} // (sender event, receiver event) → message id
	sentAt := map[uint64]sendStamp{}
	add := func(e trace.Event) {
		e.ID = len(t.Events)
		e.T = int64(e.ID) * int64(time.Microsecond) // no time in the log: one µs per event
		e.Local = e.T
		t.Events = append(t.Events, e)
	}
	for _, i := range order {
		e := &evs[i]
		node := ordo.NodeID(e.host + 1)
		st := &stamps[e.host]
		attrs := trace.Attrs{{Key: "text", Value: e.text}, {Key: "line", Value: e.line}}
		label := importLabel(e.text)
		switch {
		case len(e.from) > 0:
			if len(e.from) > 1 {
				rep.SplitReceives++
			}
			for _, s := range e.from {
				id := msgOf[[2]int{s, i}]
				ss := sentAt[id]
				st.Recv(ss.lamport, ss.vector)
				add(trace.Event{Kind: trace.Recv, Node: node, Peer: ordo.NodeID(evs[s].host + 1), Msg: id, MsgKind: importLabel(evs[s].text), Lamport: st.Lamport, Vector: slices.Clone(st.Vector), Attrs: attrs})
			}
			if len(e.to) > 0 {
				// Received and sent at once: the sends follow, as events of
				// their own.
				emitSends(e, i, evs, st, node, seq, msgOf, attrs, add, rep, sentAt)
			}
		case len(e.to) > 0:
			emitSends(e, i, evs, st, node, seq, msgOf, attrs, add, rep, sentAt)
		default:
			st.Tick()
			add(trace.Event{Kind: trace.Note, Node: node, Name: label, Lamport: st.Lamport, Vector: slices.Clone(st.Vector), Attrs: attrs})
		}
	}
	return t, nil
}

// importLabel names an imported event (a note's name, a message's kind)
// by its text, shortened: the full text is the event's attribute "text".
func importLabel(text string) string {
	const most = 48 // bytes
	if text == "" {
		return "event"
	}
	if len(text) <= most {
		return text
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// sendStamp is a send's stamps, which its receives merge.
type sendStamp struct {
	lamport uint64
	vector  clock.Vector
}

// emitSends adds one send event per receiver of log event e (index i).
func emitSends(e *logEvent, i int, evs []logEvent, st *trace.Stamper, node ordo.NodeID, seq []uint64, msgOf map[[2]int]uint64,
	attrs trace.Attrs, add func(trace.Event), rep *ImportReport, sent map[uint64]sendStamp) {
	if len(e.to) > 1 {
		rep.SplitSends++
	}
	for _, r := range e.to {
		seq[e.host]++
		id := uint64(node)<<40 | seq[e.host]
		msgOf[[2]int{i, r}] = id
		st.Tick()
		sent[id] = sendStamp{st.Lamport, slices.Clone(st.Vector)}
		rep.Messages++
		add(trace.Event{Kind: trace.Send, Node: node, Peer: ordo.NodeID(evs[r].host + 1), Msg: id, MsgKind: importLabel(e.text), Lamport: st.Lamport, Vector: slices.Clone(st.Vector), Attrs: attrs})
	}
}

// ---- ordo's own export ----

// ordoDesc is a description DescribeShiViz wrote, read back.
type ordoDesc struct {
	kind    trace.Kind
	node    ordo.NodeID // the event's node (the sender of a drop)
	peer    ordo.NodeID
	msg     uint64
	msgKind string
	name    string
	rest    string // attributes, as words
	t       int64
}

// ordoHosts maps hosts n1..nK (and FaultHost) to node numbers.
func ordoHosts(hosts []string) ([]ordo.NodeID, bool) {
	nodes := make([]ordo.NodeID, len(hosts))
	for i, h := range hosts {
		if h == FaultHost {
			continue
		}
		k, ok := nodeNum(h)
		if !ok {
			return nil, false
		}
		nodes[i] = k
	}
	return nodes, true
}

func nodeNum(s string) (ordo.NodeID, bool) {
	if !strings.HasPrefix(s, "n") || len(s) < 2 || s[1] == '0' {
		return 0, false
	}
	k, err := strconv.Atoi(s[1:])
	if err != nil || k < 1 || k > trace.MaxNodes {
		return 0, false
	}
	return ordo.NodeID(k), true
}

func parseTag(s string) (uint64, bool) {
	s, ok := strings.CutPrefix(s, "#")
	if !ok {
		return 0, false
	}
	if a, b, dot := strings.Cut(s, "."); dot {
		node, err1 := strconv.ParseUint(a, 10, 64)
		seq, err2 := strconv.ParseUint(b, 10, 64)
		if err1 != nil || err2 != nil || node < 1 || node > trace.MaxNodes || seq < 1 || seq >= 1<<40 {
			return 0, false
		}
		return node<<40 | seq, true
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}

// parseOrdoDesc reads one DescribeShiViz line; ok is false for anything
// else.
func parseOrdoDesc(s string) (d ordoDesc, ok bool) {
	body, at, found := cutLast(s, " at ")
	if !found {
		return d, false
	}
	dur, err := time.ParseDuration(at)
	if err != nil || dur < 0 {
		return d, false
	}
	d.t = int64(dur)
	w := strings.Fields(body)
	if len(w) < 2 || w[0] == "" || w[0][0] != 'e' {
		return d, false
	}
	if _, err := strconv.Atoi(w[0][1:]); err != nil {
		return d, false
	}
	w = w[1:]
	rest := func(from int) string { return strings.Join(w[min(from, len(w)):], " ") }
	if w[0] == "fault" && len(w) >= 2 {
		d.kind, d.name, d.rest = trace.Fault, w[1], rest(2)
		return d, true
	}
	// "KIND #tag from nA to nB dropped (reason) attrs"
	if len(w) >= 7 && w[2] == "from" && w[4] == "to" && w[6] == "dropped" {
		from, ok1 := nodeNum(w[3])
		to, ok2 := nodeNum(w[5])
		msg, ok3 := parseTag(w[1])
		if !ok1 || !ok2 || !ok3 {
			return d, false
		}
		d.kind, d.node, d.peer, d.msg, d.msgKind = trace.Drop, from, to, msg, w[0]
		d.name, d.rest = parenName(w[7:])
		return d, true
	}
	node, okn := nodeNum(w[0])
	if !okn {
		return d, false
	}
	d.node = node
	switch w[1] {
	case "starts", "restarts", "crashes", "pauses", "resumes":
		d.kind = map[string]trace.Kind{"starts": trace.Start, "restarts": trace.Restart, "crashes": trace.Crash, "pauses": trace.Pause, "resumes": trace.Resume}[w[1]]
		d.name, d.rest = parenName(w[2:])
		if d.kind == trace.Start {
			d.name = ""
			d.rest = rest(2)
		}
		return d, true
	case "sends", "receives":
		dir := map[string]string{"sends": "to", "receives": "from"}[w[1]]
		if len(w) < 6 || w[4] != dir {
			return d, false
		}
		peer, okp := nodeNum(w[5])
		msg, okm := parseTag(w[3])
		if !okp || !okm {
			return d, false
		}
		d.kind = map[string]trace.Kind{"sends": trace.Send, "receives": trace.Recv}[w[1]]
		d.peer, d.msg, d.msgKind, d.rest = peer, msg, w[2], rest(6)
		return d, true
	case "timer", "note":
		if len(w) < 3 {
			return d, false
		}
		d.kind = map[string]trace.Kind{"timer": trace.Timer, "note": trace.Note}[w[1]]
		d.name, d.rest = w[2], rest(3)
		return d, true
	}
	return d, false
}

// parenName splits "(reason words) attrs" into the reason and the rest.
func parenName(w []string) (string, string) {
	s := strings.Join(w, " ")
	if !strings.HasPrefix(s, "(") {
		return "", s
	}
	if i := strings.Index(s, ")"); i > 0 {
		return s[1:i], strings.TrimSpace(s[i+1:])
	}
	return "", s
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// parseOrdoDescs reads every description as ordo's; false if any is not.
func parseOrdoDescs(evs []logEvent) bool {
	for i := range evs {
		d, ok := parseOrdoDesc(evs[i].text)
		if !ok {
			return false
		}
		evs[i].ordo = d
	}
	return true
}

// buildOrdo makes the trace of ordo's own export back: kinds, names,
// message ids and times from the descriptions, stamps recomputed.
func buildOrdo(evs []logEvent, order []int, nodes []ordo.NodeID, rep *ImportReport) (*trace.Trace, error) {
	n := 0
	for _, e := range evs {
		d := e.ordo
		if d.kind == trace.Fault {
			if nodes[e.host] != 0 {
				return nil, fmt.Errorf("line %d: a fault on host n%d (faults are on host %s)", e.line, nodes[e.host], FaultHost)
			}
			continue
		}
		if nodes[e.host] == 0 {
			return nil, fmt.Errorf("line %d: a %s event on host %s, which holds only faults", e.line, d.kind, FaultHost)
		}
		if d.node != nodes[e.host] {
			return nil, fmt.Errorf("line %d: the description names n%d, the event is on host n%d", e.line, d.node, nodes[e.host])
		}
		n = max(n, int(d.node), int(d.peer))
	}
	if n == 0 {
		return nil, errors.New("the log holds faults only, no node's event")
	}
	t := &trace.Trace{Meta: trace.Meta{Format: trace.FormatVersion, Runtime: "import", Nodes: n}}
	stamps := make([]trace.Stamper, n)
	for i := range stamps {
		stamps[i] = trace.NewStamper(i+1, n)
	}
	sent := map[uint64]sendStamp{}
	sends := map[uint64]bool{}
	for _, e := range evs {
		if e.ordo.kind == trace.Send {
			if sends[e.ordo.msg] {
				return nil, fmt.Errorf("line %d: message %s is sent twice", e.line, MsgTag(e.ordo.msg))
			}
			sends[e.ordo.msg] = true
		}
	}
	for _, i := range order {
		e := &evs[i]
		d := e.ordo
		ev := trace.Event{Kind: d.kind, Node: d.node, Peer: d.peer, Msg: d.msg, MsgKind: d.msgKind, Name: d.name, T: d.t, Local: d.t}
		if d.msgKind == "-" {
			ev.MsgKind = ""
		}
		if d.name == "-" {
			ev.Name = ""
		}
		if d.rest != "" {
			ev.Attrs = trace.Attrs{{Key: "text", Value: d.rest}}
		}
		if d.kind == trace.Recv && d.msg != 0 && !sends[d.msg] {
			// The send is not in the log: a note, not a receive of nothing.
			rep.Unpaired++
			ev = trace.Event{Kind: trace.Note, Node: d.node, Name: "receive-without-send", T: d.t, Local: d.t, Attrs: trace.Attrs{{Key: "text", Value: e.text}}}
		}
		if ev.Kind.Stamped() {
			st := &stamps[d.node-1]
			if ev.Kind == trace.Recv && d.msg != 0 {
				s, ok := sent[d.msg]
				if !ok {
					return nil, fmt.Errorf("line %d: receive of %s before its send in every order the clocks allow", e.line, MsgTag(d.msg))
				}
				st.Recv(s.lamport, s.vector)
				rep.Messages++
			} else {
				st.Tick()
			}
			ev.Lamport, ev.Vector = st.Lamport, slices.Clone(st.Vector)
			if ev.Kind == trace.Send {
				sent[d.msg] = sendStamp{st.Lamport, slices.Clone(st.Vector)}
			}
		}
		ev.ID = len(t.Events)
		t.Events = append(t.Events, ev)
	}
	return t, nil
}
