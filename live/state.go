package live

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"ordo"
)

// The protocol's own state (ordo.StateReporter) in GET /status: what the
// browser viewer shows of a simulated node, for a live one — a PBFT
// replica's view, last executed sequence number and refusals by reason
// (the replays and conflicting votes a liar's messages cost it). The
// state belongs to the loop goroutine, so the loop copies it, as JSON, at
// most every stateEvery, after a turn; the admin endpoint reads the copy.

// Bounds of the copy.
const (
	stateEvery = 100 * time.Millisecond
	// maxStateJSON bounds the copy; a larger state is left out.
	maxStateJSON = 64 << 10
)

type stateCopy struct {
	json atomic.Pointer[json.RawMessage]
	last time.Time // loop goroutine
}

// snapshotState copies the node's state if it reports one and the last
// copy is older than stateEvery (loop goroutine).
func (r *Runtime) snapshotState() {
	sr, ok := r.node.(ordo.StateReporter)
	if !ok {
		return
	}
	now := time.Now()
	if now.Sub(r.state.last) < stateEvery {
		return
	}
	r.state.last = now
	b, err := json.Marshal(sr.State())
	if err != nil || len(b) > maxStateJSON {
		r.state.json.Store(nil)
		return
	}
	raw := json.RawMessage(b)
	r.state.json.Store(&raw)
}

// protocolState is the latest copy (nil: none).
func (r *Runtime) protocolState() json.RawMessage {
	if p := r.state.json.Load(); p != nil {
		return *p
	}
	return nil
}
