package kv

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// roundsTraces are three nodes' traces (leader 1) of two complete rounds
// and a third cut off before its ack; times in µs.
//
//	round 1: req 100, 110; AE→2 150 (msg 11), AE→3 160 (msg 12); ack from 2 900;
//	         durable 1000; responses 1050, 1060; ack from 3 1100
//	round 2: req 1500; AE→2 1600 (13), AE→3 1620 (14); ack from 2 2500;
//	         response 2600; durable 2700 (after the response); ack from 3 2800
//	round 3: req 3000; AE→2 3100 (15); nothing more
func roundsTraces() []*trace.Trace {
	us := func(t int64) int64 { return t * 1000 }
	ev := func(node ordo.NodeID, kind trace.Kind, t int64, peer ordo.NodeID, msg uint64, msgKind, name string) trace.Event {
		return trace.Event{Kind: kind, Node: node, T: us(t), Peer: peer, Msg: msg, MsgKind: msgKind, Name: name}
	}
	const client = ordo.NodeID(1000)
	leader := []trace.Event{
		ev(1, trace.Start, 0, 0, 0, "", ""),
		ev(1, trace.Send, 50, 2, 1, "Heartbeat", ""),
		ev(1, trace.Recv, 100, client, 0, "KVRequest", ""),
		ev(1, trace.Recv, 110, client, 0, "KVRequest", ""),
		ev(1, trace.Send, 150, 2, 11, "AppendEntries", ""),
		ev(1, trace.Send, 160, 3, 12, "AppendEntries", ""),
		ev(1, trace.Recv, 900, 2, 21, "AppendResp", ""),
		ev(1, trace.Timer, 1000, 0, 0, "", "durable"),
		ev(1, trace.Send, 1050, client, 41, "KVResponse", ""),
		ev(1, trace.Send, 1060, client, 42, "KVResponse", ""),
		ev(1, trace.Recv, 1100, 3, 31, "AppendResp", ""),
		ev(1, trace.Recv, 1500, client, 0, "KVRequest", ""),
		ev(1, trace.Send, 1600, 2, 13, "AppendEntries", ""),
		ev(1, trace.Send, 1620, 3, 14, "AppendEntries", ""),
		ev(1, trace.Recv, 2500, 2, 22, "AppendResp", ""),
		ev(1, trace.Send, 2600, client, 43, "KVResponse", ""),
		ev(1, trace.Timer, 2700, 0, 0, "", "durable"),
		ev(1, trace.Recv, 2800, 3, 32, "AppendResp", ""),
		ev(1, trace.Recv, 3000, client, 0, "KVRequest", ""),
		ev(1, trace.Send, 3100, 2, 15, "AppendEntries", ""),
	}
	// follower's AppendEntries in and AppendResp out: {recv, msg, send, resp}.
	follower := func(node ordo.NodeID, hops ...[4]int64) []trace.Event {
		var out []trace.Event
		for _, h := range hops {
			out = append(out, ev(node, trace.Recv, h[0], 1, uint64(h[1]), "AppendEntries", ""),
				ev(node, trace.Send, h[2], 1, uint64(h[3]), "AppendResp", ""))
		}
		return out
	}
	f2 := append([]trace.Event{ev(2, trace.Recv, 60, 1, 1, "Heartbeat", "")}, follower(2, [4]int64{200, 11, 300, 21}, [4]int64{1700, 13, 1800, 22})...)
	f3 := follower(3, [4]int64{220, 12, 400, 31}, [4]int64{1750, 14, 1900, 32})
	var out []*trace.Trace
	for _, evs := range [][]trace.Event{f2, leader, f3} { // the leader need not come first
		t := &trace.Trace{Meta: trace.Meta{Runtime: "live", Nodes: 3}}
		for _, e := range evs {
			t.Append(e)
		}
		out = append(out, t)
	}
	return out
}

func TestRounds(t *testing.T) {
	type want struct {
		n              int
		p50, p90, mean float64 // µs
	}
	check := func(t *testing.T, got RoundBreakdown, rounds int, wants map[string]want) {
		t.Helper()
		if got.Leader != 1 || got.Rounds != rounds {
			t.Fatalf("leader %v, %d rounds; want leader 1, %d rounds", got.Leader, got.Rounds, rounds)
		}
		order := []string{SegA, SegB, SegC, SegD, SegDurable, SegAck, SegE, SegG, SegTotal}
		if len(got.Segments) != len(order) {
			t.Fatalf("%d segments, want %d", len(got.Segments), len(order))
		}
		d := func(us float64) time.Duration { return time.Duration(us * 1000) }
		for i, s := range got.Segments {
			if s.Name != order[i] {
				t.Errorf("segment %d is %q, want %q", i, s.Name, order[i])
			}
			w := wants[s.Name]
			if s.N != w.n || s.P50 != d(w.p50) || s.P90 != d(w.p90) || s.Mean != d(w.mean) {
				t.Errorf("%s: n=%d p50=%v p90=%v mean=%v; want n=%d p50=%vµs p90=%vµs mean=%vµs", s.Name, s.N, s.P50, s.P90, s.Mean, w.n, w.p50, w.p90, w.mean)
			}
		}
	}
	t.Run("all", func(t *testing.T) {
		got, err := Rounds(roundsTraces())
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, 2, map[string]want{
			SegA:       {2, 50, 100, 75},
			SegB:       {4, 60, 130, 85},     // 50, 60, 100, 130
			SegC:       {4, 100, 180, 132.5}, // 100, 180, 100, 150
			SegD:       {4, 700, 900, 725},   // 600, 700, 700, 900
			SegDurable: {2, 850, 1100, 975},  // round 2's after its response
			SegAck:     {2, 750, 900, 825},   //
			SegE:       {2, 100, 150, 125},   //
			SegG:       {2, 400, 440, 420},   // 1060→1500, 2600→3000
			SegTotal:   {2, 950, 1100, 1025}, //
		})
	})
	t.Run("merged", func(t *testing.T) {
		// One trace holding every node's events gives the same figures.
		merged := &trace.Trace{Meta: trace.Meta{Runtime: "live", Nodes: 3}}
		for _, tr := range roundsTraces() {
			for _, e := range tr.Events {
				merged.Append(e)
			}
		}
		a, err := Rounds([]*trace.Trace{merged})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Rounds(roundsTraces())
		for i := range a.Segments {
			if a.Segments[i] != b.Segments[i] {
				t.Errorf("merged %+v, per node %+v", a.Segments[i], b.Segments[i])
			}
		}
	})
	t.Run("window", func(t *testing.T) {
		got, err := Rounds(roundsTraces(), Window{From: 1400_000, To: 5000_000})
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, 1, map[string]want{
			SegA:       {1, 100, 100, 100},
			SegB:       {2, 100, 130, 115},
			SegC:       {2, 100, 150, 125},
			SegD:       {2, 700, 900, 800},
			SegDurable: {1, 1100, 1100, 1100},
			SegAck:     {1, 900, 900, 900},
			SegE:       {1, 100, 100, 100},
			SegG:       {1, 400, 400, 400},
			SegTotal:   {1, 1100, 1100, 1100},
		})
	})
}

func TestRoundsNone(t *testing.T) {
	noAE := roundsTraces()
	for _, tr := range noAE {
		var keep []trace.Event
		for _, e := range tr.Events {
			if e.MsgKind != "AppendEntries" {
				keep = append(keep, e)
			}
		}
		tr.Events = keep
	}
	if _, err := Rounds(noAE); err == nil || !strings.Contains(err.Error(), "no AppendEntries") {
		t.Errorf("no AppendEntries: err %v, want one saying so", err)
	}
	if _, err := Rounds(nil); err == nil {
		t.Error("no traces: no error")
	}
	// Rounds there are, but none begins in the window.
	if _, err := Rounds(roundsTraces(), Window{From: 5000_000, To: 6000_000}); err == nil || !strings.Contains(err.Error(), "no round") {
		t.Errorf("empty window: err %v, want no round completed", err)
	}
}
