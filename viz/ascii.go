package viz

import (
	"fmt"
	"io"
	"strconv"

	"ordo/clock"
	"ordo/trace"
)

// Options controls how a trace is drawn.
type Options struct {
	Stamps    string // "lamport", "vector", "both" or "none" (default "lamport")
	Width     int    // maximum line width of the terminal drawing (default 120)
	MaxEvents int    // at most this many events are drawn (default 60)
	From      int    // first event id of the window (default 0)
}

// Defaults for Options.
const (
	DefaultWidth     = 120
	DefaultMaxEvents = 60
)

func (o Options) norm() (Options, error) {
	if o.Stamps == "" {
		o.Stamps = "lamport"
	}
	switch o.Stamps {
	case "lamport", "vector", "both", "none":
	default:
		return o, fmt.Errorf("viz: stamps %q: want lamport, vector, both or none", o.Stamps)
	}
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	// A negative window is a mistake, not a request for the default:
	// falling back silently would draw something the user did not ask for.
	if o.MaxEvents < 0 {
		return o, fmt.Errorf("viz: max events %d: want a positive number (0 means the default, %d)", o.MaxEvents, DefaultMaxEvents)
	}
	if o.MaxEvents == 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.From < 0 {
		return o, fmt.Errorf("viz: from event %d: want an event id of 0 or more", o.From)
	}
	return o, nil
}

// window returns the range of event indices drawn, or an error when the
// window starts past the end of a non-empty trace (an empty trace draws an
// empty picture from 0).
func (o Options) window(t *trace.Trace) (int, int, error) {
	n := len(t.Events)
	if n > 0 && o.From >= n {
		return 0, 0, fmt.Errorf("viz: from event %d: the trace has %d events (e0..e%d)", o.From, n, n-1)
	}
	from := min(o.From, n)
	to := from + min(n-from, o.MaxEvents)
	return from, to, nil
}

// stampNames returns the row headers for the chosen stamps.
func stampNames(s string) []string {
	switch s {
	case "lamport":
		return []string{"C"}
	case "vector":
		return []string{"V"}
	case "both":
		return []string{"C", "V"}
	}
	return nil
}

// stampsOf returns an event's stamp rows for the chosen stamps (a trace's
// or a diagram's event).
func stampsOf(s string, lamport uint64, v clock.Vector) []string {
	l := strconv.FormatUint(lamport, 10)
	switch s {
	case "lamport":
		return []string{l}
	case "vector":
		return []string{v.String()}
	case "both":
		return []string{l, v.String()}
	}
	return nil
}

// FromTrace turns the window of t chosen by opts into a Picture.
func FromTrace(t *trace.Trace, opts Options) (*Picture, error) {
	opts, err := opts.norm()
	if err != nil {
		return nil, err
	}
	from, to, err := opts.window(t)
	if err != nil {
		return nil, err
	}
	n := t.Meta.Nodes
	for i := from; i < to; i++ {
		if int(t.Events[i].Node) > n {
			n = int(t.Events[i].Node)
		}
	}
	p := &Picture{StampNames: stampNames(opts.Stamps)}
	for i := 1; i <= n; i++ {
		p.Lanes = append(p.Lanes, nodeName(i, &t.Meta)) // an imported log's host names
	}
	dropped := map[uint64]bool{}
	for i := from; i < len(t.Events); i++ {
		if e := &t.Events[i]; e.Kind == trace.Drop {
			dropped[e.Msg] = true
		}
	}
	sendMark := map[uint64]int{}
	for i := from; i < to; i++ {
		e := &t.Events[i]
		if e.Kind == trace.Drop {
			if s, ok := sendMark[e.Msg]; ok {
				p.Drops = append(p.Drops, Drop{Send: s, Event: i})
			}
			continue
		}
		mk := Mark{Lane: int(e.Node) - 1, Event: i}
		if e.Kind.Stamped() {
			mk.Stamps = stampsOf(opts.Stamps, e.Lamport, e.Vector)
		}
		switch e.Kind {
		case trace.Start:
			mk.Glyph, mk.Label, mk.State = '▶', "start", laneUp
		case trace.Restart:
			mk.Glyph, mk.Label, mk.State = '▶', "restart", laneUp
		case trace.Crash:
			mk.Glyph, mk.Label, mk.State = '✖', "crash", laneDown
		case trace.Pause:
			mk.Glyph, mk.Label, mk.State = '‖', "pause", lanePaused
		case trace.Resume:
			mk.Glyph, mk.Label, mk.State = '‖', "resume", laneUp
		case trace.Send:
			mk.Glyph = '●'
			mk.Label = short(e.MsgKind, 8)
			sendMark[e.Msg] = len(p.Marks)
			if dropped[e.Msg] {
				mk.Label += "✗"
			}
		case trace.Recv:
			if e.Msg == 0 {
				// A runtime hint (peer-down): no message was sent, so it
				// is drawn as a local event naming the peer it is about.
				mk.Glyph, mk.Label = '◆', short(e.MsgKind, 9)+"←"+strconv.Itoa(int(e.Peer))
				break
			}
			mk.Glyph = '●'
			mk.Label = short(e.MsgKind, 8)
			if s, ok := sendMark[e.Msg]; ok {
				p.Msgs = append(p.Msgs, Msg{From: s, To: len(p.Marks),
					FromTag: "→" + strconv.Itoa(int(e.Node)), ToTag: "←" + strconv.Itoa(int(e.Peer))})
			} else {
				mk.Label += "←" + strconv.Itoa(int(e.Peer))
			}
		case trace.Timer:
			mk.Glyph, mk.Label = '○', short(e.Name, 8)
		case trace.Note:
			mk.Glyph, mk.Label = '◆', short(e.Name, 10)
		case trace.Fault:
			mk.Lane = -1
			mk.Label = e.Name
			for _, a := range e.Attrs {
				mk.Label += " " + fmt.Sprint(a.Value)
			}
			mk.Label = short(mk.Label, 30)
		}
		p.Marks = append(p.Marks, mk)
	}
	// A send whose receive lies outside the window still names its target.
	hasMsg := map[int]bool{}
	for _, m := range p.Msgs {
		hasMsg[m.From] = true
	}
	for i := from; i < to; i++ {
		e := &t.Events[i]
		if e.Kind == trace.Send {
			if mi := sendMark[e.Msg]; !hasMsg[mi] {
				p.Marks[mi].Label += "→" + strconv.Itoa(int(e.Peer))
			}
		}
	}
	title := fmt.Sprintf("events e%d..e%d of %d", from, max(from, to-1), len(t.Events))
	if t.Meta.Protocol != "" {
		title = t.Meta.Protocol + ": " + title
	}
	if to < len(t.Events) || from > 0 {
		title += " (window: --from, --max)"
	}
	p.Title = title
	return p, p.Check()
}

func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ASCII draws t as a terminal space-time diagram: one line per node, events
// as columns in a causal order, messages as vertical arrows where the layout
// allows and otherwise as →n / ←n tags, stamps under the events, crashes
// (✖, the line blank while down), pauses (‖ and ···) and cluster faults (┆
// across all lines, named above) marked.
func ASCII(w io.Writer, t *trace.Trace, opts Options) error {
	opts, err := opts.norm()
	if err != nil {
		return err
	}
	p, err := FromTrace(t, opts)
	if err != nil {
		return err
	}
	return p.Render(w, opts.Width)
}
