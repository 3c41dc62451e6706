package agreement

import (
	"fmt"
	"slices"
	"strings"

	"ordo"
	"ordo/check"
	"ordo/internal/plural"
	"ordo/trace"
)

// NotePropose is the note of a proposal: a value some node (a naive
// participant, a PBFT client) asked to be decided, Note("propose",
// "value", v).
const NotePropose = "propose"

// MaxProposals bounds the proposals (validity) and outstanding requests
// (bft-liveness) one judge remembers; beyond it the verdict is unknown.
const MaxProposals = 1 << 20

// Validity is the validity checker: every value a correct node decides
// was proposed by some node (a "propose" note with that value noted
// before the decision). With PBFT it is "only requests a client sent are
// committed": a forged request, decided, fails it. A decision noted with
// "noop" true (PBFT's null request of a new view) is not judged.
type Validity struct{}

// Liveness is the bft-liveness checker: every request a correct client
// proposed is accepted by it ("accept" note with the same value) before
// the run ends. It does not look at the network: a scenario asserting it
// keeps the replicas connected and at most f of them faulty.
type Liveness struct{}

func init() {
	check.Register(Validity{})
	check.Register(Liveness{})
}

// Name implements check.Checker.
func (Validity) Name() string { return "validity" }

// Doc implements check.Checker.
func (Validity) Doc() string {
	return "every value a correct (non-Byzantine) node decides was proposed by some node (\"propose\" notes; for PBFT: only requests a client sent are committed)"
}

// Check implements check.Checker.
func (v Validity) Check(t *trace.Trace) check.Result { return check.Replay(v, t) }

// Start implements check.Online.
func (Validity) Start(m *trace.Meta) (check.Judge, error) {
	j := &validityJudge{meta: m, proposed: map[string]bool{}, liars: liarsOf(m)}
	for _, l := range m.Byzantine {
		if slices.Contains(m.Clients, l.Node) {
			j.liarClients++
		}
	}
	return j, nil
}

type validityJudge struct {
	meta      *trace.Meta
	liars     string
	proposed  map[string]bool
	decisions int
	noops     int // correct nodes' null requests: decided, not judged
	invalid   int
	// liarClients counts Byzantine clients: a request one of them sent is
	// legitimate (PBFT commits what an authenticated client asks) though
	// it noted another, so a value nobody proposed is then not judged,
	// only counted in unjudged.
	liarClients int
	unjudged    int
	overflow    bool
	violations  []check.Violation
}

func (j *validityJudge) Wants(k trace.Kind) bool { return k == trace.Note }
func (j *validityJudge) VectorFree()             {}

func isNote(name, kind string) bool {
	return name == kind || strings.HasSuffix(name, ordo.LayerSep+kind)
}

func (j *validityJudge) Observe(e *trace.Event) {
	if e.Kind != trace.Note {
		return
	}
	switch {
	case isNote(e.Name, NotePropose):
		if len(j.proposed) >= MaxProposals {
			j.overflow = true
			return
		}
		j.proposed[valueText(e.Attrs.Get("value"))] = true
	case isDecide(e.Name):
		if j.meta.IsByzantine(int(e.Node)) {
			return // a liar's decision binds nobody
		}
		if e.Attrs.Get("noop") == true {
			j.noops++ // a no-op proposes nothing
			return
		}
		j.decisions++
		v := valueText(e.Attrs.Get("value"))
		if j.proposed[v] {
			return
		}
		if j.liarClients > 0 {
			j.unjudged++
			return
		}
		j.invalid++
		if len(j.violations) < check.MaxReported {
			what := fmt.Sprintf("%v decided %s (e%d)", e.Node, v, e.ID)
			if slot, ok := e.Attrs.Int("slot"); ok {
				what += fmt.Sprintf(" for slot %d", slot)
			}
			j.violations = append(j.violations, check.Violation{
				Message: what + ", which no node proposed; " + j.liars,
				Events:  []int{e.ID}, From: e.T, To: e.T,
			})
		}
	}
}

func (j *validityJudge) Result() check.Result {
	r := check.Result{Check: "validity", Violations: j.violations}
	switch {
	case j.invalid > 0:
		r.Verdict = check.Fail
		r.Summary = fmt.Sprintf("%d of %d decisions of correct nodes decided a value nobody proposed; %s", j.invalid, j.decisions, j.liars)
	case j.decisions == 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: no correct node noted a decision"
	case j.overflow:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: more than %d proposals", MaxProposals)
	default:
		r.Verdict = check.Pass
		r.Summary = fmt.Sprintf("every one of %d decisions of correct nodes was proposed (%d %s)", j.decisions, len(j.proposed), plural.Noun(len(j.proposed), "proposal"))
		if j.noops > 0 {
			// byzantine-agreement counts them: say why the counts differ.
			r.Summary += fmt.Sprintf("; %s not judged (a null request proposes nothing)", plural.Count(j.noops, "null request"))
		}
		if j.unjudged > 0 {
			r.Summary = fmt.Sprintf("%d of %d decisions of correct nodes were proposed; %d decided a value no node noted, which a Byzantine client may have sent (not judged: %s)", j.decisions-j.unjudged, j.decisions, j.unjudged, j.liars)
		}
	}
	r.OK = r.Verdict == check.Pass
	r.Unknown = r.Verdict == check.Unknown
	return r
}

// NoteAccept is a client's acceptance of a proposed value (PBFT: f+1
// matching replies), with the same "value".
const NoteAccept = "accept"

// Name implements check.Checker.
func (Liveness) Name() string { return "bft-liveness" }

// Doc implements check.Checker.
func (Liveness) Doc() string {
	return "every request a correct client proposed (\"propose\" at a client) was accepted by it (\"accept\" with the same value) before the run ended"
}

// Check implements check.Checker.
func (l Liveness) Check(t *trace.Trace) check.Result { return check.Replay(l, t) }

// Start implements check.Online.
func (Liveness) Start(m *trace.Meta) (check.Judge, error) {
	return &livenessJudge{meta: m, open: map[pending]openReq{}}, nil
}

type pending struct {
	node  ordo.NodeID
	value string
}

type openReq struct {
	event int
	t     int64
}

type livenessJudge struct {
	meta               *trace.Meta
	open               map[pending]openReq
	proposed, accepted int
	overflow           bool
}

func (j *livenessJudge) Wants(k trace.Kind) bool { return k == trace.Note }
func (j *livenessJudge) VectorFree()             {}

func (j *livenessJudge) Observe(e *trace.Event) {
	if e.Kind != trace.Note || !slices.Contains(j.meta.Clients, int(e.Node)) || j.meta.IsByzantine(int(e.Node)) {
		return
	}
	k := pending{e.Node, valueText(e.Attrs.Get("value"))}
	switch {
	case isNote(e.Name, NotePropose):
		if len(j.open) >= MaxProposals {
			j.overflow = true
			return
		}
		j.proposed++
		j.open[k] = openReq{e.ID, e.T}
	case isNote(e.Name, NoteAccept):
		if _, ok := j.open[k]; ok {
			j.accepted++
			delete(j.open, k)
		}
	}
}

func (j *livenessJudge) Result() check.Result {
	r := check.Result{Check: "bft-liveness"}
	switch {
	case len(j.open) > 0:
		keys := make([]pending, 0, len(j.open))
		for k := range j.open {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b pending) int { return j.open[a].event - j.open[b].event })
		for _, k := range keys {
			if len(r.Violations) >= check.MaxReported {
				break
			}
			o := j.open[k]
			r.Violations = append(r.Violations, check.Violation{
				Message: fmt.Sprintf("%v proposed %s (e%d) and never accepted it", k.node, k.value, o.event),
				Events:  []int{o.event}, From: o.t,
			})
		}
		r.Verdict = check.Fail
		r.Summary = fmt.Sprintf("%d of %d client requests never completed", len(j.open), j.proposed)
	case j.proposed == 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: no client proposed anything"
	case j.overflow:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: more than %d requests", MaxProposals)
	default:
		r.Verdict = check.Pass
		r.Summary = fmt.Sprintf("all %d client requests completed", j.proposed)
	}
	r.OK = r.Verdict == check.Pass
	r.Unknown = r.Verdict == check.Unknown
	return r
}
