package live

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"ordo/trace"
)

// The node's side of the live faults the cluster applies to a process
// rather than to its links (faults.go): a pause (the GC-pause case of
// section 5) and a disk whose next fsync fails.
//
// A pause is a real SIGSTOP of the node's process, bracketed by the node
// itself so that its trace says when it stopped acting: POST /pause makes
// the event loop record a pause event and block (it handles nothing more:
// no message, no timer, no fsync completion, so no held send leaves), then
// the cluster stops the process; after SIGCONT, POST /resume records the
// resume event and the loop handles what waited, oldest timer first. The
// checkers then see, as in the simulator, a paused node that does not act
// (check.Net: a paused server is not running), and the merged trace needs
// no event invented after the fact.

// pauseReq asks the loop to pause: it records the pause, closes ack and
// waits for resume (or the node's stop).
type pauseReq struct {
	ack    chan struct{}
	resume chan struct{}
}

// pauser is the admin side of a pause: at most one at a time.
type pauser struct {
	mu     sync.Mutex
	resume chan struct{} // nil when not paused
}

// errPaused and errNotPaused are the admin endpoint's 409 answers.
var (
	errPaused    = errors.New("the node is paused already")
	errNotPaused = errors.New("the node is not paused")
)

// pauseTimeout bounds how long POST /pause waits for the loop to take the
// request (a loop busy for longer is stuck, and the caller is told).
const pauseTimeout = 5 * time.Second

// Pause makes the event loop record a pause event and stop handling
// events until Resume. It returns once the loop has stopped.
func (r *Runtime) Pause() error {
	r.pauser.mu.Lock()
	defer r.pauser.mu.Unlock()
	if r.pauser.resume != nil {
		return errPaused
	}
	p := pauseReq{ack: make(chan struct{}), resume: make(chan struct{})}
	select {
	case r.pauses <- p:
	case <-r.done:
		return errors.New("the node has stopped")
	case <-time.After(pauseTimeout):
		return errors.New("the event loop did not take the pause within 5s")
	}
	<-p.ack
	r.pauser.resume = p.resume
	return nil
}

// Resume lets a paused loop go on: it records a resume event first.
func (r *Runtime) Resume() error {
	r.pauser.mu.Lock()
	defer r.pauser.mu.Unlock()
	if r.pauser.resume == nil {
		return errNotPaused
	}
	close(r.pauser.resume)
	r.pauser.resume = nil
	return nil
}

// paused runs on the loop goroutine: the pause event, then nothing until
// the resume (true: the node is stopping instead).
func (r *Runtime) paused(p pauseReq) (stopping bool) {
	r.gc.setDirect(false) // the syncer sends nothing during the pause
	defer r.gc.setDirect(true)
	r.stamp.Tick()
	r.record(trace.Event{Kind: trace.Pause})
	r.flushTrace() // a kill during the pause keeps it
	r.log.Info("paused")
	close(p.ack)
	select {
	case <-p.resume:
	case <-r.stop:
		return true
	}
	r.stamp.Tick()
	r.record(trace.Event{Kind: trace.Resume})
	r.log.Info("resumed")
	return false
}

// FailNextSync makes the store's next fsync fail (a disk that reports an
// I/O error): the node then stops, fail-stop, and the sends that waited
// for that fsync never leave (storage.go).
func (r *Runtime) FailNextSync() { r.store.failNextSync.Store(true) }

// errInjectedSync is the error of an fsync failed on purpose.
var errInjectedSync = errors.New("fsync: input/output error (injected by the fail-sync fault)")

// faultRoutes adds the process faults to the admin endpoint:
//
//	POST /pause      the loop records a pause and stops (then SIGSTOP)
//	POST /resume     after SIGCONT: the loop records a resume and goes on
//	POST /fail-sync  the store's next fsync fails: the node stops
//
// Each is logged to the cluster's fault log by the caller (Cluster.Pause,
// Resume, FailSync), which knows the moment of the signal.
func (r *Runtime) faultRoutes(mux *http.ServeMux) {
	answer := func(w http.ResponseWriter, err error) {
		switch {
		case err == nil:
			writeJSON(w, map[string]bool{"ok": true})
		case errors.Is(err, errPaused), errors.Is(err, errNotPaused):
			http.Error(w, err.Error(), http.StatusConflict)
		default:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}
	mux.HandleFunc("POST /pause", func(w http.ResponseWriter, req *http.Request) {
		if decodeJSONBody(w, req, nil, "pause") {
			answer(w, r.Pause())
		}
	})
	mux.HandleFunc("POST /resume", func(w http.ResponseWriter, req *http.Request) {
		if decodeJSONBody(w, req, nil, "resume") {
			answer(w, r.Resume())
		}
	})
	mux.HandleFunc("POST /fail-sync", func(w http.ResponseWriter, req *http.Request) {
		if decodeJSONBody(w, req, nil, "fail-sync") {
			r.FailNextSync()
			r.log.Warn("the next fsync will fail (fail-sync fault)")
			answer(w, nil)
		}
	})
}
