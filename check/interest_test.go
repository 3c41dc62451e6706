package check

import (
	"testing"

	"ordo/trace"
)

// picky is an online checker whose judge wants only notes, reads no
// vector stamps and records the end time it is told.
type picky struct{}

func (picky) Name() string                  { return "test-picky" }
func (picky) Doc() string                   { return "wants notes only" }
func (c picky) Check(t *trace.Trace) Result { return Replay(c, t) }
func (picky) Start(*trace.Meta) (Judge, error) {
	return &pickyJudge{end: -1}, nil
}

type pickyJudge struct{ end int64 }

func (j *pickyJudge) Observe(*trace.Event)  {}
func (j *pickyJudge) Result() Result        { return Result{OK: j.end == 20, Summary: "end"} }
func (*pickyJudge) Wants(k trace.Kind) bool { return k == trace.Note }
func (*pickyJudge) VectorFree()             {}
func (j *pickyJudge) End(t int64)           { j.end = t }

func init() { Register(picky{}) }

// A session asks the runtime only for what its judges need (the campaign
// speed-up of issue 9): a judge with Interest gets only the kinds it wants;
// a judge without it, or a stored-trace checker, wants everything; vector
// stamps are needed unless every judge is VectorFree; End reaches the
// judges that asked for it, and never moves time backwards.
func TestSession_InterestVectorsAndEnd(t *testing.T) {
	s, _ := NewSession([]string{"test-picky"})
	s.Begin(trace.Meta{Nodes: 1})
	if !s.Wants(trace.Note) || s.Wants(trace.Send) || s.NeedsVectors() {
		t.Fatalf("picky alone: wants note %v, send %v; needs vectors %v", s.Wants(trace.Note), s.Wants(trace.Send), s.NeedsVectors())
	}
	s.Observe(&trace.Event{Kind: trace.Note, Node: 1, T: 10})
	s.End(5) // before the last event seen: ignored
	s.End(20)
	if r := s.Results(); !r[0].OK {
		t.Fatalf("End did not reach the judge: %+v", r)
	}

	s, _ = NewSession([]string{"test-picky", "test-counter"})
	s.Begin(trace.Meta{Nodes: 1})
	if !s.Wants(trace.Send) || !s.NeedsVectors() {
		t.Fatal("a judge without Interest or VectorFree must get every event and the vectors")
	}
	s, _ = NewSession([]string{"test-picky", "test-stored"})
	s.Begin(trace.Meta{Nodes: 1})
	if !s.Wants(trace.Send) || !s.NeedsVectors() {
		t.Fatal("a stored-trace checker must get every event and the vectors")
	}
	s, _ = NewSession([]string{"test-picky", "test-counter"})
	s.Begin(trace.Meta{Nodes: 1, Protocol: "other"}) // test-counter refuses: no judge
	if s.Wants(trace.Send) || s.NeedsVectors() {
		t.Fatal("a refused checker's missing judge made the session want everything")
	}
}

// Paused answers for node 1 as for any other.
func TestNet_PausedFirstNode(t *testing.T) {
	w := NewNet(&trace.Meta{Nodes: 2})
	w.Observe(&trace.Event{Kind: trace.Start, Node: 1})
	w.Observe(&trace.Event{Kind: trace.Pause, Node: 1})
	if !w.Paused(1) || w.Running(1) || !w.Up(1) {
		t.Fatalf("node 1 paused: Paused %v Running %v Up %v", w.Paused(1), w.Running(1), w.Up(1))
	}
}
