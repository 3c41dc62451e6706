package web_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"ordo/trace"
	"ordo/viz/web"
)

// TestPageIsSelfContained: the page of a trace holds its model and the
// viewer, loads nothing from elsewhere, and its data cannot close its
// script element whatever the trace says.
func TestPageIsSelfContained(t *testing.T) {
	tr := largeTrace(t, 2000)
	tr.Events[5].Attrs = append(tr.Events[5].Attrs, trace.Attr{Key: "evil", Value: "</script><script>alert(1)</script>"})
	var b bytes.Buffer
	if err := web.Page(&b, tr, web.Options{Title: `a <b>"title"</b>`}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Count(page, "</script>") != 2 {
		t.Fatalf("the page has %d </script>: the data closed its element", strings.Count(page, "</script>"))
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Fatal("the page loads something from the network")
	}
	if !strings.Contains(page, "a &lt;b&gt;&quot;title&quot;&lt;/b&gt;") {
		t.Fatal("the title is not escaped")
	}
	i := strings.Index(page, `<script id="ordo-data" type="application/json">`)
	j := strings.Index(page[i:], "</script>")
	var m web.Model
	if err := json.Unmarshal([]byte(page[i+len(`<script id="ordo-data" type="application/json">`):i+j]), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Events) != 2000 || m.Picture == nil || len(m.Picture.Lanes) != tr.Meta.Nodes || len(m.Warnings) != 0 {
		t.Fatalf("model: %d events, %d lanes, warnings %v", len(m.Events), len(m.Picture.Lanes), m.Warnings)
	}
}

// TestModelWarnsOfOrphanReceives: a receive whose send is not in the trace
// (a trace cut at the front) is named, not hidden.
func TestModelWarnsOfOrphanReceives(t *testing.T) {
	tr := largeTrace(t, 3000)
	cut := *tr
	cut.Events = append([]trace.Event(nil), tr.Events[1000:]...)
	m, err := web.NewModel(&cut, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) == 0 || !strings.Contains(m.Warnings[0], "no earlier event sends") {
		t.Fatalf("warnings %v", m.Warnings)
	}
	if m.Title != tr.Meta.Scenario {
		t.Fatalf("title %q, want the scenario's name %q", m.Title, tr.Meta.Scenario)
	}
}
