package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"ordo/check"
	"ordo/clock"
	"ordo/scenario"
	"ordo/scenarios"
	"ordo/trace"
	"ordo/viz/web"
	"ordo/viz/web/browser"

	// The protocols of the built-in scenarios register themselves.
	_ "ordo/broadcast"
	_ "ordo/coord"
	_ "ordo/detect"
	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
	_ "ordo/kv"
	_ "ordo/register"
)

// These tests drive a real headless Chromium (Debian's chromium) through
// the viewer as a user does: real mouse clicks and keys, console errors
// and uncaught exceptions collected and failed on. Without a Chromium
// they skip, except under CI=true, where .ci/run installs one.

func startBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b, err := browser.Start(ctx, browser.Options{Width: 1400, Height: 800})
	if err != nil {
		if errors.Is(err, browser.ErrNotFound) && os.Getenv("CI") != "true" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
	})
	return b
}

func noPageErrors(t *testing.T, b *browser.Browser) {
	t.Helper()
	if errs := b.Errors(); len(errs) > 0 {
		t.Fatalf("the page reported %d errors:\n%v", len(errs), errs)
	}
}

func builtin(t testing.TB, name string) *scenario.Scenario {
	t.Helper()
	data, err := scenarios.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("scenarios/"+name+".yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func serve(t *testing.T, o web.ServerOptions) string {
	t.Helper()
	if o.Lookup == nil {
		o.Lookup = func(name string) (*scenario.Scenario, error) { return builtin(t, name), nil }
		o.Names = scenarios.Names()
	}
	srv, err := web.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

type viewerState struct {
	Events   int     `json:"events"`
	Lanes    int     `json:"lanes"`
	Drawn    int     `json:"drawn"`
	Selected int     `json:"selected"`
	Second   int     `json:"second"`
	Past     int     `json:"past"`
	Future   int     `json:"future"`
	Finding  []int   `json:"finding"`
	Chain    []int   `json:"chain"`
	ScrollX  float64 `json:"scrollX"`
	Relation string  `json:"relation"`
}

func state(t *testing.T, b *browser.Browser) viewerState {
	t.Helper()
	st, err := browser.Eval[viewerState](b, "window.ordoViewer.state()")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type point struct{ X, Y float64 }

// clickEvent clicks event id with the real mouse where the page draws it.
func clickEvent(t *testing.T, b *browser.Browser, id int, shift bool) {
	t.Helper()
	if _, err := browser.Eval[any](b, fmt.Sprintf("window.ordoViewer.select(%d), true", id)); err != nil {
		t.Fatal(err)
	}
	// select() scrolled it into view; now click it as a user does, after
	// clearing the selection the call made.
	p, err := browser.Eval[*point](b, fmt.Sprintf("window.ordoViewer.at(%d)", id))
	if err != nil || p == nil {
		t.Fatalf("event e%d is not on screen: %v", id, err)
	}
	if err := b.Click(p.X, p.Y, shift); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserLiveTrace: a merged trace of a real 3-node cluster (killed,
// partitioned, healed, restarted) loads without console errors; a real
// click on an event selects it and lights its causal past and future; a
// shift-click on a later event shows the chain; the arrow keys step.
func TestBrowserLiveTrace(t *testing.T) {
	tr, err := trace.ReadFile("testdata/live-raft-3.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Run(tr, []string{"single-leader", "fencing"})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, web.ServerOptions{Trace: tr, Results: res, Title: "live"})
	b := startBrowser(t)
	took, err := b.Open(url+"/", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live trace of %d events opened in %v", len(tr.Events), took)
	noPageErrors(t, b)
	st := state(t, b)
	if st.Events != len(tr.Events) || st.Lanes != 3 || st.Drawn == 0 {
		t.Fatalf("page shows %+v, want %d events on 3 lanes, some drawn", st, len(tr.Events))
	}
	// A receive in the middle: its send is in its causal past.
	var recv, later int = -1, -1
	for i := len(tr.Events) / 2; i < len(tr.Events); i++ {
		if tr.Events[i].Kind == trace.Recv && tr.Events[i].Msg != 0 {
			recv = tr.Events[i].ID
			break
		}
	}
	if recv < 0 {
		t.Fatal("no receive in the trace's second half")
	}
	if _, err := browser.Eval[any](b, "window.ordoViewer.select(0), true"); err != nil {
		t.Fatal(err)
	}
	clickEvent(t, b, recv, false)
	st = state(t, b)
	if st.Selected != recv || st.Past == 0 {
		t.Fatalf("after clicking e%d: %+v, want it selected with a causal past", recv, st)
	}
	// A later event on another node that the receive happened before, and
	// one concurrent with it, checked against the trace's own relation.
	for i := recv + 1; i < len(tr.Events) && later < 0; i++ {
		e := &tr.Events[i]
		if e.Kind.Stamped() && e.Node != tr.Events[recv].Node {
			later = e.ID
		}
	}
	clickEvent(t, b, recv, false)
	pos, err := browser.Eval[*point](b, fmt.Sprintf("window.ordoViewer.at(%d)", later))
	if err != nil {
		t.Fatal(err)
	}
	if pos == nil {
		t.Fatalf("e%d, next to e%d, is not on screen", later, recv)
	}
	if err := b.Click(pos.X, pos.Y, true); err != nil {
		t.Fatal(err)
	}
	st = state(t, b)
	o, err := tr.Relation(recv, later)
	if err != nil {
		t.Fatal(err)
	}
	if st.Second != later || st.Relation == "" {
		t.Fatalf("after shift-clicking e%d: %+v", later, st)
	}
	if chained := len(st.Chain) > 0; chained != (o == clock.Before || o == clock.After) {
		t.Fatalf("e%d vs e%d: trace says %v, page says %q (chain %v)", recv, later, o, st.Relation, st.Chain)
	}
	// The proof beside it is ordo trace why's, from the server.
	if err := b.WaitFor(`document.getElementById("why-text") !== null`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := browser.Eval[string](b, `document.getElementById("why-text").textContent`)
	if err != nil {
		t.Fatal(err)
	}
	x, err := tr.Explain(recv, later)
	if err != nil {
		t.Fatal(err)
	}
	if got != x.Text() {
		t.Fatalf("the page's proof:\n%s\nordo trace why's:\n%s", got, x.Text())
	}
	// The arrow keys step through the run.
	clickEvent(t, b, recv, false)
	if err := b.Key(kb.ArrowRight); err != nil {
		t.Fatal(err)
	}
	if st = state(t, b); st.Selected != recv+1 {
		t.Fatalf("→ after e%d selected e%d", recv, st.Selected)
	}
	if err := b.Key(kb.ArrowLeft); err != nil {
		t.Fatal(err)
	}
	if st = state(t, b); st.Selected != recv {
		t.Fatalf("← went to e%d, want e%d", st.Selected, recv)
	}
	noPageErrors(t, b)
}

// TestBrowserFindingLeadsToItsEvents: the 2|3 split brain (the chapter's
// section 5) fails single-leader; clicking that finding highlights exactly
// the events it names and scrolls the first of them into view.
func TestBrowserFindingLeadsToItsEvents(t *testing.T) {
	url := serve(t, web.ServerOptions{Scenario: builtin(t, "partition-bully")})
	b := startBrowser(t)
	if _, err := b.Open(url+"/sim?scenario=partition-bully&pos=end", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	noPageErrors(t, b)
	type finding struct {
		ID     string `json:"id"`
		Events []int  `json:"events"`
	}
	// The first violation of the failing single-leader check, as the page
	// was given it.
	f, err := browser.Eval[*finding](b, `(() => {
		const M = JSON.parse(document.getElementById("ordo-data").textContent);
		const ri = M.results.findIndex((r) => r.check === "single-leader" && (r.violations || []).length);
		return ri < 0 ? null : { id: "finding-" + ri + "-0", events: M.results[ri].violations[0].events || [] };
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if f == nil || len(f.Events) == 0 {
		t.Fatalf("no single-leader violation with events on the page: %+v", f)
	}
	// Scroll away first, so that the click has to bring them back.
	if _, err := browser.Eval[any](b, "window.ordoViewer.select(0), true"); err != nil {
		t.Fatal(err)
	}
	if err := b.ClickOn("#" + f.ID); err != nil {
		t.Fatal(err)
	}
	st := state(t, b)
	want := append([]int(nil), f.Events...)
	sortInts(want)
	if !reflect.DeepEqual(st.Finding, dedup(want)) {
		t.Fatalf("finding highlights %v, want %v", st.Finding, dedup(want))
	}
	p, err := browser.Eval[*point](b, fmt.Sprintf("window.ordoViewer.at(%d)", dedup(want)[0]))
	if err != nil || p == nil {
		t.Fatalf("the finding's first event e%d is not on screen after the click (%v)", want[0], err)
	}
	// The time window 2000–2500 ms: only events in it are drawn, and it
	// fills the view.
	if _, err := browser.Eval[any](b, `window.ordoViewer.window(2000, 2500), true`); err != nil {
		t.Fatal(err)
	}
	span, err := browser.Eval[[]float64](b, `window.ordoViewer.drawnSpan()`)
	if err != nil {
		t.Fatal(err)
	}
	if len(span) != 2 || span[0] < 2000e6 || span[1] > 2500e6 || span[1]-span[0] < 250e6 {
		t.Fatalf("window 2000–2500 ms draws events from %v ns", span)
	}
	noPageErrors(t, b)
}

// TestBrowserStepForwardAndBack: the Bully figure stepped with the page's
// own buttons; stepping back (re-execution from the seed) and loading a
// position's URL afresh show exactly the state first seen there.
func TestBrowserStepForwardAndBack(t *testing.T) {
	url := serve(t, web.ServerOptions{Scenario: builtin(t, "bully-section4")})
	b := startBrowser(t)
	if _, err := b.Open(url+"/sim?scenario=bully-section4&pos=0", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	type simState struct {
		Pos    int             `json:"pos"`
		End    bool            `json:"end"`
		Now    int64           `json:"now"`
		States json.RawMessage `json:"states"`
		Events int             `json:"events"`
		URL    string          `json:"url"`
	}
	get := func() simState {
		t.Helper()
		s, err := browser.Eval[simState](b, `Object.assign({}, window.ordoViewer.sim(), {events: window.ordoViewer.state().events, url: location.href})`)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wait := func(pos int, cmp string) simState {
		t.Helper()
		if err := b.WaitFor(fmt.Sprintf("window.ordoViewer && window.ordoViewer.sim().pos %s %d", cmp, pos), 20*time.Second); err != nil {
			t.Fatal(err)
		}
		return get()
	}
	seen := []simState{get()}
	if seen[0].Pos != 0 || seen[0].Now != 0 {
		t.Fatalf("the start shows %+v", seen[0])
	}
	const steps = 12
	for i := 0; i < steps; i++ {
		cur := seen[len(seen)-1]
		if i%2 == 0 {
			if err := b.ClickOn("#simNext"); err != nil {
				t.Fatal(err)
			}
		} else if err := b.Key("."); err != nil {
			t.Fatal(err)
		}
		s := wait(cur.Pos, ">")
		if s.Events <= cur.Events {
			t.Fatalf("step %d: events %d → %d, want more", i, cur.Events, s.Events)
		}
		seen = append(seen, s)
	}
	for i := len(seen) - 2; i >= len(seen)-5; i-- {
		cur := get()
		if err := b.ClickOn("#simBack"); err != nil {
			t.Fatal(err)
		}
		s := wait(cur.Pos, "<")
		// Back lands just before the step that made the last event: the
		// events and states of the earlier visit to that many events.
		var prev *simState
		for k := range seen {
			if seen[k].Events == s.Events {
				prev = &seen[k]
			}
		}
		if prev == nil || string(prev.States) != string(s.States) || prev.Now > s.Now {
			t.Fatalf("back to step %d: %d events, states %s; first visit %+v", s.Pos, s.Events, s.States, prev)
		}
	}
	// A receive shows the message's contents, which the stepped run kept.
	msg, err := browser.Eval[string](b, `(() => {
		const id = window.ordoViewer.find("recv");
		window.ordoViewer.select(id);
		const m = document.getElementById("message");
		return m ? m.textContent : "";
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, ":") {
		t.Fatalf("a selected receive shows no message contents: %q", msg)
	}
	// A position's URL, opened afresh, is the same moment.
	for _, k := range []int{3, 7} {
		if _, err := b.Open(seen[k].URL, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		s := get()
		if s.Pos != seen[k].Pos || s.Events != seen[k].Events || string(s.States) != string(seen[k].States) {
			t.Fatalf("reopened %s: %+v, first seen %+v", seen[k].URL, s, seen[k])
		}
	}
	noPageErrors(t, b)
}

// TestBrowserInjectFault: a crash injected at the current step through the
// page's fault box shows the node down from there on, and the URL carries
// it.
func TestBrowserInjectFault(t *testing.T) {
	url := serve(t, web.ServerOptions{Scenario: builtin(t, "bully-section4")})
	b := startBrowser(t)
	if _, err := b.Open(url+"/sim?scenario=bully-section4&pos=20", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// A fault the run refuses is said beside the box; the run and its
	// address stay as they were.
	if _, err := browser.Eval[any](b, `document.getElementById("simFault").value = "nonsense here", true`); err != nil {
		t.Fatal(err)
	}
	if err := b.ClickOn("#simInject"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor(`window.ordoViewer && document.getElementById("simError").textContent.includes("unknown fault kind")`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if st, err := browser.Eval[map[string]any](b, `({pos: window.ordoViewer.sim().pos, inj: window.ordoViewer.sim().injected.length, url: location.href})`); err != nil || st["pos"] != 20.0 || st["inj"] != 0.0 || strings.Contains(st["url"].(string), "nonsense") {
		t.Fatalf("after a refused fault: %v (%v)", st, err)
	}
	if _, err := browser.Eval[any](b, `document.getElementById("simFault").value = "crash 3", true`); err != nil {
		t.Fatal(err)
	}
	if err := b.ClickOn("#simInject"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor(`window.ordoViewer && window.ordoViewer.sim().injected.length === 1`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.ClickOn("#simNext"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor(`window.ordoViewer && window.ordoViewer.sim().pos > 20`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	down, err := browser.Eval[bool](b, `window.ordoViewer.sim().states.some((n) => n.id === 3 && n.status === "crashed")`)
	if err != nil {
		t.Fatal(err)
	}
	if !down {
		s, _ := browser.Eval[any](b, `window.ordoViewer.sim()`)
		t.Fatalf("after injecting crash 3 and stepping, node 3 is not down: %v", s)
	}
	noPageErrors(t, b)
}

// TestBrowserLargeTrace measures how long a 100 000-event trace takes to
// open and draw (logged, not asserted: the machines are shared).
func TestBrowserLargeTrace(t *testing.T) {
	tr := largeTrace(t, 100_000)
	url := serve(t, web.ServerOptions{Trace: tr, Title: "large"})
	b := startBrowser(t)
	took, err := b.Open(url+"/", 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st := state(t, b)
	if st.Events != len(tr.Events) || st.Drawn == 0 || st.Drawn > 5000 {
		t.Fatalf("page shows %+v: want all %d events held and only those on screen drawn", st, len(tr.Events))
	}
	// Scroll to the end: the events there are drawn.
	if _, err := browser.Eval[any](b, fmt.Sprintf("window.ordoViewer.select(%d), true", tr.Events[len(tr.Events)-1].ID)); err != nil {
		t.Fatal(err)
	}
	if p, err := browser.Eval[*point](b, fmt.Sprintf("window.ordoViewer.at(%d)", tr.Events[len(tr.Events)-1].ID)); err != nil || p == nil {
		t.Fatalf("the last event is not on screen after selecting it: %v", err)
	}
	noPageErrors(t, b)
	t.Logf("MEASURED: a %d-event trace opened in %v (budget 2 s; not asserted)", len(tr.Events), took)
}

// largeTrace is the first n events of a long simulated Raft run with a
// partition: real messages, timers, notes and faults.
func largeTrace(t *testing.T, n int) *trace.Trace {
	t.Helper()
	sc := builtin(t, "partition-raft")
	for {
		r, err := sc.Run(scenario.RunOptions{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Trace.Events) >= n {
			r.Trace.Events = r.Trace.Events[:n]
			return r.Trace
		}
		sc.Duration *= 2
	}
}

func sortInts(x []int) { slices.Sort(x) }

func dedup(x []int) []int { return slices.Compact(slices.Clone(x)) }
