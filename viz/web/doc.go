// Package web is the browser view of a run: the chapter's space-time
// diagrams (section 2 "Happens-Before 관계", section 3 "논리 시계") for a
// trace of any size, in one self-contained HTML file. One lane per node
// with its name always in view, messages as arrows coloured by kind, drops,
// crashes, restarts, pauses and cluster faults drawn; hovering an event
// shows its Lamport and vector stamps, clicking it its whole record and
// lights up its causal past and future; a second click (shift) shows the
// chain that proves a → b or says the two are concurrent; each checker
// finding links to the events that prove it. Only what is on screen is
// drawn, so a 100 000-event trace opens and scrolls.
//
//	res, _ := check.Run(t, []string{"single-leader"})
//	f, _ := os.Create("run.html")
//	err := web.Page(f, t, web.Options{Title: "partition-raft seed 3", Results: res})
//
// The page needs nothing but a browser: no server, no network. Its
// behaviour is tested in a real headless Chromium (web_test.go).
package web
