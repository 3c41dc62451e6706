package pbft_test

import (
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/agreement"
	"ordo/check"
	"ordo/ordotest"
	"ordo/pbft"
	"ordo/sim"
)

// §5.1, batching: 16 closed-loop clients keep the primary busy, so
// requests queue while two batches are in progress and later batches
// hold more than one request. Every replica executes the same requests
// at the same (sequence number, index), fewer sequence numbers than
// requests, and the checkers pass. With batch=1 each sequence number
// holds one request, as before batching. Seed 1.
func TestPBFTBatchesFormUnderLoad(t *testing.T) {
	const clients, ops = 16, 10
	s, _ := run(t, config(t, 4, clients, ops, nil), 5*time.Second)
	wantInOrder(t, s.Trace(), clients*ops, 1, 2, 3, 4)
	wantVerdicts(t, s.Trace(), check.Pass, check.Pass, check.Pass)
	for id := ordo.NodeID(1); id <= 4; id++ {
		st := replica(s, id)
		if st.Executed != clients*ops || st.Largest < 2 || st.Batches >= st.Executed || st.LastExecuted != int64(st.Batches) {
			t.Fatalf("%v: %+v, want %d requests in fewer batches, one of at least 2", id, st, clients*ops)
		}
	}

	one, _ := run(t, config(t, 4, clients, ops, map[string]string{"batch": "1"}), 5*time.Second)
	wantInOrder(t, one.Trace(), clients*ops, 1, 2, 3, 4)
	for id := ordo.NodeID(1); id <= 4; id++ {
		if st := replica(one, id); st.Largest != 1 || st.Batches != clients*ops || st.LastExecuted != clients*ops {
			t.Fatalf("batch=1, %v: %+v, want one request per sequence number", id, st)
		}
	}
}

// The option batch bounds a batch: with batch=3, no batch holds more.
func TestPBFTBatchOptionBoundsTheBatch(t *testing.T) {
	s, _ := run(t, config(t, 4, 16, 5, map[string]string{"batch": "3", "inflight": "1"}), 5*time.Second)
	wantInOrder(t, s.Trace(), 80, 1, 2, 3, 4)
	for id := ordo.NodeID(1); id <= 4; id++ {
		if st := replica(s, id); st.Largest != 3 {
			t.Fatalf("%v: largest batch %d, want 3 (the bound, reached under load)", id, st.Largest)
		}
	}
	for _, bad := range []map[string]string{{"batch": "0"}, {"batch": "1025"}, {"inflight": "-1"}, {"inflight": "33"}} {
		if _, err := pbft.Protocol.New(ordo.Config{ID: 1, N: 4, Opts: opts(t, pbft.Protocol, bad), Proto: pbft.Protocol}); err == nil {
			t.Errorf("options %v accepted", bad)
		}
	}
}

// §4.4 with batches, one step at replica 2, the primary of view 1: it
// prepared the batch [A, B] at sequence number 1 in view 0 and saw no
// commit when the primary failed. The new-view re-proposes that batch at
// the same sequence number, and with view 1's prepares and commits both
// requests execute at 1, at indexes 0 and 1.
func TestPBFTPreparedBatchKeepsItsSequenceNumber(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 2, ordo.NewRoster(4, 2, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	a := pbft.Request{Timestamp: 1, Client: 5, Op: "A"}
	b := pbft.Request{Timestamp: 1, Client: 6, Op: "B"}
	batch := []pbft.Request{a, b}
	d := pbft.BatchDigest(batch)
	env.Receive(n, 5, a) // each client sends its request to every replica
	tm := env.OneTimer(t, "request")
	env.Receive(n, 6, b)
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: batch})
	env.WantSent(t, "prepare→n1", "prepare→n3", "prepare→n4")
	env.Receive(n, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env.WantSent(t, "commit→n1", "commit→n3", "commit→n4") // prepared, not committed
	env.Fire(n, tm.Timer)                                  // the backup's request timer: the primary is suspected
	vc, ok := env.SentTo(3)[0].(pbft.ViewChange)
	if !ok || vc.View != 1 {
		t.Fatalf("view-change %+v", env.SentTo(3))
	}
	wantClaim(t, env.Roster(), 3, vc, pbft.Claim{Seq: 1, View: 0, Reqs: batch})
	env.Receive(n, 4, pbft.ViewChange{View: 1})
	env.Receive(n, 3, pbft.ViewChange{View: 1, Prepared: []pbft.Claim{certify(env.Roster(), 3, pbft.Claim{Seq: 1, View: 0, Reqs: batch})}})
	nv, ok := env.SentTo(4)[0].(pbft.NewView)
	if !ok || nv.View != 1 || !slices.Equal(nv.Digests, []string{d}) {
		t.Fatalf("new-view %+v, want the batch's digest at 1", env.SentTo(4))
	}
	env.Receive(n, 3, pbft.Prepare{View: 1, Seq: 1, Digest: d})
	env.Receive(n, 4, pbft.Prepare{View: 1, Seq: 1, Digest: d})
	env.WantSent(t, "commit→n1", "commit→n3", "commit→n4")
	env.Receive(n, 3, pbft.Commit{View: 1, Seq: 1, Reqs: batch})
	env.Receive(n, 4, pbft.Commit{View: 1, Seq: 1, Reqs: batch})
	dec := env.NotesOf(agreement.NoteDecide)
	if len(dec) != 2 {
		t.Fatalf("notes %v, want two decisions", env.NoteKinds())
	}
	for i, q := range batch {
		s, _ := dec[i].Int("slot")
		idx, _ := dec[i].Int("index")
		if s != 1 || idx != int64(i) || !valueIs(dec[i], pbft.Digest(q)) {
			t.Fatalf("decision %d: %v, want %v at slot 1 index %d", i, dec[i], q, i)
		}
	}
	env.WantSent(t, "reply→n5", "reply→n6")
}

// §5.1 with the authentic rule per request: a primary's batch that holds
// a request no client sent this backup (a forged one beside a genuine
// one) is not prepared, and f vouchers from others (a prepare and a
// commit of the one liar, the primary's commit) do not release it; so the
// backup never commits it. The batch of the genuine request alone is
// prepared.
func TestPBFTBatchWithForgedRequestNotPrepared(t *testing.T) {
	genuine := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	forged := pbft.Forge(pbft.Request{Timestamp: 1, Client: 6, Op: "y"})
	batch := []pbft.Request{genuine, forged}
	d := pbft.BatchDigest(batch)
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 2, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	env.Receive(n, 5, genuine)
	env.Sent = nil
	// Sent and the notes describe the last step: look after each one.
	for i, step := range []struct {
		from ordo.NodeID
		m    ordo.Message
	}{
		{1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: batch}},
		{1, pbft.Commit{View: 0, Seq: 1, Reqs: batch}},                             // the forging primary: f = 1 voucher
		{2, pbft.Prepare{View: 0, Seq: 1, Digest: pbft.BatchDigest(one(genuine))}}, // an honest backup vouches for another batch
		{4, pbft.Commit{View: 0, Seq: 1, Reqs: one(genuine)}},
	} {
		env.Receive(n, step.from, step.m)
		if len(env.Sent) != 0 || len(env.NotesOf(agreement.NoteDecide)) != 0 {
			t.Fatalf("step %d, a batch with a request no client sent: sent %v, notes %v", i, env.Sent, env.NoteKinds())
		}
	}
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 2, Digest: pbft.BatchDigest(one(genuine)), Reqs: one(genuine)})
	env.WantSent(t, "prepare→n1", "prepare→n2", "prepare→n4")
}

func one(q pbft.Request) []pbft.Request { return []pbft.Request{q} }

// §5.1, the authentic rule and a lying backup (found live): backup 3
// never heard the client's request (its call was given up once the
// client had f+1 replies), backup 2 lies about its prepare, and backup 4
// prepares honestly: one honest prepare is f, not f+1, and the primary
// does not prepare. The primary's commit makes f+1
// vouchers with backup 4's prepare: backup 3 prepares, commits and
// executes, instead of staying behind for good.
func TestPBFTCommitsVouchForAnUnheardRequest(t *testing.T) {
	q := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest(one(q))
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 2, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: one(q)})
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 1, Digest: "lie"})
	env.Receive(n, 4, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	if len(env.Sent) != 0 {
		t.Fatalf("prepared on f vouchers: %v", env.SentSummary())
	}
	// f+1 vouchers: backup 4's prepare and the primary's commit (two
	// replicas, so one of them correct). Prepared with backup 4's prepare.
	env.Receive(n, 1, pbft.Commit{View: 0, Seq: 1, Reqs: one(q)})
	env.WantSent(t, "prepare→n1", "prepare→n2", "prepare→n4", "commit→n1", "commit→n2", "commit→n4")
	env.Receive(n, 4, pbft.Commit{View: 0, Seq: 1, Reqs: one(q)}) // 2f+1 commits with its own
	env.WantSent(t, "reply→n5")
	if len(env.NotesOf(agreement.NoteDecide)) != 1 {
		t.Fatalf("notes %v, want the request decided", env.NoteKinds())
	}
}

// §5.1 under the adversary: with 8 clients batches form, and a primary
// that equivocates (Collude: another genuine request told to odd-numbered
// backups), a backup that equivocates, or a primary that forges makes no correct
// replica execute a request no client sent, nor disagree. Seeds 1..5.
func TestPBFTBatchesUnderLiars(t *testing.T) {
	for _, liars := range [][]sim.Byzantine{
		{{Node: 1, Behaviour: sim.Equivocate}},
		{{Node: 2, Behaviour: sim.Equivocate}},
		{{Node: 1, Behaviour: sim.Forge}},
	} {
		for seed := uint64(1); seed <= 5; seed++ {
			cfg := config(t, 4, 8, 5, nil, liars...)
			cfg.Seed = seed
			s, _ := run(t, cfg, 4*time.Second)
			got := verdicts(t, s.Trace())
			if got[agreement.CheckName] != check.Pass || got["validity"] != check.Pass || got["bft-liveness"] != check.Pass {
				t.Fatalf("%v, seed %d: %v", liars, seed, got)
			}
			largest := 0
			for id := ordo.NodeID(1); id <= 4; id++ {
				if id != liars[0].Node {
					largest = max(largest, replica(s, id).Largest)
				}
			}
			if largest < 2 {
				t.Fatalf("%v, seed %d: no correct replica executed a batch of more than one request", liars, seed)
			}
		}
	}
}

// The new fields round-trip and are bounded: a batch over MaxBatch is
// refused by Validate (so by the decoder).
func TestPBFTBatchBounds(t *testing.T) {
	big := make([]pbft.Request, pbft.MaxBatch+1)
	for i := range big {
		big[i] = pbft.Request{Timestamp: int64(i), Client: 5}
	}
	for _, m := range []interface{ Validate() error }{
		pbft.PrePrepare{Seq: 1, Digest: pbft.BatchDigest(big), Reqs: big},
		pbft.Commit{Seq: 1, Reqs: big},
		pbft.ViewChange{View: 1, Prepared: []pbft.Claim{{Seq: 1, Reqs: big}}},
	} {
		if m.Validate() == nil {
			t.Errorf("%T with %d requests validated", m, len(big))
		}
	}
	if pbft.BatchDigest(big[:2]) == pbft.BatchDigest(big[:1]) || pbft.BatchDigest([]pbft.Request{big[1], big[0]}) == pbft.BatchDigest(big[:2]) {
		t.Fatal("a batch's digest does not cover its length or order")
	}
}

// One step at the primary (replica 1 of 4): a request that finds the
// window full waits in the queue, and goes out in a pre-prepare the moment
// the checkpoint that moves the window becomes stable (not only when its
// client resends it). Window 4, a checkpoint every 4, one request per
// batch: clients 5..9 send five requests, the first four fill the window.
func TestPBFTQueuedRequestOrderedWhenTheWindowMoves(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 1, ordo.NewRoster(4, 5, 0), 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"window": "4", "checkpoint": "4", "batch": "1"})
	env.Start(n)
	for c := ordo.NodeID(5); c <= 9; c++ {
		env.Receive(n, c, pbft.Request{Timestamp: 1, Client: c, Op: "x"})
		if c == 9 {
			if len(env.Sent) != 0 {
				t.Fatalf("the fifth request beyond a window of 4: %v", env.Sent)
			}
		} else {
			env.WantSent(t, "pre-prepare→n2", "pre-prepare→n3", "pre-prepare→n4")
		}
	}
	var state string
	for seq := int64(1); seq <= 4; seq++ {
		reqs := []pbft.Request{{Timestamp: 1, Client: ordo.NodeID(4 + seq), Op: "x"}}
		d := pbft.BatchDigest(reqs)
		for _, from := range []ordo.NodeID{2, 3} {
			env.Receive(n, from, pbft.Prepare{View: 0, Seq: seq, Digest: d})
		}
		for _, from := range []ordo.NodeID{2, 3} {
			env.Receive(n, from, pbft.Commit{View: 0, Seq: seq, Reqs: reqs})
		}
		if seq == 4 {
			for _, m := range env.Sent {
				if c, ok := m.Msg.(pbft.Checkpoint); ok {
					state = c.State
				}
			}
		}
	}
	if state == "" {
		t.Fatal("no checkpoint at 4")
	}
	env.Receive(n, 2, pbft.Checkpoint{Seq: 4, State: state})
	if len(env.Sent) != 0 {
		t.Fatalf("stable with 2 of 2f+1 = 3 checkpoints: %v", env.Sent)
	}
	env.Receive(n, 3, pbft.Checkpoint{Seq: 4, State: state})
	env.WantSent(t, "pre-prepare→n2", "pre-prepare→n3", "pre-prepare→n4")
	if pp, ok := env.SentTo(2)[0].(pbft.PrePrepare); !ok || pp.Seq != 5 || pp.Reqs[0].Client != 9 {
		t.Fatalf("sent %v, want client 9's request at 5", env.Sent)
	}
}
