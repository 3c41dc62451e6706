package pbft

import "ordo"

// Messages a replica will not take are refused, never believed, and
// counted by reason: what the adversary's lies and the network's stale
// copies cost it, visible in State and in the trace. A forged sender and
// a malformed message never get here: the link's MAC (sim.Stats.AuthFailed)
// and the decoder (sim.Stats.Malformed) refuse them first.

// reason is why a message was refused.
type reason uint8

const (
	reasonStaleView   reason = iota // of a view before the replica's
	reasonFutureView                // of a view the replica has not installed
	reasonWindow                    // a sequence number outside (h, h+L]
	reasonDigest                    // a digest that is not its request's
	reasonSender                    // the wrong sender for its role (a prepare from the primary, a pre-prepare from a backup, a request on another client's behalf)
	reasonConflict                  // a second vote or pre-prepare for one slot that differs from the first
	reasonNewView                   // a new-view that is malformed or whose digests the view-changes do not give
	reasonKind                      // a kind a replica never receives (a reply)
	reasonDuplicate                 // the same message again: a retransmission or a replay, already counted
	reasonSignature                 // a pre-prepare, prepare or checkpoint whose signature is not its sender's over what it says
	reasonCertificate               // a view-change whose prepared certificate or stable-checkpoint proof does not verify
	reasonRate                      // a status or stale view-change beyond what one peer is answered a tick (answerBudget)
	numReasons
)

var reasonNames = [numReasons]string{"stale-view", "future-view", "out-of-window", "bad-digest", "wrong-sender", "conflicting", "bad-new-view", "wrong-kind", "duplicate", "bad-signature", "bad-certificate", "rate-limited"}

func (w reason) String() string { return reasonNames[w] }

// NoteRefused is the note of a refusal: with reason, kind, from and the
// count of that reason so far. Only the 1st, 2nd, 4th, 8th... refusal of
// each reason is noted, so a flood of lies costs the trace a few lines.
const NoteRefused = "refused"

// detail is an optional "why" attribute: what failed (a certificate's
// error).
func (r *Replica) refuse(env ordo.Env, from ordo.NodeID, m ordo.Message, why reason, detail ...string) {
	r.refused++
	r.refusedBy[why]++
	if n := r.refusedBy[why]; n&(n-1) == 0 {
		attrs := []any{"reason", why.String(), "kind", m.Kind(), "from", int64(from), "count", n}
		if len(detail) > 0 {
			attrs = append(attrs, "why", detail[0])
		}
		env.Note(NoteRefused, attrs...)
	}
}

func (r *Replica) refusedByName() map[string]int {
	if r.refused == 0 {
		return nil
	}
	out := map[string]int{}
	for w, n := range r.refusedBy {
		if n > 0 && reason(w) != reasonDuplicate { // State.Duplicates
			out[reason(w).String()] = n
		}
	}
	return out
}
