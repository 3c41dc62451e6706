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
	data, err := os.ReadFile(path)
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
				return nil, r, fmt.Errorf("%s line %d: vector of %d entries, the cluster has %d nodes", path, i+2, len(e.Vector), n)
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

// write appends e with the next id. Any goroutine may call it.
func (tf *traceFile) write(e trace.Event) error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.broken != nil {
		return tf.broken
	}
	e.ID = tf.next
	line, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	if _, err := tf.f.Write(append(line, '\n')); err != nil {
		tf.broken = err
		return err
	}
	tf.next++
	return nil
}

func (tf *traceFile) close() error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.f == nil {
		return nil
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
	b, err := os.ReadFile(filepath.Join(dir, KilledFileName))
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
func Merge(cfg *Config) (*trace.Trace, error) {
	n := len(cfg.Nodes)
	epoch, err := cfg.EpochTime()
	if err != nil {
		return nil, err
	}
	out := &trace.Trace{Meta: trace.Meta{Format: trace.FormatVersion, Runtime: "live", Nodes: n, Protocol: cfg.Protocol, Seed: cfg.Seed, Options: cfg.Options, Scenario: cfg.Name}}
	var streams [][]trace.Event
	for _, nd := range cfg.Nodes {
		dir := cfg.Path(nd.Dir)
		evs, err := readEvents(filepath.Join(dir, TraceFileName))
		if err != nil {
			return nil, err
		}
		// A node killed after its last event and not restarted since.
		if at, ok := readKilled(dir, epoch.UnixNano()); ok {
			var last *trace.Event
			for i := range evs {
				if evs[i].Kind.Stamped() && evs[i].Node == ordo.NodeID(nd.ID) {
					last = &evs[i]
				}
			}
			if last != nil && last.Kind != trace.Crash {
				v := slices.Clone(last.Vector)
				v[nd.ID-1]++
				t := max(at, evs[len(evs)-1].T+1)
				evs = append(evs, trace.Event{Kind: trace.Crash, Node: ordo.NodeID(nd.ID), T: t, Local: t, Lamport: last.Lamport + 1, Vector: v, Name: "killed"})
			}
		}
		streams = append(streams, evs)
	}
	if faults, err := readEvents(filepath.Join(cfg.Path("."), FaultsFileName)); err == nil {
		streams = append(streams, faults)
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	// Sends that exist somewhere: a receive waits for its send.
	sent := map[uint64]bool{}
	for _, s := range streams {
		for _, e := range s {
			if e.Kind == trace.Send {
				sent[e.Msg] = true
			}
		}
	}
	emitted := map[uint64]bool{}
	heads := make([]int, len(streams))
	total := 0
	for _, s := range streams {
		total += len(s)
	}
	for len(out.Events) < total {
		best, bestForced := -1, -1
		for i, s := range streams {
			if heads[i] >= len(s) {
				continue
			}
			e := &s[heads[i]]
			if bestForced < 0 || e.T < streams[bestForced][heads[bestForced]].T {
				bestForced = i
			}
			if e.Kind == trace.Recv && sent[e.Msg] && !emitted[e.Msg] {
				continue
			}
			if best < 0 || e.T < streams[best][heads[best]].T {
				best = i
			}
		}
		if best < 0 {
			best = bestForced // cannot happen with consistent stamps
		}
		e := streams[best][heads[best]]
		heads[best]++
		if e.Kind == trace.Send {
			emitted[e.Msg] = true
		}
		out.Append(e)
	}
	return out, nil
}

// readEvents reads the events of one trace file leniently: the header is
// skipped and a torn last line is ignored.
func readEvents(path string) ([]trace.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxTraceFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxTraceFile)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), trace.MaxLine)
	var out []trace.Event
	line := 0
	for sc.Scan() {
		line++
		if line == 1 || len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e trace.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Only the last line may be torn.
			if !sc.Scan() {
				break
			}
			return nil, fmt.Errorf("%s line %d: %v", path, line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return out, nil
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
