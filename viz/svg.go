package viz

import (
	"bufio"
	"fmt"
	"html"
	"io"

	"ordo/trace"
)

// SVG draws the window of t chosen by opts as a standalone SVG document
// that a browser opens: processes as horizontal lines, events as dots,
// messages as arrows, stamps as labels under the events, crashes (✖, the
// line dashed while down), pauses and cluster faults (a dashed red line
// across all processes, named at the top) marked.
func SVG(w io.Writer, t *trace.Trace, opts Options) error {
	p, err := FromTrace(t, opts)
	if err != nil {
		return err
	}
	return p.SVG(w)
}

// SVG writes the picture as a standalone SVG document.
func (p *Picture) SVG(w io.Writer) error {
	if err := p.Check(); err != nil {
		return err
	}
	lo := p.layout()
	const (
		charW   = 7.2 // px per character at font-size 12, monospace
		left    = 60.0
		top     = 50.0
		laneGap = 40.0
	)
	laneH := laneGap + 16*float64(1+len(p.StampNames))
	cw := make([]float64, lo.ncol)
	for i := range cw {
		cw[i] = 30
	}
	for i, mk := range p.Marks {
		c := lo.col[i]
		n := width(mk.Label)
		for _, s := range mk.Stamps {
			n = max(n, width(s))
		}
		if mk.Lane < 0 {
			n = min(n, 12)
		}
		cw[c] = max(cw[c], float64(n)*charW+14)
	}
	x := make([]float64, lo.ncol+1)
	x[0] = left + 20
	for c := 0; c < lo.ncol; c++ {
		x[c+1] = x[c] + cw[c]
	}
	W := x[lo.ncol] + 40
	H := top + laneH*float64(len(p.Lanes)) + 10
	ly := func(l int) float64 { return top + laneH*float64(l) + 10 }
	bw := bufio.NewWriter(w)
	esc := html.EscapeString
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="12">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1565c0"/></marker></defs>
<rect width="100%%" height="100%%" fill="white"/>
`, W, H, W, H)
	if p.Title != "" {
		fmt.Fprintf(bw, "<text x=\"8\" y=\"16\" font-weight=\"bold\">%s</text>\n", esc(p.Title))
	}
	// Lane lines, dashed where the process is down or paused.
	for l, name := range p.Lanes {
		y := ly(l)
		fmt.Fprintf(bw, "<text x=\"8\" y=\"%.1f\" font-weight=\"bold\">%s</text>\n", y+4, esc(name))
		state := laneUp
		segStart := x[0] - 10
		flush := func(end float64, st laneState) {
			style := `stroke="#444" stroke-width="1.5"`
			switch st {
			case laneDown:
				style = `stroke="#c62828" stroke-width="1" stroke-dasharray="2,6"`
			case lanePaused:
				style = `stroke="#999" stroke-width="1" stroke-dasharray="6,4"`
			}
			if end > segStart {
				fmt.Fprintf(bw, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n", segStart, y, end, y, style)
			}
		}
		for c := 0; c < lo.ncol; c++ {
			if i, ok := lo.at[[2]int{l, c}]; ok && p.Marks[i].State != laneSame && p.Marks[i].State != state {
				flush(x[c]+6, state)
				segStart, state = x[c]+6, p.Marks[i].State
			}
		}
		flush(W-20, state)
		for k, sn := range p.StampNames {
			fmt.Fprintf(bw, "<text x=\"8\" y=\"%.1f\" fill=\"#777\">(%s)</text>\n", y+20+16*float64(k), esc(sn))
		}
	}
	// Messages.
	for mi, m := range p.Msgs {
		a, b := p.Marks[m.From], p.Marks[m.To]
		x1, y1 := x[lo.col[m.From]]+6, ly(a.Lane)
		x2, y2 := x[lo.col[m.To]]+6, ly(b.Lane)
		// Stop short of the receiving dot.
		dy := 5.0
		if y2 < y1 {
			dy = -5
		}
		dash := ""
		if !lo.vertical[mi] {
			dash = ` stroke-opacity="0.8"`
		}
		fmt.Fprintf(bw, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1565c0\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"%s/>\n", x1, y1+dy, x2, y2-dy, dash)
	}
	// Events and barriers.
	for i, mk := range p.Marks {
		cx := x[lo.col[i]] + 6
		if mk.Lane < 0 || mk.Lane >= len(p.Lanes) {
			fmt.Fprintf(bw, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c62828\" stroke-dasharray=\"4,3\"/>\n", cx, top-14, cx, H-6)
			fmt.Fprintf(bw, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c62828\">%s</text>\n", cx+3, top-18, esc(mk.Label))
			continue
		}
		y := ly(mk.Lane)
		switch mk.Glyph {
		case '✖':
			fmt.Fprintf(bw, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c62828\" font-size=\"16\" text-anchor=\"middle\">✖</text>\n", cx, y+5)
		case '▶':
			fmt.Fprintf(bw, "<path d=\"M%.1f,%.1f l10,6 l-10,6 z\" fill=\"#2e7d32\"/>\n", cx-5, y-6)
		case '‖':
			fmt.Fprintf(bw, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"12\" fill=\"#999\"/>\n", cx-4, y-6)
		case '○':
			fmt.Fprintf(bw, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"white\" stroke=\"#333\"/>\n", cx, y)
		case '◆':
			fmt.Fprintf(bw, "<path d=\"M%.1f,%.1f l5,5 l-5,5 l-5,-5 z\" fill=\"#6a1b9a\"/>\n", cx, y-5)
		default:
			fmt.Fprintf(bw, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#333\"/>\n", cx, y)
		}
		if mk.Label != "" {
			fmt.Fprintf(bw, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">%s</text>\n", cx-4, y-9, esc(mk.Label))
		}
		for k, s := range mk.Stamps {
			fmt.Fprintf(bw, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1b5e20\">%s</text>\n", cx-4, y+20+16*float64(k), esc(s))
		}
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}
