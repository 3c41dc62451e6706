package consistency

import (
	"fmt"

	"ordo/check"
	"ordo/clock"
	"ordo/history"
	"ordo/trace"
)

// NoLostWrite checks the clients' history (package history) for lost
// acknowledged writes: a write the store confirmed must stay visible until
// a write that follows it replaces it. Precisely, for every key k:
//
// A write is a put, or a cas not known to have failed, of k; it is
// acknowledged if its outcome is ok. For every acknowledged write w and
// every ok get r of k that began after w's acknowledgement, r must return
// the value of w or of a write that supersedes w. A get that returns
// anything older — the value of a write w superseded, or the initial "" —
// shows w lost: a store that forgot an acknowledged write, rolled it back
// at a crash, or answered from a replica that never had it. A get that
// returns a value no write wrote is reported too (the store invented it).
//
// Writes never followed by a get cannot be judged and are counted as
// unverified in the summary, not as violations. Values are expected to be
// unique per key (clients write "n6-17"); when several writes wrote the
// same value, a read of it is explained by whichever of them fits.
//
// Without Causal, order is real time (the trace's T): r began after w's
// acknowledgement if w returned before r was invoked, and s supersedes w
// unless s was acknowledged before w was invoked. That is the order a
// linearizable register keeps, where concurrent writes may replace each
// other freely. With Causal, both are happens-before from the trace's
// vector stamps: r began after w's ack if ack → r's invoke, and s
// supersedes w only if w's invoke → s's invoke. Silently discarding a
// concurrent write (the last-writer-wins loss of section 3's clock
// discussion) is then a lost write too: the promise of a store that keeps
// concurrent writes as siblings.
type NoLostWrite struct {
	// Causal orders by happens-before instead of real time.
	Causal bool
}

func init() {
	check.Register(&NoLostWrite{})
	check.Register(&NoLostWrite{Causal: true})
}

// Name implements check.Checker.
func (c *NoLostWrite) Name() string {
	if c.Causal {
		return "no-lost-write-causal"
	}
	return "no-lost-write"
}

// Doc implements check.Checker.
func (c *NoLostWrite) Doc() string {
	if c.Causal {
		return "no get that causally follows an acknowledged write returns a value older than it, by happens-before (concurrent overwrites lose)"
	}
	return "no get that begins after an acknowledged write returns a value older than it (real-time order)"
}

// Check implements Checker: the online judge replayed over t.
func (c *NoLostWrite) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start implements check.Online.
func (c *NoLostWrite) Start(m *trace.Meta) (check.Judge, error) {
	j := &historyJudge{r: history.NewReader(), done: c.CheckHistory}
	if c.Causal {
		j.vectors = map[int]clock.Vector{}
	}
	return j, nil
}

// CheckHistory checks ops; hb(a, b) reports whether trace event a
// happened before event b (used with Causal only; nil otherwise).
func (c *NoLostWrite) CheckHistory(ops []history.Operation, hb func(a, b int) bool) check.Result {
	res := check.Result{Check: c.Name()}
	// after reports whether r began after w's acknowledgement.
	after := func(w, r *history.Operation) bool {
		if c.Causal {
			return hb(w.ReturnEvent, r.CallEvent)
		}
		return w.Return < r.Call
	}
	// supersedes reports whether write s may replace w: in real time, s
	// did not complete before w began; causally, w's invoke → s's invoke.
	supersedes := func(s, w *history.Operation) bool {
		if s == w {
			return true
		}
		if c.Causal {
			return hb(w.CallEvent, s.CallEvent)
		}
		return s.Outcome != history.OutcomeOK || s.Return >= w.Call
	}
	keys, parts := history.ByKey(ops)
	var reads, acked, judged, lost int
	for ki, part := range parts {
		var writes []*history.Operation
		byValue := map[string][]*history.Operation{}
		for i := range part {
			o := &part[i]
			if o.F == history.Get || o.Outcome == history.OutcomeFail {
				continue
			}
			writes = append(writes, o)
			byValue[o.Value] = append(byValue[o.Value], o)
			if o.Outcome == history.OutcomeOK {
				acked++
			}
		}
		reported := map[*history.Operation]bool{}
		verified := map[*history.Operation]bool{}
		for i := range part {
			r := &part[i]
			if r.F != history.Get || r.Outcome != history.OutcomeOK || r.Stale {
				continue // a stale (serializable) get promised no recency
			}
			reads++
			sources := byValue[r.Result]
			if len(sources) == 0 && r.Result != "" {
				if len(res.Violations) < check.MaxReported {
					res.Violations = append(res.Violations, check.Violation{
						Message: fmt.Sprintf("key %q: %s returned a value no client wrote", keys[ki], r),
						Events:  events(r.CallEvent, r.ReturnEvent), From: r.Call, To: r.Return,
					})
				}
				continue
			}
			for _, w := range writes {
				if w.Outcome != history.OutcomeOK || !after(w, r) {
					continue
				}
				verified[w] = true
				// r began after w's ack: its value must come from a
				// write that does not precede w. The initial "" precedes
				// every write.
				older := true
				for _, s := range sources {
					if supersedes(s, w) {
						older = false
						break
					}
				}
				if !older || reported[w] {
					continue
				}
				reported[w] = true
				lost++
				if len(res.Violations) < check.MaxReported {
					was := "the initial value"
					if len(sources) > 0 {
						was = fmt.Sprintf("the value of %s, a write it superseded", sources[0])
					}
					res.Violations = append(res.Violations, check.Violation{
						Message: fmt.Sprintf("key %q: acknowledged %s is lost: %s, which began after its ack, returned %s", keys[ki], w, r, was),
						Events:  events(w.CallEvent, w.ReturnEvent, r.CallEvent, r.ReturnEvent), From: w.Call, To: r.Return,
					})
				}
			}
		}
		judged += len(verified)
	}
	res.OK = len(res.Violations) == 0
	res.Summary = fmt.Sprintf("%d acknowledged writes, %d followed by a get (%d unverified), %d gets; %d lost", acked, judged, acked-judged, reads, lost)
	if reads == 0 && res.OK {
		// Nothing was read: nothing could be judged. Never a pass.
		res.OK, res.Verdict = false, check.NotApplicable
		res.Summary = fmt.Sprintf("not applicable: no ok get to judge %d acknowledged writes by", acked)
	}
	return res
}

func events(ids ...int) []int {
	var out []int
	for _, id := range ids {
		if id >= 0 {
			out = append(out, id)
		}
	}
	return out
}
