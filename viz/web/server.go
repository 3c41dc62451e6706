package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"ordo/check"
	"ordo/internal/bounded"
	"ordo/scenario"
	"ordo/sim"
	"ordo/trace"
)

// Bounds of what one request may ask of the simulator.
const (
	// MaxInjections bounds the faults a URL injects.
	MaxInjections = 32
	// MaxFaultText bounds one injected fault's text, in bytes.
	MaxFaultText = 200
	// MaxSteps bounds the position of a stepped run: a page holds at most
	// MaxEvents events, and a step makes at most a few.
	MaxSteps = MaxEvents
	// findStepLimit bounds the steps "next" and "back" search for one
	// that makes an event.
	findStepLimit = 100_000
)

// ServerOptions say what a Server shows.
type ServerOptions struct {
	// Trace, when set, is the one trace the server shows at /, with
	// Results beside it.
	Trace   *trace.Trace
	Results []check.Result
	Title   string
	// Scenario, when set, is the scenario / opens (stepped, from its
	// seed); Lookup finds others by name for /sim?scenario=NAME, and Names
	// lists them for the page's menu. A name not found by Lookup is
	// refused: a URL cannot make the server read an arbitrary file.
	Scenario *scenario.Scenario
	Lookup   func(name string) (*scenario.Scenario, error)
	Names    []string
	// AnyHost lets requests name any host: for a server told to listen
	// beyond loopback. Otherwise a Host other than loopback is refused.
	AnyHost bool
}

// Server serves the viewer over HTTP: a trace at /, or a scenario stepped
// in the simulator at /sim?scenario=NAME&seed=S&pos=K&inject=J:FAULT (the
// page's buttons move pos; the URL is the state, to share), with the same
// model as JSON at /api/sim and /api/trace. It refuses requests whose Host
// is not the address it listens on by name or loopback (a page of another
// site cannot reach it through DNS rebinding).
type Server struct {
	o  ServerOptions
	mu sync.Mutex // one stepper, one request at a time
	st *stepped
	// viz are the porcupine visualizations the results shown so far name:
	// the only files the server reads after it starts.
	viz map[string]bool
}

// stepped is the simulator run the server holds, reused while requests
// name the same scenario, seed and injections.
type stepped struct {
	key   string
	s     *scenario.Stepper
	lenAt []int // trace length after each position reached so far
}

// injectError is an injection the run refused; index is its place in the
// request's (sorted) list.
type injectError struct {
	index int
	err   error
}

func (e *injectError) Error() string { return e.err.Error() }
func (e *injectError) Unwrap() error { return e.err }

// SimView is what the page shows of a stepped run beside its diagram.
type SimView struct {
	Scenario string        `json:"scenario"`
	Seed     uint64        `json:"seed"`
	Pos      int           `json:"pos"`
	End      bool          `json:"end"`
	Now      time.Duration `json:"now"`
	Last     string        `json:"last"`
	// LastEvents counts the events the last step made: the page rings
	// them (the trace's last LastEvents events).
	LastEvents int                  `json:"last_events"`
	States     any                  `json:"states"`
	Injected   []scenario.Injection `json:"injected"`
	Scenarios  []string             `json:"scenarios"`
	Error      string               `json:"error,omitempty"`
}

// NewServer returns a server of o. Errors: neither a trace nor a scenario.
func NewServer(o ServerOptions) (*Server, error) {
	if o.Trace == nil && o.Scenario == nil {
		return nil, errors.New("web: give the server a trace or a scenario")
	}
	if o.Names == nil {
		o.Names = []string{}
	}
	s := &Server{o: o, viz: map[string]bool{}}
	s.allowViz(o.Results)
	return s, nil
}

// maxVizFiles bounds the visualizations a server remembers.
const maxVizFiles = 1024

func (s *Server) allowViz(res []check.Result) {
	for _, r := range res {
		for _, v := range r.Violations {
			if v.File != "" && len(s.viz) < maxVizFiles {
				s.viz[v.File] = true
			}
		}
	}
}

// porcupine serves a visualization a shown result named, and nothing else.
func (s *Server) porcupine(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	s.mu.Lock()
	ok := s.viz[p]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "ordo web: no such visualization among the results shown", http.StatusNotFound)
		return
	}
	data, err := bounded.ReadFile(p, maxVizBytes)
	if err != nil {
		http.Error(w, "ordo web: "+err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(data)
}

// maxVizBytes bounds a visualization file the server reads.
const maxVizBytes = 64 << 20

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.o.AnyHost && !localHost(r.Host) {
		http.Error(w, "ordo web: this server answers requests for its own loopback address only", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "ordo web: only GET", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/":
		if s.o.Trace != nil {
			s.tracePage(w, false)
			return
		}
		http.Redirect(w, r, "/sim?"+url.Values{"scenario": {s.o.Scenario.Name}, "pos": {"end"}}.Encode(), http.StatusSeeOther)
	case "/api/trace":
		if s.o.Trace == nil {
			http.Error(w, "ordo web: no trace here; see /api/sim", http.StatusNotFound)
			return
		}
		s.tracePage(w, true)
	case "/sim", "/api/sim":
		s.sim(w, r, r.URL.Path == "/api/sim")
	case "/api/why":
		s.why(w, r)
	case "/porcupine":
		s.porcupine(w, r)
	case "/favicon.ico":
		w.WriteHeader(http.StatusNoContent) // the page has none; a 404 would be a console error
	case "/healthz":
		fmt.Fprintln(w, "ok")
	default:
		http.NotFound(w, r)
	}
}

// localHost reports whether a request's Host names a loopback address or
// localhost.
func localHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s *Server) tracePage(w http.ResponseWriter, asJSON bool) {
	m, err := NewModel(s.o.Trace, Options{Title: s.o.Title, Results: s.o.Results})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.write(w, m, asJSON)
}

func (s *Server) write(w http.ResponseWriter, m *Model, asJSON bool) {
	var b bytes.Buffer
	var err error
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
		err = json.NewEncoder(&b).Encode(m)
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err = writePage(&b, m)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// simRequest is a parsed /sim query.
type simRequest struct {
	sc   *scenario.Scenario
	seed uint64
	inj  []scenario.Injection
	pos  string // a number, "end", or empty (the start)
	goTo string // "", "next", "back", "start", "end", "+N"
}

func (s *Server) parseSim(q url.Values) (*simRequest, error) {
	for k, v := range q {
		if len(v) > MaxInjections {
			return nil, fmt.Errorf("%d values of %q: at most %d", len(v), k, MaxInjections)
		}
	}
	req := &simRequest{pos: q.Get("pos"), goTo: q.Get("go")}
	name := q.Get("scenario")
	switch {
	case name == "" && s.o.Scenario != nil, s.o.Scenario != nil && name == s.o.Scenario.Name:
		req.sc = s.o.Scenario
	case name == "":
		return nil, errors.New("name a scenario: /sim?scenario=NAME")
	case s.o.Lookup == nil:
		return nil, fmt.Errorf("no scenario %q here", name)
	default:
		sc, err := s.o.Lookup(name)
		if err != nil {
			return nil, err
		}
		req.sc = sc
	}
	req.seed = req.sc.Seed
	if v := q.Get("seed"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed %q: want a whole number 0..2^64-1", v)
		}
		req.seed = seed
	}
	for _, v := range q["inject"] {
		at, f, ok := strings.Cut(v, ":")
		p, err := strconv.Atoi(at)
		if !ok || err != nil || p < 0 || p > MaxSteps {
			return nil, fmt.Errorf("inject %q: want POSITION:FAULT, e.g. 120:crash 2", v)
		}
		f = strings.TrimSpace(f)
		if f == "" || len(f) > MaxFaultText {
			return nil, fmt.Errorf("inject %q: the fault is empty or longer than %d bytes", v, MaxFaultText)
		}
		req.inj = append(req.inj, scenario.Injection{Pos: p, Fault: f})
	}
	sort.SliceStable(req.inj, func(i, j int) bool { return req.inj[i].Pos < req.inj[j].Pos })
	return req, nil
}

func (req *simRequest) key() string {
	b, _ := json.Marshal([]any{req.sc.File, req.sc.Name, req.seed, req.inj})
	return string(b)
}

// sim serves one position of a stepped run. A "go" parameter moves from
// pos and redirects to the position reached (the page's URL is then the
// state itself); /api/sim answers with the model at once.
func (s *Server) sim(w http.ResponseWriter, r *http.Request, asJSON bool) {
	req, err := s.parseSim(r.URL.Query())
	if err != nil {
		http.Error(w, "ordo web: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, pos, refused, err := s.position(req, !asJSON)
	if err != nil {
		http.Error(w, "ordo web: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.goTo != "" && !asJSON {
		q := r.URL.Query()
		q.Del("go")
		q.Set("pos", strconv.Itoa(pos))
		http.Redirect(w, r, "/sim?"+q.Encode(), http.StatusSeeOther)
		return
	}
	m, err := s.simModel(st)
	if err != nil {
		http.Error(w, "ordo web: "+err.Error(), http.StatusInternalServerError)
		return
	}
	m.Sim.Error = refused
	s.write(w, m, asJSON)
}

// position moves the run req names to the position it asks for and
// returns it there. With dropRefused, an injection the run refuses (a
// fault typed in the page's box) is left out and named in refused, so the
// page can say so beside the box instead of losing the run. The caller
// holds s.mu.
func (s *Server) position(req *simRequest, dropRefused bool) (st *stepped, pos int, refused string, err error) {
	st, err = s.stepper(req)
	var ie *injectError
	for dropRefused && errors.As(err, &ie) {
		refused = ie.Error()
		req.inj = append(req.inj[:ie.index:ie.index], req.inj[ie.index+1:]...)
		st, err = s.stepper(req)
	}
	if err != nil {
		return nil, 0, "", err
	}
	if pos, err = st.resolve(req); err != nil {
		return nil, 0, "", err
	}
	if err = st.to(pos); err != nil {
		return nil, 0, "", err
	}
	return st, pos, refused, nil
}

// stepper returns the run of req, reusing the held one when it is the
// same scenario, seed and injections, and building it (injecting each
// fault at its position) otherwise.
func (s *Server) stepper(req *simRequest) (*stepped, error) {
	if s.st != nil && s.st.key == req.key() {
		return s.st, nil
	}
	x, err := scenario.NewStepper(req.sc, req.seed)
	if err != nil {
		return nil, err
	}
	st := &stepped{key: req.key(), s: x, lenAt: []int{0}}
	for i, in := range req.inj {
		if err := st.to(in.Pos); err != nil {
			return nil, err
		}
		if st.s.Pos() != in.Pos {
			return nil, fmt.Errorf("inject at %d: the run ends at position %d", in.Pos, st.s.Pos())
		}
		if err := st.s.Inject(in.Fault); err != nil {
			return nil, &injectError{index: i, err: fmt.Errorf("inject %q at %d: %w", in.Fault, in.Pos, err)}
		}
	}
	s.st = st
	return st, nil
}

// to moves the run to position pos (or its end, if sooner), recording the
// trace length of each position passed.
func (st *stepped) to(pos int) error {
	if pos < 0 || pos > MaxSteps {
		return fmt.Errorf("position %d: want 0..%d", pos, MaxSteps)
	}
	if pos <= st.s.Pos() {
		return st.s.StepTo(pos)
	}
	for st.s.Pos() < pos && !st.s.End() {
		if err := st.s.StepTo(st.s.Pos() + 1); err != nil {
			return err
		}
		if p := st.s.Pos(); p == len(st.lenAt) {
			st.lenAt = append(st.lenAt, st.lenAt[p-1]+len(st.s.Last().Events))
		}
	}
	return nil
}

// resolve turns the request's pos and go into a position.
func (st *stepped) resolve(req *simRequest) (int, error) {
	pos := 0
	switch req.pos {
	case "", "0":
	case "end":
		pos = MaxSteps
	default:
		p, err := strconv.Atoi(req.pos)
		if err != nil || p < 0 || p > MaxSteps {
			return 0, fmt.Errorf("pos %q: want a step number 0..%d or end", req.pos, MaxSteps)
		}
		pos = p
	}
	if req.pos == "end" || req.goTo == "end" {
		if err := st.to(MaxSteps); err != nil {
			return 0, err
		}
		return st.s.Pos(), nil
	}
	switch g := req.goTo; {
	case g == "":
		return pos, nil
	case g == "start":
		return 0, nil
	case g == "next":
		// The next step that makes an event (a step may make none: a
		// message to a crashed node, a stale timer).
		if err := st.to(pos); err != nil {
			return 0, err
		}
		base := st.lenAt[st.s.Pos()]
		for i := 0; i < findStepLimit && !st.s.End(); i++ {
			if err := st.to(st.s.Pos() + 1); err != nil {
				return 0, err
			}
			if st.lenAt[st.s.Pos()] > base {
				break
			}
		}
		return st.s.Pos(), nil
	case g == "back":
		// The position before the last step that made an event.
		if err := st.to(pos); err != nil {
			return 0, err
		}
		p := min(pos, len(st.lenAt)-1)
		for p > 0 && st.lenAt[p-1] == st.lenAt[p] {
			p--
		}
		return max(0, p-1), nil
	case strings.HasPrefix(g, "+") || strings.HasPrefix(g, " "):
		// " 10" is "+10" typed into an address bar unescaped.
		n, err := strconv.Atoi(strings.TrimSpace(g[1:]))
		if err != nil || n < 1 || n > MaxSteps {
			return 0, fmt.Errorf("go %q: want +N with N 1..%d (in a URL, %%2BN)", g, MaxSteps)
		}
		return min(MaxSteps, pos+n), nil
	}
	return 0, fmt.Errorf("go %q: want next, back, start, end or +N", req.goTo)
}

func (s *Server) simModel(st *stepped) (*Model, error) {
	t := st.s.Trace()
	var res []check.Result
	sc := st.s.Scenario()
	if len(sc.Checks) > 0 {
		var err error
		if res, err = check.Run(t, sc.Checks); err != nil {
			return nil, err
		}
	}
	s.allowViz(res)
	title := sc.Name
	m, err := NewModel(t, Options{Title: title, Results: res})
	if err != nil {
		return nil, err
	}
	last := st.s.Last()
	m.Sim = &SimView{
		Scenario: sc.Name, Seed: st.s.Seed(), Pos: st.s.Pos(), End: st.s.End(), Now: st.s.Now(),
		Last: describeStep(last), LastEvents: len(last.Events), States: st.s.States(), Injected: st.s.Injected(), Scenarios: s.o.Names,
	}
	if m.Sim.Injected == nil {
		m.Sim.Injected = []scenario.Injection{}
	}
	return m, nil
}

// describeStep says in words what one simulator step did.
func describeStep(st sim.Stepped) string {
	if st.Kind == "" {
		return ""
	}
	if len(st.Events) == 0 {
		who := ""
		if st.Node != 0 {
			who = " for n" + strconv.Itoa(int(st.Node))
		}
		return st.Kind + who + ", no event recorded"
	}
	s := st.Events[0].Describe()
	if n := len(st.Events) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}

// why answers /api/why?a=ID&b=ID (with a stepped run's query beside them):
// trace.Explain of the two events, the proof ordo trace why prints, as
// JSON with its text.
func (s *Server) why(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	eventID := func(v string) (int, error) { return strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(v, "e"), "E")) }
	a, errA := eventID(q.Get("a"))
	b, errB := eventID(q.Get("b"))
	if errA != nil || errB != nil {
		http.Error(w, "ordo web: why: want a=ID&b=ID, two event ids (e12 or 12)", http.StatusBadRequest)
		return
	}
	var t *trace.Trace
	if q.Get("scenario") == "" && s.o.Trace != nil {
		t = s.o.Trace
	} else {
		req, err := s.parseSim(q)
		if err != nil {
			http.Error(w, "ordo web: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		st, _, _, err := s.position(req, false)
		if err != nil {
			http.Error(w, "ordo web: "+err.Error(), http.StatusBadRequest)
			return
		}
		t = st.s.Trace()
	}
	x, err := t.Explain(a, b)
	if err != nil {
		http.Error(w, "ordo web: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		*trace.Explanation
		Text string `json:"text"`
	}{x, x.Text()})
}
