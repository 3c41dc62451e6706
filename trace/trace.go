package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"ordo"
	"ordo/clock"
)

// Kind is what happened.
type Kind string

const (
	Start   Kind = "start"   // the node booted (or rebooted: see Restart)
	Send    Kind = "send"    // the node handed a message to the network
	Recv    Kind = "recv"    // the node handled a message
	Drop    Kind = "drop"    // the network lost a message (not a process event: unstamped)
	Timer   Kind = "timer"   // a timer fired at the node
	Note    Kind = "note"    // the protocol noted something (leader, vote, ...)
	Crash   Kind = "crash"   // the node crashed: volatile state lost
	Restart Kind = "restart" // the node restarted from its storage
	Pause   Kind = "pause"   // the node stopped processing (GC pause, VM freeze)
	Resume  Kind = "resume"  // the node processes again
	Fault   Kind = "fault"   // a cluster-wide fault (partition, heal, ...): unstamped
)

// Stamped reports whether events of this kind are process events that carry
// Lamport and vector timestamps.
func (k Kind) Stamped() bool { return k != Drop && k != Fault }

// Event is one line of a trace.
type Event struct {
	ID      int          `json:"id"`   // index in the trace, from 0
	Kind    Kind         `json:"kind"` //
	Node    ordo.NodeID  `json:"node,omitempty"`
	T       int64        `json:"t"`               // true time, ns since the run began (live: since the cluster's epoch)
	Local   int64        `json:"local,omitempty"` // the node's own clock reading, ns since the run began
	Lamport uint64       `json:"lamport,omitempty"`
	Vector  clock.Vector `json:"vc,omitempty"`
	Peer    ordo.NodeID  `json:"peer,omitempty"` // to (send, drop) or from (recv)
	Msg     uint64       `json:"msg,omitempty"`  // message id, the same on its send, recv and drop
	MsgKind string       `json:"msg_kind,omitempty"`
	Bytes   int          `json:"bytes,omitempty"`
	Name    string       `json:"name,omitempty"` // timer name, note kind, fault or drop reason
	Attrs   Attrs        `json:"attrs,omitempty"`
	// Body is a send's message as JSON, when the run kept it
	// (sim.Config.KeepMessages: ordo sim --messages, ordo web): what a
	// debugger shows on a click. At most MaxBody bytes; only on sends. A
	// pointer, so that an event without one (nearly all) pays one word.
	Body *json.RawMessage `json:"body,omitempty"`
}

// Names of drops and stops that more than one runtime records and
// checkers read: a node's fail-stop (its storage failed: the sends it
// held for an fsync are dropped under this name, and a simulated node's
// crash event is named so), and a crash's loss of the messages held in
// the node (sends waiting for an fsync, a simulated receiver's inbox).
const (
	NameFailStop = "fail-stop"
	NameCrashed  = "node crashed"
)

// MaxBody bounds an event's Body, in bytes.
const MaxBody = 1 << 20

// Attrs are a note's key-value pairs, kept in the order given.
type Attrs []Attr

// Attr is one key-value pair of a note.
type Attr struct {
	Key   string `json:"k"`
	Value any    `json:"v"`
}

// Get returns the value of key, or nil.
func (a Attrs) Get(key string) any {
	for _, kv := range a {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// Int returns the value of key as an int64 (JSON numbers decode as float64).
func (a Attrs) Int(key string) (int64, bool) {
	switch v := a.Get(key).(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case uint64:
		return int64(v), true
	case float64:
		return int64(v), true
	case ordo.NodeID:
		return int64(v), true
	}
	return 0, false
}

// MakeAttrs turns Note's variadic key, value list into Attrs. A key that is
// not a string, or a missing value, is kept visibly rather than dropped.
func MakeAttrs(kv []any) Attrs {
	if len(kv) == 0 {
		return nil
	}
	out := make(Attrs, 0, (len(kv)+1)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			k = fmt.Sprintf("!BADKEY(%v)", kv[i])
		}
		var v any = "!MISSING"
		if i+1 < len(kv) {
			v = kv[i+1]
			if id, ok := v.(ordo.NodeID); ok {
				v = int(id) // JSON-stable
			}
		}
		out = append(out, Attr{k, v})
	}
	return out
}

// Meta describes the run a trace came from. It is the first line of a trace
// file.
type Meta struct {
	Format   string            `json:"ordo_trace"` // always "1"
	Runtime  string            `json:"runtime"`    // "sim" or "live"
	Nodes    int               `json:"nodes"`      // vector clocks have this many entries
	Protocol string            `json:"protocol,omitempty"`
	Scenario string            `json:"scenario,omitempty"`
	Seed     uint64            `json:"seed,omitempty"`
	Options  map[string]string `json:"options,omitempty"`
	// Servers lists the server nodes when the run has other roles (empty:
	// every node 1..Nodes is a server). Checkers count servers only.
	Servers []int `json:"servers,omitempty"`
	// Clients lists the client nodes and their protocol.
	Clients        []int  `json:"clients,omitempty"`
	ClientProtocol string `json:"client_protocol,omitempty"`
	// Services lists the service nodes (issue 15: a model of etcd in the
	// simulator, an adapter to a real one live) and their protocols, one
	// name per distinct protocol in roster order. Like clients, services
	// are no servers: checkers do not judge them.
	Services        []int  `json:"services,omitempty"`
	ServiceProtocol string `json:"service_protocol,omitempty"`
	// Names are the nodes' names when they have their own (a log imported
	// from GoVector or ShiViz names its hosts): node i is Names[i-1].
	Names []string `json:"names,omitempty"`
	// Byzantine lists the nodes the run made lie (issue 14: the
	// simulator's adversary, sim.Config.Byzantine) and how, by node.
	// Every other node is correct: checkers such as byzantine-agreement
	// judge the correct nodes only.
	Byzantine []Liar `json:"byzantine,omitempty"`
}

// Liar is one Byzantine node of a run and its behaviour (equivocate,
// silent, garbage, replay, forge).
type Liar struct {
	Node      int    `json:"node"`
	Behaviour string `json:"behaviour"`
}

// IsByzantine reports whether node id lied in the run (Meta.Byzantine).
func (m *Meta) IsByzantine(id int) bool {
	for _, l := range m.Byzantine {
		if l.Node == id {
			return true
		}
	}
	return false
}

// IsServer reports whether node id is a server of the run.
func (m *Meta) IsServer(id int) bool {
	if len(m.Servers) == 0 {
		return id >= 1 && id <= m.Nodes
	}
	for _, s := range m.Servers {
		if s == id {
			return true
		}
	}
	return false
}

// IsService reports whether node id is a service of the run.
func (m *Meta) IsService(id int) bool { return slices.Contains(m.Services, id) }

// ServerCount is the number of servers of the run.
func (m *Meta) ServerCount() int {
	if len(m.Servers) == 0 {
		return m.Nodes
	}
	return len(m.Servers)
}

// FormatVersion is the trace file format written by this version.
const FormatVersion = "1"

// Trace is a whole run: its description and its events in the order they
// happened (by true time, ties in a deterministic order).
type Trace struct {
	Meta   Meta
	Events []Event
}

// Append adds e, setting its ID, and returns the stored copy.
func (t *Trace) Append(e Event) *Event {
	e.ID = len(t.Events)
	t.Events = append(t.Events, e)
	return &t.Events[e.ID]
}

// Write writes t as JSON Lines: the Meta line, then one event per line.
func (t *Trace) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	m := t.Meta
	m.Format = FormatVersion
	if err := enc.Encode(m); err != nil {
		return err
	}
	for i := range t.Events {
		if err := enc.Encode(&t.Events[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes t to path, creating or truncating it.
func (t *Trace) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := t.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// MaxLine bounds one line of a trace file.
const MaxLine = 4 << 20

// IsTraceFile reports whether path is a file whose first line is a trace
// header (a JSON object with the "ordo_trace" format field), as Write
// writes it, whatever the key order. It reads at most MaxLine bytes; it
// says nothing of the events after it (Read checks those).
func IsTraceFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4<<10), MaxLine)
	for sc.Scan() {
		b := bytes.TrimSpace(ordo.TrimBOM(sc.Bytes()))
		if len(b) == 0 {
			continue
		}
		var h struct {
			Format *string `json:"ordo_trace"`
		}
		return json.Unmarshal(b, &h) == nil && h.Format != nil
	}
	return false
}

// Read parses a trace written by Write, checking each event as Validate
// does. Errors name the line.
func Read(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	t := &Trace{}
	line := 0
	header := false
	var v *validator // after the header: it needs Meta.Nodes
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = ordo.TrimBOM(b) // an editor's byte-order mark is not content
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if !header {
			header = true
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&t.Meta); err != nil {
				return nil, fmt.Errorf("trace line %d, column %d: not an ordo trace header: %v", line, jsonColumn(err), err)
			}
			if t.Meta.Format != FormatVersion {
				return nil, fmt.Errorf("trace line %d: format %q, this ordo reads %q", line, t.Meta.Format, FormatVersion)
			}
			if t.Meta.Nodes < 1 || t.Meta.Nodes > MaxNodes {
				return nil, fmt.Errorf("trace line %d: nodes=%d out of range 1..%d", line, t.Meta.Nodes, MaxNodes)
			}
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("trace line %d, column %d: %v", line, jsonColumn(err), err)
		}
		if v == nil {
			v = newValidator(t.Meta.Nodes)
		}
		if err := v.check(t.Events, &e); err != nil {
			return nil, fmt.Errorf("trace line %d: %v", line, err)
		}
		t.Events = append(t.Events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace line %d: %v", line+1, err)
	}
	if !header {
		return nil, errors.New("trace is empty: no header line")
	}
	return t, nil
}

// jsonColumn is the 1-based column of a JSON decoding error within its
// line (1 when the decoder gives no offset).
func jsonColumn(err error) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return max(se.Offset, 1)
	case errors.As(err, &te):
		return max(te.Offset, 1)
	}
	return 1
}

// MaxNodes bounds the cluster size a trace may describe.
const MaxNodes = 4096

// ReadFile reads a trace file.
// "-" is standard input. At most ordo.MaxTraceBytes (plus one byte) are
// read: a longer input fails with *ordo.InputTooLargeError.
func ReadFile(path string) (*Trace, error) {
	f, err := ordo.OpenInput(path, nil, ordo.MaxTraceBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Describe is a one-line human description of e: "e12 n2 recv ELECTION from n1".
func (e *Event) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "e%d %v %s", e.ID, e.Node, e.Kind)
	switch e.Kind {
	case Send:
		fmt.Fprintf(&b, " %s to %v", e.MsgKind, e.Peer)
	case Recv:
		fmt.Fprintf(&b, " %s from %v", e.MsgKind, e.Peer)
	case Drop:
		fmt.Fprintf(&b, " %s to %v (%s)", e.MsgKind, e.Peer, e.Name)
	case Timer, Note, Fault:
		fmt.Fprintf(&b, " %s", e.Name)
		for _, a := range e.Attrs {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		}
	}
	if e.Kind.Stamped() {
		fmt.Fprintf(&b, " L=%d V=%v", e.Lamport, e.Vector)
	}
	return b.String()
}
