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
// message again, is no evidence.
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
	return &evidenceJudge{meta: m, types: types, first: map[slotKey]sent{}, reported: map[slotKey]bool{}}, nil
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

type evidenceJudge struct {
	meta  *trace.Meta
	types map[string]reflect.Type
	first map[slotKey]sent
	// byMsg finds a first send by its message id, and crashed when each
	// node last crashed: a send held for its fsync and dropped at its
	// sender's crash or fail-stop never left, and is no evidence.
	byMsg      map[uint64]slotKey
	crashed    map[ordo.NodeID]int64
	reported   map[slotKey]bool // slots already found equivocated (one finding each)
	judged     int              // slotted sends read
	missing    int              // slotted sends without a readable body
	found      int
	byCorrect  int // findings against nodes not in Meta.Byzantine
	liars      map[ordo.NodeID]bool
	overflow   bool
	violations []check.Violation
}

func (j *evidenceJudge) Wants(k trace.Kind) bool {
	return k == trace.Send || k == trace.Drop || k == trace.Crash
}
func (j *evidenceJudge) VectorFree() {}

// heldDrop reports whether drop e lost a send its sender held for an
// fsync: a drop named fail-stop (the runtime's, live and simulated), or
// one named "node crashed" of a message whose sender crashed at that
// very time (the simulator's crash drops its held sends then; a crashed
// receiver's inbox is dropped under the same name, but its senders did
// not crash).
func (j *evidenceJudge) heldDrop(e *trace.Event) bool {
	switch e.Name {
	case trace.NameFailStop:
		return true
	case trace.NameCrashed:
		t, ok := j.crashed[e.Node]
		return ok && t == e.T
	}
	return false
}

func (j *evidenceJudge) Observe(e *trace.Event) {
	switch e.Kind {
	case trace.Crash:
		if j.crashed == nil {
			j.crashed = map[ordo.NodeID]int64{}
		}
		j.crashed[e.Node] = e.T
		return
	case trace.Drop:
		if k, ok := j.byMsg[e.Msg]; ok && k.node == e.Node && j.heldDrop(e) {
			delete(j.first, k) // it never left: the next send of the slot stands alone
			delete(j.byMsg, e.Msg)
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
	k := slotKey{node: e.Node, kind: e.MsgKind, view: view, seq: seq}
	s := sent{sum: sha256.Sum256(canon), event: e.ID, to: e.Peer, t: e.T, msg: e.Msg}
	f, seen := j.first[k]
	if !seen {
		if len(j.first) >= MaxEvidence {
			j.overflow = true
			return
		}
		j.first[k] = s
		if j.byMsg == nil {
			j.byMsg = map[uint64]slotKey{}
		}
		j.byMsg[e.Msg] = k
		return
	}
	if f.sum == s.sum || j.reported[k] {
		return // a retransmission, or a slot already reported
	}
	j.reported[k] = true
	j.found++
	who := "a correct node: a bug"
	if j.meta.IsByzantine(int(e.Node)) {
		who = "Byzantine: " + j.behaviour(e.Node)
	} else {
		j.byCorrect++
	}
	if j.liars == nil {
		j.liars = map[ordo.NodeID]bool{}
	}
	j.liars[e.Node] = true
	if len(j.violations) < check.MaxReported {
		j.violations = append(j.violations, check.Violation{
			Message: fmt.Sprintf("%v sent two different %s messages for view %d, sequence number %d: e%d (to %v) and e%d (to %v); %s",
				e.Node, e.MsgKind, view, seq, f.event, f.to, e.ID, e.Peer, who),
			Events: []int{f.event, e.ID},
			From:   f.t,
			To:     e.T,
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
