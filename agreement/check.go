package agreement

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"ordo"
	"ordo/check"
	"ordo/internal/plural"
	"ordo/trace"
)

// NoteDecide is the note of a decision: Note("decide", "value", v) or, for
// a protocol that decides one value per sequence number, with "slot", n;
// for one that decides a batch of values per sequence number (PBFT with
// batching), one note per value with "slot", n and "index", i (its place
// in the batch, 0 when absent) and optionally "batch", the batch's digest.
const NoteDecide = "decide"

// CheckName is the checker's registered name.
const CheckName = "byzantine-agreement"

// MaxSlots bounds the places (slot, index in its batch) one judge
// remembers; beyond it the verdict is unknown.
const MaxSlots = 1 << 20

// Agreement is the byzantine-agreement checker: no two correct nodes (not
// listed in the trace's Meta.Byzantine) decide different values for the
// same slot (the same (slot, index) for a batch), and no correct node
// changes its decision. Decisions that name a batch digest must also name
// the same one at a (slot, index): two batches that agree on one request
// but differ elsewhere (longer, shorter) are a disagreement at every
// index either decides.
type Agreement struct{}

func init() { check.Register(Agreement{}) }

// Name implements check.Checker.
func (Agreement) Name() string { return CheckName }

// Doc implements check.Checker.
func (Agreement) Doc() string {
	return "no two correct (non-Byzantine) nodes decide different values for one slot, or one place in a slot's batch (notes \"decide\" with value, slot and index, and the batch's digest; the liars come from the trace's meta)"
}

// Check implements check.Checker.
func (a Agreement) Check(t *trace.Trace) check.Result { return check.Replay(a, t) }

// Start implements check.Online.
func (Agreement) Start(m *trace.Meta) (check.Judge, error) {
	return &judge{meta: m, first: map[place]decision{}, liars: liarsOf(m)}, nil
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

// place is where a value is decided: a slot and the index in its batch.
type place struct{ slot, index int64 }

type decision struct {
	value string
	batch string // the batch's digest, "" when not noted
	node  ordo.NodeID
	event int
	t     int64
}

type judge struct {
	meta       *trace.Meta
	liars      string
	first      map[place]decision
	decisions  int // by correct nodes
	ignored    int // by Byzantine nodes
	split      int
	slots      int // distinct slots decided (places at index 0)
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
	index, _ := e.Attrs.Int("index")
	at := place{slot, index}
	v := valueText(e.Attrs.Get("value"))
	b := ""
	if x := e.Attrs.Get("batch"); x != nil {
		b = valueText(x)
	}
	f, seen := j.first[at]
	if !seen {
		if len(j.first) >= MaxSlots {
			j.overflow = true
			return
		}
		j.first[at] = decision{value: v, batch: b, node: e.Node, event: e.ID, t: e.T}
		if index == 0 { // every slot has a place at index 0
			j.slots++
		}
		return
	}
	if f.value == v && (f.batch == "" || b == "" || f.batch == b) {
		if f.batch == "" && b != "" {
			f.batch = b // later decisions are compared with this batch
			j.first[at] = f
		}
		return
	}
	j.split++
	if len(j.violations) < check.MaxReported {
		fv, ev := f.value, v
		if f.value == v {
			fv, ev = f.value+" in batch "+f.batch, v+" in batch "+b
		}
		what := fmt.Sprintf("%v decided %s (e%d) and %v decided %s (e%d)", f.node, fv, f.event, e.Node, ev, e.ID)
		if f.node == e.Node {
			what = fmt.Sprintf("%v decided %s (e%d), then %s (e%d)", f.node, fv, f.event, ev, e.ID)
		}
		if slot != 0 {
			what += fmt.Sprintf(" for slot %d", slot)
		}
		if index != 0 {
			what += fmt.Sprintf(" index %d", index)
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
		r.Summary = fmt.Sprintf("%d %s among %d decisions of correct nodes; %s", j.split, plural.Noun(j.split, "disagreement"), j.decisions, j.liars)
	case j.decisions == 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: no correct node noted a decision (" + j.liars + ")"
	case j.overflow:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: more than %d places (slot, index) decided; only the first were compared", MaxSlots)
	default:
		r.Verdict = check.Pass
		r.Summary = fmt.Sprintf("correct nodes agree: %d %s in %d %s; %s", j.decisions, plural.Noun(j.decisions, "decision"), j.slots, plural.Noun(j.slots, "slot"), j.liars)
		if j.ignored > 0 {
			r.Summary += fmt.Sprintf(" (%d %s by liars not judged)", j.ignored, plural.Noun(j.ignored, "decision"))
		}
	}
	r.OK = r.Verdict == check.Pass
	r.Unknown = r.Verdict == check.Unknown
	return r
}
