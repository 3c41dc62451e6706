package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"ordo"
	"ordo/sim"
	"ordo/trace"
)

// Stepper drives one traced simulation of a scenario one queue item at a
// time, forward and back, for a debugger. Its position is the number of
// sim.Sim.Step calls since the run began (0: the cluster booted, nothing
// processed). Forward it continues the run; backward it builds the run
// again from the seed and re-executes it to the position, which, the
// simulator being deterministic, reproduces it bit for bit. The run ends
// at the scenario's duration: an item due after it is never taken.
//
// Faults can be injected at the current position (Inject). Each is
// recorded as (position, fault) and performed again whenever a run passes
// that position, so stepping to k after an injection at j < k gives the
// same states and trace whichever way k was reached. Stepping back before
// j keeps the injection in the list: it happens again when the run
// passes j. SetSeed starts a new run and drops them.
//
// A Stepper is not safe for concurrent use.
type Stepper struct {
	sc   *Scenario
	seed uint64
	r    *run
	pos  int
	end  bool
	last sim.Stepped
	// inj are the injections in position order (equal positions in
	// injection order); the first applied of them were performed in r.
	inj     []Injection
	applied int
	// err stops the run going forward: a fault that failed, the event
	// bound. Stepping back clears it (the run is built again).
	err error
}

// Injection is a fault injected into a stepped run: performed after Pos
// steps, before the next, written in the scenario files' notation (see
// Stepper.Inject).
type Injection struct {
	Pos   int    `json:"pos"`
	Fault string `json:"fault"`
	f     *Fault // parsed
}

// NodeView is one node of a stepped run as data.
type NodeView struct {
	ID   ordo.NodeID `json:"id"`
	Role string      `json:"role"` // server, client or service
	// Status is up, paused (up but acting on nothing), crashed or absent
	// (not yet joined, or left).
	Status string `json:"status"`
	// State is the node's protocol state (ordo.StateReporter), nil when
	// it is down or its protocol reports none.
	State any `json:"state"`
}

// MaxInjections bounds the faults injected into one Stepper.
const MaxInjections = 10_000

// NewStepper builds a traced run of sc with seed at position 0: every
// node booted, nothing processed. Errors: a nil scenario, a configuration
// the simulator refuses or a nemesis it cannot draw (naming sc.File).
func NewStepper(sc *Scenario, seed uint64) (*Stepper, error) {
	if sc == nil {
		return nil, errors.New("scenario: NewStepper of a nil scenario")
	}
	st := &Stepper{sc: sc, seed: seed}
	if err := st.rebuild(); err != nil {
		return nil, err
	}
	return st, nil
}

// rebuild starts the run again at position 0, with the injections at 0.
func (st *Stepper) rebuild() error {
	if st.r != nil {
		st.r.s.Release()
	}
	r, err := st.sc.start(st.seed, true, 0, true)
	if err != nil {
		st.r, st.err = nil, err
		return err
	}
	st.r, st.pos, st.end, st.last, st.applied, st.err = r, 0, false, sim.Stepped{}, 0, nil
	return st.arrive()
}

// arrive settles the run at its new position: whether it ended, then
// the injections recorded there, each settling it again. Inject does the
// same for a new one, so a position is reached the same way however the
// stepper got there.
func (st *Stepper) arrive() error {
	st.settle()
	for st.applied < len(st.inj) && st.inj[st.applied].Pos == st.pos {
		in := st.inj[st.applied]
		if err := st.r.fire(in.f, -1); err != nil {
			st.err = fmt.Errorf("injected fault %q at position %d: %w", in.Fault, in.Pos, err)
			return st.err
		}
		st.applied++
		st.settle()
	}
	return st.err
}

// settle ends the run when no item is due by the scenario's duration, and
// then moves its clock to the duration, as Run's last instant.
func (st *Stepper) settle() {
	s := st.r.s
	at, ok := s.Pending()
	st.end = !ok || at > st.sc.Duration
	if st.end && s.Now() < st.sc.Duration {
		_ = s.RunUntil(st.sc.Duration) // processes nothing: no item is due by then
	}
}

// step takes one step forward; the run must not have ended.
func (st *Stepper) step() error {
	x, ok, err := st.r.s.Step()
	if err != nil {
		st.err = fmt.Errorf("%s: position %d: %w", st.sc.File, st.pos, err)
		return st.err
	}
	if !ok { // cannot happen: settle saw an item due
		st.end = true
		return nil
	}
	st.pos++
	st.last = x
	if st.r.err != nil { // a scenario fault failed in this step
		st.err = st.r.err
		st.settle()
		return st.err
	}
	return st.arrive()
}

// StepTo moves the run to position k (k ≥ 0 steps from the start). Forward
// it continues; backward it re-executes the run from the seed, performing
// the injections recorded at or before k at their positions. It stops
// early, with no error, where the run ends (End: the next item is due
// after the scenario's duration, or none is left), so Pos may be below k.
// Errors: k < 0; a scenario fault or an injected one that failed, or the
// event bound (sim.ErrEventLimit) reached: the run stays at the position
// where that happened, and stepping forward again returns the same error
// (stepping back builds the run again).
func (st *Stepper) StepTo(k int) error {
	if k < 0 {
		return fmt.Errorf("scenario: step to position %d: positions start at 0", k)
	}
	if st.r == nil || k < st.pos {
		if err := st.rebuild(); err != nil {
			return err
		}
	}
	for st.pos < k && !st.end {
		if st.err != nil {
			return st.err
		}
		if err := st.step(); err != nil {
			return err
		}
	}
	return nil
}

// Pos is the current position: the steps taken since the run began.
func (st *Stepper) Pos() int { return st.pos }

// End reports whether the run has ended: no item is due by the scenario's
// duration (Now is then the duration).
func (st *Stepper) End() bool { return st.end }

// Now is the run's true time since it began: the time of the last step,
// or the scenario's duration once the run has ended.
func (st *Stepper) Now() time.Duration {
	if st.r == nil {
		return 0
	}
	return st.r.s.Now()
}

// Seed is the run's seed.
func (st *Stepper) Seed() uint64 { return st.seed }

// Scenario is the scenario the stepper runs.
func (st *Stepper) Scenario() *Scenario { return st.sc }

// Trace is the trace of the run so far: the Meta and every event up to
// the current position. It is the run's own: it grows as the run steps
// forward, and a step back builds a new run (and a new Trace), leaving
// this one as it was. Do not modify it. nil only after SetSeed failed.
func (st *Stepper) Trace() *trace.Trace {
	if st.r == nil {
		return nil
	}
	return st.r.s.Trace()
}

// Last is what the step that reached the current position processed; the
// zero Stepped at position 0.
func (st *Stepper) Last() sim.Stepped { return st.last }

// Struck lists, in time order, the node each fault aimed at `leader`
// (scenario or injected) struck so far, as Result.Struck.
func (st *Stepper) Struck() []Struck {
	if st.r == nil {
		return nil
	}
	return slices.Clone(st.r.struck)
}

// States returns every node of the cluster, servers, then clients, then
// services, in ID order (1..), as it stands at the current position.
func (st *Stepper) States() []NodeView {
	if st.r == nil {
		return nil
	}
	s := st.r.s
	ros := s.Roster()
	out := make([]NodeView, 0, s.Size())
	for i := 1; i <= s.Size(); i++ {
		id := ordo.NodeID(i)
		v := NodeView{ID: id, Status: "up"}
		if role, ok := ros.RoleOf(id); ok {
			v.Role = role.String()
		}
		switch {
		case s.Absent(id):
			v.Status = "absent"
		case !s.Up(id):
			v.Status = "crashed"
		case s.Paused(id):
			v.Status = "paused"
		}
		v.State, _ = s.NodeState(id)
		out = append(out, v)
	}
	return out
}

// Injected lists the injections recorded, in position order (equal
// positions in the order injected), including those beyond the current
// position: enough to rebuild the run (NewStepper, then StepTo and Inject
// each in turn), as a URL does.
func (st *Stepper) Injected() []Injection { return slices.Clone(st.inj) }

// Inject performs fault f at the current position, before the next step,
// and records it there (see Stepper). f is one entry of a scenario file's
// faults list without its at (the current time is its time), in either of
// two spellings:
//
//   - kind, then its value, then any extra fields as name value pairs:
//     "crash 2", "restart 2", "pause leader for 2s", "resume 2",
//     "partition 1,2/3,4,5", "cut 1,2->3", "bridge 1,2/4,5 via 3",
//     "heal", "clock_jump 3 by -2s", "link 1->2 loss 0.5 latency 10ms",
//     "join 6", "leave 6", "fail_sync 2" (storage faults need the disk
//     model);
//   - the YAML mapping itself: "{pause: leader, for: 2s}" (or without the
//     braces: "crash: 2").
//
// A fault aimed at `leader` strikes the leader at that moment (Leader); an
// injected `restart leader` restarts the node the latest crash: leader
// struck. A link fault changes the fields it names on the link as it
// stands then. Errors: the scenario parser's message for a fault it
// refuses (located in the text: "injected fault:1:7: crash: node 9 out of
// range ..."); one the cluster refuses when performed (then nothing is
// recorded and the run is as before); a run stopped by an earlier error;
// more than MaxInjections.
func (st *Stepper) Inject(f string) error {
	if st.err != nil {
		return fmt.Errorf("inject %q: the run stopped: %w", f, st.err)
	}
	if len(st.inj) >= MaxInjections {
		return fmt.Errorf("inject %q: %d faults injected already, the bound is %d", f, len(st.inj), MaxInjections)
	}
	flt, err := st.sc.parseInjected(f, st.r.s.Now())
	if err != nil {
		return err
	}
	in := Injection{Pos: st.pos, Fault: f, f: flt}
	if err := st.r.fire(flt, -1); err != nil {
		// Undo what it may have half done: the run again, without it.
		err = fmt.Errorf("inject %q at position %d: %w", f, st.pos, err)
		pos := st.pos
		if rerr := st.rebuild(); rerr != nil {
			return errors.Join(err, rerr)
		}
		if rerr := st.StepTo(pos); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	// After every injection at or before this position: this one was
	// performed last.
	st.inj = slices.Insert(st.inj, st.applied, in)
	st.applied++
	st.settle()
	return nil
}

// SetSeed starts a new run with seed at position 0. The injections are
// dropped: a position names a moment of one seed's run. Errors as
// NewStepper's.
func (st *Stepper) SetSeed(seed uint64) error {
	st.seed = seed
	st.inj = nil
	return st.rebuild()
}

// injectFile labels the errors of an injected fault's text.
const injectFile = "injected fault"

// parseInjected parses text, one fault in the notation Stepper.Inject
// describes, with the scenario parser, as a fault at time at.
func (sc *Scenario) parseInjected(text string, at time.Duration) (f *Fault, err error) {
	p := &parser{file: injectFile, nodes: sc.Nodes + sc.ClientCount() + len(sc.Services), servers: sc.Nodes, nservices: len(sc.Services)}
	if len(text) > 1000 {
		return nil, &Error{File: injectFile, Line: 1, Column: 1, Msg: fmt.Sprintf("%d bytes, the bound is 1000", len(text))}
	}
	if e := p.scanText([]byte(text)); e != nil {
		return nil, e
	}
	if strings.ContainsAny(text, "\n\r") {
		return nil, &Error{File: injectFile, Line: 1, Column: 1, Msg: "one fault on one line, like crash 2"}
	}
	var n *yaml.Node
	if strings.Contains(text, ":") {
		n, err = p.injectedYAML(text)
	} else {
		n, err = p.injectedWords(text)
	}
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "at" {
			return nil, p.errf(k, "at", "an injected fault happens at the current step: leave out at")
		}
	}
	n.Content = append(n.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "at", Line: 1, Column: 1},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: at.String(), Line: 1, Column: 1})
	x, err := p.fault(sc, n, "")
	if err != nil {
		return nil, err
	}
	x.follows = -1 // an injected restart: leader follows the latest crash: leader
	return &x, nil
}

// injectedYAML reads "{crash: 2}" or "crash: 2" as a one-line YAML mapping.
func (p *parser) injectedYAML(text string) (n *yaml.Node, err error) {
	src, shift := text, 0
	if t := strings.TrimSpace(text); !strings.HasPrefix(t, "{") {
		src, shift = "{"+text+"}", 1
	}
	var doc yaml.Node
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = &Error{File: p.file, Line: 1, Column: 1, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
			}
		}()
		if e := yaml.Unmarshal([]byte(src), &doc); e != nil {
			err = p.yamlErr(e)
		}
	}()
	if err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: p.file, Line: 1, Column: 1, Msg: fmt.Sprintf("want one fault like crash 2 or {pause: 2, for: 1s}, got %q", text)}
	}
	root := doc.Content[0]
	if err := p.noAliases(root, 0); err != nil {
		return nil, err
	}
	// Columns in text, not in the braced source.
	for _, x := range root.Content {
		x.Column = max(x.Column-shift, 1)
	}
	return root, nil
}

// injectedWords reads "kind value [field value]...": "pause 2 for 1s".
// Each word becomes the YAML scalar it would be in a file, located at its
// column for the parser's errors.
func (p *parser) injectedWords(text string) (*yaml.Node, error) {
	type word struct {
		s   string
		col int
	}
	var ws []word
	for i := 0; i < len(text); {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		j := i
		for j < len(text) && text[j] != ' ' && text[j] != '\t' {
			j++
		}
		if j > i {
			ws = append(ws, word{text[i:j], i + 1})
		}
		i = j
	}
	if len(ws) == 0 {
		return nil, &Error{File: p.file, Line: 1, Column: 1, Msg: fmt.Sprintf("empty fault: write one like crash 2, partition 1,2/3,4,5 or heal (kinds: %s)", strings.Join(FaultKinds, ", "))}
	}
	scalar := func(s string, col int) *yaml.Node {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: 1, Column: col}
		n.Tag = n.ShortTag()
		return n
	}
	kind := ws[0]
	if !slices.Contains(FaultKinds, kind.s) {
		return nil, p.errf(&yaml.Node{Line: 1, Column: kind.col}, "", "unknown fault kind %q (valid kinds: %s)", kind.s, strings.Join(FaultKinds, ", "))
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	extras := faultExtras[kind.s]
	i := 1
	var val []string
	col := kind.col + len(kind.s) + 1
	// A node, a link or a flag is one word; groups may be spaced
	// ("1,2 / 3,4,5"), up to the first extra field's name.
	multi := kind.s == "partition" || kind.s == "cut" || kind.s == "bridge"
	for ; i < len(ws) && !slices.Contains(extras, ws[i].s) && (multi || len(val) == 0); i++ {
		if len(val) == 0 {
			col = ws[i].col
		}
		val = append(val, ws[i].s)
	}
	v := strings.Join(val, " ")
	if v == "" && kind.s == "heal" {
		v = "true"
	}
	if v == "" {
		return nil, p.errf(&yaml.Node{Line: 1, Column: col}, kind.s, "a %s needs its value, like %s", kind.s, example(kind.s))
	}
	m.Content = append(m.Content, scalar(kind.s, kind.col), scalar(v, col))
	for ; i < len(ws); i += 2 {
		if !slices.Contains(extras, ws[i].s) {
			if len(extras) == 0 {
				return nil, p.errf(&yaml.Node{Line: 1, Column: ws[i].col}, kind.s, "a %s takes one value, like %s: %q is one too many", kind.s, example(kind.s), ws[i].s)
			}
			return nil, p.errf(&yaml.Node{Line: 1, Column: ws[i].col}, kind.s, "a %s has no field %s (its fields: %s; like %s)", kind.s, ws[i].s, strings.Join(extras, ", "), example(kind.s))
		}
		if i+1 >= len(ws) || slices.Contains(extras, ws[i+1].s) {
			return nil, p.errf(&yaml.Node{Line: 1, Column: ws[i].col}, ws[i].s, "%s needs a value, like %s", ws[i].s, example(kind.s))
		}
		m.Content = append(m.Content, scalar(ws[i].s, ws[i].col), scalar(ws[i+1].s, ws[i+1].col))
	}
	return m, nil
}

// example shows an injected fault of kind.
func example(kind string) string {
	switch kind {
	case "partition":
		return "partition 1,2/3,4,5"
	case "cut":
		return "cut 1,2->3"
	case "bridge":
		return "bridge 1,2/4,5 via 3"
	case "pause":
		return "pause 2 for 1s"
	case "clock_jump":
		return "clock_jump 2 by -2s"
	case "link":
		return "link 1->2 loss 0.5"
	case "heal":
		return "heal"
	}
	return kind + " 2"
}
