package lab

import (
	"fmt"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/sim"
	"ordo/trace"
)

// These tests replay election failures found by replaying public incident
// reports and bug reports about Raft-based systems (issue 9, "cases that
// fail today"). Each failed before its fix; each runs several seeds and
// prints the command that replays a failing one.

// leaderStarts lists (time, node) of every "leader" note of the trace.
func leaderStarts(tr *trace.Trace) []leaderStart {
	var out []leaderStart
	for i := range tr.Events {
		e := &tr.Events[i]
		if e.Kind == trace.Note && e.Name == election.NoteLeader {
			out = append(out, leaderStart{time.Duration(e.T), e.Node})
		}
	}
	return out
}

type leaderStart struct {
	At   time.Duration
	Node ordo.NodeID
}

func runRaft(t *testing.T, seed uint64, n int, opts map[string]string, dur time.Duration, faults []Fault, extra func(s *sim.Sim), checks ...string) (*sim.Sim, *Outcome) {
	t.Helper()
	sp := Spec{Protocol: "raft", Options: opts, Nodes: n, Seed: seed, Duration: dur, Faults: faults, Checks: checks}
	s, err := New(sp)
	if err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		extra(s)
	}
	if err := s.RunUntil(dur); err != nil {
		t.Fatal(err)
	}
	o, err := Finish(sp, s)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// Case 1: a leader that steps down (its lease lapsed in a minority, or a
// reply carried a higher term) must re-arm its election timer. Before the
// fix n2 and n3 stayed leaderless from 2.1 s to 30 s, although connected.
// Replay: ordo elect --protocol raft -n 3 --seed 1 --partition 3/1,2@1s --crash 1@2s --heal @3s --duration 30s
func TestIncident_SteppedDownLeaderRearmsElectionTimer(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		faults := []Fault{
			{At: time.Second, Kind: Partition, Groups: [][]ordo.NodeID{{3}, {1, 2}}},
			{At: 2 * time.Second, Kind: Crash, Node: 1},
			{At: 3 * time.Second, Kind: Heal},
		}
		_, o := runRaft(t, seed, 3, nil, 10*time.Second, faults, nil)
		// After the crash n2 alone is a minority, so only the heal can
		// bring a leader: right is one within an election timeout (300 ms)
		// and a PreVote and a vote round trip of it.
		var after []leaderStart
		for _, l := range leaderStarts(o.Trace) {
			if l.At >= 3*time.Second {
				after = append(after, l)
			}
		}
		if len(after) == 0 {
			t.Fatalf("seed %d: no leader after the heal at 3s\nreplay: go run ./cmd/ordo elect --protocol raft -n 3 --seed %d --partition 3/1,2@1s --crash 1@2s --heal @3s --duration 10s", seed, seed)
		}
		// Within two election timeouts (a split vote may cost one).
		if bound := 3*time.Second + 2*300*time.Millisecond + 50*time.Millisecond; after[0].At > bound {
			t.Errorf("seed %d: first leader after the heal at %v, want by %v", seed, after[0].At, bound)
		}
	}
}

// Case 2: the 2020 partial-partition outage of a three-node etcd cluster:
// n1 and n3 cannot reach each other, n2 reaches both. Without CheckQuorum
// a node that stops hearing the leader raises the term and deposes it, and
// the leadership ping-pongs between n1 and n3 for as long as the partial
// partition lasts (the outage). With the defaults (PreVote + CheckQuorum)
// the leader is stable.
func TestIncident_PartialPartitionPingPong(t *testing.T) {
	bridge := func(s *sim.Sim) {
		s.At(time.Second, func(s *sim.Sim) {
			if err := s.Bridge([]ordo.NodeID{1}, []ordo.NodeID{3}, 2); err != nil {
				t.Fatal(err)
			}
		})
	}
	for seed := uint64(1); seed <= 5; seed++ {
		_, bad := runRaft(t, seed, 3, map[string]string{"check_quorum": "false"}, 60*time.Second, nil, bridge)
		_, good := runRaft(t, seed, 3, nil, 60*time.Second, nil, bridge)
		changes := func(o *Outcome) int {
			n := 0
			for _, l := range leaderStarts(o.Trace) {
				if l.At > 2*time.Second {
					n++
				}
			}
			return n
		}
		if c := changes(bad); c < 20 {
			t.Errorf("seed %d: without CheckQuorum %d leader changes in 58 s, want the ping-pong of the outage (≥ 20)", seed, c)
		}
		if c := changes(good); c > 1 {
			t.Errorf("seed %d: with the defaults %d leader changes after the partial partition settled, want at most 1", seed, c)
		}
	}
}

// star cuts every node but the hub from every other node but the hub.
func star(n int, hub ordo.NodeID) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		s.At(time.Second, func(s *sim.Sim) {
			for a := 1; a <= n; a++ {
				if ordo.NodeID(a) == hub {
					continue
				}
				var to []ordo.NodeID
				for b := 1; b <= n; b++ {
					if b != a && ordo.NodeID(b) != hub {
						to = append(to, ordo.NodeID(b))
					}
				}
				if err := s.CutOneWay([]ordo.NodeID{ordo.NodeID(a)}, to); err != nil {
					panic(err)
				}
			}
		})
	}
}

// Case 3: under partial connectivity only the hub of a star can win; a
// follower that postponed its candidacy for every PreVote it granted was
// starved by leaves that could never win (up to 47 s, sometimes never).
func TestIncident_StarElectsTheHub(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		_, o := runRaft(t, seed, 7, nil, 10*time.Second, nil, star(7, 1))
		var last leaderStart
		for _, l := range leaderStarts(o.Trace) {
			last = l
		}
		if last.Node != 1 {
			t.Fatalf("seed %d: the last leader is %v, want the hub n1", seed, last.Node)
		}
		// The leaf leading at 1 s loses its lease (≤ 270 ms), then the
		// hub's timer fires (≤ 300 ms) and a PreVote and a vote round
		// follow; a couple of election timeouts in all.
		if bound := time.Second + 3*300*time.Millisecond; last.At > bound {
			t.Errorf("seed %d: the hub leads from %v, want by %v", seed, last.At, bound)
		}
		if len(o.FinalLeaders) != 1 || o.FinalLeaders[0] != 1 {
			t.Errorf("seed %d: final leaders %v, want [n1]", seed, o.FinalLeaders)
		}
	}
}

// Case 4: a node that asks for PreVotes has no leader. Before the fix n1,
// cut off at 1 s, reported following n4 nine seconds after it last heard
// from it (and `ordo cluster status` showed the same live).
func TestIncident_PreCandidateForgetsItsLeader(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		faults := []Fault{{At: time.Second, Kind: Partition, Groups: [][]ordo.NodeID{{1}, {2, 3, 4, 5}}}}
		s, _ := runRaft(t, seed, 5, nil, 10*time.Second, faults, nil)
		v := s.Node(1).(election.Elector).View()
		if v.Leader != ordo.None {
			t.Errorf("seed %d: n1, isolated since 1s, still follows %v at 10s", seed, v.Leader)
		}
	}
}

// Case 6: a leader without a quorum passed every check. The star with
// CheckQuorum off leaves a leaf leading while it reaches only the hub; the
// isolated-leader checker reports it. With the defaults a leaf that led at
// the cut steps down within its lease, and the check passes.
func TestIncident_IsolatedLeaderIsReported(t *testing.T) {
	found := 0
	for seed := uint64(1); seed <= 20; seed++ {
		sp := func(opts map[string]string) *Outcome {
			_, o := runRaft(t, seed, 7, opts, 20*time.Second, nil, star(7, 1), "isolated-leader", "single-leader")
			return o
		}
		if r := sp(nil).Checks[0]; r.Verdict != check.Pass {
			t.Errorf("seed %d: defaults: isolated-leader %s: %s %v", seed, r.Verdict, r.Summary, r.Violations)
		}
		o := sp(map[string]string{"check_quorum": "false"})
		leafLed := false
		for _, l := range leaderStarts(o.Trace) {
			if l.At < time.Second && l.Node != 1 {
				leafLed = true
			}
		}
		var lastBefore leaderStart
		for _, l := range leaderStarts(o.Trace) {
			if l.At < time.Second {
				lastBefore = l
			}
		}
		leafLed = leafLed && lastBefore.Node != 1
		r := o.Checks[0]
		if leafLed {
			found++
			if r.Verdict != check.Fail {
				t.Errorf("seed %d: check_quorum=false, leaf n%d led at the cut: isolated-leader %s, want fail", seed, lastBefore.Node, r.Verdict)
			}
		}
	}
	t.Logf("%d of 20 seeds had a leaf leading at the cut; each was reported", found)
	if found == 0 {
		t.Fatal("no seed had a leaf leading at the cut: the test proved nothing")
	}
}

// Case 5: defaults that churn leaders on a lossy network. With the
// heartbeat 3× below the election timeout, ten 60 s runs of 3 nodes at
// 20 % loss saw 181 leader changes; the default is now 10× below it.
func TestIncident_DefaultsHoldOnALossyNetwork(t *testing.T) {
	rows, err := Churn("raft", nil, 3, []float64{0.2}, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c := rows[0].LeaderChanges; c > 1 {
		t.Errorf("defaults at 20%% loss: %d leader changes in five 60 s runs, want at most 1\nreplay: go run ./cmd/ordo bench churn --loss 0.2 --seeds 5", c)
	}
	rows, err = Churn("raft", map[string]string{"heartbeat": "50ms"}, 3, []float64{0.2}, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c := rows[0].LeaderChanges; c < 20 {
		t.Errorf("heartbeat 50ms at 20%% loss: %d leader changes, want the churn of the old default (≥ 20)", c)
	}
}

// A 10 000-seed friendly campaign found a candidate paused while its votes
// arrived: on resuming it became leader of term 5 after term 6 had a
// leader, acted, and stepped down (the fencing check saw the tokens issued
// out of order). Votes now carry the candidacy's lease (thesis §6.2). The
// campaign's seeds no longer build the case since the fault generator
// changed, so it is built here: the first candidate is paused as it asks
// for votes, the others elect a leader meanwhile, and it resumes to its
// votes a second later.
func TestIncident_PausedCandidateDoesNotLeadLate(t *testing.T) {
	const pause = time.Second
	for seed := uint64(1); seed <= 10; seed++ {
		var cand ordo.NodeID
		var term any
		var at time.Duration
		pauseFirstCandidate := func(s *sim.Sim) {
			s.Observe(func(e *trace.Event) {
				if cand != ordo.None || e.Kind != trace.Note || e.Name != election.NoteCandidate {
					return
				}
				cand, term, at = e.Node, e.Attrs.Get("term"), s.Now()
				// Between events, before its RequestVotes are answered.
				s.At(at, func(s *sim.Sim) { s.Pause(cand) })
				s.At(at+pause, func(s *sim.Sim) { s.Resume(cand) })
			})
		}
		_, o := runRaft(t, seed, 5, nil, 5*time.Second, nil, pauseFirstCandidate, "fencing", "stale-leader", "single-leader")
		// The pause follows the run (the first candidacy), so the test is the replay.
		replay := fmt.Sprintf("n%d paused %v..%v; replay: go test ./lab -run 'TestIncident_PausedCandidateDoesNotLeadLate$' -v", cand, at, at+pause)
		if cand == ordo.None {
			t.Fatalf("seed %d: no candidate in 5 s", seed)
		}
		// The case was built: its votes arrived while it was paused and
		// another node led a newer term before it resumed.
		var votes, other int
		for i := range o.Trace.Events {
			e := &o.Trace.Events[i]
			inPause := time.Duration(e.T) > at && time.Duration(e.T) < at+pause
			if inPause && e.Kind == trace.Send && e.Peer == cand && e.MsgKind == "RequestVoteResp" {
				votes++
			}
			if inPause && e.Kind == trace.Note && e.Name == election.NoteLeader && e.Node != cand {
				other++
			}
			if e.Kind == trace.Note && e.Name == election.NoteLeader && e.Node == cand && fmt.Sprint(e.Attrs.Get("term")) == fmt.Sprint(term) {
				t.Errorf("seed %d: n%d led term %v at %v on votes that waited out its pause\n%s", seed, cand, term, time.Duration(e.T), replay)
			}
		}
		if votes < election.Majority(5)-1 || other == 0 {
			t.Fatalf("seed %d: case not built: %d vote replies sent to paused n%d, %d other leaders during the pause\n%s", seed, votes, cand, other, replay)
		}
		for _, r := range o.Checks {
			if r.Verdict != check.Pass {
				t.Errorf("seed %d: %s %s: %s\n%s", seed, r.Check, r.Verdict, r.Summary, replay)
			}
		}
	}
}
