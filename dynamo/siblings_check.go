package dynamo

import (
	"fmt"
	"strings"

	"ordo/check"
	"ordo/history"
	"ordo/trace"
)

func init() { check.Register(NoLostSibling{}) }

// NoLostSibling is "no-lost-sibling": no-lost-write for a store whose
// reads return sets of siblings. The clients' history holds a get of
// several siblings as info (the register model has one value per read);
// the client's dynamo-get note carries them all. For every acknowledged
// put w and every get g of its key that began after w's acknowledgement
// (real time), some value g returned must come from w or from a write
// that did not complete before w began. A get's answer of siblings thus
// keeps w alive when w is among them (a tombstone sibling is the value
// "" of a delete, which keeps w alive when that delete did not complete
// before w began): last-write-wins, which answers one
// value, loses the concurrent write; a vector-clock store keeps it.
type NoLostSibling struct{}

// Name implements check.Checker.
func (NoLostSibling) Name() string { return "no-lost-sibling" }

// Doc implements check.Checker.
func (NoLostSibling) Doc() string {
	return "dynamo: every get after an acknowledged put returns it, or a later write, among its siblings (real-time order)"
}

// Check implements check.Checker.
func (c NoLostSibling) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start implements check.Online.
func (NoLostSibling) Start(*trace.Meta) (check.Judge, error) {
	return &siblingJudge{r: history.NewReader(), sibs: map[cartKey][]string{}}, nil
}

type siblingJudge struct {
	r    *history.Reader
	sibs map[cartKey][]string // (client, op id) → values
}

func (j *siblingJudge) Observe(e *trace.Event) {
	_ = j.r.Add(e) // a malformed history is reported by Operations
	if e.Kind != trace.Note || e.Name != NoteGet || len(j.sibs) >= history.MaxOps {
		return
	}
	id, ok := e.Attrs.Int("id")
	if !ok {
		return
	}
	var vals []string
	if n, _ := e.Attrs.Int("n"); n > 0 {
		vals = strings.Split(str(e.Attrs, "values"), "|")
	}
	j.sibs[cartKey{e.Node, id}] = vals
}

func (j *siblingJudge) Result() check.Result {
	res := check.Result{Check: "no-lost-sibling"}
	ops, err := j.r.Operations()
	if err != nil {
		res.Verdict, res.Summary = check.Fail, "the client history is malformed"
		res.Violations = []check.Violation{{Message: err.Error()}}
		return res
	}
	byKey := map[string][]*history.Operation{}
	for i := range ops {
		byKey[ops[i].Key] = append(byKey[ops[i].Key], &ops[i])
	}
	gets, withSiblings, judged, lost := 0, 0, 0, 0
	reported := map[*history.Operation]bool{}
	for _, o := range ops {
		if o.F != history.Get {
			continue
		}
		vals, ok := j.sibs[cartKey{o.Client, o.ID}]
		if !ok || o.Outcome == history.OutcomeFail {
			continue // no answer seen
		}
		gets++
		if len(vals) > 1 {
			withSiblings++
		}
		for _, w := range byKey[o.Key] {
			if w.F != history.Put && w.F != history.Delete || w.Outcome != history.OutcomeOK || w.Return >= o.Call {
				continue
			}
			judged++
			if j.kept(w, vals, byKey[o.Key]) || reported[w] {
				continue
			}
			reported[w] = true
			lost++
			if len(res.Violations) < check.MaxReported {
				res.Violations = append(res.Violations, check.Violation{
					Message: fmt.Sprintf("key %q: acknowledged %s is lost: %v#%d get, which began after its ack, returned [%s]", o.Key, w, o.Client, o.ID, strings.Join(vals, " | ")),
					Events:  events(w.CallEvent, w.ReturnEvent, o.CallEvent), From: w.Call, To: o.Call,
				})
			}
		}
	}
	res.OK = lost == 0
	res.Summary = fmt.Sprintf("%d gets (%d of siblings), %d judgements; %d acknowledged puts lost", gets, withSiblings, judged, lost)
	if judged == 0 && res.OK {
		res.OK, res.Verdict = false, check.NotApplicable
		res.Summary = "not applicable: no get followed an acknowledged put"
	}
	return res
}

// kept reports whether one of vals comes from w or from a write that
// did not complete before w began.
func (j *siblingJudge) kept(w *history.Operation, vals []string, ops []*history.Operation) bool {
	for _, v := range vals {
		for _, s := range ops {
			// A tombstone sibling reads as "", the value a delete writes.
			if (s.F == history.Put || s.F == history.Delete) && s.Value == v && (s == w || s.Outcome != history.OutcomeOK || s.Return >= w.Call) {
				return true
			}
		}
	}
	return false
}

func events(ids ...int) []int {
	var out []int
	for _, id := range ids {
		if id >= 0 {
			out = append(out, id)
		}
	}
	return out
}
