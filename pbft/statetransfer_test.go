package pbft_test

import (
	"bytes"
	"testing"
	"time"

	"ordo"
	"ordo/agreement"
	"ordo/check"
	"ordo/ordotest"
	"ordo/pbft"
	"ordo/sim"
)

// State transfer (§4.3): replica 4 crashes and restarts empty (a PBFT
// replica's state is volatile) while the others execute far past its
// window and garbage-collect the log. Out-of-window messages tell it it
// is behind, its status is answered with the state at the others' stable
// checkpoint, which it restores once the 2f+1 signed checkpoints and the
// snapshot's digest check out, and it then executes with the others to
// the end: the same last executed sequence number and state digest.
// Agreement and validity hold throughout. Seeds 1..3.
func TestPBFTRestartedReplicaCatchesUpByStateTransfer(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		cfg := config(t, 4, 2, 400, map[string]string{"checkpoint": "4", "window": "8"})
		cfg.Seed = seed
		s, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		step := func(d time.Duration) {
			t.Helper()
			if err := s.RunFor(d); err != nil {
				t.Fatal(err)
			}
		}
		step(100 * time.Millisecond)
		s.Crash(4)
		step(400 * time.Millisecond)
		behind := replica(s, 1).LastExecuted
		if behind < 16 {
			t.Fatalf("seed %d: the others executed only %d with replica 4 down: not past its window", seed, behind)
		}
		if err := s.Restart(4); err != nil {
			t.Fatal(err)
		}
		step(10 * time.Second)
		got, want := replica(s, 4), replica(s, 1)
		if got.Transfers == 0 {
			t.Fatalf("seed %d: replica 4 restored no state: %+v", seed, got)
		}
		if got.LastExecuted != want.LastExecuted || got.StateDigest != want.StateDigest || got.LastExecuted <= behind {
			t.Fatalf("seed %d: replica 4 at %d (%s), replica 1 at %d (%s), %d when 4 restarted", seed, got.LastExecuted, got.StateDigest, want.LastExecuted, want.StateDigest, behind)
		}
		v := verdicts(t, s.Trace())
		if v[agreement.CheckName] != check.Pass || v["validity"] != check.Pass {
			t.Fatalf("seed %d: %v", seed, v)
		}
	}
}

// One step at replica 4, restarted empty: a state transfer is restored
// only with 2f+1 valid signed checkpoints of its digest and a snapshot of
// that digest. A proof one signature short, a proof of another digest and
// a snapshot with one byte changed are refused; the genuine one is
// restored, and the same again is refused as a duplicate.
func TestPBFTStateTransferChecked(t *testing.T) {
	roster := ordo.NewRoster(4, 1, 0)
	genuine := transferFrom(t, roster)

	env := ordotest.ForProtocol(pbft.Protocol, 4, roster, 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"checkpoint": "4", "window": "8"})
	env.Start(n)
	short := genuine
	short.Proof = short.Proof[:2]
	other := genuine
	other.State = "0123456789abcdef"
	tampered := genuine
	tampered.Snap = bytes.Clone(genuine.Snap)
	tampered.Snap[len(tampered.Snap)-1] ^= 1
	for _, c := range []struct {
		name string
		t    pbft.StateTransfer
		why  string
	}{{"short proof", short, "bad-certificate"}, {"proof of another digest", other, "bad-certificate"}, {"tampered snapshot", tampered, "bad-digest"}} {
		env.Receive(n, 1, c.t)
		if st := replica2(n); st.Transfers != 0 || st.RefusedBy[c.why] == 0 {
			t.Fatalf("%s: restored or not refused as %s: %+v", c.name, c.why, st)
		}
	}
	env.Receive(n, 1, genuine)
	st := replica2(n)
	if st.Transfers != 1 || st.LastExecuted != genuine.Seq || st.Stable != genuine.Seq {
		t.Fatalf("the genuine state transfer: %+v, want executed and stable at %d", st, genuine.Seq)
	}
	env.Receive(n, 2, genuine)
	if st := replica2(n); st.Transfers != 1 || st.Duplicates == 0 {
		t.Fatalf("the same state again: %+v", st)
	}
}

// transferFrom is the state transfer replica 1 of a step cluster sends
// to a replica that executed nothing: replica 1, the primary, is driven
// through four requests to checkpoint 4 with the backups' votes (signed
// by ordotest.Keys), the checkpoint becomes stable, and a status from
// nothing is answered.
func transferFrom(t *testing.T, roster *ordo.Roster) pbft.StateTransfer {
	t.Helper()
	// Drive replica 1 (the primary) of a step cluster through four
	// requests to checkpoint 4, with the backups' votes signed by Keys.
	env := ordotest.ForProtocol(pbft.Protocol, 1, roster, 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"checkpoint": "4", "window": "8", "batch": "1"})
	env.Start(n)
	for ts := int64(1); ts <= 4; ts++ {
		q := pbft.Request{Timestamp: ts, Client: 5, Op: "op"}
		env.Receive(n, 5, q)
		d := pbft.BatchDigest([]pbft.Request{q})
		for _, b := range []ordo.NodeID{2, 3} {
			env.Receive(n, b, pbft.Prepare{View: 0, Seq: ts, Digest: d})
		}
		for _, b := range []ordo.NodeID{2, 3} {
			env.Receive(n, b, pbft.Commit{View: 0, Seq: ts, Reqs: []pbft.Request{q}})
		}
	}
	var mine pbft.Checkpoint
	for _, sent := range env.Sent {
		if c, ok := sent.Msg.(pbft.Checkpoint); ok {
			mine = c
		}
	}
	if mine.Seq != 4 {
		t.Fatalf("replica 1 sent no checkpoint at 4: %v", env.SentSummary())
	}
	for _, b := range []ordo.NodeID{2, 3} {
		env.Receive(n, b, pbft.Checkpoint{Seq: 4, State: mine.State})
	}
	if st := replica2(n); st.Stable != 4 {
		t.Fatalf("checkpoint 4 not stable at replica 1: %+v", st)
	}
	env.Receive(n, 4, pbft.Status{View: 0, Stable: 0, LastExec: 0})
	for _, m := range env.SentTo(4) {
		if st, ok := m.(pbft.StateTransfer); ok {
			return st
		}
	}
	t.Fatalf("no state transfer answered a status from nothing: %v", env.SentSummary())
	return pbft.StateTransfer{}
}

// One step at backup 2, which executed to checkpoint 4 with the others
// but holds only its own checkpoint vote there (the others' were lost and
// garbage-collected): a stable checkpoint's proof without a snapshot makes
// its checkpoint stable only when the state 2f+1 replicas signed is the one
// it reached there and the proof verifies. A proof of another state and a
// proof one signature short are refused; the genuine proof is taken.
func TestPBFTLaggingStableCheckpointTakesTheOthersProof(t *testing.T) {
	roster := ordo.NewRoster(4, 1, 0)
	genuine := transferFrom(t, roster)
	proof := genuine
	proof.Snap = nil

	env := ordotest.ForProtocol(pbft.Protocol, 2, roster, 1)
	n := env.NewNode(t, pbft.Protocol, map[string]string{"checkpoint": "4", "window": "8", "batch": "1"})
	env.Start(n)
	for ts := int64(1); ts <= 4; ts++ {
		q := pbft.Request{Timestamp: ts, Client: 5, Op: "op"}
		d := pbft.BatchDigest([]pbft.Request{q})
		env.Receive(n, 5, q)
		env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: ts, Digest: d, Reqs: []pbft.Request{q}})
		env.Receive(n, 3, pbft.Prepare{View: 0, Seq: ts, Digest: d})
		for _, b := range []ordo.NodeID{1, 3} {
			env.Receive(n, b, pbft.Commit{View: 0, Seq: ts, Reqs: []pbft.Request{q}})
		}
	}
	var mine pbft.Checkpoint
	for _, sent := range env.SentKind("checkpoint") {
		mine = sent.Msg.(pbft.Checkpoint)
	}
	if st := replica2(n); st.LastExecuted != 4 || st.Stable != 0 || mine.Seq != 4 || mine.State != genuine.State {
		t.Fatalf("backup 2 before the proof: %+v, checkpoint %+v, want executed to 4 in state %s, nothing stable", st, mine, genuine.State)
	}
	other := proof
	other.State = "0123456789abcdef"
	short := proof
	short.Proof = short.Proof[:2]
	for _, c := range []struct {
		name string
		t    pbft.StateTransfer
		why  string
	}{{"proof of another state", other, "bad-digest"}, {"short proof", short, "bad-certificate"}} {
		env.Receive(n, 1, c.t)
		if st := replica2(n); st.Stable != 0 || st.RefusedBy[c.why] == 0 {
			t.Fatalf("%s: stable at %d or not refused as %s: %+v", c.name, st.Stable, c.why, st)
		}
	}
	env.Receive(n, 1, proof)
	if st := replica2(n); st.Stable != 4 || st.LastExecuted != 4 || st.Transfers != 0 {
		t.Fatalf("the genuine proof: %+v, want stable at 4, nothing restored", st)
	}
}
