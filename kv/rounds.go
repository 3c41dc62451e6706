package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ordo"
	"ordo/election/raft"
	"ordo/measure"
	"ordo/trace"
)

// Under a closed loop the leader works in rounds: a batch of KVRequests
// arrives, it sends AppendEntries before its own fsync (early
// replication), each follower appends and acknowledges after its fsync,
// the leader commits on the first ack (with three servers), applies and
// answers, and the clients send the next batch. Rounds cuts a live run's
// traces into those rounds and says which stretch the time goes to.

// Round segments, in the order RoundBreakdown.Segments lists them.
const (
	SegA       = "A"              // leader: first KVRequest recv → first AppendEntries send
	SegB       = "B"              // AppendEntries send → its recv at the follower
	SegC       = "C"              // follower: that recv → its next AppendResp send call
	SegD       = "D"              // that AppendResp send call → its recv at the leader (follower fsync + transport)
	SegDurable = "leader durable" // first AppendEntries send → the leader's next durable wake-up (its own fsync)
	SegAck     = "first ack"      // first AppendEntries send → first AppendResp recv
	SegE       = "E"              // first AppendResp recv → the KVResponse send that completes the round
	SegG       = "G"              // last KVResponse send of a round → next round's first KVRequest recv
	SegTotal   = "total"          // first KVRequest recv → the KVResponse send that completes the round
)

// Segment is one stretch of a write round summarized over a run: N
// samples (one a round; B, C and D one per follower a round; G one per
// pair of consecutive rounds), their nearest-rank p50 and p90 and their
// mean. A segment no round had has N 0 and zero times.
type Segment struct {
	Name           string
	N              int
	P50, P90, Mean time.Duration
}

// MarshalJSON writes the times in microseconds, as the tables print them:
// {"segment": "A", "n": 1061, "p50_us": 83.1, "p90_us": 183.5, "mean_us": 119.3}.
func (s Segment) MarshalJSON() ([]byte, error) {
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return json.Marshal(struct {
		Name string  `json:"segment"`
		N    int     `json:"n"`
		P50  float64 `json:"p50_us"`
		P90  float64 `json:"p90_us"`
		Mean float64 `json:"mean_us"`
	}{s.Name, s.N, us(s.P50), us(s.P90), us(s.Mean)})
}

// RoundBreakdown is where a write round's time goes: the leader whose
// rounds were cut, how many rounds completed, and one Segment per name
// (SegA, SegB, SegC, SegD, SegDurable, SegAck, SegE, SegG, SegTotal),
// always all of them, in that order.
type RoundBreakdown struct {
	Leader   ordo.NodeID `json:"leader"`
	Rounds   int         `json:"rounds"`
	Segments []Segment   `json:"segments"`
}

// Window is a span [From, To) of a trace's clock (Event.T: ns since the
// run began; live, since the cluster's epoch).
type Window struct{ From, To int64 }

// Rounds cuts a kv cluster's write rounds out of its traces — one per
// node as each node writes it (trace.ReadFile of nodeN/trace.jsonl), or
// a merged one — and summarizes each segment (SegA … SegTotal). Only
// rounds whose first KVRequest recv lies in one of within count (none
// given: every round). Event times must share one clock, as a local
// cluster's nodes do.
//
// The leader is the node that sent the most AppendEntries. A round opens
// at a KVRequest recv when no round is open or the open one has sent its
// AppendEntries (a round that never completes is dropped); it is complete
// at its first KVResponse send after an AppendResp recv. B, C and D follow
// the round's first AppendEntries to each follower by message id. Times
// are as the nodes recorded them: a send when the protocol made it (an
// AppendResp leaves only after the follower's fsync, hence D).
//
// Error: no AppendEntries in the traces, or no complete round in within.
func Rounds(traces []*trace.Trace, within ...Window) (RoundBreakdown, error) {
	// The message kinds a round is made of, as traces name them.
	var (
		kindRequest    = Request{}.Kind()
		kindResponse   = Response{}.Kind()
		kindAppend     = raft.AppendEntries{}.Kind()
		kindAppendResp = raft.AppendResp{}.Kind()
	)
	byNode := map[ordo.NodeID][]*trace.Event{}
	sends := map[ordo.NodeID]int{} // AppendEntries sent, by node
	for _, t := range traces {
		for i := range t.Events {
			e := &t.Events[i]
			if e.Node == 0 || !e.Kind.Stamped() {
				continue
			}
			byNode[e.Node] = append(byNode[e.Node], e)
			if e.Kind == trace.Send && e.MsgKind == kindAppend {
				sends[e.Node]++
			}
		}
	}
	var leader ordo.NodeID
	for n, c := range sends {
		if c > sends[leader] || c == sends[leader] && n < leader {
			leader = n
		}
	}
	if leader == 0 {
		return RoundBreakdown{}, errors.New("kv rounds: no AppendEntries in the traces: no write rounds to break down (a kv cluster's node traces, under write load?)")
	}
	// What the followers did with each AppendEntries, by its message id,
	// and when the leader received each AppendResp.
	type followed struct {
		recv, ack int64  // AppendEntries recv, next AppendResp send call
		ackMsg    uint64 // 0: no AppendResp followed
	}
	fol := map[uint64]*followed{}
	ackRecv := map[uint64]int64{}
	for n, evs := range byNode {
		var waiting []*followed
		for _, e := range evs {
			switch {
			case n == leader && e.Kind == trace.Recv && e.MsgKind == kindAppendResp:
				ackRecv[e.Msg] = e.T
			case n == leader:
			case e.Kind == trace.Recv && e.MsgKind == kindAppend:
				f := &followed{recv: e.T}
				fol[e.Msg] = f
				waiting = append(waiting, f)
			case e.Kind == trace.Send && e.MsgKind == kindAppendResp:
				for _, f := range waiting {
					f.ack, f.ackMsg = e.T, e.Msg
				}
				waiting = waiting[:0]
			}
		}
	}

	samples := map[string][]time.Duration{}
	add := func(seg string, from, to int64) { samples[seg] = append(samples[seg], time.Duration(to-from)) }
	inWindow := func(t int64) bool {
		if len(within) == 0 {
			return true
		}
		for _, w := range within {
			if t >= w.From && t < w.To {
				return true
			}
		}
		return false
	}
	type sent struct {
		peer ordo.NodeID
		t    int64
		msg  uint64
	}
	// round is the open round; times are 0 until they happen (a trace's
	// first event is at t ≥ 0, and a KVRequest comes after a boot).
	type round struct {
		req, ae, durable, ack, resp, lastResp int64
		sentAE, hasDurable, hasAck, done      bool
		toPeers                               []sent // first AppendEntries to each follower
	}
	complete := 0
	// finish records a completed round's samples.
	finish := func(r *round) {
		if r == nil || !r.done || !inWindow(r.req) {
			return
		}
		complete++
		add(SegA, r.req, r.ae)
		for _, s := range r.toPeers {
			f := fol[s.msg]
			if f == nil {
				continue
			}
			add(SegB, s.t, f.recv)
			if f.ackMsg == 0 {
				continue
			}
			add(SegC, f.recv, f.ack)
			if at, ok := ackRecv[f.ackMsg]; ok {
				add(SegD, f.ack, at)
			}
		}
		if r.hasDurable {
			add(SegDurable, r.ae, r.durable)
		}
		add(SegAck, r.ae, r.ack)
		add(SegE, r.ack, r.resp)
		add(SegTotal, r.req, r.resp)
	}
	var cur *round
	for _, e := range byNode[leader] {
		switch {
		case e.Kind == trace.Recv && e.MsgKind == kindRequest:
			if cur != nil && !cur.sentAE {
				continue // the round's batch is still arriving
			}
			finish(cur)
			if cur != nil && cur.done && inWindow(cur.req) {
				add(SegG, cur.lastResp, e.T)
			}
			cur = &round{req: e.T}
		case cur == nil:
		case e.Kind == trace.Send && e.MsgKind == kindAppend:
			if !cur.sentAE {
				cur.sentAE, cur.ae = true, e.T
			}
			seen := false
			for _, s := range cur.toPeers {
				seen = seen || s.peer == e.Peer
			}
			if !seen {
				cur.toPeers = append(cur.toPeers, sent{e.Peer, e.T, e.Msg})
			}
		case !cur.sentAE:
		case e.Kind == trace.Timer && e.Name == raft.TimerDurable && !cur.hasDurable:
			cur.hasDurable, cur.durable = true, e.T
		case e.Kind == trace.Recv && e.MsgKind == kindAppendResp && !cur.hasAck:
			cur.hasAck, cur.ack = true, e.T
		case e.Kind == trace.Send && e.MsgKind == kindResponse:
			cur.lastResp = e.T
			if !cur.done && cur.hasAck {
				cur.done, cur.resp = true, e.T
			}
		}
	}
	finish(cur)
	if complete == 0 {
		return RoundBreakdown{}, fmt.Errorf("kv rounds: leader %v sent %d AppendEntries, but no round (KVRequests, AppendEntries, an ack, a KVResponse) completed in the window", leader, sends[leader])
	}
	out := RoundBreakdown{Leader: leader, Rounds: complete}
	for _, name := range []string{SegA, SegB, SegC, SegD, SegDurable, SegAck, SegE, SegG, SegTotal} {
		xs := samples[name]
		s := Segment{Name: name, N: len(xs)}
		if len(xs) > 0 {
			var sum time.Duration
			for _, x := range xs {
				sum += x
			}
			s.P50, s.P90, s.Mean = measure.Percentile(xs, 50), measure.Percentile(xs, 90), sum/time.Duration(len(xs))
		}
		out.Segments = append(out.Segments, s)
	}
	return out, nil
}
