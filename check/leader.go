package check

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"ordo"
	"ordo/trace"
)

// The election checkers of the chapter's section 4 ("Safety: 동시에 최대
// 1명의 리더", "Liveness: 결국 리더가 선출됨") and section 5 (split brain).
// They read the role notes every election protocol writes (see package
// election): "leader" {term, token}, "follower" {term, leader},
// "candidate" {term}.

// Note names of the election convention (kept here as strings so that
// check does not depend on the protocols).
const (
	noteLeader    = "leader"
	noteFollower  = "follower"
	noteCandidate = "candidate"
	noteFence     = "fence"
)

// maxReported bounds the violations one checker lists; the summary counts
// the rest.
const maxReported = 50

// LeaderSpan is one stretch of true time during which a node acted as
// leader: from its "leader" note to its next "follower" or "candidate"
// note, its crash, or the end of the trace (Open).
type LeaderSpan struct {
	Node     ordo.NodeID
	Term     int64
	Token    int64
	From, To int64 // true time, ns
	Open     bool  // still leader when the trace ends
	Begin    int   // event id of the leader note
	End      int   // event id that ended it (-1 when Open)
}

// LeaderSpans lists every leadership in the trace, ordered by start.
func LeaderSpans(t *trace.Trace) []LeaderSpan {
	var out []LeaderSpan
	open := map[ordo.NodeID]int{} // node → index in out
	end := traceEnd(t)
	for i := range t.Events {
		e := &t.Events[i]
		switch {
		case e.Kind == trace.Note && e.Name == noteLeader:
			term, _ := e.Attrs.Int("term")
			tok, ok := e.Attrs.Int("token")
			if !ok {
				tok = term
			}
			if k, ok := open[e.Node]; ok {
				if out[k].Term == term && out[k].Token == tok {
					continue // already leading: a re-announcement
				}
				// A re-claim under a new term or token is a new
				// leadership for fencing: close the old one here.
				out[k].To, out[k].End = e.T, e.ID
			}
			open[e.Node] = len(out)
			out = append(out, LeaderSpan{Node: e.Node, Term: term, Token: tok, From: e.T, Begin: e.ID, End: -1})
		case e.Kind == trace.Note && (e.Name == noteFollower || e.Name == noteCandidate),
			e.Kind == trace.Crash, e.Kind == trace.Restart:
			if k, ok := open[e.Node]; ok {
				out[k].To, out[k].End = e.T, e.ID
				delete(open, e.Node)
			}
		}
	}
	for _, k := range open {
		out[k].To, out[k].Open = end, true
	}
	return out
}

func traceEnd(t *trace.Trace) int64 {
	if len(t.Events) == 0 {
		return 0
	}
	return t.Events[len(t.Events)-1].T
}

func fmtT(ns int64) string { return time.Duration(ns).Round(10 * time.Microsecond).String() }

type singleLeader struct{}

func (singleLeader) Name() string { return "single-leader" }
func (singleLeader) Doc() string {
	return "at no instant of true time do two nodes act as leader (section 4 Safety; section 5 split brain)"
}

func (singleLeader) Check(t *trace.Trace) Result {
	spans := LeaderSpans(t)
	r := Result{Check: "single-leader", OK: true}
	n := 0
	var total time.Duration
	for i := range spans {
		for j := i + 1; j < len(spans); j++ {
			a, b := spans[i], spans[j]
			if b.From >= a.To {
				break // spans are ordered by start: no later one overlaps a
			}
			if a.Node == b.Node {
				continue
			}
			from, to := max(a.From, b.From), min(a.To, b.To)
			if from >= to {
				continue
			}
			r.OK = false
			n++
			total += time.Duration(to - from)
			if len(r.Violations) < maxReported {
				r.Violations = append(r.Violations, Violation{
					Message: fmt.Sprintf("split brain: %v (term %d) and %v (term %d) both act as leader from %s to %s",
						a.Node, a.Term, b.Node, b.Term, fmtT(from), fmtT(to)),
					Events: []int{a.Begin, b.Begin}, From: from, To: to,
				})
			}
		}
	}
	if r.OK {
		r.Summary = fmt.Sprintf("%d leaderships, never two at once", len(spans))
	} else {
		r.Summary = fmt.Sprintf("%d overlaps of two leaders, %s in all", n, total.Round(time.Millisecond))
	}
	return r
}

type oneLeaderPerTerm struct{}

func (oneLeaderPerTerm) Name() string { return "one-leader-per-term" }
func (oneLeaderPerTerm) Doc() string {
	return "no two nodes become leader in the same term (Raft's Election Safety; section 4 \"Term 기반 리더십\")"
}

func (oneLeaderPerTerm) Check(t *trace.Trace) Result {
	r := Result{Check: "one-leader-per-term", OK: true}
	first := map[int64]*trace.Event{}
	shared := map[int64]bool{} // terms with two leaders
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind != trace.Note || e.Name != noteLeader {
			continue
		}
		term, ok := e.Attrs.Int("term")
		if !ok {
			continue
		}
		f, seen := first[term]
		if !seen {
			first[term] = e
			continue
		}
		if f.Node != e.Node {
			r.OK = false
			shared[term] = true
			if len(r.Violations) < maxReported {
				r.Violations = append(r.Violations, Violation{
					Message: fmt.Sprintf("term %d has two leaders: %v at %s and %v at %s", term, f.Node, fmtT(f.T), e.Node, fmtT(e.T)),
					Events:  []int{f.ID, e.ID}, From: f.T, To: e.T,
				})
			}
		}
	}
	if r.OK {
		r.Summary = fmt.Sprintf("%d terms with a leader, one each", len(first))
	} else {
		r.Summary = fmt.Sprintf("%d terms with two leaders", len(shared))
	}
	return r
}

// Agreement is the outcome of the eventual-leader analysis.
type Agreement struct {
	LastFault int64       // true time of the last fault event (0: none)
	Leader    ordo.NodeID // the leader everyone up agrees on at the end (None: no agreement)
	Since     int64       // since when that agreement holds
	Bound     time.Duration
}

// TimeToLeader is how long after the last fault the final agreement began
// (0 if it held through the fault); -1 when there is no agreement.
func (a Agreement) TimeToLeader() time.Duration {
	if a.Leader == ordo.None {
		return -1
	}
	return time.Duration(max(0, a.Since-a.LastFault))
}

// isFault reports whether e disturbs the cluster (the end of faults is
// measured from the last of these).
func isFault(e *trace.Event) bool {
	switch e.Kind {
	case trace.Crash, trace.Restart, trace.Pause, trace.Resume, trace.Fault:
		return true
	case trace.Note:
		return e.Name == "clock-jump"
	}
	return false
}

// FinalAgreement replays the trace's role notes and finds the leader that
// every running node agrees on at the end, and since when.
func FinalAgreement(t *trace.Trace) Agreement {
	n := t.Meta.Nodes
	up := make([]bool, n+1)
	role := make([]string, n+1)
	believes := make([]ordo.NodeID, n+1)
	a := Agreement{}
	since := int64(-1)
	agreed := ordo.None
	eval := func(at int64) {
		var l ordo.NodeID
		ok := true
		for id := 1; id <= n && ok; id++ {
			if !up[id] {
				continue
			}
			if role[id] == noteLeader {
				if l != ordo.None {
					ok = false
				}
				l = ordo.NodeID(id)
			}
		}
		if l == ordo.None {
			ok = false
		}
		for id := 1; id <= n && ok; id++ {
			if up[id] && ordo.NodeID(id) != l && (role[id] != noteFollower || believes[id] != l) {
				ok = false
			}
		}
		switch {
		case !ok:
			agreed, since = ordo.None, -1
		case l != agreed:
			agreed, since = l, at
		}
	}
	for i := range t.Events {
		e := &t.Events[i]
		if isFault(e) {
			a.LastFault = e.T
		}
		if e.Node < 1 || int(e.Node) > n {
			continue
		}
		switch e.Kind {
		case trace.Start, trace.Restart:
			up[e.Node], role[e.Node], believes[e.Node] = true, noteFollower, ordo.None
		case trace.Crash:
			up[e.Node] = false
		case trace.Note:
			switch e.Name {
			case noteLeader:
				role[e.Node], believes[e.Node] = noteLeader, e.Node
			case noteFollower:
				l, _ := e.Attrs.Int("leader")
				role[e.Node], believes[e.Node] = noteFollower, ordo.NodeID(l)
			case noteCandidate:
				role[e.Node], believes[e.Node] = noteCandidate, ordo.None
			default:
				continue
			}
		default:
			continue
		}
		eval(e.T)
	}
	a.Leader, a.Since = agreed, since
	return a
}

// EventualBound is how long after the last fault eventual-leader waits by
// default: the trace's "leader_bound" option if set, else four times its
// largest "...timeout..." option, and never less than one second.
func EventualBound(m trace.Meta) time.Duration {
	if d, err := time.ParseDuration(m.Options["leader_bound"]); err == nil && d > 0 {
		return d
	}
	var worst time.Duration
	keys := make([]string, 0, len(m.Options))
	for k := range m.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.Contains(k, "timeout") {
			continue
		}
		if d, err := time.ParseDuration(m.Options[k]); err == nil {
			worst = max(worst, d)
		}
	}
	return max(time.Second, 4*worst)
}

// EventualLeader is the eventual-leader checker with an explicit bound
// (0: EventualBound of the trace).
type EventualLeader struct{ Bound time.Duration }

func (EventualLeader) Name() string { return "eventual-leader" }
func (EventualLeader) Doc() string {
	return "once faults stop, every running node agrees on one leader within a bound (section 4 Liveness)"
}

func (c EventualLeader) Check(t *trace.Trace) Result {
	bound := c.Bound
	if bound == 0 {
		bound = EventualBound(t.Meta)
	}
	a := FinalAgreement(t)
	r := Result{Check: "eventual-leader", OK: true}
	ttl := a.TimeToLeader()
	switch {
	case a.Leader == ordo.None:
		r.OK = false
		r.Violations = []Violation{{Message: fmt.Sprintf("no leader agreed on by every running node at the end of the trace (last fault at %s)", fmtT(a.LastFault)), From: a.LastFault, To: traceEnd(t)}}
		r.Summary = "no agreed leader at the end"
	case ttl > bound:
		r.OK = false
		r.Violations = []Violation{{Message: fmt.Sprintf("leader %v agreed on %s after the last fault, bound %s", a.Leader, ttl.Round(time.Millisecond), bound), From: a.LastFault, To: a.Since}}
		r.Summary = fmt.Sprintf("leader %v, time_to_leader %s > %s", a.Leader, ttl.Round(time.Millisecond), bound)
	default:
		r.Summary = fmt.Sprintf("leader %v, time_to_leader %s (bound %s)", a.Leader, ttl.Round(time.Microsecond), bound)
	}
	return r
}

type fencing struct{}

func (fencing) Name() string { return "fencing" }
func (fencing) Doc() string {
	return "tokens seen by the protected resource only increase (Kleppmann's fencing tokens)"
}

// Check reads "fence" notes {token, accepted} of protected resources when
// the trace has any; otherwise it treats every new leadership as one write
// to a shared resource: its token must exceed every earlier leader's.
func (fencing) Check(t *trace.Trace) Result {
	r := Result{Check: "fencing", OK: true}
	type seen struct {
		tok int64
		ev  int // the note that accepted it
	}
	fenced := false
	highest := map[ordo.NodeID]seen{} // resource → highest accepted
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind != trace.Note || e.Name != noteFence {
			continue
		}
		fenced = true
		if acc, _ := e.Attrs.Get("accepted").(bool); !acc {
			continue
		}
		tok, _ := e.Attrs.Int("token")
		h, ok := highest[e.Node]
		if ok && tok < h.tok {
			r.OK = false
			if len(r.Violations) < maxReported {
				r.Violations = append(r.Violations, Violation{Message: fmt.Sprintf("resource %v accepted token %d after %d at %s", e.Node, tok, h.tok, fmtT(e.T)), Events: []int{h.ev, e.ID}, To: e.T})
			}
			continue
		}
		highest[e.Node] = seen{tok, e.ID}
	}
	if fenced {
		if r.OK {
			r.Summary = "every resource saw increasing tokens"
		}
		return r
	}
	var top *LeaderSpan
	spans := LeaderSpans(t)
	for i := range spans {
		s := &spans[i]
		if top != nil && (s.Token < top.Token || (s.Token == top.Token && s.Node != top.Node)) {
			r.OK = false
			if len(r.Violations) < maxReported {
				r.Violations = append(r.Violations, Violation{
					Message: fmt.Sprintf("%v leads with token %d at %s, but %v already held token %d: a fence could not tell them apart",
						s.Node, s.Token, fmtT(s.From), top.Node, top.Token),
					Events: []int{top.Begin, s.Begin}, From: top.From, To: s.From,
				})
			}
			continue
		}
		top = s
	}
	if r.OK {
		r.Summary = fmt.Sprintf("%d leaderships, tokens increasing", len(spans))
	} else {
		r.Summary = fmt.Sprintf("%d stale or shared tokens", len(r.Violations))
	}
	return r
}

func init() {
	Register(singleLeader{})
	Register(oneLeaderPerTerm{})
	Register(EventualLeader{})
	Register(fencing{})
}
