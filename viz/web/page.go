package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"ordo/check"
	"ordo/trace"
	"ordo/viz"
)

//go:embed viewer.html
var viewerHTML string

//go:embed viewer.js
var viewerJS string

// Options say what the page shows beside the trace.
type Options struct {
	Title   string         // the page's heading (default: the trace's scenario or protocol)
	Results []check.Result // checker verdicts: their findings link to events
}

// Model is what the page is given, as JSON: the trace's header, the
// space-time picture of the whole trace (viz.Picture, the model the
// terminal and SVG renderers draw: lanes, marks with their trace event
// index, messages and drops between marks, lane states), the events
// themselves for their details (trace.Event's JSON), and the verdicts.
type Model struct {
	Title    string         `json:"title"`
	Meta     trace.Meta     `json:"meta"`
	Picture  *viz.Picture   `json:"picture"`
	Events   []trace.Event  `json:"events"`
	Results  []check.Result `json:"results"`
	Warnings []string       `json:"warnings,omitempty"`
	// Sim is the stepped run the page shows (ordo web on a scenario):
	// nil for a trace.
	Sim *SimView `json:"sim,omitempty"`
}

// MaxEvents bounds the events of a page (a browser holds them all).
const MaxEvents = 1 << 20

// NewModel builds the page's model of t. Errors: more than MaxEvents, or a
// trace the picture cannot be drawn from.
func NewModel(t *trace.Trace, o Options) (*Model, error) {
	if len(t.Events) > MaxEvents {
		return nil, fmt.Errorf("web: %d events; a page holds at most %d (cut the trace first)", len(t.Events), MaxEvents)
	}
	p, err := viz.FromTrace(t, viz.Options{Stamps: "none", MaxEvents: max(1, len(t.Events))})
	if err != nil {
		return nil, err
	}
	m := &Model{Title: o.Title, Meta: t.Meta, Picture: p, Events: t.Events, Results: o.Results}
	if m.Events == nil {
		m.Events = []trace.Event{}
	}
	if m.Results == nil {
		m.Results = []check.Result{}
	}
	if p.Marks == nil {
		p.Marks = []viz.Mark{}
	}
	if p.Msgs == nil {
		p.Msgs = []viz.Msg{}
	}
	if p.Drops == nil {
		p.Drops = []viz.Drop{}
	}
	if m.Title == "" {
		m.Title = t.Meta.Scenario
		if m.Title == "" {
			m.Title = t.Meta.Protocol
		}
		if m.Title == "" {
			m.Title = "ordo trace"
		}
	}
	for i := range p.Lanes {
		switch id := i + 1; {
		case t.Meta.IsService(id):
			p.Lanes[i] += " (service)"
		case len(t.Meta.Clients) > 0 && !t.Meta.IsServer(id):
			p.Lanes[i] += " (client)"
		}
	}
	received := make(map[int]bool, len(p.Msgs))
	for _, x := range p.Msgs {
		received[p.Marks[x.To].Event] = true
	}
	for _, mk := range p.Marks {
		if e := &t.Events[mk.Event]; e.Kind == trace.Recv && e.Msg != 0 && !received[mk.Event] {
			m.Warnings = append(m.Warnings, fmt.Sprintf("e%d receives a message no earlier event sends", e.ID))
		}
	}
	return m, nil
}

// Page writes the self-contained HTML page of t to w.
func Page(w io.Writer, t *trace.Trace, o Options) error {
	m, err := NewModel(t, o)
	if err != nil {
		return err
	}
	return writePage(w, m)
}

// writePage writes the page of model m.
func writePage(w io.Writer, m *Model) error {
	// json.Marshal escapes <, > and &: the data cannot close its script
	// element.
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	page := strings.NewReplacer(
		"{{TITLE}}", htmlEscape(m.Title),
		"{{DATA}}", string(data),
		"{{SCRIPT}}", viewerJS,
	).Replace(viewerHTML)
	_, err = io.WriteString(w, page)
	return err
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
