package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ordo/check"
	"ordo/trace"
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

// Model is what the page is given, as JSON: the trace's header, one lane
// name per node, the events (trace.Event's JSON), the message links
// resolved by event index (a receive or drop → its send), and the verdicts.
type Model struct {
	Title    string         `json:"title"`
	Meta     trace.Meta     `json:"meta"`
	Lanes    []string       `json:"lanes"`
	Events   []trace.Event  `json:"events"`
	Links    []Link         `json:"links"`
	Results  []check.Result `json:"results"`
	Warnings []string       `json:"warnings,omitempty"`
}

// Link joins event To (a receive or a drop) to its send, both by index in
// Model.Events (JavaScript cannot hold every 64-bit message id exactly).
type Link struct {
	Send int  `json:"s"`
	To   int  `json:"r"`
	Drop bool `json:"d,omitempty"`
}

// MaxEvents bounds the events of a page (a browser holds them all).
const MaxEvents = 1 << 20

// NewModel builds the page's model of t. Errors: more than MaxEvents.
func NewModel(t *trace.Trace, o Options) (*Model, error) {
	if len(t.Events) > MaxEvents {
		return nil, fmt.Errorf("web: %d events; a page holds at most %d (cut the trace first)", len(t.Events), MaxEvents)
	}
	m := &Model{Title: o.Title, Meta: t.Meta, Events: t.Events, Results: o.Results}
	if m.Events == nil {
		m.Events = []trace.Event{}
	}
	if m.Results == nil {
		m.Results = []check.Result{}
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
	for i := 1; i <= t.Meta.Nodes; i++ {
		name := "n" + strconv.Itoa(i)
		if i <= len(t.Meta.Names) && t.Meta.Names[i-1] != "" {
			name = t.Meta.Names[i-1]
		}
		switch {
		case t.Meta.IsService(i):
			name += " (service)"
		case len(t.Meta.Clients) > 0 && !t.Meta.IsServer(i):
			name += " (client)"
		}
		m.Lanes = append(m.Lanes, name)
	}
	sent := map[uint64]int{}
	for i := range t.Events {
		e := &t.Events[i]
		switch e.Kind {
		case trace.Send:
			sent[e.Msg] = i
		case trace.Recv, trace.Drop:
			if e.Msg == 0 {
				continue
			}
			if s, ok := sent[e.Msg]; ok {
				m.Links = append(m.Links, Link{Send: s, To: i, Drop: e.Kind == trace.Drop})
			} else if e.Kind == trace.Recv {
				m.Warnings = append(m.Warnings, fmt.Sprintf("e%d receives a message no earlier event sends", e.ID))
			}
		}
	}
	if m.Links == nil {
		m.Links = []Link{}
	}
	return m, nil
}

// Page writes the self-contained HTML page of t to w.
func Page(w io.Writer, t *trace.Trace, o Options) error {
	m, err := NewModel(t, o)
	if err != nil {
		return err
	}
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
