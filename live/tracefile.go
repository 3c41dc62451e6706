package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"ordo"
	"ordo/adversary"
	"ordo/internal/plural"
	"ordo/trace"
)

// A node's trace file is itself a trace (header line, then its own events
// with ids from 0), so `ordo trace diagram` can read one node alone. Every
// event is one write(2): a SIGKILL loses no event the node has acted on
// (the page cache survives the process), so the stamps of a restarted node
// continue where they stopped and never repeat.

// TraceFileName is the name of a node's trace file in its directory.
const TraceFileName = "trace.jsonl"

// KilledFileName marks a node killed by `ordo cluster kill`: it holds the
// wall-clock nanoseconds (Unix) at which the kill was sent, so the trace's
// crash event carries the moment of the kill rather than of the restart.
const KilledFileName = "killed"

// MaxTraceFile bounds a trace file read back at restart or merge.
const MaxTraceFile = 1 << 30

type traceFile struct {
	mu     sync.Mutex
	f      *os.File
	buf    []byte // events not yet written (flush)
	next   int
	broken error
}

// resumed is what a node learns from its own trace file at boot.
type resumed struct {
	stamp   trace.Stamper
	lastT   int64
	msgSeq  uint64
	boots   int
	crashed bool // the previous incarnation ended without a stop event
	events  int
}

// openTrace opens (creating) path for node id of n and reads back what a
// previous incarnation wrote. A torn last line (a kill during the write) is
// cut off.
func openTrace(path string, meta trace.Meta, id ordo.NodeID, n int) (*traceFile, resumed, error) {
	r := resumed{stamp: trace.NewStamper(int(id), n)}
	data, err := ordo.ReadInput(path, nil, MaxTraceFile) // bounded even if it is not a regular file
	if err != nil && !os.IsNotExist(err) {
		return nil, r, err
	}
	if len(data) > MaxTraceFile {
		return nil, r, fmt.Errorf("trace file %s is larger than %d bytes; move it away", path, MaxTraceFile)
	}
	keep := len(data)
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		keep = i + 1
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, r, err
	}
	if err := f.Truncate(int64(keep)); err != nil {
		f.Close()
		return nil, r, err
	}
	if _, err := f.Seek(int64(keep), io.SeekStart); err != nil {
		f.Close()
		return nil, r, err
	}
	tf := &traceFile{f: f}
	if keep == 0 {
		meta.Format = trace.FormatVersion
		line, _ := json.Marshal(meta)
		if _, err := f.Write(append(line, '\n')); err != nil {
			f.Close()
			return nil, r, err
		}
		return tf, r, nil
	}
	lines := bytes.Split(data[:keep], []byte{'\n'})
	for i, line := range lines[1:] {
		if len(line) == 0 {
			continue
		}
		var e trace.Event
		if err := json.Unmarshal(line, &e); err != nil {
			f.Close()
			return nil, r, fmt.Errorf("%s line %d: %v", path, i+2, err)
		}
		r.events++
		r.lastT = max(r.lastT, e.T)
		if e.Kind.Stamped() && e.Node == id {
			if len(e.Vector) != n {
				f.Close()
				return nil, r, fmt.Errorf("%s line %d: vector of %s, the cluster has %s", path, i+2, plural.Count(len(e.Vector), "entry"), plural.Count(n, "node"))
			}
			// Resumed stamps keep counting: an absurd one would wrap.
			if e.Lamport > ordo.MaxIndex || slices.ContainsFunc(e.Vector, func(v uint64) bool { return v > ordo.MaxIndex }) {
				f.Close()
				return nil, r, fmt.Errorf("%s line %d: a stamp exceeds ordo.MaxIndex: the file is corrupt; move it away (the node starts a new trace)", path, i+2)
			}
			r.stamp.Lamport = e.Lamport
			r.stamp.Vector = slices.Clone(e.Vector)
			r.crashed = e.Kind != trace.Crash
		}
		if e.Kind == trace.Send && e.Node == id {
			r.msgSeq = max(r.msgSeq, e.Msg&(1<<40-1))
		}
		if e.Kind == trace.Start || e.Kind == trace.Restart {
			r.boots++
		}
	}
	tf.next = r.events
	return tf, r, nil
}

// write appends e with the next id to the file's buffer. Any goroutine
// may call it; e is encoded before write returns, so its slices may
// change afterwards. The buffer reaches the file at flush (the loop
// flushes at the end of every turn, before anything the turn sent leaves,
// and before an early send), or when it grows past traceBuffer.
func (tf *traceFile) write(e trace.Event) error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.broken != nil {
		return tf.broken
	}
	e.ID = tf.next
	tf.buf = trace.AppendJSON(tf.buf, &e)
	tf.buf = append(tf.buf, '\n')
	tf.next++
	if len(tf.buf) >= traceBuffer {
		return tf.flushLocked()
	}
	return nil
}

// traceBuffer bounds the events a turn keeps before writing them.
const traceBuffer = 64 << 10

// flush writes the buffered events with one write(2): a SIGKILL loses
// no event of a turn whose effects (sends, replies) have left, since
// they leave only after it (the page cache survives the process).
func (tf *traceFile) flush() error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.broken != nil {
		return tf.broken
	}
	return tf.flushLocked()
}

func (tf *traceFile) flushLocked() error {
	if len(tf.buf) == 0 {
		return nil
	}
	_, err := tf.f.Write(tf.buf)
	tf.buf = tf.buf[:0]
	if err != nil {
		tf.broken = err
	}
	return err
}

func (tf *traceFile) close() error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.f == nil {
		return nil
	}
	if tf.broken == nil {
		tf.flushLocked()
	}
	err := tf.f.Close()
	tf.f = nil
	if tf.broken == nil {
		tf.broken = errors.New("trace file closed")
	}
	return err
}

// readKilled returns the kill time (ns since epoch) a `cluster kill` left
// in dir, if any.
func readKilled(dir string, epochNs int64) (int64, bool) {
	b, err := ordo.ReadInput(filepath.Join(dir, KilledFileName), nil, 64) // one decimal number
	if err != nil {
		return 0, false
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, false
	}
	return ns - epochNs, true
}

// Merge reads the trace file of every node of the cluster (and the
// cluster's fault log, if there is one) and joins them into one trace: each
// node's events keep their order, a receive never comes before its send, and
// otherwise events are ordered by wall-clock time (all nodes of a local
// cluster read one clock). A node that was killed and not restarted gets its
// crash event at the moment of the kill.
//
// Every line is checked as it is read, and the merged trace must pass
// trace.Validate; an error names the node file and line at fault, and no
// trace is returned.
func Merge(cfg *Config) (*trace.Trace, error) {
	n := len(cfg.Nodes)
	epoch, err := cfg.EpochTime()
	if err != nil {
		return nil, err
	}
	// The options as the servers ran them, defaults filled in (as each
	// node's own trace has them): checkers read bounds from them, and a
	// default left out (a lease's ttl) must not read as absent.
	opts := ordo.Options(cfg.Options)
	if p, err := ordo.Lookup(cfg.Protocol); err == nil {
		if o, err := p.Resolve(cfg.Options); err == nil {
			opts = o
		}
		opts = p.Redact(opts)
	}
	out := &trace.Trace{Meta: trace.Meta{Format: trace.FormatVersion, Runtime: "live", Nodes: n, Protocol: cfg.Protocol, Seed: cfg.Seed, Options: opts, Scenario: cfg.Name}}
	cfg.FillMeta(&out.Meta)
	var streams []nodeEvents
	for _, nd := range cfg.Nodes {
		if cfg.RoleOf(ordo.NodeID(nd.ID)) == ordo.Service {
			continue // no process, no trace: its nodes record what they sent it
		}
		dir := cfg.Path(nd.Dir)
		ne, err := readEvents(filepath.Join(dir, TraceFileName), ordo.NodeID(nd.ID), n)
		if err != nil {
			return nil, err
		}
		if mergeReadHook != nil {
			mergeReadHook(ordo.NodeID(nd.ID))
		}
		evs := ne.events
		// A node killed after its last event and not restarted since.
		if at, ok := readKilled(dir, epoch.UnixNano()); ok {
			var last *trace.Event
			for i := range evs {
				if evs[i].Kind.Stamped() && evs[i].Node == ordo.NodeID(nd.ID) {
					last = &evs[i]
				}
			}
			if last != nil && last.Kind != trace.Crash {
				// The crash ticks the node's clocks like any local event.
				s := trace.Stamper{Node: nd.ID, Lamport: last.Lamport, Vector: slices.Clone(last.Vector)}
				s.Tick()
				t := max(at, evs[len(evs)-1].T+1)
				ne.events = append(evs, trace.Event{Kind: trace.Crash, Node: ordo.NodeID(nd.ID), T: t, Local: t, Lamport: s.Lamport, Vector: s.Vector, Name: "killed"})
				ne.lines = append(ne.lines, 0) // from the kill marker, not a line
			}
		}
		streams = append(streams, ne)
	}
	if err := cutAtReadRaces(streams, n); err != nil {
		return nil, err
	}
	if faults, err := readEvents(filepath.Join(cfg.Path("."), FaultsFileName), 0, n); err == nil {
		streams = append(streams, faults)
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	out.Meta.Byzantine = liars(streams)
	// Where each message is sent: a receive waits for its send.
	type at struct{ stream, k int }
	sent := map[uint64]at{}
	for si, s := range streams {
		for k, e := range s.events {
			if e.Kind == trace.Send {
				if p, dup := sent[e.Msg]; dup {
					return nil, fmt.Errorf("%s: message %d is sent twice (also at %s)", s.where(k), e.Msg, streams[p.stream].where(p.k))
				}
				sent[e.Msg] = at{si, k}
			}
		}
	}
	// A forged receive (ordo cluster byzantine N forge on --insecure
	// links, where the receiver believes the hello): the receiver names
	// the sender claimed, the message id its true sender, whose trace
	// has the send. As in the simulator, peer is the true sender and
	// claimed_from the claim; merge refused the whole run before ("recv
	// of message ... from n1, but e126 sent it from n2").
	for si := range streams {
		for k := range streams[si].events {
			e := &streams[si].events[k]
			p, ok := sent[e.Msg]
			if e.Kind != trace.Recv || !ok {
				continue
			}
			if snd := streams[p.stream].events[p.k]; snd.Node != e.Peer && snd.Peer == e.Node {
				e.Attrs = append(slices.Clone(e.Attrs), trace.Attr{Key: "claimed_from", Value: int(e.Peer)})
				e.Peer = snd.Node
			}
		}
	}
	emitted := map[uint64]bool{}
	heads := make([]int, len(streams))
	total := 0
	for _, s := range streams {
		total += len(s.events)
	}
	from := make([]at, 0, total) // where each merged event came from
	for len(out.Events) < total {
		best, blocked := -1, -1
		for i, s := range streams {
			if heads[i] >= len(s.events) {
				continue
			}
			e := &s.events[heads[i]]
			if _, ok := sent[e.Msg]; ok && e.Kind == trace.Recv && !emitted[e.Msg] {
				blocked = i
				continue
			}
			if best < 0 || e.T < streams[best].events[heads[best]].T {
				best = i
			}
		}
		if best < 0 {
			// Every next event is a receive whose send lies behind another
			// such receive: the files describe a causal cycle.
			s := streams[blocked]
			e := &s.events[heads[blocked]]
			p := sent[e.Msg]
			return nil, fmt.Errorf("%s: recv of message %d cannot follow its send at %s: the node trace files contradict each other (no merged order puts every receive after its send)",
				s.where(heads[blocked]), e.Msg, streams[p.stream].where(p.k))
		}
		e := streams[best].events[heads[best]]
		from = append(from, at{best, heads[best]})
		heads[best]++
		if e.Kind == trace.Send {
			emitted[e.Msg] = true
		}
		out.Append(e)
	}
	if err := out.Validate(); err != nil {
		var ve *trace.ValidationError
		if errors.As(err, &ve) && ve.Event < len(from) {
			p := from[ve.Event]
			return nil, fmt.Errorf("%s: %v (merged as e%d)", streams[p.stream].where(p.k), ve.Err, ve.Event)
		}
		return nil, fmt.Errorf("merged trace: %v", err)
	}
	return out, nil
}

// liars are the nodes the run made lie (Meta.Byzantine), by node, each
// with its behaviours in the order it first showed them ("equivocate,
// silent"): a switch to a behaviour other than honest in the fault log
// (ordo cluster byzantine), a lie a node noted ("byzantine") or a send a
// silent node dropped ("byzantine: silent") in its own trace, which also
// name a liar made by POST /byzantine alone. A node that lied at any time
// is Byzantine for the whole run: the checkers judge the others only, as
// they do a simulated run's liars.
func liars(streams []nodeEvents) []trace.Liar {
	var (
		nodes []int
		by    = map[int][]string{}
	)
	add := func(node int, b string) {
		if node < 1 || b == "" || b == Honest {
			return
		}
		if _, ok := by[node]; !ok {
			nodes = append(nodes, node)
		}
		if !slices.Contains(by[node], b) {
			by[node] = append(by[node], b)
		}
	}
	for _, s := range streams {
		for _, e := range s.events {
			switch {
			case e.Kind == trace.Fault && e.Name == "byzantine":
				if id, ok := e.Attrs.Int("node"); ok {
					b, _ := e.Attrs.Get("behaviour").(string)
					add(int(id), b)
				}
			case s.node == 0:
			case e.Kind == trace.Note && e.Name == adversary.NoteByzantine && e.Node == s.node:
				b, _ := e.Attrs.Get("behaviour").(string)
				add(int(e.Node), b)
			case e.Kind == trace.Drop && e.Name == adversary.DropSilent && e.Node == s.node:
				add(int(e.Node), string(adversary.Silent))
			}
		}
	}
	slices.Sort(nodes)
	var out []trace.Liar
	for _, id := range nodes {
		out = append(out, trace.Liar{Node: id, Behaviour: strings.Join(by[id], ", ")})
	}
	return out
}

// mergeReadHook, when set by a test, runs after Merge reads a node's file:
// the test plays a node that writes on meanwhile.
var mergeReadHook func(node ordo.NodeID)

// cutAtReadRaces makes the node streams of a running cluster a consistent
// cut. Merge reads the files one after another, so a file read later may
// hold the receive of a message whose sender wrote its send (always before
// the message left) after Merge had read the sender's file. Such a
// receive, proven a read race by reading the sender's file again and
// finding the send there, ends its node's stream: the node's later events
// are left out, and so, in turn, are the receives of whatever those left-out
// events sent. What remains never shows a receive without its send (the
// chapter's consistent cut). A receive whose send is not in the sender's
// file even then is left in place for Validate to report: the files
// contradict each other.
func cutAtReadRaces(streams []nodeEvents, n int) error {
	sent := map[uint64]bool{}
	for _, s := range streams {
		for _, e := range s.events {
			if e.Kind == trace.Send {
				sent[e.Msg] = true
			}
		}
	}
	byNode := map[ordo.NodeID]int{}
	for i, s := range streams {
		byNode[s.node] = i
	}
	late := map[uint64]bool{} // sends found only on a second read, or cut off
	reread := map[int]bool{}  // streams read again
	for changed := true; changed; {
		changed = false
		for si := range streams {
			s := &streams[si]
			for k, e := range s.events {
				if e.Kind != trace.Recv || e.Msg == 0 || sent[e.Msg] {
					continue
				}
				if !late[e.Msg] {
					sender, ok := byNode[e.Peer]
					if !ok || reread[sender] {
						break // for Validate to report
					}
					reread[sender] = true
					again, err := readEvents(streams[sender].path, e.Peer, n)
					if err != nil {
						return err
					}
					for _, a := range again.events {
						if a.Kind == trace.Send && !sent[a.Msg] {
							late[a.Msg] = true
						}
					}
					if !late[e.Msg] {
						break // for Validate to report
					}
				}
				for _, cut := range s.events[k:] {
					if cut.Kind == trace.Send && sent[cut.Msg] {
						delete(sent, cut.Msg)
						late[cut.Msg] = true
					}
				}
				s.events, s.lines = s.events[:k], s.lines[:k]
				changed = true
				break
			}
		}
	}
	return nil
}

// where names the file and line of the k-th event of s.
func (s *nodeEvents) where(k int) string {
	if s.lines[k] == 0 {
		return s.path + " (the crash recorded for its kill)"
	}
	return fmt.Sprintf("%s line %d", s.path, s.lines[k])
}

// nodeEvents are the events of one file Merge reads, with the line each
// came from, so that an inconsistency found after merging names its source.
type nodeEvents struct {
	path   string
	node   ordo.NodeID // 0: the fault log
	events []trace.Event
	lines  []int
}

// readEvents reads the events of one trace file of a cluster of n nodes:
// node's trace file (node ≥ 1) or the cluster's fault log (node 0). The
// header is checked, a torn last line (a kill during the write) is ignored,
// and every other line must be an event that file can hold.
func readEvents(path string, node ordo.NodeID, n int) (nodeEvents, error) {
	f, err := os.Open(path)
	if err != nil {
		return nodeEvents{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nodeEvents{}, err
	}
	if st.Size() > MaxTraceFile {
		return nodeEvents{}, fmt.Errorf("%s is larger than %d bytes", path, MaxTraceFile)
	}
	return decodeEvents(ordo.LimitInput(f, path, MaxTraceFile), path, node, n) // a FIFO has no size
}

// decodeEvents is readEvents on any reader; name is used in errors.
func decodeEvents(r io.Reader, name string, node ordo.NodeID, n int) (nodeEvents, error) {
	out := nodeEvents{path: name, node: node}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), trace.MaxLine)
	line := 0
	header := false
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if !header {
			header = true
			var m trace.Meta
			if err := json.Unmarshal(b, &m); err != nil {
				return out, fmt.Errorf("%s line %d: not an ordo trace header: %v", name, line, err)
			}
			if m.Format != trace.FormatVersion {
				return out, fmt.Errorf("%s line %d: format %q, this ordo reads %q", name, line, m.Format, trace.FormatVersion)
			}
			if m.Nodes != n {
				return out, fmt.Errorf("%s line %d: written for %s, the cluster has %d", name, line, plural.Count(m.Nodes, "node"), n)
			}
			continue
		}
		var e trace.Event
		if err := json.Unmarshal(b, &e); err != nil {
			// Only the last line may be torn.
			if !sc.Scan() {
				break
			}
			return out, fmt.Errorf("%s line %d: %v", name, line, err)
		}
		if err := checkNodeEvent(&e, node, n, len(out.events)); err != nil {
			return out, fmt.Errorf("%s line %d: %v", name, line, err)
		}
		out.events = append(out.events, e)
		out.lines = append(out.lines, line)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s line %d: %v", name, line+1, err)
	}
	if !header {
		return out, fmt.Errorf("%s: empty, no trace header", name)
	}
	return out, nil
}

// checkNodeEvent checks one event of node's file (node 0: the fault log)
// that is its k-th event: what the file can hold, before any cross-node
// check, which Merge leaves to trace.Validate on the merged trace.
func checkNodeEvent(e *trace.Event, node ordo.NodeID, n, k int) error {
	switch e.Kind {
	case trace.Start, trace.Send, trace.Recv, trace.Drop, trace.Timer, trace.Note, trace.Crash, trace.Restart, trace.Pause, trace.Resume, trace.Fault:
	default:
		return fmt.Errorf("unknown event kind %q", e.Kind)
	}
	if node == 0 {
		// The fault log is appended by the cluster commands without ids.
		if e.Kind != trace.Fault {
			return fmt.Errorf("a %s event in the fault log, which holds only faults", e.Kind)
		}
		if e.Node != 0 {
			return fmt.Errorf("a fault event names node %d; cluster faults belong to no node", e.Node)
		}
		return nil
	}
	if e.ID != k {
		return fmt.Errorf("event id %d, expected %d (a node's events count from 0 without gaps)", e.ID, k)
	}
	if e.Kind == trace.Fault {
		return fmt.Errorf("a fault event in %v's trace (cluster faults go to %s)", node, FaultsFileName)
	}
	if e.Kind == trace.Drop {
		// A node records the messages it drops on the way out (node →
		// peer) and, in a one-way partition, on the way in (sender →
		// node): one end of the drop is the file's node.
		// A reply to a client call that gave up is dropped by the node
		// on the way to its gateway id (gateway.go).
		if e.Node == node && IsGateway(e.Peer) {
			return nil
		}
		if e.Node < 1 || int(e.Node) > n || e.Peer < 1 || int(e.Peer) > n || e.Node == e.Peer || (e.Node != node && e.Peer != node) {
			return fmt.Errorf("drop of a message from node %d to %d in %v's trace file", e.Node, e.Peer, node)
		}
		return nil
	}
	if e.Node != node {
		return fmt.Errorf("an event of node %d in %v's trace file", e.Node, node)
	}
	if len(e.Vector) != n {
		return fmt.Errorf("vector of %s, the cluster has %s", plural.Count(len(e.Vector), "entry"), plural.Count(n, "node"))
	}
	// A gateway id (>= GatewayBase) is a client API call (gateway.go).
	if (e.Kind == trace.Send || e.Kind == trace.Recv) && !IsGateway(e.Peer) && (e.Peer < 1 || int(e.Peer) > n || e.Peer == node) {
		return fmt.Errorf("%s with peer %d: want another node of 1..%d", e.Kind, e.Peer, n)
	}
	return nil
}

// FaultsFileName is the cluster's log of faults (kill, restart, partition,
// heal), written by the cluster commands in the cluster directory.
const FaultsFileName = "faults.jsonl"

// LogFault appends a fault event to the cluster directory's fault log.
func LogFault(cfg *Config, at int64, name string, attrs ...any) error {
	path := filepath.Join(cfg.Path("."), FaultsFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		line, _ := json.Marshal(trace.Meta{Format: trace.FormatVersion, Runtime: "live", Nodes: len(cfg.Nodes), Protocol: cfg.Protocol})
		if _, err := f.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	line, err := json.Marshal(trace.Event{Kind: trace.Fault, T: at, Name: name, Attrs: trace.MakeAttrs(attrs)})
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return err
}

// DownAndMerge stops every node gracefully (Down) and merges their traces
// (Merge): the end of a live run, its trace ready for the checkers.
func (c *Cluster) DownAndMerge() (*trace.Trace, error) {
	if err := c.Down(); err != nil {
		return nil, err
	}
	return Merge(c.Cfg)
}
