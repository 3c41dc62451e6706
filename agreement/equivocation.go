package agreement

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"ordo"
	"ordo/check"
	"ordo/internal/plural"
	"ordo/trace"
)

// Slotted is implemented by a message type that speaks for one slot of its
// protocol: a sender that is not lying sends at most one such message of
// a kind per slot (PBFT: one pre-prepare, prepare or commit per view and
// sequence number; one view-change per view). Slot must depend on the
// message's fields only.
type Slotted interface {
	Slot() (view, seq int64)
}

// EquivocationName is the equivocation checker's registered name.
const EquivocationName = "equivocation"

// MaxEvidence bounds the (node, kind, slot) triples one equivocation judge
// remembers; beyond it the verdict is unknown.
const MaxEvidence = 1 << 20

// Equivocation is the equivocation-evidence checker: two messages one node
// sent of one kind for one slot (Slotted) that differ are evidence that
// the node lies, whoever it is — a node of Meta.Byzantine (the checker's
// purpose is to name the liar from what it sent, not from the simulator's
// confession), or a correct node (a bug). A retransmission, the same
// message again, is no evidence, nor is a message no node received (a
// recv event of its message id): one the network lost, or one held for
// its sender's fsync and lost at its crash, never left for anyone to
// hold.
//
// It reads what was sent from the send events' bodies, which a run keeps
// with sim.Config.KeepMessages (a scenario that asks for this check keeps
// them; ordo sim --messages), decoded as the run's protocol's message
// types. Every send event carries the true sender (the sender's own
// record, not the claim of a forged message), which is what an
// authenticated link guarantees a receiver. Without bodies the verdict is
// not-applicable, with some missing unknown (unless evidence was found).
// The equivocation the adversary makes by flipping bytes of a message
// type without Equivocate is not in the body (which is the value sent
// before encoding) and is not seen.
type Equivocation struct{}

func init() { check.Register(Equivocation{}) }

// Name implements check.Checker.
func (Equivocation) Name() string { return EquivocationName }

// Doc implements check.Checker.
func (Equivocation) Doc() string {
	return "no node sends two different messages of one kind for one slot (view, sequence number): the evidence that names a liar; needs message bodies (kept with the check, or ordo sim --messages)"
}

// NeedsMessageBodies tells a runner to keep each send's body in the trace
// (sim.Config.KeepMessages) for this check.
func (Equivocation) NeedsMessageBodies() bool { return true }

// Check implements check.Checker.
func (c Equivocation) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start implements check.Online: the run's protocol must have Slotted
// message types.
func (Equivocation) Start(m *trace.Meta) (check.Judge, error) {
	types := map[string]reflect.Type{}
	for _, name := range []string{m.Protocol, m.ClientProtocol} {
		if name == "" {
			continue
		}
		p, err := ordo.Lookup(name)
		if err != nil {
			continue // an imported trace's protocol: nothing to decode with
		}
		for _, msg := range p.Messages {
			if _, ok := msg.(Slotted); ok {
				types[msg.Kind()] = reflect.TypeOf(msg)
			}
		}
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("protocol %q has no message that names a slot (agreement.Slotted)", m.Protocol)
	}
	return &evidenceJudge{meta: m, types: types, first: map[slotKey]sent{}, pending: map[uint64]pendingSend{}, reported: map[slotKey]bool{}}, nil
}

type slotKey struct {
	node      ordo.NodeID
	kind      string
	view, seq int64
}

type sent struct {
	sum   [sha256.Size]byte
	event int
	to    ordo.NodeID
	t     int64
	msg   uint64
}

// pendingSend is a slotted send not yet received by anyone.
type pendingSend struct {
	k slotKey
	s sent
}

type evidenceJudge struct {
	meta  *trace.Meta
	types map[string]reflect.Type
	first map[slotKey]sent
	// pending holds the slotted sends no node has received yet: a message
	// is evidence once someone holds it. A send held for its sender's
	// fsync and lost at its crash never left (live, a SIGKILL leaves no
	// drop in the trace: a primary's pre-prepare was judged against the
	// one it sent for the slot after its restart, a correct node called a
	// liar), nor did one the network lost.
	pending    map[uint64]pendingSend
	reported   map[slotKey]bool // slots already found equivocated (one finding each)
	judged     int              // slotted sends read
	missing    int              // slotted sends without a readable body
	found      int
	byCorrect  int // findings against nodes not in Meta.Byzantine
	liars      map[ordo.NodeID]bool
	overflow   bool
	violations []check.Violation
}

func (j *evidenceJudge) Wants(k trace.Kind) bool { return k == trace.Send || k == trace.Recv }
func (j *evidenceJudge) VectorFree()             {}

func (j *evidenceJudge) Observe(e *trace.Event) {
	switch e.Kind {
	case trace.Recv:
		if p, ok := j.pending[e.Msg]; ok {
			delete(j.pending, e.Msg)
			j.compare(p.k, p.s)
		}
		return
	case trace.Send:
	default:
		return
	}
	typ, ok := j.types[e.MsgKind]
	if !ok {
		return
	}
	if e.Body == nil {
		j.missing++
		return
	}
	v := reflect.New(typ)
	if err := json.Unmarshal(*e.Body, v.Interface()); err != nil {
		j.missing++
		return
	}
	msg := v.Elem().Interface()
	canon, err := json.Marshal(msg) // one spelling per value, however the trace stored it
	if err != nil {
		j.missing++
		return
	}
	j.judged++
	view, seq := msg.(Slotted).Slot()
	if len(j.pending) >= MaxEvidence {
		j.overflow = true
		return
	}
	j.pending[e.Msg] = pendingSend{
		k: slotKey{node: e.Node, kind: e.MsgKind, view: view, seq: seq},
		s: sent{sum: sha256.Sum256(canon), event: e.ID, to: e.Peer, t: e.T, msg: e.Msg},
	}
}

// compare judges send s of slot k, received: the slot's first received
// send, or the same message again, or evidence.
func (j *evidenceJudge) compare(k slotKey, s sent) {
	f, seen := j.first[k]
	if !seen {
		if len(j.first) >= MaxEvidence {
			j.overflow = true
			return
		}
		j.first[k] = s
		return
	}
	if f.sum == s.sum || j.reported[k] {
		return // a retransmission, or a slot already reported
	}
	j.reported[k] = true
	j.found++
	who := "a correct node: a bug"
	if j.meta.IsByzantine(int(k.node)) {
		who = "Byzantine: " + j.behaviour(k.node)
	} else {
		j.byCorrect++
	}
	if j.liars == nil {
		j.liars = map[ordo.NodeID]bool{}
	}
	j.liars[k.node] = true
	if s.event < f.event {
		f, s = s, f // named in the order they were sent
	}
	if len(j.violations) < check.MaxReported {
		j.violations = append(j.violations, check.Violation{
			Message: fmt.Sprintf("%v sent two different %s messages for view %d, sequence number %d: e%d (to %v) and e%d (to %v); %s",
				k.node, k.kind, k.view, k.seq, f.event, f.to, s.event, s.to, who),
			Events: []int{f.event, s.event},
			From:   f.t,
			To:     s.t,
		})
	}
}

func (j *evidenceJudge) behaviour(id ordo.NodeID) string {
	for _, l := range j.meta.Byzantine {
		if l.Node == int(id) {
			return fmt.Sprintf("%v (%s)", id, l.Behaviour)
		}
	}
	return id.String()
}

var errNoBodies = errors.New("the trace keeps no message bodies (sim.Config.KeepMessages; ordo sim --messages)")

func (j *evidenceJudge) Result() check.Result {
	r := check.Result{Check: EquivocationName, Violations: j.violations}
	switch {
	case j.found > 0:
		r.Verdict = check.Fail
		var names []string
		for id := ordo.NodeID(1); int(id) <= max(j.meta.Nodes, 0); id++ {
			if j.liars[id] {
				names = append(names, id.String())
			}
		}
		r.Summary = fmt.Sprintf("%d %s equivocated on (two different messages of one kind for one slot) by %s", j.found, plural.Noun(j.found, "slot"), strings.Join(names, ", "))
		if j.byCorrect > 0 {
			r.Summary += fmt.Sprintf("; %d by correct nodes", j.byCorrect)
		}
		r.Summary += "; " + liarsOf(j.meta)
	case j.judged == 0 && j.missing > 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: " + errNoBodies.Error()
	case j.judged == 0:
		r.Verdict = check.NotApplicable
		r.Summary = "not applicable: no message naming a slot was sent"
	case j.missing > 0:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: no equivocation among %d messages, but %d had no body to read", j.judged, j.missing)
	case j.overflow:
		r.Verdict = check.Unknown
		r.Summary = fmt.Sprintf("unknown: more than %d slots sent; only the first were compared", MaxEvidence)
	default:
		r.Verdict = check.Pass
		r.Summary = fmt.Sprintf("no node sent two different messages for one slot: %d messages in %d slots", j.judged, len(j.first))
	}
	r.OK = r.Verdict == check.Pass
	r.Unknown = r.Verdict == check.Unknown
	return r
}
