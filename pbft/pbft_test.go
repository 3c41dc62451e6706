package pbft_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/agreement"
	"ordo/check"
	"ordo/ordotest"
	"ordo/pbft"
	"ordo/sim"
	"ordo/trace"
)

// The conformance kit: registration, codec round trips, fresh nodes,
// determinism in wire mode under a nemesis, no runtime imports.
func TestConformance(t *testing.T) { ordotest.Protocol(t, pbft.Protocol) }

func TestClientConformance(t *testing.T) {
	ordotest.Protocol(t, pbft.ClientProtocol, ordotest.ServedBy(pbft.Protocol))
}

func opts(t *testing.T, p *ordo.Protocol, given map[string]string) ordo.Options {
	t.Helper()
	o, err := p.Resolve(given)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// config is n replicas and clients clients of ops requests each, in wire
// mode on authenticated LAN links.
func config(t *testing.T, n, clients, ops int, server map[string]string, liars ...sim.Byzantine) sim.Config {
	return sim.Config{Protocol: pbft.Protocol, Options: opts(t, pbft.Protocol, server), Nodes: n, Seed: 1, Trace: true, Wire: true,
		Network:   sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}, Authenticated: true},
		Clients:   []sim.ClientGroup{{Protocol: pbft.ClientProtocol, Options: opts(t, pbft.ClientProtocol, map[string]string{"ops": fmt.Sprint(ops)}), Count: clients}},
		Byzantine: liars}
}

func run(t *testing.T, cfg sim.Config, d time.Duration) (*sim.Sim, []byte) {
	t.Helper()
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(d); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Trace().Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := s.Trace().Validate(); err != nil {
		t.Fatalf("trace unsound: %v", err)
	}
	return s, b.Bytes()
}

// execution is one decision: the request at (slot, index) of its batch.
type execution struct {
	slot, index int64
	value       string
}

// decided lists each node's decisions in trace order.
func decided(tr *trace.Trace) map[ordo.NodeID][]execution {
	out := map[ordo.NodeID][]execution{}
	for _, e := range tr.Events {
		if e.Kind == trace.Note && e.Name == agreement.NoteDecide {
			slot, _ := e.Attrs.Int("slot")
			index, _ := e.Attrs.Int("index")
			out[e.Node] = append(out[e.Node], execution{slot, index, fmt.Sprint(e.Attrs.Get("value"))})
		}
	}
	return out
}

// wantInOrder: every replica in ids executed want requests, batch after
// batch at sequence numbers 1, 2, ... (each batch's requests at indexes
// 0, 1, ...), the same request at each (slot, index).
func wantInOrder(t *testing.T, tr *trace.Trace, want int, ids ...ordo.NodeID) {
	t.Helper()
	d := decided(tr)
	ref := d[ids[0]]
	for _, id := range ids {
		got := d[id]
		if len(got) != want {
			t.Fatalf("%v executed %d requests, want %d", id, len(got), want)
		}
		for i, x := range got {
			next := execution{1, 0, ""}
			if i > 0 {
				next = execution{got[i-1].slot, got[i-1].index + 1, ""}
			}
			if x.slot != next.slot || x.index != next.index {
				next = execution{next.slot + 1, 0, ""}
			}
			if x.slot != next.slot || x.index != next.index || x != ref[i] {
				t.Fatalf("%v's execution %d is %+v; %v's is %+v", id, i+1, x, ids[0], ref[i])
			}
		}
	}
}

func verdicts(t *testing.T, tr *trace.Trace) map[string]check.Verdict {
	t.Helper()
	rs, err := check.Run(tr, []string{agreement.CheckName, "validity", "bft-liveness"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]check.Verdict{}
	for _, r := range rs {
		out[r.Check] = r.Verdict
	}
	return out
}

func wantVerdicts(t *testing.T, tr *trace.Trace, agree, valid, live check.Verdict) {
	t.Helper()
	got := verdicts(t, tr)
	if got[agreement.CheckName] != agree || got["validity"] != valid || got["bft-liveness"] != live {
		t.Fatalf("verdicts %v, want byzantine-agreement %v, validity %v, bft-liveness %v", got, agree, valid, live)
	}
}

func accepted(s *sim.Sim, id ordo.NodeID) int {
	return s.Node(id).(ordo.StateReporter).State().(pbft.ClientState).Accepted
}

func replica(s *sim.Sim, id ordo.NodeID) pbft.State {
	return s.Node(id).(ordo.StateReporter).State().(pbft.State)
}

// §4.2: with every replica correct, all four execute the 40 requests of
// two clients at sequence numbers 1..40 in the same order, each client
// accepts all its results, and the checkpoints every 8 requests became
// stable and emptied the log (§4.3).
func TestPBFT4_2_HappyPathCommitsInOrderAtAllReplicas(t *testing.T) {
	s, _ := run(t, config(t, 4, 2, 20, nil), 3*time.Second)
	wantInOrder(t, s.Trace(), 40, 1, 2, 3, 4)
	wantVerdicts(t, s.Trace(), check.Pass, check.Pass, check.Pass)
	for _, c := range []ordo.NodeID{5, 6} {
		if accepted(s, c) != 20 {
			t.Fatalf("client %v accepted %d of 20", c, accepted(s, c))
		}
	}
	for id := ordo.NodeID(1); id <= 4; id++ {
		st := replica(s, id)
		if st.LastExecuted != 40 || st.Stable != 40 || st.Log != 0 || st.Primary != 1 || st.Quorum != 3 {
			t.Fatalf("%v: %+v, want 40 executed, checkpoint 40 stable, empty log", id, st)
		}
	}
}

// §4.2: f silent backups (a crash, to the others) do not stop the other
// 2f+1: n = 4 with backup 4 silent, n = 7 with backups 6 and 7 silent.
func TestPBFT4_2_FSilentBackupsStillCommit(t *testing.T) {
	for _, c := range []struct {
		n       int
		silent  []ordo.NodeID
		correct []ordo.NodeID
	}{{4, []ordo.NodeID{4}, []ordo.NodeID{1, 2, 3}}, {7, []ordo.NodeID{6, 7}, []ordo.NodeID{1, 2, 3, 4, 5}}} {
		var liars []sim.Byzantine
		for _, id := range c.silent {
			liars = append(liars, sim.Byzantine{Node: id, Behaviour: sim.Silent})
		}
		s, _ := run(t, config(t, c.n, 1, 12, nil, liars...), 3*time.Second)
		wantInOrder(t, s.Trace(), 12, c.correct...)
		wantVerdicts(t, s.Trace(), check.Pass, check.Pass, check.Pass)
		if got := accepted(s, ordo.NodeID(c.n+1)); got != 12 {
			t.Fatalf("n=%d: the client accepted %d of 12", c.n, got)
		}
	}
}

// Authentication: backup 2 claims every message it sends comes from the
// primary (forge as 1). The authenticated links refuse all of them
// (Stats.AuthFailed), so it is silent in effect and the rest commit.
func TestPBFTForgedSenderRejected(t *testing.T) {
	s, _ := run(t, config(t, 4, 1, 10, nil, sim.Byzantine{Node: 2, Behaviour: sim.Forge, As: 1}), 3*time.Second)
	st := s.Stats()
	if st.AuthFailed == 0 || st.AuthFailed != st.ByzantineBy[sim.Forge] {
		t.Fatalf("%d forgeries, %d refused by authentication", st.ByzantineBy[sim.Forge], st.AuthFailed)
	}
	wantInOrder(t, s.Trace(), 10, 1, 3, 4)
	wantVerdicts(t, s.Trace(), check.Pass, check.Pass, check.Pass)
}

// One step: a pre-prepare from a replica that is not the primary of the
// view is ignored, whoever it claims to be in its fields (the sender is
// the link's).
func TestPBFTPrePrepareFromNonPrimaryIgnored(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	env.Receive(n, 2, pbft.PrePrepare{View: 0, Seq: 1, Digest: pbft.BatchDigest([]pbft.Request{req}), Reqs: []pbft.Request{req}})
	if len(env.Sent) != 0 {
		t.Fatalf("answered a pre-prepare from backup 2: %v", env.Sent)
	}
	// A digest that is not the request's is refused too.
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: "0000000000000000", Reqs: []pbft.Request{req}})
	if len(env.Sent) != 0 {
		t.Fatalf("accepted a pre-prepare whose digest is not its request's: %v", env.Sent)
	}
}

// One step, §4.2 at backup 3 of 4 (f = 1): the pre-prepare makes it
// prepare; with its own and one more matching prepare (2f) it is prepared
// and commits; with 2f+1 matching commits it executes and replies.
func TestPBFT4_2_PreparedThenCommittedLocal(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest([]pbft.Request{req})
	env.Receive(n, 5, req) // the client sends it to every replica
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	env.WantSent(t, "prepare→n1", "prepare→n2", "prepare→n4")
	env.Receive(n, 4, pbft.Prepare{View: 0, Seq: 1, Digest: "ffff"}) // does not match
	if len(env.Sent) != 0 {
		t.Fatalf("prepared on a mismatching prepare: %v", env.Sent)
	}
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env.WantSent(t, "commit→n1", "commit→n2", "commit→n4")
	env.Receive(n, 1, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	if len(env.NotesOf(agreement.NoteDecide)) != 0 {
		t.Fatal("executed with 2 commits of 2f+1 = 3")
	}
	env.Receive(n, 2, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	dec := env.NotesOf(agreement.NoteDecide)
	if len(dec) != 1 {
		t.Fatalf("notes %v", env.NoteKinds())
	}
	if s, _ := dec[0].Int("slot"); s != 1 {
		t.Fatalf("decided slot %d", s)
	}
	env.WantSent(t, "reply→n5")
	// A replayed commit changes nothing.
	env.Receive(n, 2, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	if len(env.Sent) != 0 || len(env.NotesOf(agreement.NoteDecide)) != 0 {
		t.Fatal("a replayed commit executed again")
	}
}

// Same seed, same trace, byte for byte, with a liar.
func TestPBFTDeterminism(t *testing.T) {
	cfg := config(t, 4, 2, 10, nil, sim.Byzantine{Node: 2, Behaviour: sim.Equivocate})
	_, a := run(t, cfg, 2*time.Second)
	_, b := run(t, cfg, 2*time.Second)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
}

// n = 3 < 3f+1: refused with f = 1, unless run unsafely; run unsafely with
// quorums of 2 and an equivocating primary that orders the client's
// requests differently for replica 3, the two correct replicas execute
// different requests at one sequence number. Every request executed is
// one the client sent (validity holds: a replica prepares only requests
// it heard from their client).
func TestPBFTUnsafeQuorumEquivocatingPrimaryDisagrees(t *testing.T) {
	if _, err := pbft.Protocol.New(ordo.Config{ID: 1, N: 3, Opts: opts(t, pbft.Protocol, map[string]string{"f": "1"}), Proto: pbft.Protocol}); err == nil || !strings.Contains(err.Error(), "3f+1") {
		t.Fatalf("n=3, f=1 accepted (%v)", err)
	}
	cfg := config(t, 3, 1, 5, map[string]string{"f": "1", "unsafe_quorum": "2"}, sim.Byzantine{Node: 1, Behaviour: sim.Equivocate})
	cfg.Clients[0].Options = opts(t, pbft.ClientProtocol, map[string]string{"ops": "5", "f": "1"})
	s, _ := run(t, cfg, 2*time.Second)
	wantVerdicts(t, s.Trace(), check.Fail, check.Pass, check.Pass)
	d := decided(s.Trace())
	differ := 0
	for i := range min(len(d[2]), len(d[3])) {
		if d[2][i].slot == d[3][i].slot && d[2][i].index == d[3][i].index && d[2][i].value != d[3][i].value {
			differ++
		}
	}
	if differ == 0 {
		t.Fatalf("replicas 2 and 3 decided %v and %v: no slot differs", d[2], d[3])
	}
}

func TestQuorumsFor(t *testing.T) {
	for _, c := range []struct {
		n, f, unsafe int
		q            int // 0: refused
	}{{4, -1, 0, 3}, {7, -1, 0, 5}, {3, -1, 0, 2}, {3, 1, 0, 0}, {3, 1, 2, 2}, {6, 2, 0, 0}, {7, 2, 0, 5}, {4, 1, 5, 0},
		{5, -1, 0, 4}, {6, -1, 0, 4}, {8, -1, 0, 6}, {9, -1, 0, 6}, {10, -1, 0, 7}, {4, -2, 0, 0}, {3, 5, 2, 0}} {
		q, err := pbft.QuorumsFor(c.n, c.f, c.unsafe)
		if (err == nil) != (c.q != 0) || err == nil && q.Q != c.q {
			t.Errorf("QuorumsFor(%d, %d, %d) = %+v, %v; want quorum %d", c.n, c.f, c.unsafe, q, err, c.q)
		}
	}
}

// For every n and every f it tolerates, any two quorums share a correct
// replica (2Q - n >= f + 1) and the correct replicas alone make one
// (n - f >= Q): the two facts PBFT's safety and liveness rest on.
func TestQuorumsIntersectInACorrectReplica(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for f := 0; 3*f+1 <= n; f++ {
			q, err := pbft.QuorumsFor(n, f, 0)
			if err != nil {
				t.Fatalf("n=%d f=%d: %v", n, f, err)
			}
			if 2*q.Q-n < f+1 || n-f < q.Q {
				t.Fatalf("n=%d f=%d: quorum %d: two quorums share %d, correct replicas %d", n, f, q.Q, 2*q.Q-n, n-f)
			}
		}
	}
}

// The log is bounded: with a window of 8 and checkpoints every 4, a
// replica never holds more than 8 entries.
func TestPBFTLogBounded(t *testing.T) {
	cfg := config(t, 4, 3, 15, map[string]string{"checkpoint": "4", "window": "8"})
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for range 300 {
		if err := s.RunFor(10 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for id := ordo.NodeID(1); id <= 4; id++ {
			most = max(most, replica(s, id).Log)
		}
	}
	if most > 8 || most == 0 {
		t.Fatalf("a log held %d entries, window 8", most)
	}
	wantInOrder(t, s.Trace(), 45, 1, 2, 3, 4)
}

// FuzzDecode feeds arbitrary bytes to the decoder of every kind: refused or
// decoded without a panic, and what decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	c := pbft.Protocol.Codec
	kinds := []string{"request", "pre-prepare", "prepare", "commit", "reply", "checkpoint", "view-change", "new-view", "status", "catch-up", "state-transfer"}
	req := pbft.Request{Timestamp: 1 << 32, Client: 5, Op: "op 1"}
	batch := []pbft.Request{req, {Timestamp: 7, Client: 6, Op: "op 2"}, {Timestamp: 8, Client: 7}}
	sig := bytes.Repeat([]byte{0xa5}, 64)
	for _, m := range []ordo.Message{req, pbft.PrePrepare{View: 0, Seq: 3, Digest: pbft.BatchDigest([]pbft.Request{req}), Reqs: []pbft.Request{req}},
		pbft.PrePrepare{View: 2, Seq: 4, Digest: pbft.BatchDigest(batch), Reqs: batch}, pbft.Commit{View: 2, Seq: 4, Reqs: batch},
		pbft.ViewChange{View: 3, Stable: 8, Prepared: []pbft.Claim{{Seq: 9, View: 2, Reqs: batch}, {Seq: 10, View: 1}}},
		pbft.Prepare{Seq: 3, Digest: pbft.BatchDigest([]pbft.Request{req})}, pbft.Commit{Seq: 3, Reqs: []pbft.Request{req}},
		pbft.Reply{Timestamp: 9, Client: 5, Result: "abc"}, pbft.Checkpoint{Seq: 8, State: "abc"},
		pbft.ViewChange{View: 1, Stable: 8, StableState: "abc", StableProof: []pbft.Endorsement{{From: 1, Sig: sig}, {From: 2, Sig: sig[:3]}},
			Prepared: []pbft.Claim{{Seq: 9, View: 0, Reqs: []pbft.Request{req}, Cert: pbft.Certificate{PrePrepare: sig, Prepares: []pbft.Endorsement{{From: 3, Sig: sig}}}}}},
		pbft.NewView{View: 1, From: []ordo.NodeID{1, 2, 3}, Stable: 8, Digests: []string{pbft.BatchDigest([]pbft.Request{req})}, Sigs: [][]byte{sig}},
		pbft.Prepare{View: 1, Seq: 3, Digest: "abc", Sig: sig}, pbft.Checkpoint{Seq: 16, State: "abc", Sig: sig},
		pbft.StateTransfer{Seq: 16, State: "abc", Proof: []pbft.Endorsement{{From: 1, Sig: sig}}, Snap: []byte("pbftst1\x00")},
		pbft.Status{View: 2, Changing: true, Stable: 8, LastExec: 11},
		pbft.CatchUp{VC: pbft.ViewChange{View: 1, Stable: 8}, HasNV: true, NV: pbft.NewView{View: 1, From: []ordo.NodeID{1, 2, 3}, Stable: 8}}} {
		i := slices.Index(kinds, m.Kind())
		b, err := c.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, k uint8, b []byte) {
		kind := kinds[int(k)%len(kinds)]
		m, err := c.Decode(kind, b)
		if err != nil {
			return
		}
		again, err := c.Encode(m)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%s %x decodes to %+v, which encodes to %x (%v)", kind, b, m, again, err)
		}
	})
}

// §4.4: the primary (replica 1) is silent. The client's request reaches
// the backups after its timeout; they move to view 1, replica 2 sends the
// new-view, and every request completes at sequence numbers 1.. in the
// same order at the three correct replicas.
func TestPBFT4_4_SilentPrimaryReplacedByViewChange(t *testing.T) {
	s, _ := run(t, config(t, 4, 2, 10, nil, sim.Byzantine{Node: 1, Behaviour: sim.Silent}), 3*time.Second)
	wantInOrder(t, s.Trace(), 20, 2, 3, 4)
	wantVerdicts(t, s.Trace(), check.Pass, check.Pass, check.Pass)
	for id := ordo.NodeID(2); id <= 4; id++ {
		if st := replica(s, id); st.View != 1 || st.Primary != 2 || st.Changing {
			t.Fatalf("%v: %+v, want view 1 with primary 2", id, st)
		}
	}
}

// §4.4 with every behaviour of the simulator's adversary at the primary
// and at a backup, over seeds: agreement, validity and liveness hold with
// one liar of four.
func TestPBFTOneLiarOfFourOverSeeds(t *testing.T) {
	for _, b := range []sim.Behaviour{sim.Silent, sim.Equivocate, sim.Garbage, sim.Replay, sim.Forge} {
		for _, node := range []ordo.NodeID{1, 2} {
			for seed := uint64(1); seed <= 10; seed++ {
				cfg := config(t, 4, 2, 5, nil, sim.Byzantine{Node: node, Behaviour: b})
				cfg.Seed = seed
				s, _ := run(t, cfg, 3*time.Second)
				got := verdicts(t, s.Trace())
				if got[agreement.CheckName] != check.Pass || got["validity"] != check.Pass || got["bft-liveness"] != check.Pass {
					t.Fatalf("%v %s, seed %d: %v", node, b, seed, got)
				}
			}
		}
	}
}

// One liar of each behaviour, the primary or a backup, at every n from 4
// to 10 (not only n = 3f+1: n = 5, 6, 9 once broke agreement with quorums
// of a plain 2f+1).
func TestPBFTOneLiarAtEveryN(t *testing.T) {
	for n := 4; n <= 10; n++ {
		for _, b := range []sim.Behaviour{sim.Silent, sim.Equivocate, sim.Forge} {
			for _, node := range []ordo.NodeID{1, 2} {
				for seed := uint64(1); seed <= 3; seed++ {
					cfg := config(t, n, 2, 5, nil, sim.Byzantine{Node: node, Behaviour: b})
					cfg.Seed = seed
					s, _ := run(t, cfg, 3*time.Second)
					got := verdicts(t, s.Trace())
					if got[agreement.CheckName] != check.Pass || got["validity"] != check.Pass || got["bft-liveness"] != check.Pass {
						t.Fatalf("n=%d, %v %s, seed %d: %v", n, node, b, seed, got)
					}
				}
			}
		}
	}
}

// §4.4, one step at replica 2, the primary of view 1: it prepared request
// A at sequence number 1 in view 0 but saw no commit when the primary
// failed. Its view-change reports A prepared; with the view-changes of 3
// (A prepared too) and 4 (nothing), its new-view re-proposes A at the same
// sequence number, and with the backups' prepares and commits of view 1 A
// executes at 1.
func TestPBFT4_4_PreparedRequestKeepsItsSequenceNumber(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 2, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	a := pbft.Request{Timestamp: 1, Client: 5, Op: "A"}
	d := pbft.BatchDigest([]pbft.Request{a})
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{a}})
	env.Receive(n, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env.Receive(n, 4, pbft.Prepare{View: 0, Seq: 1, Digest: d})                                      // f+1 others vouch for it: it prepares
	env.WantSent(t, "prepare→n1", "prepare→n3", "prepare→n4", "commit→n1", "commit→n3", "commit→n4") // prepared, not committed
	env.Receive(n, 5, a)                                                                             // the client's retransmission: the timer starts
	tm := env.OneTimer(t, "request")
	env.Fire(n, tm.Timer)
	vc, ok := env.SentTo(3)[0].(pbft.ViewChange)
	if !ok || vc.View != 1 {
		t.Fatalf("view-change %+v", env.SentTo(3))
	}
	wantClaim(t, env.Roster(), 3, vc, pbft.Claim{Seq: 1, View: 0, Reqs: []pbft.Request{a}})
	env.Receive(n, 4, pbft.ViewChange{View: 1})
	if len(env.Sent) != 0 {
		t.Fatal("a new-view with 2 view-changes of 2f+1 = 3")
	}
	env.Receive(n, 3, pbft.ViewChange{View: 1, Prepared: []pbft.Claim{certify(env.Roster(), 3, pbft.Claim{Seq: 1, View: 0, Reqs: []pbft.Request{a}})}})
	nv, ok := env.SentTo(4)[0].(pbft.NewView)
	if !ok || nv.View != 1 || !slices.Equal(nv.From, []ordo.NodeID{2, 3, 4}) || !slices.Equal(nv.Digests, []string{d}) {
		t.Fatalf("new-view %+v", env.SentTo(4))
	}
	env.Receive(n, 3, pbft.Prepare{View: 1, Seq: 1, Digest: d})
	env.Receive(n, 4, pbft.Prepare{View: 1, Seq: 1, Digest: d})
	env.WantSent(t, "commit→n1", "commit→n3", "commit→n4")
	env.Receive(n, 3, pbft.Commit{View: 1, Seq: 1, Reqs: []pbft.Request{a}})
	env.Receive(n, 4, pbft.Commit{View: 1, Seq: 1, Reqs: []pbft.Request{a}})
	dec := env.NotesOf(agreement.NoteDecide)
	if len(dec) != 1 {
		t.Fatalf("notes %v", env.NoteKinds())
	}
	if s, _ := dec[0].Int("slot"); s != 1 || !valueIs(dec[0], pbft.Digest(a)) {
		t.Fatalf("decided %v", dec[0])
	}
}

// §4.4 at a backup: a new-view whose requests are not what the
// view-changes it received give is refused.
func TestPBFT4_4_LyingNewViewRefused(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	for _, from := range []ordo.NodeID{2, 4} {
		env.Receive(n, from, pbft.ViewChange{View: 1})
	}
	// f+1 = 2 view-changes for view 1: it joins.
	if _, ok := env.SentTo(2)[0].(pbft.ViewChange); !ok {
		t.Fatalf("did not join the view change: %v", env.Sent)
	}
	env.Receive(n, 2, pbft.NewView{View: 1, From: []ordo.NodeID{2, 3, 4}, Digests: []string{"0123456789abcdef"}})
	if st := n.(ordo.StateReporter).State().(pbft.State); !st.Changing || len(env.Sent) != 0 {
		t.Fatalf("installed a lying new-view: %+v", st)
	}
	env.Receive(n, 2, pbft.NewView{View: 1, From: []ordo.NodeID{2, 3, 4}})
	if st := n.(ordo.StateReporter).State().(pbft.State); st.Changing || st.View != 1 || st.Primary != 2 {
		t.Fatalf("refused an honest new-view: %+v", st)
	}
}

func valueIs(n ordotest.Note, want string) bool {
	v, ok := n.Get("value")
	return ok && v == want
}

// One step: a backup prepares only a request its client sent it itself
// (authenticated link), or one f+1 other replicas prepared. A primary's
// pre-prepare of a request no client sent this backup waits; the client's
// copy, or f+1 prepares from others, releases it. PBFT has clients sign
// requests for this; without it a primary and a backup lying together
// made a quorum commit a request no client sent.
func TestPBFTBackupPreparesOnlyWhatItsClientSent(t *testing.T) {
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest([]pbft.Request{req})
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	if len(env.Sent) != 0 {
		t.Fatalf("prepared a request its client never sent it: %v", env.Sent)
	}
	env.Receive(n, 5, req)
	env.WantSent(t, "prepare→n1", "prepare→n2", "prepare→n4")

	// Vouched for: f+1 = 2 other replicas prepared it.
	env2 := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n2 := env2.NewNode(t, pbft.Protocol, nil)
	env2.Start(n2)
	env2.Receive(n2, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	env2.Receive(n2, 2, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	if len(env2.Sent) != 0 {
		t.Fatalf("one replica (f) vouching was enough: %v", env2.Sent)
	}
	env2.Receive(n2, 4, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env2.WantSent(t, "prepare→n1", "prepare→n2", "prepare→n4", "commit→n1", "commit→n2", "commit→n4")
}
