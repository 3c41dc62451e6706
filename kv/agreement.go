package kv

import (
	"fmt"
	"strconv"
	"strings"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

// Agreement is the replica-agreement checker ("agreement"): the state
// machine approach's promise (section 4's database primary; Schneider
// 1990) that every replica applies the same commands in the same order.
// Raft notes "applied" (index, hash) as it applies, the hash chained over
// the (term, command) of every entry up to index; every two replicas that
// noted the same index must have noted the same hash. A replica that
// applied a different entry at some index, or a different history before
// it, shows up at the first common index noted after.
//
// Notes under a layer ("raft/applied") count as well. A run without any
// "applied" note is not applicable.
type Agreement struct{}

// MaxAgreementIndexes bounds the indexes one run's judge remembers (a few
// tens of bytes each); a run beyond it gets no verdict (unknown).
const MaxAgreementIndexes = 1 << 21

func init() { check.Register(Agreement{}) }

// Name implements check.Checker.
func (Agreement) Name() string { return "agreement" }

// Doc implements check.Checker.
func (Agreement) Doc() string {
	return "every two replicas that applied the same log index hold the same chained hash of the log up to it (the replicated state machine's promise)"
}

// Check implements check.Checker.
func (a Agreement) Check(t *trace.Trace) check.Result { return check.Replay(a, t) }

// Start implements check.Online.
func (Agreement) Start(m *trace.Meta) (check.Judge, error) {
	return &agreeJudge{first: map[uint64]appliedAt{}}, nil
}

type appliedAt struct {
	hash  uint64
	node  ordo.NodeID
	event int
}

type agreeJudge struct {
	first      map[uint64]appliedAt
	notes      int
	compared   int
	top        uint64
	overflow   bool
	violations []check.Violation
	diverged   int
}

func (j *agreeJudge) Wants(k trace.Kind) bool { return k == trace.Note }
func (j *agreeJudge) VectorFree()             {}

func isApplied(name string) bool {
	return name == "applied" || strings.HasSuffix(name, ordo.LayerSep+"applied")
}

func (j *agreeJudge) Observe(e *trace.Event) {
	if e.Kind != trace.Note || !isApplied(e.Name) {
		return
	}
	index, ok := e.Attrs.Int("index")
	hash, hok := hashAttr(e.Attrs.Get("hash"))
	j.notes++
	if !ok || !hok || index <= 0 {
		if len(j.violations) < check.MaxReported {
			j.violations = append(j.violations, check.Violation{Message: fmt.Sprintf("%v noted applied without a valid index and hash: %v", e.Node, e.Attrs), Events: []int{e.ID}, From: e.T})
		}
		j.diverged++
		return
	}
	i := uint64(index)
	j.top = max(j.top, i)
	f, seen := j.first[i]
	if !seen {
		if len(j.first) >= MaxAgreementIndexes {
			j.overflow = true
			return
		}
		j.first[i] = appliedAt{hash: hash, node: e.Node, event: e.ID}
		return
	}
	j.compared++
	if f.hash != hash {
		j.diverged++
		if len(j.violations) < check.MaxReported {
			j.violations = append(j.violations, check.Violation{
				Message: fmt.Sprintf("index %d: %v applied a log with hash %016x, %v one with hash %016x: the replicas diverged", i, f.node, f.hash, e.Node, hash),
				Events:  []int{f.event, e.ID}, From: e.T,
			})
		}
	}
}

// hashAttr reads a hash noted as an unsigned or signed integer, a JSON
// number or a hex or decimal string.
func hashAttr(v any) (uint64, bool) {
	switch h := v.(type) {
	case uint64:
		return h, true
	case int64:
		return uint64(h), true
	case int:
		return uint64(h), true
	case float64:
		return uint64(h), true
	case string:
		if u, err := strconv.ParseUint(h, 16, 64); err == nil {
			return u, true
		}
		if u, err := strconv.ParseUint(h, 0, 64); err == nil {
			return u, true
		}
	}
	return 0, false
}

func (j *agreeJudge) Result() check.Result {
	r := check.Result{Check: "agreement", Violations: j.violations}
	switch {
	case j.diverged > 0:
		r.Verdict = check.Fail
		r.Summary = fmt.Sprintf("%d disagreements over %d applied notes up to index %d", j.diverged, j.notes, j.top)
	case j.notes == 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: no replica noted an applied entry"
	case j.overflow:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: more than %d indexes applied; only the first were compared (%d comparisons, all equal)", MaxAgreementIndexes, j.compared)
	default:
		r.Verdict = check.Pass
		r.Summary = fmt.Sprintf("replicas agree: %d applied notes up to index %d, %d compared", j.notes, j.top, j.compared)
	}
	r.OK = r.Verdict == check.Pass
	r.Unknown = r.Verdict == check.Unknown
	return r
}
