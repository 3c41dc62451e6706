// Package web is the browser view of a run: the chapter's space-time
// diagrams (section 2 "Happens-Before 관계", section 3 "논리 시계") for a
// run of any size, stepped or whole. One lane per node with its name
// always in view, messages as arrows coloured by kind, drops, crashes,
// restarts, pauses, cluster faults and leaderships drawn; hovering an
// event shows its Lamport and vector stamps, clicking it its whole record
// and lights up its causal past and future; a second click (shift) shows
// the chain that proves a → b or says the two are concurrent; each checker
// finding links to the events that prove it. Only what is on screen is
// drawn, so a 100 000-event trace opens and scrolls.
//
// The page draws viz.Picture, the model the terminal and SVG renderers
// draw, sent as JSON beside the trace's events (Model). It comes two ways:
//
//   - Page writes one self-contained HTML file of a trace (ordo trace
//     html), which needs nothing but a browser.
//
//   - Server serves a trace, or a scenario stepped in the simulator
//     (scenario.Stepper): forward, back by re-execution from the seed, a
//     new seed, a fault injected at the current step; the URL holds the
//     scenario, seed, injections and step (ordo web).
//
//     res, _ := check.Run(t, []string{"single-leader"})
//     f, _ := os.Create("run.html")
//     err := web.Page(f, t, web.Options{Title: "partition-raft seed 3", Results: res})
//
//     srv, _ := web.NewServer(web.ServerOptions{Scenario: sc})
//     http.ListenAndServe("127.0.0.1:8037", srv)
//
// The server answers GET only, for a loopback Host unless told otherwise
// (ServerOptions.AnyHost), and opens only the scenario it was given or
// those its Lookup knows: a URL cannot name a file. Its behaviour is tested
// in a real headless Chromium (browser_test.go, package browser).
package web
