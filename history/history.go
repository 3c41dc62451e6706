package history

import (
	"fmt"
	"math"
	"sort"

	"ordo"
	"ordo/trace"
)

// Func is what an operation does to one key.
type Func string

// The functions of the key-value model. A register is a one-key store.
const (
	Get Func = "get" // read the key's value; result: the value ("" never written)
	Put Func = "put" // write Value
	CAS Func = "cas" // if the value is Expect, write Value (ok); else fail
	// Delete removes the key: its value is "" again, as before any write
	// (Value is "").
	Delete Func = "delete"
)

// Valid reports whether f is a known function.
func (f Func) Valid() bool { return f == Get || f == Put || f == CAS || f == Delete }

// Note kinds of the convention. Every note carries "id"; an invoke also
// "proc", "f", "key" and for writes "value" (and "expect" for cas); an ok
// of a get "result"; a fail or info "reason".
const (
	NoteInvoke = "op-invoke"
	NoteOK     = "op-ok"
	NoteFail   = "op-fail"
	NoteInfo   = "op-info"
)

// Bounds on what a history may hold: a trace is input (a file, a merged
// live run), so every size read from it is limited.
const (
	MaxOps       = 1 << 20 // operations in one history
	MaxKeyLen    = 256     // bytes of a key
	MaxValueLen  = 4 << 10 // bytes of a value, expected value, result or reason
	MaxProcesses = 1 << 12 // logical processes of one client (0..MaxProcesses-1)
)

// Open is the Return time of an operation whose outcome is unknown (info,
// or still pending when the trace ends): it may take effect at any time
// after its call, as porcupine expects of a crashed operation.
const Open int64 = math.MaxInt64

// Op is what a client asks: the operation's identity and input.
type Op struct {
	// ID is unique per client node over the whole run, restarts included
	// (a client derives it from a durable boot counter). 0..2^53 so that
	// it survives JSON's float64 numbers.
	ID int64
	// Process is the client's logical process: each process has at most
	// one operation in flight, so a client with concurrency c uses
	// processes 0..c-1.
	Process int
	F       Func
	Key     string
	Value   string // put and cas: the value written
	Expect  string // cas: the value required
	// Stale marks a get the client asked to be served from any replica's
	// own state (a serializable read, possibly stale): the checkers do
	// not hold it to real time (linearizable and no-lost-write skip it).
	Stale bool
}

// Invoke records that op was issued, now.
func Invoke(env ordo.Env, op Op) {
	attrs := []any{"id", op.ID, "proc", op.Process, "f", string(op.F), "key", op.Key}
	if op.F != Get {
		attrs = append(attrs, "value", op.Value)
	}
	if op.F == CAS {
		attrs = append(attrs, "expect", op.Expect)
	}
	if op.Stale {
		attrs = append(attrs, "stale", true)
	}
	env.Note(NoteInvoke, attrs...)
}

// OK records that op completed, now, with result (a get's value; "" for
// writes).
func OK(env ordo.Env, op Op, result string) {
	if op.F == Get {
		env.Note(NoteOK, "id", op.ID, "result", result)
		return
	}
	env.Note(NoteOK, "id", op.ID)
}

// Fail records that op certainly did not take effect (a cas whose expected
// value did not match, a request refused before any replica applied it).
func Fail(env ordo.Env, op Op, reason string) {
	env.Note(NoteFail, "id", op.ID, "reason", reason)
}

// Info records that op's outcome is unknown (a timeout, a lost
// coordinator): it may have taken effect, at any time after its invoke.
func Info(env ordo.Env, op Op, reason string) {
	env.Note(NoteInfo, "id", op.ID, "reason", reason)
}

// Outcome is how an operation ended.
type Outcome uint8

// The outcomes.
const (
	OutcomeOK   Outcome = iota + 1 // it took effect, with Result
	OutcomeFail                    // it certainly did not take effect
	OutcomeInfo                    // unknown (info, a crash of the client, or pending at the end)
)

func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeFail:
		return "fail"
	case OutcomeInfo:
		return "info"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Operation is one operation of a history: its input, its outcome and
// its interval of true time.
type Operation struct {
	Op
	Client  ordo.NodeID
	Outcome Outcome
	Result  string // ok get: the value read
	Reason  string // fail, info: why
	// Call and Return bound the operation in time, ns (the trace's T:
	// true time in the simulator, wall time live). Return is Open when
	// the outcome is unknown.
	Call, Return int64
	// CallEvent and ReturnEvent are the trace event ids of the invoke and
	// of the completion (-1 when there is none: a crash or the trace's
	// end left it open).
	CallEvent, ReturnEvent int
}

func (o Operation) String() string {
	s := fmt.Sprintf("%v#%d %s(%q", o.Client, o.ID, o.F, o.Key)
	switch o.F {
	case Put:
		s += fmt.Sprintf(", %q", o.Value)
	case CAS:
		s += fmt.Sprintf(", %q→%q", o.Expect, o.Value)
	}
	s += ")"
	switch o.Outcome {
	case OutcomeOK:
		if o.F == Get {
			s += fmt.Sprintf(" → %q", o.Result)
		} else {
			s += " ok"
		}
	default:
		s += " " + o.Outcome.String()
	}
	return s
}

// Error is a history that breaks the convention: the event and why.
type Error struct {
	Event int // trace event id
	Node  ordo.NodeID
	Msg   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("history: event %d (%v): %s", e.Event, e.Node, e.Msg)
}

type opKey struct {
	client ordo.NodeID
	id     int64
}

type procKey struct {
	client ordo.NodeID
	proc   int
}

// Reader rebuilds a history from trace events fed in trace order (a
// stored trace or a running one). The zero value is not usable: call
// NewReader.
type Reader struct {
	ops    []Operation
	index  map[opKey]int   // every op ever invoked → index in ops
	open   map[opKey]int   // ops in flight → index in ops
	flight map[procKey]int // process → its op in flight (index in ops)
	err    error
}

// NewReader returns an empty Reader.
func NewReader() *Reader {
	return &Reader{index: map[opKey]int{}, open: map[opKey]int{}, flight: map[procKey]int{}}
}

// Add feeds one event. Events other than the convention's notes and
// crashes are ignored. After the first error every call returns it.
func (r *Reader) Add(e *trace.Event) error {
	if r.err != nil {
		return r.err
	}
	if err := r.add(e); err != nil {
		r.err = err
	}
	return r.err
}

func (r *Reader) add(e *trace.Event) error {
	errf := func(format string, a ...any) error {
		return &Error{Event: e.ID, Node: e.Node, Msg: fmt.Sprintf(format, a...)}
	}
	switch e.Kind {
	case trace.Crash:
		// A crashed client never learns its ops' outcomes: each may
		// still take effect, so each is open-ended.
		r.closeAll(e.Node)
		return nil
	case trace.Note:
	default:
		return nil
	}
	switch e.Name {
	case NoteInvoke, NoteOK, NoteFail, NoteInfo:
	default:
		return nil
	}
	id, err := intAttr(e.Attrs, "id", 0, 1<<53)
	if err != nil {
		return errf("%s: %v", e.Name, err)
	}
	k := opKey{e.Node, id}
	if e.Name == NoteInvoke {
		if _, dup := r.index[k]; dup {
			return errf("op %d invoked twice by %v", id, e.Node)
		}
		if len(r.ops) >= MaxOps {
			return errf("more than %d operations", MaxOps)
		}
		op, err := readOp(e.Attrs)
		if err != nil {
			return errf("invoke of op %d: %v", id, err)
		}
		op.ID = id
		pk := procKey{e.Node, op.Process}
		if j, busy := r.flight[pk]; busy {
			return errf("process %d of %v invokes op %d while op %d is in flight (a process runs one op at a time)", op.Process, e.Node, id, r.ops[j].ID)
		}
		r.index[k] = len(r.ops)
		r.open[k] = len(r.ops)
		r.flight[pk] = len(r.ops)
		r.ops = append(r.ops, Operation{Op: op, Client: e.Node, Call: e.T, Return: Open, CallEvent: e.ID, ReturnEvent: -1})
		return nil
	}
	i, ok := r.open[k]
	if !ok {
		if _, ever := r.index[k]; ever {
			return errf("%s for op %d of %v, which has already completed", e.Name, id, e.Node)
		}
		return errf("%s for op %d of %v without an invoke", e.Name, id, e.Node)
	}
	o := &r.ops[i]
	if e.T < o.Call {
		return errf("op %d completes at %d ns, before its invoke at %d ns", id, e.T, o.Call)
	}
	switch e.Name {
	case NoteOK:
		o.Outcome, o.Return = OutcomeOK, e.T
		if o.F == Get {
			res, err := strAttr(e.Attrs, "result", true)
			if err != nil {
				return errf("ok of get %d: %v", id, err)
			}
			o.Result = res
		}
	case NoteFail, NoteInfo:
		reason, err := strAttr(e.Attrs, "reason", false)
		if err != nil {
			return errf("%s of op %d: %v", e.Name, id, err)
		}
		o.Reason = reason
		if e.Name == NoteFail {
			o.Outcome, o.Return = OutcomeFail, e.T
		} else {
			o.Outcome = OutcomeInfo // Return stays Open: it may still take effect
		}
	}
	o.ReturnEvent = e.ID
	delete(r.open, k)
	delete(r.flight, procKey{o.Client, o.Process})
	return nil
}

// closeAll makes every op of node in flight open-ended.
func (r *Reader) closeAll(node ordo.NodeID) {
	for k, i := range r.open {
		if k.client != node {
			continue
		}
		o := &r.ops[i]
		o.Outcome, o.Return, o.Reason = OutcomeInfo, Open, "client crashed"
		delete(r.open, k)
		delete(r.flight, procKey{o.Client, o.Process})
	}
}

// Operations returns the history so far, in invocation order; ops still in
// flight are reported with outcome info (pending: open-ended). The slice
// is a copy.
func (r *Reader) Operations() ([]Operation, error) {
	if r.err != nil {
		return nil, r.err
	}
	out := make([]Operation, len(r.ops))
	copy(out, r.ops)
	for _, i := range r.open {
		out[i].Outcome, out[i].Reason = OutcomeInfo, "pending at the end of the trace"
	}
	return out, nil
}

// FromTrace reads the history of t: every operation its clients recorded,
// in invocation order. An error (*Error) names the first event that
// breaks the convention.
func FromTrace(t *trace.Trace) ([]Operation, error) {
	r := NewReader()
	for i := range t.Events {
		if err := r.Add(&t.Events[i]); err != nil {
			return nil, err
		}
	}
	return r.Operations()
}

// ByKey splits ops by key, keys sorted; each part keeps the input order.
func ByKey(ops []Operation) (keys []string, parts [][]Operation) {
	m := map[string][]Operation{}
	for _, o := range ops {
		m[o.Key] = append(m[o.Key], o)
	}
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, m[k])
	}
	return keys, parts
}

func readOp(a trace.Attrs) (Op, error) {
	var op Op
	p, err := intAttr(a, "proc", 0, MaxProcesses-1)
	if err != nil {
		return op, err
	}
	op.Process = int(p)
	f, err := strAttr(a, "f", false)
	if err != nil {
		return op, err
	}
	op.F = Func(f)
	if !op.F.Valid() {
		return op, fmt.Errorf("f=%q is not get, put or cas, nor delete", f)
	}
	if op.Key, err = strAttr(a, "key", false); err != nil {
		return op, err
	}
	if len(op.Key) > MaxKeyLen {
		return op, fmt.Errorf("key of %d bytes exceeds %d", len(op.Key), MaxKeyLen)
	}
	if op.F != Get {
		if op.Value, err = strAttr(a, "value", true); err != nil {
			return op, err
		}
	}
	if op.F == CAS {
		if op.Expect, err = strAttr(a, "expect", true); err != nil {
			return op, err
		}
	}
	switch v := a.Get("stale").(type) {
	case nil:
	case bool:
		op.Stale = v
	default:
		return op, fmt.Errorf("stale=%v is not a bool", v)
	}
	return op, nil
}

// strAttr reads a string attribute; required means it must be present.
// Missing optional attributes read as "".
func strAttr(a trace.Attrs, key string, required bool) (string, error) {
	v := a.Get(key)
	if v == nil {
		if required {
			return "", fmt.Errorf("no %q attribute", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s=%v is not a string", key, v)
	}
	if len(s) > MaxValueLen {
		return "", fmt.Errorf("%s of %d bytes exceeds %d", key, len(s), MaxValueLen)
	}
	return s, nil
}

// intAttr reads an integer attribute in [lo, hi]. JSON gives float64:
// only integral values are accepted.
func intAttr(a trace.Attrs, key string, lo, hi int64) (int64, error) {
	var n int64
	switch v := a.Get(key).(type) {
	case nil:
		return 0, fmt.Errorf("no %q attribute", key)
	case int:
		n = int64(v)
	case int64:
		n = v
	case float64:
		if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
			return 0, fmt.Errorf("%s=%v is not an integer in %d..%d", key, v, lo, hi)
		}
		n = int64(v)
	default:
		return 0, fmt.Errorf("%s=%v is not an integer", key, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s=%d out of range %d..%d", key, n, lo, hi)
	}
	return n, nil
}

// IsNote reports whether a note kind belongs to the convention.
func IsNote(kind string) bool {
	return kind == NoteInvoke || kind == NoteOK || kind == NoteFail || kind == NoteInfo
}
