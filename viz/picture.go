package viz

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Picture is a space-time diagram independent of where it came from (a
// trace of a run or a hand-drawn diagram file): lanes are processes, marks
// are events in a causal order (every send before its receives). It is the
// one model every renderer draws: the terminal (Render), SVG, and, as JSON
// (encoding/json with the tags below), the browser viewer of viz/web.
type Picture struct {
	Lanes      []string `json:"lanes"`       // process names, top to bottom
	StampNames []string `json:"stamp_names"` // one header per stamp row: "C", "V", ...
	Marks      []Mark   `json:"marks"`
	Msgs       []Msg    `json:"msgs"`
	// Drops are messages lost on the way (a trace's drop events): a send
	// mark and no receive. The terminal and SVG mark the send's label with
	// ✗; the browser draws the arrow ending in a cross.
	Drops []Drop `json:"drops"`
	Title string `json:"title"` // printed above the diagram
}

// Drop is a message sent by mark Send and lost: Event is the drop's index
// in the trace.
type Drop struct {
	Send  int `json:"send"`
	Event int `json:"event"`
}

// Mark is one event, or a barrier across all lanes (Lane < 0) for a
// cluster-wide fault such as a partition.
type Mark struct {
	Lane   int      `json:"lane"`
	Glyph  Glyph    `json:"glyph"`
	Label  string   `json:"label"`
	Stamps []string `json:"stamps,omitempty"` // one per StampNames entry
	// State the lane is in after this event: laneUp, laneDown (crashed),
	// lanePaused. Zero means unchanged.
	State laneState `json:"state,omitempty"`
	// Event is the mark's index in the trace it was drawn from, or -1 when
	// the picture is not of a trace (a diagram file).
	Event int `json:"event"`
}

// Glyph is the character a mark is drawn with in the terminal ('●', '✖',
// ...); JSON carries it as a one-character string.
type Glyph rune

// MarshalJSON writes the glyph as a string ("" for none).
func (g Glyph) MarshalJSON() ([]byte, error) {
	if g == 0 {
		return []byte(`""`), nil
	}
	return json.Marshal(string(rune(g)))
}

// UnmarshalJSON reads a glyph written by MarshalJSON.
func (g *Glyph) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*g = 0
	if r := []rune(s); len(r) > 0 {
		*g = Glyph(r[0])
	}
	return nil
}

type laneState int8

// MarshalJSON writes a lane state as a word: "up", "down" or "paused".
func (s laneState) MarshalJSON() ([]byte, error) {
	switch s {
	case laneUp:
		return []byte(`"up"`), nil
	case laneDown:
		return []byte(`"down"`), nil
	case lanePaused:
		return []byte(`"paused"`), nil
	}
	return []byte(`""`), nil
}

// UnmarshalJSON reads a lane state written by MarshalJSON.
func (s *laneState) UnmarshalJSON(b []byte) error {
	var w string
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	switch w {
	case "up":
		*s = laneUp
	case "down":
		*s = laneDown
	case "paused":
		*s = lanePaused
	case "":
		*s = laneSame
	default:
		return fmt.Errorf("viz: lane state %q: want up, down, paused or empty", w)
	}
	return nil
}

const (
	laneSame laneState = iota
	laneUp
	laneDown
	lanePaused
)

// Msg is a message from the mark at index From to the mark at index To.
// When the layout cannot draw it as a vertical arrow, FromTag is appended
// to the sender's label and ToTag to the receiver's.
type Msg struct {
	From    int    `json:"from"`
	To      int    `json:"to"`
	FromTag string `json:"from_tag"`
	ToTag   string `json:"to_tag"`
}

// layout is where every mark went.
type layout struct {
	col      []int          // column of each mark
	at       map[[2]int]int // (lane, column) -> the mark there; barriers excluded
	vertical []bool         // per msg: drawn as an arrow
	arrows   [][]arr        // per column
	ncol     int
}

type arr struct {
	top, bottom int  // lanes
	down        bool // receiver is the bottom lane
}

func (p *Picture) layout() layout {
	lo := layout{col: make([]int, len(p.Marks)), at: map[[2]int]int{}, vertical: make([]bool, len(p.Msgs))}
	nl := len(p.Lanes)
	last := make([]int, nl)
	for i := range last {
		last[i] = -1
	}
	occupied := func(lane, c int) bool { _, ok := lo.at[[2]int{lane, c}]; return ok }
	// Every message into a mark, in message order: a mark may receive
	// several (a diagram's "a -> d" and "c -> d"), and its column must
	// follow all their senders, not just the first.
	recvOf := map[int][]int{}
	for i, m := range p.Msgs {
		recvOf[m.To] = append(recvOf[m.To], i)
	}
	crosses := func(lane, c int) bool {
		for _, a := range arrowAt(lo.arrows, c) {
			if a.top < lane && lane < a.bottom {
				return true
			}
		}
		return false
	}
	fits := func(a arr, c int) bool {
		for l := a.top + 1; l < a.bottom; l++ {
			if occupied(l, c) {
				return false
			}
		}
		for _, b := range arrowAt(lo.arrows, c) {
			if max(a.top, b.top) < min(a.bottom, b.bottom) {
				return false
			}
		}
		return true
	}
	addArrow := func(a arr, c int) {
		for len(lo.arrows) <= c {
			lo.arrows = append(lo.arrows, nil)
		}
		lo.arrows[c] = append(lo.arrows[c], a)
	}
	for i, mk := range p.Marks {
		if mk.Lane < 0 || mk.Lane >= nl {
			c := lo.ncol
			for l := range last {
				last[l] = c
			}
			lo.col[i] = c
			lo.ncol = c + 1
			continue
		}
		// The earliest column a mark may take: after its predecessor on
		// the lane and after every sender, so that no receive is drawn
		// left of its send (the picture reads left to right in causal
		// order). A vertical arrow puts the receive in its sender's
		// column, so it is tried only when that column is also strictly
		// after every other sender and the predecessor.
		base := last[mk.Lane] + 1
		senders := map[int]bool{}
		for _, mi := range recvOf[i] {
			s := p.Msgs[mi].From
			if s >= i {
				panic("viz: layout of a message received before it is sent (Check not called)")
			}
			senders[s] = true
			base = max(base, lo.col[s]+1)
		}
		c := -1
		for _, mi := range recvOf[i] {
			s := p.Msgs[mi].From
			cs := lo.col[s]
			sl := p.Marks[s].Lane
			if sl < 0 || sl >= nl || sl == mk.Lane || cs <= last[mk.Lane] {
				continue
			}
			ok := true
			for o := range senders {
				if o != s && lo.col[o] >= cs {
					ok = false
				}
			}
			if !ok || crosses(mk.Lane, cs) || occupied(mk.Lane, cs) {
				continue
			}
			a := arr{top: min(sl, mk.Lane), bottom: max(sl, mk.Lane), down: mk.Lane > sl}
			if fits(a, cs) {
				c = cs
				addArrow(a, c)
				lo.vertical[mi] = true
				break
			}
		}
		if c < 0 {
			c = base
			for crosses(mk.Lane, c) || occupied(mk.Lane, c) {
				c++
			}
		}
		lo.at[[2]int{mk.Lane, c}] = i
		last[mk.Lane] = c
		lo.col[i] = c
		lo.ncol = max(lo.ncol, c+1)
	}
	return lo
}

func width(s string) int { return utf8.RuneCountInString(s) }

// row is a fixed-width line of text under construction.
type row []rune

func newRow(n int, fill rune) row {
	r := make(row, n)
	for i := range r {
		r[i] = fill
	}
	return r
}

func (r row) put(at int, s string) {
	for _, ch := range s {
		if at >= 0 && at < len(r) {
			r[at] = ch
		}
		at++
	}
}

// Render writes the picture as text no wider than maxWidth columns
// (0: unlimited), breaking it into bands like lines of music.
func (p *Picture) Render(w io.Writer, maxWidth int) error {
	if err := p.Check(); err != nil {
		return err
	}
	lo := p.layout()
	labels := make([]string, len(p.Marks))
	for i, mk := range p.Marks {
		labels[i] = mk.Label
	}
	for i, m := range p.Msgs {
		if !lo.vertical[i] {
			labels[m.From] += m.FromTag
			labels[m.To] += m.ToTag
		}
	}
	hasLabels := false
	for i, mk := range p.Marks {
		if mk.Lane >= 0 && labels[i] != "" {
			hasLabels = true
		}
	}
	// Column widths.
	cw := make([]int, lo.ncol)
	for i := range cw {
		cw[i] = 1
	}
	for i, mk := range p.Marks {
		c := lo.col[i]
		cw[c] = max(cw[c], width(labels[i]))
		for _, s := range mk.Stamps {
			cw[c] = max(cw[c], width(s))
		}
	}
	for i := range cw {
		cw[i] += 2
	}
	// Per-lane state along the columns.
	barrier := map[int]int{}
	for i, mk := range p.Marks {
		if mk.Lane < 0 || mk.Lane >= len(p.Lanes) {
			barrier[lo.col[i]] = i
		}
	}
	state := make([][]laneState, len(p.Lanes))
	for l := range p.Lanes {
		state[l] = make([]laneState, lo.ncol)
		cur := laneUp
		for c := 0; c < lo.ncol; c++ {
			if i, ok := lo.at[[2]int{l, c}]; ok && p.Marks[i].State != laneSame {
				cur = p.Marks[i].State
			}
			state[l][c] = cur
		}
	}
	// Prefix: lane names and stamp headers.
	pw := 0
	for _, n := range p.Lanes {
		pw = max(pw, width(n)+2)
	}
	for _, n := range p.StampNames {
		pw = max(pw, width(n)+4)
	}
	pad := func(s string) string { return s + strings.Repeat(" ", max(0, pw-width(s))) }
	// Bands.
	var bands [][2]int
	start, acc := 0, pw
	for c := 0; c < lo.ncol; c++ {
		if maxWidth > 0 && acc+cw[c]+1 > maxWidth && c > start {
			bands = append(bands, [2]int{start, c})
			start, acc = c, pw
		}
		acc += cw[c]
	}
	if lo.ncol > start || len(bands) == 0 {
		bands = append(bands, [2]int{start, lo.ncol})
	}
	hasArrows := false
	for _, v := range lo.vertical {
		hasArrows = hasArrows || v
	}
	gap := 1
	if hasArrows {
		gap = 2
	}
	var out strings.Builder
	if p.Title != "" {
		out.WriteString(p.Title + "\n")
	}
	for bi, b := range bands {
		if bi > 0 {
			out.WriteString("\n")
		}
		x := make([]int, b[1]-b[0]+1) // x offset of each column in the band
		for c := b[0]; c < b[1]; c++ {
			x[c-b[0]+1] = x[c-b[0]] + cw[c]
		}
		total := x[len(x)-1]
		bandGap := 1
		for c := b[0]; c < b[1]; c++ {
			if len(arrowAt(lo.arrows, c)) > 0 {
				bandGap = gap
			}
		}
		// Header row for barriers.
		hdr, named := newRow(total, ' '), false
		for c := b[0]; c < b[1]; c++ {
			if i, ok := barrier[c]; ok {
				hdr.put(x[c-b[0]], labels[i])
				named = true
			}
		}
		if named {
			out.WriteString(pad("") + strings.TrimRight(string(hdr), " ") + "\n")
		}
		for l, name := range p.Lanes {
			line := newRow(total, '─')
			var lab row
			if hasLabels {
				lab = newRow(total, ' ')
			}
			stamps := make([]row, len(p.StampNames))
			for k := range stamps {
				stamps[k] = newRow(total, ' ')
			}
			gaps := make([]row, bandGap)
			for k := range gaps {
				gaps[k] = newRow(total, ' ')
			}
			for c := b[0]; c < b[1]; c++ {
				xc := x[c-b[0]]
				fill := '─'
				switch state[l][c] {
				case laneDown:
					fill = ' '
				case lanePaused:
					fill = '·'
				}
				for k := xc; k < xc+cw[c]; k++ {
					line[k] = fill
				}
				if _, ok := barrier[c]; ok {
					line[xc] = '┆'
					for k := range gaps {
						gaps[k][xc] = '┆'
					}
					for k := range stamps {
						stamps[k][xc] = '┆'
					}
					if lab != nil {
						lab[xc] = '┆'
					}
				}
				if i, ok := lo.at[[2]int{l, c}]; ok {
					g := p.Marks[i].Glyph
					if g == 0 {
						g = '●'
					}
					line[xc] = rune(g)
					if lab != nil {
						lab.put(xc, labels[i])
					}
					for k := range stamps {
						if k < len(p.Marks[i].Stamps) {
							stamps[k].put(xc, p.Marks[i].Stamps[k])
						}
					}
				}
				for _, a := range arrowAt(lo.arrows, c) {
					switch {
					case a.top < l && l < a.bottom:
						line[xc] = '┼'
						if lab != nil {
							lab[xc] = '│'
						}
						for k := range stamps {
							stamps[k][xc] = '│'
						}
						for k := range gaps {
							gaps[k][xc] = '│'
						}
					case l == a.top:
						for k := range gaps {
							gaps[k][xc] = '│'
						}
						if a.down {
							gaps[len(gaps)-1][xc] = '▼'
						} else {
							gaps[0][xc] = '▲'
						}
					}
				}
			}
			end := "►"
			if bi < len(bands)-1 {
				end = "…"
			}
			out.WriteString(pad(name+":") + string(line) + end + "\n")
			if lab != nil {
				out.WriteString(pad("") + strings.TrimRight(string(lab), " ") + "\n")
			}
			for k, s := range stamps {
				out.WriteString(pad("("+p.StampNames[k]+")") + strings.TrimRight(string(s), " ") + "\n")
			}
			if l < len(p.Lanes)-1 {
				for _, g := range gaps {
					out.WriteString(strings.TrimRight(pad("")+string(g), " ") + "\n")
				}
			}
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

func arrowAt(arrows [][]arr, c int) []arr {
	if c < len(arrows) {
		return arrows[c]
	}
	return nil
}

// Check validates a picture's indices; it is the guard against bad input
// from converters.
func (p *Picture) Check() error {
	for i, mk := range p.Marks {
		if mk.Lane >= len(p.Lanes) {
			return fmt.Errorf("viz: event %d is on lane %d of %d", i, mk.Lane, len(p.Lanes))
		}
	}
	for i, d := range p.Drops {
		if d.Send < 0 || d.Send >= len(p.Marks) {
			return fmt.Errorf("viz: dropped message %d refers to a missing send", i)
		}
	}
	for i, m := range p.Msgs {
		if m.From < 0 || m.From >= len(p.Marks) || m.To < 0 || m.To >= len(p.Marks) {
			return fmt.Errorf("viz: message %d refers to a missing event", i)
		}
		if m.From >= m.To {
			return fmt.Errorf("viz: message %d is received before it is sent", i)
		}
	}
	return nil
}

// WriteJSON writes the picture as one JSON object (the tags on Picture,
// Mark, Msg and Drop), the model the browser viewer draws. Errors: the
// picture fails Check, or w fails.
func (p *Picture) WriteJSON(w io.Writer) error {
	if err := p.Check(); err != nil {
		return err
	}
	q := *p
	// Empty lists as [], not null: readers need not test for both.
	if q.Marks == nil {
		q.Marks = []Mark{}
	}
	if q.Msgs == nil {
		q.Msgs = []Msg{}
	}
	if q.Drops == nil {
		q.Drops = []Drop{}
	}
	if q.StampNames == nil {
		q.StampNames = []string{}
	}
	if q.Lanes == nil {
		q.Lanes = []string{}
	}
	return json.NewEncoder(w).Encode(&q)
}
