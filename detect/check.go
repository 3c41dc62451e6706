package detect

import (
	"fmt"
	"slices"
	"time"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

func init() { check.Register(CrashDetected{}) }

// CrashDetected is the "crash-detected" checker: the completeness half of a
// failure detector's contract (section 5, partial failure: a health check
// must notice a dead node), with a bound. Every crash of a node is
// suspected, by every node that is up when it crashes and stays up, within
// Bound of the crash (true time). An observer that crashes or pauses, or a
// crashed node that restarts, before the bound ends the obligation; a crash
// too close to the end of the trace to judge is counted as unjudged, not as
// a pass.
type CrashDetected struct {
	// Bound is the allowed detection time (0: the trace's options timeout
	// + interval, the fixed-timeout detector's worst case, which the φ
	// detector must meet as well; the defaults give 600ms).
	Bound time.Duration
}

// Name implements check.Checker.
func (CrashDetected) Name() string { return "crash-detected" }

// Doc implements check.Checker.
func (CrashDetected) Doc() string {
	return "every crash is suspected by every node that stays up within timeout + interval (section 5, health checks)"
}

// Applies implements check.Applier: the check judges runs of the failure
// detectors (protocol "heartbeat"); on a run of any other protocol a crash
// nobody was asked to detect is not a pass but not applicable.
func (CrashDetected) Applies(m *trace.Meta) error {
	if m.Protocol != Protocol.Name {
		return fmt.Errorf("crash-detected judges runs of the %s failure detector, and this run is of %q", Protocol.Name, m.Protocol)
	}
	return nil
}

// DetectBound is the bound CrashDetected uses for a trace: its options
// timeout + interval (the heartbeat protocol's defaults when absent).
func DetectBound(m trace.Meta) time.Duration {
	read := func(k, def string) time.Duration {
		if d, err := time.ParseDuration(m.Options[k]); err == nil {
			return d
		}
		d, _ := time.ParseDuration(def)
		return d
	}
	return read("timeout", "500ms") + read("interval", "100ms")
}

// Check implements check.Checker.
func (c CrashDetected) Check(t *trace.Trace) check.Result {
	bound := c.Bound
	if bound == 0 {
		bound = DetectBound(t.Meta)
	}
	type pair struct{ obs, dead ordo.NodeID }
	type due struct {
		pair
		at    int64 // the crash, true ns
		event int
	}
	r := check.Result{Check: "crash-detected", OK: true}
	// By NodeID; a slice, not a map, so that verdicts come in trace order.
	n := t.Meta.Nodes
	for i := range t.Events {
		n = max(n, int(t.Events[i].Node))
	}
	up, paused := make([]bool, n+1), make([]bool, n+1)
	suspects := map[pair]bool{}
	var pending []due // in crash order
	var crashes, detected int
	var worst time.Duration
	// keep removes the obligations for which drop is true.
	keep := func(drop func(due) bool) {
		pending = slices.DeleteFunc(pending, drop)
	}
	for i := range t.Events {
		e := &t.Events[i]
		if e.Node < 0 || int(e.Node) > n {
			continue
		}
		// Every obligation whose bound ended before this event is missed.
		keep(func(d due) bool {
			if e.T-d.at <= int64(bound) {
				return false
			}
			r.OK = false
			if len(r.Violations) < 1000 {
				r.Violations = append(r.Violations, check.Violation{
					Message: fmt.Sprintf("%v did not suspect %v within %v of its crash at %v", d.obs, d.dead, bound, time.Duration(d.at)),
					Events:  []int{d.event}, From: d.at, To: d.at + int64(bound)})
			}
			return true
		})
		switch e.Kind {
		case trace.Start, trace.Restart:
			up[e.Node], paused[e.Node] = true, false
			keep(func(d due) bool { return d.dead == e.Node })
			for k := range suspects {
				if k.obs == e.Node {
					delete(suspects, k) // a fresh incarnation suspects nobody
				}
			}
		case trace.Pause:
			paused[e.Node] = true
			keep(func(d due) bool { return d.obs == e.Node })
		case trace.Resume:
			paused[e.Node] = false
		case trace.Crash:
			keep(func(d due) bool { return d.obs == e.Node })
			if !up[e.Node] {
				continue
			}
			up[e.Node] = false
			crashes++
			for obs := 1; obs <= n; obs++ {
				k := pair{ordo.NodeID(obs), e.Node}
				switch {
				case !up[obs] || paused[obs] || k.obs == e.Node:
				case suspects[k]:
					detected++ // suspected already: detected at once
				default:
					pending = append(pending, due{pair: k, at: e.T, event: e.ID})
				}
			}
		case trace.Note:
			p, ok := e.Attrs.Int("peer")
			if !ok {
				continue
			}
			k := pair{e.Node, ordo.NodeID(p)}
			switch e.Name {
			case "suspect":
				suspects[k] = true
				keep(func(d due) bool {
					if d.pair != k {
						return false
					}
					detected++
					worst = max(worst, time.Duration(e.T-d.at))
					return true
				})
			case "trust":
				suspects[k] = false
			}
		}
	}
	unjudged := len(pending)
	r.Summary = fmt.Sprintf("%d crashes, %d detections, slowest %v (bound %v), %d missed, %d unjudged at the end of the trace",
		crashes, detected, worst, bound, len(r.Violations), unjudged)
	return r
}
