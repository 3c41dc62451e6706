package lease_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/coord"
	"ordo/election"
	"ordo/election/lease"
	"ordo/ordotest"
)

// FuzzNode drives one node with arbitrary answers from the services —
// to any request it sent, in any order, duplicated, with any error,
// revision, key and value — interleaved with time passing and its
// timers: it never panics, never leads without a session, and never
// writes past its deadline (fail closed).
func FuzzNode(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{1, 0, 0, 1, 1, 2, 0, 2, 3, 5, 1, 0, 9, 200, 9, 3, 7, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 3000 {
			return
		}
		env := ordotest.ForProtocol(lease.Protocol, 2, ordo.NewRoster(3, 0, 2), 1)
		n := env.NewNode(t, lease.Protocol, nil)
		nd := n.(*lease.Node)
		var sent []ordotest.Sent
		record := func() { sent = append(sent, env.Sent...) }
		env.Start(n)
		record()
		keys := []string{"/leader-election/1", "/leader-election/2", "/other", "/leader-election/ff"}
		for i := 0; i+2 < len(b); i += 3 {
			op, x, y := b[i]%6, int(b[i+1]), int64(b[i+2])
			switch op {
			case 0: // time passes
				env.Advance(time.Duration(x) * 10 * time.Millisecond)
			case 1: // a timer fires
				names := []string{"tick", "write", "deadline"}
				env.Fire(n, ordo.Timer{Name: names[x%3], Arg: y % 4})
			case 2, 3, 4: // an answer to something it sent
				if len(sent) == 0 {
					continue
				}
				s := sent[x%len(sent)]
				req, _ := coord.ReqOf(s.Msg)
				r := coord.Reply{Req: req, Err: uint8(y % 6), Rev: y, Lease: y % 5, TTL: y % 4,
					Succeeded: y%2 == 0, Found: y%3 != 0, Key: keys[x%len(keys)], Value: []string{"1", "2", "3", "x", "99999999999"}[y%5],
					CreateRev: y % 7, ModRev: y % 7, KeyLease: y % 5, Highest: y, Seq: y}
				if op == 4 && s.Msg.Kind() == "WATCH" {
					env.Receive(n, s.To, coord.Deleted{Req: req, Key: keys[x%len(keys)], Rev: y})
				} else {
					env.Receive(n, s.To, r)
				}
			case 5: // a stranger speaks
				env.Receive(n, ordo.NodeID(1+x%3), coord.Reply{Req: uint64(y)})
			}
			record()
			d, held := nd.Deadline()
			if v := nd.View(); v.Role == election.Leader && !held {
				t.Fatalf("step %d: leads without a session", i/3)
			}
			if w := env.SentKind("WRITE"); len(w) > 0 && (!held || env.Mono >= d) {
				t.Fatalf("step %d: wrote past the deadline %v at %v (held %v)", i/3, d, env.Mono, held)
			}
		}
	})
}
