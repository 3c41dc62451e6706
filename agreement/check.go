package agreement

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

// NoteDecide is the note of a decision: Note("decide", "value", v) or, for
// a protocol that decides one value per sequence number, with "slot", n.
const NoteDecide = "decide"

// CheckName is the checker's registered name.
const CheckName = "byzantine-agreement"

// MaxSlots bounds the slots one judge remembers; beyond it the verdict is
// unknown.
const MaxSlots = 1 << 20

// Agreement is the byzantine-agreement checker: no two correct nodes (not
// listed in the trace's Meta.Byzantine) decide different values for the
// same slot, and no correct node changes its decision.
type Agreement struct{}

func init() { check.Register(Agreement{}) }

// Name implements check.Checker.
func (Agreement) Name() string { return CheckName }

// Doc implements check.Checker.
func (Agreement) Doc() string {
	return "no two correct (non-Byzantine) nodes decide different values for one slot (notes \"decide\" with value and slot; the liars come from the trace's meta)"
}

// Check implements check.Checker.
func (a Agreement) Check(t *trace.Trace) check.Result { return check.Replay(a, t) }

// Start implements check.Online.
func (Agreement) Start(m *trace.Meta) (check.Judge, error) {
	return &judge{meta: m, first: map[int64]decision{}, liars: liarsOf(m)}, nil
}

// liarsOf names the Byzantine nodes of a run in words: "n1 (equivocate)".
func liarsOf(m *trace.Meta) string {
	if len(m.Byzantine) == 0 {
		return "no Byzantine node"
	}
	var s []string
	for _, l := range m.Byzantine {
		s = append(s, fmt.Sprintf("%v (%s)", ordo.NodeID(l.Node), l.Behaviour))
	}
	return "Byzantine: " + strings.Join(s, ", ")
}

type decision struct {
	value string
	node  ordo.NodeID
	event int
	t     int64
}

type judge struct {
	meta       *trace.Meta
	liars      string
	first      map[int64]decision
	decisions  int // by correct nodes
	ignored    int // by Byzantine nodes
	split      int
	overflow   bool
	violations []check.Violation
}

func (j *judge) Wants(k trace.Kind) bool { return k == trace.Note }
func (j *judge) VectorFree()             {}

// isDecide accepts "decide" and a layered "x/decide".
func isDecide(name string) bool { return isNote(name, NoteDecide) }

// valueText is a decided value as comparable text: a JSON number read back
// as float64 and the int64 noted compare equal.
func valueText(v any) string {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
	case nil:
		return "(none)"
	}
	return fmt.Sprint(v)
}

func (j *judge) Observe(e *trace.Event) {
	if e.Kind != trace.Note || !isDecide(e.Name) {
		return
	}
	if j.meta.IsByzantine(int(e.Node)) {
		j.ignored++ // a liar's decision binds nobody
		return
	}
	j.decisions++
	slot, _ := e.Attrs.Int("slot")
	v := valueText(e.Attrs.Get("value"))
	f, seen := j.first[slot]
	if !seen {
		if len(j.first) >= MaxSlots {
			j.overflow = true
			return
		}
		j.first[slot] = decision{value: v, node: e.Node, event: e.ID, t: e.T}
		return
	}
	if f.value == v {
		return
	}
	j.split++
	if len(j.violations) < check.MaxReported {
		what := fmt.Sprintf("%v decided %s (e%d) and %v decided %s (e%d)", f.node, f.value, f.event, e.Node, v, e.ID)
		if f.node == e.Node {
			what = fmt.Sprintf("%v decided %s (e%d), then %s (e%d)", f.node, f.value, f.event, v, e.ID)
		}
		if slot != 0 {
			what += fmt.Sprintf(" for slot %d", slot)
		}
		j.violations = append(j.violations, check.Violation{
			Message: what + ": correct nodes disagree; " + j.liars,
			Events:  []int{f.event, e.ID},
			From:    f.t,
			To:      e.T,
		})
	}
}

func (j *judge) Result() check.Result {
	r := check.Result{Check: CheckName, Violations: j.violations}
	switch {
	case j.split > 0:
		r.Verdict = check.Fail
		r.Summary = fmt.Sprintf("%d %s among %d decisions of correct nodes; %s", j.split, plural(j.split, "disagreement"), j.decisions, j.liars)
	case j.decisions == 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: no correct node noted a decision (" + j.liars + ")"
	case j.overflow:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: more than %d slots decided; only the first were compared", MaxSlots)
	default:
		r.Verdict = check.Pass
		r.Summary = fmt.Sprintf("correct nodes agree: %d %s in %d %s; %s", j.decisions, plural(j.decisions, "decision"), len(j.first), plural(len(j.first), "slot"), j.liars)
		if j.ignored > 0 {
			r.Summary += fmt.Sprintf(" (%d %s by liars not judged)", j.ignored, plural(j.ignored, "decision"))
		}
	}
	r.OK = r.Verdict == check.Pass
	r.Unknown = r.Verdict == check.Unknown
	return r
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
