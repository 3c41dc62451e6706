package check

import (
	"fmt"
	"sort"
	"strings"

	"ordo/trace"
)

// Verdict is what a checker concluded about a run.
type Verdict string

const (
	// Pass: the property held on the whole run.
	Pass Verdict = "pass"
	// Fail: the property was broken; Violations say where.
	Fail Verdict = "fail"
	// Unknown: no verdict could be reached (a search timed out). Never a
	// pass.
	Unknown Verdict = "unknown"
	// NotApplicable: the property cannot be judged on this run (a check of
	// leader elections on a broadcast run; liveness where no majority of
	// servers is up and connected at the end). Summary says why.
	NotApplicable Verdict = "not-applicable"
)

// Result is one checker's verdict on one run.
type Result struct {
	Check string `json:"check"`
	// Verdict is pass, fail, unknown or not-applicable. Checkers may
	// leave it empty: Run and Session fill it from OK and Unknown.
	Verdict Verdict `json:"verdict,omitempty"`
	// OK is true exactly when Verdict is pass (kept for older readers).
	OK         bool        `json:"ok"`
	Unknown    bool        `json:"unknown,omitempty"` // no verdict (a search timed out): never a pass, OK is false
	Violations []Violation `json:"violations,omitempty"`
	// Summary is one line for reports ("leader n4 from 1.2s; 1 election").
	Summary string `json:"summary,omitempty"`
}

// Failed reports whether the checker found a violation (unknown and
// not-applicable are not failures, nor passes).
func (r *Result) Failed() bool { return r.Verdict == Fail }

// normalize fills Verdict from OK and Unknown for checkers that set only
// those, and OK from Verdict for the others, so both always agree.
func (r *Result) normalize() {
	switch {
	case r.Verdict == "" && r.Unknown:
		r.Verdict = Unknown
	case r.Verdict == "" && r.OK:
		r.Verdict = Pass
	case r.Verdict == "":
		r.Verdict = Fail
	}
	r.OK = r.Verdict == Pass
	r.Unknown = r.Verdict == Unknown
}

// Refuse is the result of a check that does not apply to a run: why says
// what it judges and what the run is.
func Refuse(name string, why error) Result {
	return Result{Check: name, Verdict: NotApplicable, Summary: "not applicable: " + why.Error()}
}

// Violation is one broken promise, with the events that show it.
type Violation struct {
	Message string `json:"message"`
	Events  []int  `json:"events,omitempty"` // trace event ids
	From    int64  `json:"from_ns,omitempty"`
	To      int64  `json:"to_ns,omitempty"`
	// File is a file the checker wrote that shows the violation (the
	// linearizable checker's porcupine visualization), or "".
	File string `json:"file,omitempty"`
}

// Checker says whether a property held on a run. Every checker can judge a
// stored trace (Check); one that also implements Online judges a run as
// it happens, with no trace kept, and Check is then Replay over the stored
// events, so both ways give the same verdict by construction.
type Checker interface {
	Name() string
	Doc() string
	Check(t *trace.Trace) Result
}

// Online is a checker that follows a run event by event.
type Online interface {
	Checker
	// Start begins judging one run described by m. An error means the
	// check does not apply to the run (the message says why); it is
	// reported as NotApplicable.
	Start(m *trace.Meta) (Judge, error)
}

// Applier is implemented by stored-trace checkers that apply to some runs
// only: a non-nil error refuses the run (NotApplicable).
type Applier interface {
	Applies(m *trace.Meta) error
}

// Judge follows one run: Observe sees every event in time order (the
// pointer is valid only during the call: copy what you keep), Result
// gives the verdict once the run is over.
type Judge interface {
	Observe(e *trace.Event)
	Result() Result
}

// Interest is implemented by a Judge that needs only some kinds of events.
// Wants is asked before each event and may change as the run goes (a judge
// that needs sends only while two leaders overlap, say). A runtime that
// honours it (the simulator with its trace off) skips building the events
// no judge of a Session wants; their IDs still count, so a violation names
// the same events as over the stored trace. A judge must give the same
// verdict whether or not it is shown the events it does not want.
type Interest interface {
	Wants(k trace.Kind) bool
}

// VectorFree is implemented by a Judge that never reads vector stamps, so a
// runtime may skip maintaining them (O(nodes) a message).
type VectorFree interface {
	VectorFree()
}

// Ender is implemented by a Judge that needs the time of the run's last
// event, which it may not have been shown (see Interest): End(t) comes
// before Result, with t the true time of the last event, ns.
type Ender interface {
	End(t int64)
}

var checkers = map[string]Checker{}

// Register makes a checker known by name (from an init function).
func Register(c Checker) {
	if _, dup := checkers[c.Name()]; dup {
		panic("check: registered twice: " + c.Name())
	}
	checkers[c.Name()] = c
}

// Lookup finds a checker; the error lists the valid names.
func Lookup(name string) (Checker, error) {
	if c, ok := checkers[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unknown check %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Names lists registered checkers, sorted.
func Names() []string {
	var out []string
	for n := range checkers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Run runs the named checkers on t, in the order given, through the same
// Session an online run uses. A trace whose events are out of time order
// (a merged live trace with skewed clocks) is judged in true-time order
// (see InTimeOrder); t itself is not changed.
func Run(t *trace.Trace, names []string) ([]Result, error) {
	s, err := NewSession(names)
	if err != nil {
		return nil, err
	}
	t = InTimeOrder(t)
	s.Begin(t.Meta)
	for i := range t.Events {
		s.Observe(&t.Events[i])
	}
	return s.Results(), nil
}

// Replay judges a stored trace with an online checker: what Check does for
// every Online checker.
func Replay(c Online, t *trace.Trace) Result {
	t = InTimeOrder(t)
	m := t.Meta
	j, err := c.Start(&m)
	if err != nil {
		return Refuse(c.Name(), err)
	}
	for i := range t.Events {
		j.Observe(&t.Events[i])
	}
	r := j.Result()
	r.normalize()
	return r
}

// InTimeOrder returns t if its events are in true-time order, else a copy
// with its events stably sorted by T (event ids kept, so findings still
// name the trace's lines).
func InTimeOrder(t *trace.Trace) *trace.Trace {
	if OutOfOrder(t) < 0 {
		return t
	}
	c := &trace.Trace{Meta: t.Meta, Events: append([]trace.Event(nil), t.Events...)}
	sort.SliceStable(c.Events, func(i, j int) bool { return c.Events[i].T < c.Events[j].T })
	return c
}

// OutOfOrder returns the index of the first event of t earlier in true
// time than the one before it, or -1 when t is in time order.
func OutOfOrder(t *trace.Trace) int {
	for i := 1; i < len(t.Events); i++ {
		if t.Events[i].T < t.Events[i-1].T {
			return i
		}
	}
	return -1
}

// Session runs checkers over one run as it happens: Begin with the run's
// description, Observe every event in time order, then Results. It
// implements sim.Observer, so a simulation can be judged with tracing off.
// Stored-trace checkers (not Online) are fed a trace the session builds
// from the events it sees.
type Session struct {
	names  []string
	cs     []Checker
	judges []Judge  // nil where refused or stored
	out    []Result // refusals, by index
	stored *trace.Trace
	last   int64
	begun  bool
	err    error
}

// NewSession prepares the named checkers; the error names an unknown one.
func NewSession(names []string) (*Session, error) {
	s := &Session{names: names}
	for _, n := range names {
		c, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		s.cs = append(s.cs, c)
	}
	return s, nil
}

// Begin starts every checker on the run described by m.
func (s *Session) Begin(m trace.Meta) {
	if s.begun {
		panic("check: Session.Begin called twice")
	}
	s.begun = true
	s.judges = make([]Judge, len(s.cs))
	s.out = make([]Result, len(s.cs))
	for i, c := range s.cs {
		mm := m
		if o, ok := c.(Online); ok {
			j, err := o.Start(&mm)
			if err != nil {
				s.out[i] = Refuse(c.Name(), err)
				continue
			}
			s.judges[i] = j
			continue
		}
		if a, ok := c.(Applier); ok {
			if err := a.Applies(&mm); err != nil {
				s.out[i] = Refuse(c.Name(), err)
				continue
			}
		}
		if s.stored == nil {
			s.stored = &trace.Trace{Meta: m}
		}
	}
}

// Observe shows e to every checker. Events must come in time order; the
// first that does not is an error Results reports.
func (s *Session) Observe(e *trace.Event) {
	if !s.begun {
		panic("check: Session.Observe before Begin")
	}
	if e.T < s.last && s.err == nil {
		s.err = fmt.Errorf("check: event %d at %dns came after one at %dns: events must be in time order", e.ID, e.T, s.last)
	}
	s.last = max(s.last, e.T)
	for _, j := range s.judges {
		if j != nil {
			j.Observe(e)
		}
	}
	if s.stored != nil {
		c := *e
		c.Vector = append(c.Vector[:0:0], e.Vector...) // the runtime may reuse it
		s.stored.Events = append(s.stored.Events, c)
	}
}

// Results ends the run and returns every checker's verdict, in the order
// of the names given. It panics if events came out of time order (a
// runtime bug: Run sorts stored traces first).
// Wants reports whether some judge of the session needs events of kind k
// now (check.Interest); a judge without Interest, or a checker that judges
// only a stored trace, wants every event.
func (s *Session) Wants(k trace.Kind) bool {
	if s.stored != nil {
		return true
	}
	for _, j := range s.judges {
		if j == nil {
			continue
		}
		in, ok := j.(Interest)
		if !ok || in.Wants(k) {
			return true
		}
	}
	return false
}

// NeedsVectors reports whether some judge reads vector stamps.
func (s *Session) NeedsVectors() bool {
	if s.stored != nil {
		return true
	}
	for _, j := range s.judges {
		if j == nil {
			continue
		}
		if _, free := j.(VectorFree); !free {
			return true
		}
	}
	return false
}

// End tells the judges the true time of the run's last event (ns), which
// a runtime that skipped unwanted events may not have shown them.
func (s *Session) End(t int64) {
	if t < s.last {
		return
	}
	s.last = t
	for _, j := range s.judges {
		if e, ok := j.(Ender); ok {
			e.End(t)
		}
	}
}

func (s *Session) Results() []Result {
	if !s.begun {
		panic("check: Session.Results before Begin")
	}
	if s.err != nil {
		panic(s.err)
	}
	out := make([]Result, len(s.cs))
	for i, c := range s.cs {
		switch {
		case s.out[i].Check != "":
			out[i] = s.out[i]
		case s.judges[i] != nil:
			out[i] = s.judges[i].Result()
		default:
			out[i] = c.Check(s.stored)
		}
		out[i].Check = c.Name()
		out[i].normalize()
	}
	return out
}

// MaxReported bounds the violations one checker lists; the summary counts
// the rest.
const MaxReported = 50
