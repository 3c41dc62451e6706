package election

import (
	"ordo"
	"ordo/trace"
)

// LeaderSpan is one stretch of true time during which a server held the
// leader role: from its "leader" note to its next "follower" or
// "candidate" note, its crash or restart, a re-claim under a new term or
// token, or the end of the run (Open). Pauses inside it are not cut out
// here: whether a paused leader acts is the checkers' business.
type LeaderSpan struct {
	Node     ordo.NodeID
	Term     int64
	Token    int64
	From, To int64 // true time, ns
	Open     bool  // still leader when the run ends
	Begin    int   // event id of the leader note
	End      int   // event id that ended it (-1 when Open)
}

// SpanLog follows a run and lists its leaderships as they open and close:
// LeaderSpans over a stored trace, event by event. Events of clients are
// ignored.
type SpanLog struct {
	meta  *trace.Meta
	spans []LeaderSpan
	open  []int // by node: index in spans, -1 when not leading
	end   int64 // the last event's time
}

// NewSpanLog starts a log for a run described by m.
func NewSpanLog(m *trace.Meta) *SpanLog {
	l := &SpanLog{meta: m, open: make([]int, m.Nodes+1)}
	for i := range l.open {
		l.open[i] = -1
	}
	return l
}

// Observe applies e. It returns the index of the span e opened and the
// index of the span it closed (-1 for none).
func (l *SpanLog) Observe(e *trace.Event) (opened, closed int) {
	opened, closed = -1, -1
	l.end = e.T
	id := int(e.Node)
	if id < 1 || id >= len(l.open) || !l.meta.IsServer(id) {
		return
	}
	switch e.Kind {
	case trace.Note:
		v, ok := ReadNote(e.Node, e.Name, e.Attrs)
		if !ok {
			return
		}
		if v.Role != Leader {
			closed = l.close(id, e)
			return
		}
		if k := l.open[id]; k >= 0 {
			if l.spans[k].Term == int64(v.Term) && l.spans[k].Token == int64(v.Token) {
				return // already leading: a re-announcement
			}
			// A re-claim under a new term or token is a new leadership for
			// fencing: close the old one here.
			closed = l.close(id, e)
		}
		opened = len(l.spans)
		l.open[id] = opened
		l.spans = append(l.spans, LeaderSpan{Node: e.Node, Term: int64(v.Term), Token: int64(v.Token), From: e.T, Begin: e.ID, End: -1})
	case trace.Crash, trace.Restart:
		closed = l.close(id, e)
	}
	return
}

func (l *SpanLog) close(id int, e *trace.Event) int {
	k := l.open[id]
	if k < 0 {
		return -1
	}
	l.spans[k].To, l.spans[k].End = e.T, e.ID
	l.open[id] = -1
	return k
}

// Span returns span k as it stands (To is meaningless while it is open).
func (l *SpanLog) Span(k int) *LeaderSpan { return &l.spans[k] }

// Leading returns the index of id's open span, -1 when it does not lead.
func (l *SpanLog) Leading(id int) int {
	if id < 1 || id >= len(l.open) {
		return -1
	}
	return l.open[id]
}

// End is the time of the last event seen.
func (l *SpanLog) End() int64 { return l.end }

// Until moves the end of the run to t (ns) when the log was not shown the
// last events (check.Interest): open spans end there.
func (l *SpanLog) Until(t int64) { l.end = max(l.end, t) }

// Spans lists every leadership so far, ordered by start, the open ones
// ending at the last event seen.
func (l *SpanLog) Spans() []LeaderSpan {
	out := append([]LeaderSpan(nil), l.spans...)
	for i := range out {
		if out[i].End < 0 {
			out[i].To, out[i].Open = l.end, true
		}
	}
	return out
}

// LeaderSpans lists every leadership in a stored trace, ordered by start.
func LeaderSpans(t *trace.Trace) []LeaderSpan {
	l := NewSpanLog(&t.Meta)
	for i := range t.Events {
		l.Observe(&t.Events[i])
	}
	return l.Spans()
}
