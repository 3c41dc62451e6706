package election

import (
	"math"
	"slices"

	"ordo"
	"ordo/trace"
)

// NotePreCandidate is Raft's pre-vote candidacy (Ongaro's thesis, section
// 9.6): a note, not a role transition — the term does not change.
const NotePreCandidate = "precandidate"

// FailoverMs measures on a trace the time in milliseconds from from (ns) to
// the first moment a node other than killed (and in group, if given) has
// noted "leader" with a term above term, and a majority of the cluster —
// the leader and the nodes that noted "follower" of it in that term — knows
// it. It returns -1 when no such moment is in the trace.
func FailoverMs(t *trace.Trace, from, term int64, killed ordo.NodeID, group []ordo.NodeID) float64 {
	type key struct {
		node ordo.NodeID
		term int64
	}
	acks := map[key]map[ordo.NodeID]bool{}
	need := Majority(t.Meta.ServerCount()) // clients follow nobody
	for i := range t.Events {
		e := &t.Events[i]
		if e.T < from || e.Kind != trace.Note {
			continue
		}
		tm, ok := e.Attrs.Int("term")
		if !ok || tm <= term {
			continue
		}
		var k key
		switch e.Name {
		case NoteLeader:
			if e.Node == killed || (group != nil && !slices.Contains(group, e.Node)) {
				continue
			}
			k = key{e.Node, tm}
		case NoteFollower:
			l, ok := e.Attrs.Int("leader")
			if !ok || l == 0 {
				continue
			}
			k = key{ordo.NodeID(l), tm}
		default:
			continue
		}
		if acks[k] == nil {
			acks[k] = map[ordo.NodeID]bool{}
		}
		acks[k][e.Node] = true
		if acks[k][k.node] && len(acks[k]) >= need {
			return math.Round(float64(e.T-from)/1e5) / 10
		}
	}
	return -1
}

// ElectionMs is the election's part of a failover of f ms (FailoverMs)
// begun at from (ns): the time from the last "precandidate" or "candidate"
// note of the leader that ended it to its end, in milliseconds; the rest
// was waiting for a timeout. -1 when f is -1 or no candidacy is found.
func ElectionMs(t *trace.Trace, from, term int64, f float64) float64 {
	if f < 0 {
		return -1
	}
	end := from + int64(f*1e6)
	var winner ordo.NodeID
	for i := range t.Events {
		e := &t.Events[i]
		if e.T >= from && e.T <= end && e.Kind == trace.Note && e.Name == NoteLeader {
			if tm, _ := e.Attrs.Int("term"); tm > term {
				winner = e.Node
			}
		}
	}
	began := int64(-1)
	for i := range t.Events {
		e := &t.Events[i]
		if e.T >= from && e.T <= end && e.Node == winner && e.Kind == trace.Note && (e.Name == NotePreCandidate || e.Name == NoteCandidate) && began < 0 {
			began = e.T
		}
		if e.Node == winner && e.Kind == trace.Note && e.Name == NoteLeader && e.T >= from {
			break
		}
		if e.Node == winner && e.Kind == trace.Note && e.Name == NoteFollower && e.T >= from {
			began = -1 // an attempt that failed; the winning one comes later
		}
	}
	if began < 0 {
		return -1
	}
	return math.Round(float64(end-began)/1e5) / 10
}
