package pbft_test

import (
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

// allVerdicts runs the three checks and equivocation (the trace must keep
// message bodies: sim.Config.KeepMessages).
func allVerdicts(t *testing.T, tr *trace.Trace) map[string]check.Result {
	t.Helper()
	rs, err := check.Run(tr, []string{agreement.CheckName, "validity", "bft-liveness", agreement.EquivocationName})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]check.Result{}
	for _, r := range rs {
		out[r.Check] = r
	}
	return out
}

func verdictsOf(rs map[string]check.Result) map[string]check.Verdict {
	out := map[string]check.Verdict{}
	for k, r := range rs {
		out[k] = r.Verdict
	}
	return out
}

// §4.4 under message loss: n = 4 with the primary silent and 15% of every
// link's messages lost, the clients' included. Every quorum needs all
// three correct replicas, so one lost view-change, new-view, prepare or
// commit would stall them for good (it did, before retransmission: no
// request completed). Over seeds, every request completes at every
// correct replica, they agree on requests clients sent, and the
// retransmissions are the same messages again (equivocation passes).
func TestPBFT4_4_ViewChangeUnderMessageLoss(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		cfg := config(t, 4, 2, 5, nil, sim.Byzantine{Node: 1, Behaviour: sim.Silent})
		cfg.Seed, cfg.KeepMessages = seed, true
		cfg.Network.Default.Loss = 0.15
		s, _ := run(t, cfg, 10*time.Second)
		rs := allVerdicts(t, s.Trace())
		for _, name := range []string{agreement.CheckName, "validity", "bft-liveness", agreement.EquivocationName} {
			if rs[name].Verdict != check.Pass {
				t.Fatalf("seed %d: %s %v: %s", seed, name, rs[name].Verdict, rs[name].Summary)
			}
		}
		// Every correct replica executed every request. One may end
		// changing view alone: its request timer fired before the last
		// commits reached it, it executed them late (onLateCommit), and
		// PBFT has it wait for f+1 others to move, which nothing here
		// makes them do (seed 9).
		alone := 0
		for id := ordo.NodeID(2); id <= 4; id++ {
			st := replica(s, id)
			if st.Executed < 10 && st.Transfers == 0 {
				t.Fatalf("seed %d: %v ended %+v, want the 10 requests executed (or restored)", seed, id, st)
			}
			if st.Changing {
				alone++
			}
		}
		if alone > 1 {
			t.Fatalf("seed %d: %d correct replicas changing view at the end: they would have moved together", seed, alone)
		}
	}
}

// One step: a backup changing view resends its view-change, verbatim,
// until the new view is installed, then stops; while nothing changes the
// resends back off after askPatience of them (every tick to the ninth,
// then 2 and 4 ticks apart, maxResendGap: askBackoff), and a view-change
// more for its view starts them again at every tick.
func TestPBFTViewChangeResentUntilInstalled(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	tick := env.OneTimer(t, "retransmit").Timer
	for _, from := range []ordo.NodeID{2, 4} {
		env.Receive(n, from, pbft.ViewChange{View: 1})
	}
	first := env.SentTo(2)
	if len(first) != 1 {
		t.Fatalf("joined with %v", env.Sent)
	}
	var resent, statuses []int
	for i := 1; i <= 40; i++ {
		env.Fire(n, tick)
		vcs := 0
		for _, s := range env.Sent {
			switch m := s.Msg.(type) {
			case pbft.ViewChange:
				if !sameMessage(m, first[0]) {
					t.Fatalf("tick %d: resent %v, want %v", i, m, first[0])
				}
				vcs++
			case pbft.Status:
				if s.To == 2 {
					statuses = append(statuses, i)
				}
			default:
				t.Fatalf("tick %d: sent %v", i, env.SentSummary())
			}
		}
		if vcs > 0 {
			if vcs != 3 {
				t.Fatalf("tick %d: sent %v, want its view-change to the three others", i, env.SentSummary())
			}
			resent = append(resent, i)
		}
		tick = env.OneTimer(t, "retransmit").Timer
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 15, 19, 23, 27, 31, 35, 39}; !slices.Equal(resent, want) {
		t.Fatalf("resent at ticks %v, want %v", resent, want)
	}
	// And its changing status once a second (every askEvery ticks), never
	// backed off: on the backoff's turns it fell on none of ticks 10, 20,
	// 30, 40, and a replica short of commits stayed so.
	if want := []int{10, 20, 30, 40}; !slices.Equal(statuses, want) {
		t.Fatalf("changing statuses at ticks %v, want %v", statuses, want)
	}
	env.Receive(n, 1, pbft.ViewChange{View: 1}) // a third view-change: something moved
	env.Fire(n, tick)
	if got := env.SentTo(2); len(got) != 1 || !sameMessage(got[0], first[0]) {
		t.Fatalf("after a change, resent %v, want %v at once", got, first)
	}
	tick = env.OneTimer(t, "retransmit").Timer
	env.Receive(n, 2, pbft.NewView{View: 1, From: []ordo.NodeID{2, 3, 4}})
	env.Fire(n, tick)
	if len(env.Sent) != 0 {
		t.Fatalf("view 1 installed, idle, and still sending %v", env.Sent)
	}
}

func sameMessage(a, b ordo.Message) bool {
	ca, _ := pbft.Protocol.Codec.Encode(a)
	cb, _ := pbft.Protocol.Codec.Encode(b)
	return a.Kind() == b.Kind() && string(ca) == string(cb)
}

// One step: replica 2 installed view 1 as its primary. A view-change for
// view 1 from replica 4 (which missed the new-view) is answered with one
// catch-up holding replica 2's own view-change and its new-view, the same
// messages it sent, so replica 4 can check and install the view. A
// catch-up is never answered: replica 3, which installed view 1 too, stays
// silent on one (two replicas answering each other's answers was an
// endless ping-pong: ordo bench bft -n 7 -f 3 --replay 1).
func TestPBFTNewPrimaryAnswersALateViewChange(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 2, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	env.Receive(n, 3, pbft.ViewChange{View: 1})
	env.Receive(n, 4, pbft.ViewChange{View: 1})
	if st := replica2(n); st.Changing || st.View != 1 {
		t.Fatalf("did not start view 1: %+v", st)
	}
	var vc, nv ordo.Message
	for _, m := range env.SentTo(4) {
		switch m.(type) {
		case pbft.ViewChange:
			vc = m
		case pbft.NewView:
			nv = m
		}
	}
	env.Sent = nil
	env.Receive(n, 4, pbft.ViewChange{View: 1}) // its retransmission
	got := env.SentTo(4)
	cu, ok := got[0].(pbft.CatchUp)
	if len(got) != 1 || !ok || !cu.HasNV || !sameMessage(cu.VC, vc) || !sameMessage(cu.NV, nv) {
		t.Fatalf("answered %v, want one catch-up of %v and %v", got, vc, nv)
	}

	// Replica 3 installs view 1 from the new-view and 2's catch-up; a
	// second catch-up gets no answer.
	env3 := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n3 := env3.NewNode(t, pbft.Protocol, nil)
	env3.Start(n3)
	env3.Receive(n3, 4, pbft.ViewChange{View: 1})
	env3.Receive(n3, 2, pbft.ViewChange{View: 1}) // joins view 1
	env3.Receive(n3, 2, cu)
	if st := replica2(n3); st.Changing || st.View != 1 {
		t.Fatalf("replica 3 did not install view 1: %+v", st)
	}
	env3.Sent = nil
	env3.Receive(n3, 2, cu)
	if len(env3.Sent) != 0 {
		t.Fatalf("a catch-up answered with %v", env3.Sent)
	}
	env3.Receive(n3, 2, vc) // a plain view-change for the installed view is answered
	if got := env3.SentTo(2); len(got) != 1 || got[0].Kind() != "catch-up" {
		t.Fatalf("a late view-change answered with %v, want a catch-up", got)
	}
}

// One step: a backup that committed slot 1 in view 0, lost the others'
// commits and suspected the primary alone keeps its view change (it votes
// no more in view 0), asks with a status (changing to view 1, executed
// nothing) on its tick, which the others answer with their commits, and
// executes the slot when the resent commits complete the certificate: a
// request 2f+1 replicas committed is committed whoever learns it.
func TestPBFTChangingReplicaExecutesLateCommits(t *testing.T) {
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest([]pbft.Request{req})
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	tick := env.OneTimer(t, "retransmit").Timer
	env.Receive(n, 5, req)
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 1, Digest: d}) // prepared: it commits
	env.Receive(n, 2, pbft.ViewChange{View: 1})
	env.Receive(n, 4, pbft.ViewChange{View: 1}) // f+1 above its view: it joins view 1
	if st := replica2(n); !st.Changing || st.View != 1 {
		t.Fatalf("not changing to view 1: %+v", st)
	}
	env.Sent = nil
	env.Fire(n, tick)
	var status *pbft.Status
	for _, m := range env.SentTo(2) {
		if st, ok := m.(pbft.Status); ok {
			status = &st
		}
	}
	if status == nil || status.View != 1 || !status.Changing || status.LastExec != 0 {
		t.Fatalf("on its tick sent %v, want its view-change and a status: changing to view 1, nothing executed", env.Sent)
	}
	env.Sent = nil
	env.Receive(n, 2, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	env.Receive(n, 4, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	if len(env.NotesOf(agreement.NoteDecide)) != 1 {
		t.Fatalf("did not execute with the late commits: %v", env.NoteKinds())
	}
	for _, m := range env.Sent {
		if k := m.Msg.Kind(); k == "prepare" || k == "commit" {
			t.Fatalf("voted in view 0 after its view-change: %v", env.Sent)
		}
	}
	// A slot of view 0 it never prepared: the others' commits are kept,
	// and 2f+1 matching ones decide it (adoptCommitted) — executed, still
	// without a vote of its own; fewer do not.
	y := []pbft.Request{{Timestamp: 2, Client: 5, Op: "y"}}
	env.Sent = nil
	env.Receive(n, 2, pbft.Commit{View: 0, Seq: 2, Reqs: y})
	env.Receive(n, 4, pbft.Commit{View: 0, Seq: 2, Reqs: y})
	if st := replica2(n); st.LastExecuted != 1 {
		t.Fatalf("executed on 2 commits of 2f+1: %+v", st)
	}
	env.Receive(n, 1, pbft.Commit{View: 0, Seq: 2, Reqs: y})
	if st := replica2(n); st.LastExecuted != 2 || !st.Changing {
		t.Fatalf("after 2f+1 commits of an unprepared slot: %+v", st)
	}
	for _, m := range env.Sent {
		if k := m.Msg.Kind(); k == "prepare" || k == "commit" {
			t.Fatalf("voted in view 0 after its view-change: %v", env.Sent)
		}
	}
}

func replica2(n ordo.Node) pbft.State { return n.(ordo.StateReporter).State().(pbft.State) }

// One step: a backup stuck on sequence number 1 (it missed the commits)
// multicasts a status on the retransmit tick; a replica that has the
// entry answers with its prepare and commit for it.
func TestPBFTStatusBringsBackLostVotes(t *testing.T) {
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest([]pbft.Request{req})
	// Backup 3: pre-prepared and prepared, no commit arrived.
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	tick := env.OneTimer(t, "retransmit").Timer
	env.Receive(n, 5, req)
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env.Sent = nil
	env.Fire(n, tick) // nothing executed since the last tick, and slot 1 pending
	sent := env.SentTo(2)
	st, ok := sent[0].(pbft.Status)
	if len(sent) != 1 || !ok || st.View != 0 || st.LastExec != 0 || st.Changing {
		t.Fatalf("status %v", env.Sent)
	}
	// Backup 2 executed it: it answers 3's status with its prepare and commit.
	env2 := ordotest.ForProtocol(pbft.Protocol, 2, ordo.NewRoster(4, 1, 0), 1)
	n2 := env2.NewNode(t, pbft.Protocol, nil)
	env2.Start(n2)
	env2.Receive(n2, 5, req)
	env2.Receive(n2, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	env2.Receive(n2, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env2.Receive(n2, 1, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	env2.Receive(n2, 3, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	if len(env2.NotesOf(agreement.NoteDecide)) != 1 {
		t.Fatalf("replica 2 did not execute: %v", env2.NoteKinds())
	}
	env2.Receive(n2, 3, st)
	env2.WantSent(t, "prepare→n3", "commit→n3")
	env.Receive(n, 2, env2.Sent[1].Msg)
	env.Receive(n, 1, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	if len(env.NotesOf(agreement.NoteDecide)) != 1 {
		t.Fatalf("did not execute with the resent commit: %v", env.NoteKinds())
	}
}

// Refused messages are counted by reason in State and noted: a prepare
// from the primary (wrong sender for its role), a pre-prepare whose digest
// is not its request's, one outside the window, one of a stale view, a
// second, different prepare from one replica for one slot, the same
// prepare again (a retransmission or a replay), a request sent on another
// client's behalf.
func TestPBFTRefusedCounted(t *testing.T) {
	env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest([]pbft.Request{req})
	env.Receive(n, 1, pbft.Prepare{View: 0, Seq: 1, Digest: d})                                                // wrong-sender
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: "0123456789abcdef", Reqs: []pbft.Request{req}}) // bad-digest
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1 << 20, Digest: d, Reqs: []pbft.Request{req}})            // out-of-window
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 2, Digest: d})                                                // taken
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 2, Digest: "f" + d})                                          // conflicting
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 2, Digest: d})                                                // the same again: duplicate
	env.Receive(n, 5, pbft.Request{Timestamp: 1, Client: 6, Op: "y"})                                          // wrong-sender
	env.Receive(n, 2, pbft.ViewChange{View: 1})                                                                // (joins nothing: one of f+1)
	env.Receive(n, 4, pbft.ViewChange{View: 1})                                                                // joins view 1
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 3, Digest: d})                                                // stale-view
	st := replica2(n)
	want := map[string]int{"wrong-sender": 2, "bad-digest": 1, "out-of-window": 1, "conflicting": 1, "stale-view": 1} // and Duplicates
	if st.Refused != 7 || len(st.RefusedBy) != len(want) || st.Duplicates != 1 {
		t.Fatalf("refused %d: %v, want 7: %v", st.Refused, st.RefusedBy, want)
	}
	for k, v := range want {
		if st.RefusedBy[k] != v {
			t.Fatalf("refused %v, want %v", st.RefusedBy, want)
		}
	}
	noted(t, env, "stale-view")
}

// noted: the last step noted one refusal, for reason.
func noted(t *testing.T, env *ordotest.Env, reason string) {
	t.Helper()
	ns := env.NotesOf(pbft.NoteRefused)
	if len(ns) != 1 {
		t.Fatalf("notes %v, want one %s", env.NoteKinds(), pbft.NoteRefused)
	}
	if r, _ := ns[0].Get("reason"); r != reason {
		t.Fatalf("refusal noted for %v, want %s", r, reason)
	}
}

// The replica that votes for everything (sim's vote-for-everything): at
// n = 4 with one such replica, the primary or a backup, over seeds,
// agreement, validity and liveness hold — its votes for a conflicting
// request find no pre-prepare at a correct replica and never make a
// quorum — while the equivocation checker finds its two different
// prepares for one slot and names it.
func TestPBFTVoteForEverythingTolerated(t *testing.T) {
	for _, node := range []ordo.NodeID{1, 2} {
		for seed := uint64(1); seed <= 5; seed++ {
			cfg := config(t, 4, 2, 5, nil, sim.Byzantine{Node: node, Behaviour: sim.VoteForEverything})
			cfg.Seed, cfg.KeepMessages = seed, true
			s, _ := run(t, cfg, 3*time.Second)
			rs := allVerdicts(t, s.Trace())
			got := verdictsOf(rs)
			if got[agreement.CheckName] != check.Pass || got["validity"] != check.Pass || got["bft-liveness"] != check.Pass {
				t.Fatalf("%v, seed %d: %v", node, seed, got)
			}
			if eq := rs[agreement.EquivocationName]; eq.Verdict != check.Fail || !strings.Contains(eq.Summary, "by "+node.String()+";") {
				t.Fatalf("%v, seed %d: equivocation %v: %s", node, seed, eq.Verdict, eq.Summary)
			}
			if s.Stats().ByzantineBy[sim.VoteForEverything] == 0 {
				t.Fatalf("%v, seed %d: no vote cast", node, seed)
			}
		}
	}
}

// Below the line, n = 3 run with quorums of 2: a replica that votes for
// everything alone still does not split the correct ones. A conflicting
// quorum needs a correct replica to accept a conflicting pre-prepare, and
// an honest primary sends one request per sequence number; votes are not
// enough. With the primary equivocating as well it breaks
// (TestPBFTUnsafeQuorumEquivocatingPrimaryDisagrees): what n = 3f+1 guards
// against is the conflicting proposal, which extra votes then complete.
func TestPBFTVoteForEverythingAloneDoesNotSplitN3(t *testing.T) {
	for _, node := range []ordo.NodeID{1, 2} {
		cfg := config(t, 3, 1, 5, map[string]string{"f": "1", "unsafe_quorum": "2"}, sim.Byzantine{Node: node, Behaviour: sim.VoteForEverything})
		cfg.Clients[0].Options = opts(t, pbft.ClientProtocol, map[string]string{"ops": "5", "f": "1"})
		s, _ := run(t, cfg, 2*time.Second)
		if got := verdicts(t, s.Trace()); got[agreement.CheckName] != check.Pass || got["validity"] != check.Pass {
			t.Fatalf("%v: %v", node, got)
		}
	}
}

// The equivocation checker on PBFT: an equivocating primary is named
// (two different pre-prepares for one sequence number, the events of
// both); an honest run passes although replicas resend; a run without
// message bodies is not applicable.
func TestPBFTEquivocationEvidence(t *testing.T) {
	cfg := config(t, 4, 1, 5, nil, sim.Byzantine{Node: 1, Behaviour: sim.Equivocate})
	cfg.KeepMessages = true
	s, _ := run(t, cfg, 2*time.Second)
	eq := allVerdicts(t, s.Trace())[agreement.EquivocationName]
	if eq.Verdict != check.Fail || len(eq.Violations) == 0 || !strings.Contains(eq.Summary, "by n1;") ||
		!strings.HasPrefix(eq.Violations[0].Message, "n1 sent two different pre-prepare messages for view 0, sequence number ") {
		t.Fatalf("%v: %s %v", eq.Verdict, eq.Summary, eq.Violations)
	}
	ev := s.Trace().Events
	a, b := ev[eq.Violations[0].Events[0]], ev[eq.Violations[0].Events[1]]
	if a.Node != 1 || b.Node != 1 || a.Kind != trace.Send || b.Kind != trace.Send || string(*a.Body) == string(*b.Body) {
		t.Fatalf("evidence %+v and %+v", a, b)
	}

	honest := config(t, 4, 2, 10, nil)
	honest.KeepMessages = true
	honest.Network.Default.Loss = 0.1 // retransmissions happen
	s, _ = run(t, honest, 5*time.Second)
	if eq := allVerdicts(t, s.Trace())[agreement.EquivocationName]; eq.Verdict != check.Pass {
		t.Fatalf("honest run: %v: %s %v", eq.Verdict, eq.Summary, eq.Violations)
	}
	if k := s.Stats().Kinds["status"]; k == nil || k.Sent == 0 {
		t.Fatal("no replica asked for a retransmission: the test does not test it")
	}

	honest.KeepMessages = false
	s, _ = run(t, honest, time.Second)
	if eq := allVerdicts(t, s.Trace())[agreement.EquivocationName]; eq.Verdict != check.NotApplicable {
		t.Fatalf("without bodies: %v: %s", eq.Verdict, eq.Summary)
	}
}

// Replayed messages (sim's replay: every message again 50ms later) are
// refused and counted, as duplicates in their view or as stale after a
// view change; forged ones never reach a replica (the link's MAC,
// Stats.AuthFailed) and garbage never decodes (Stats.Malformed).
func TestPBFTReplayedForgedMalformedCounted(t *testing.T) {
	cfg := config(t, 4, 1, 5, nil, sim.Byzantine{Node: 2, Behaviour: sim.Replay, After: 50 * time.Millisecond})
	s, _ := run(t, cfg, 2*time.Second)
	dup := 0
	for _, id := range []ordo.NodeID{1, 3, 4} {
		dup += replica(s, id).Duplicates
	}
	if dup == 0 {
		t.Fatalf("replays counted nowhere: %+v", replica(s, 1))
	}
	wantVerdicts(t, s.Trace(), check.Pass, check.Pass, check.Pass)

	s, _ = run(t, config(t, 4, 1, 5, nil, sim.Byzantine{Node: 2, Behaviour: sim.Forge, As: 1}), 2*time.Second)
	if st := s.Stats(); st.AuthFailed == 0 || replica(s, 3).Refused != 0 {
		t.Fatalf("forged: %d refused by the links, %d by replica 3", st.AuthFailed, replica(s, 3).Refused)
	}
	s, _ = run(t, config(t, 4, 1, 5, nil, sim.Byzantine{Node: 2, Behaviour: sim.Garbage}), 2*time.Second)
	if st := s.Stats(); st.Malformed == 0 || replica(s, 3).Refused != 0 {
		t.Fatalf("garbage: %d malformed, %d refused by replica 3", st.Malformed, replica(s, 3).Refused)
	}
}

// One step: replica 2, primary of view 1, orders a client's request that
// no one prepares (lost); views move on and 2 is primary again, in view 5,
// whose new-view does not re-propose the request. When the client resends
// it, 2 orders it again: a request ordered in an older view and not
// re-proposed never committed anywhere (kept as ordered, it was refused
// for good and its client starved: pbft-4-loss).
func TestPBFTPrimaryOrdersAgainWhatAnOldViewLost(t *testing.T) {
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	env := ordotest.ForProtocol(pbft.Protocol, 2, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	env.Receive(n, 3, pbft.ViewChange{View: 1})
	env.Receive(n, 4, pbft.ViewChange{View: 1}) // primary of view 1
	env.Receive(n, 5, req)
	if got := env.SentTo(3); len(got) == 0 || got[len(got)-1].Kind() != "pre-prepare" {
		t.Fatalf("view 1: sent %v, want a pre-prepare", env.Sent)
	}
	env.Receive(n, 3, pbft.ViewChange{View: 5})
	env.Receive(n, 4, pbft.ViewChange{View: 5}) // primary of view 5 again
	if st := replica2(n); st.Changing || st.View != 5 || st.Primary != 2 {
		t.Fatalf("not primary of view 5: %+v", st)
	}
	env.Sent = nil
	env.Receive(n, 5, req)
	pp, ok := func() (pbft.PrePrepare, bool) {
		for _, m := range env.SentTo(3) {
			if p, ok := m.(pbft.PrePrepare); ok {
				return p, true
			}
		}
		return pbft.PrePrepare{}, false
	}()
	if !ok || pp.View != 5 || !slices.Equal(pp.Reqs, []pbft.Request{req}) {
		t.Fatalf("view 5: the resent request gave %v, want a pre-prepare of it", env.Sent)
	}
}

// A replica changing view gets the checkpoints it reached back too, as one
// in a view does: it keeps executing what the others commit, and without
// them it stalled at its window's edge until a state transfer (the
// changing status's answer returned before the checkpoints; a reviewer).
func TestPBFTChangingStatusGetsCheckpoints(t *testing.T) {
	req := pbft.Request{Timestamp: 1, Client: 5, Op: "x"}
	d := pbft.BatchDigest([]pbft.Request{req})
	env := ordotest.ForProtocol(pbft.Protocol, 2, ordo.NewRoster(4, 1, 0), 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"checkpoint": "1", "window": "4"})
	env.Start(n)
	env.Receive(n, 5, req)
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{req}})
	env.Receive(n, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env.Receive(n, 1, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	env.Receive(n, 3, pbft.Commit{View: 0, Seq: 1, Reqs: []pbft.Request{req}})
	if st := replica2(n); st.LastExecuted != 1 {
		t.Fatalf("slot 1 not executed: %+v", st)
	}
	for _, changing := range []bool{false, true} {
		env.Receive(n, 3, pbft.Status{View: 1, Changing: changing, LastExec: 1})
		found := false
		for _, m := range env.SentTo(3) {
			if c, ok := m.(pbft.Checkpoint); ok && c.Seq == 1 {
				found = true
			}
		}
		if !found {
			t.Errorf("a status (changing %v) at checkpoint 1, not stable: answered %v, want the checkpoint", changing, env.SentSummary())
		}
	}
}

// One step: a restarted replica (its storage says it ran before) asks
// with a status at its first tick and keeps asking every askEvery-th
// tick for a while, not only once: live, its first ask leaves before its
// links are up and is lost, and a replica restarted after a window of
// requests stayed at sequence number 0 for good (CI). A replica that
// never ran asks nothing.
func TestPBFTRestartedReplicaKeepsAsking(t *testing.T) {
	for _, restarted := range []bool{false, true} {
		env := ordotest.ForProtocol(pbft.Protocol, 3, ordo.NewRoster(4, 1, 0), 1)
		if restarted {
			env.Store().Put("pbft/booted", []byte{1})
		}
		n := env.NewNode(t, pbft.Protocol, nil)
		env.Start(n)
		asks := 0
		for range 60 {
			tick := env.OneTimer(t, "retransmit").Timer
			env.Sent = nil
			env.Fire(n, tick)
			for _, m := range env.SentTo(2) {
				if _, ok := m.(pbft.Status); ok {
					asks++
				}
			}
		}
		if restarted && asks < 5 || !restarted && asks != 0 {
			t.Errorf("restarted %v: %d statuses over 60 ticks, want ≥ 5 when restarted, none otherwise", restarted, asks)
		}
	}
}
