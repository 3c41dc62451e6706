package election_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/ordotest"
)

// One-step tests of the Leadership that Bully and Ring share (section 4's
// failure detector and COORDINATOR, section 5's majority and leases).

type beat struct {
	Leader       ordo.NodeID
	Epoch, Round uint64
}

func (beat) Kind() string { return "HEARTBEAT" }

var watch = election.Watch{Heartbeat: 50 * time.Millisecond, Timeout: 150 * time.Millisecond,
	Answer: 20 * time.Millisecond, Coord: 100 * time.Millisecond}

func leadership(id ordo.NodeID, quorum bool) (*ordotest.Env, *election.Leadership) {
	w := watch
	w.Quorum = quorum
	env := ordotest.NewEnv(id, ordo.NewRoster(5, 0, 0), 1)
	l := election.NewLeadership("test", ordo.Config{ID: id, N: 5}, w, func(leader ordo.NodeID, epoch, round uint64) ordo.Message {
		return beat{leader, epoch, round}
	})
	return env, l
}

func sends(env *ordotest.Env) []string {
	var out []string
	for _, s := range env.Sent {
		out = append(out, fmt.Sprintf("%s→%v %+v", s.Msg.Kind(), s.To, s.Msg))
	}
	return out
}

func timers(env *ordotest.Env) []string {
	var out []string
	for _, a := range env.Timers {
		out = append(out, fmt.Sprintf("%v@%v", a.Timer, a.After))
	}
	return out
}

func notes(env *ordotest.Env) []string {
	var out []string
	for _, n := range env.Notes {
		out = append(out, fmt.Sprintf("%s %v", n.Kind, n.Attrs))
	}
	return out
}

func want(t *testing.T, what string, got []string, w ...string) {
	t.Helper()
	if !slices.Equal(got, w) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, w)
	}
}

// step runs f as one step of env (clearing the previous step's record).
func step(env *ordotest.Env, f func(ordo.Env)) {
	env.Reset()
	f(env)
}

// A restart reads the durable epoch, notes "follower" of nobody in it,
// and with quorum binds the node to nobody for one timeout (a promise
// made before the crash may still hold).
func TestLeadershipBootLoadsEpochAndBinds(t *testing.T) {
	env, l := leadership(2, true)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], 7)
	env.Storage().Put("test/epoch", v[:])
	step(env, l.Boot)
	want(t, "notes", notes(env), "follower [term 7 leader 0]")
	want(t, "timers", timers(env), "bound(1)@150ms")
	if l.Epoch.N != 7 || !l.Promise.Bound || l.Promise.BoundTo != ordo.None {
		t.Errorf("after boot: epoch %d, promise %+v", l.Epoch.N, l.Promise)
	}
	if len(env.Writes) != 0 {
		t.Errorf("boot wrote %v", env.Writes)
	}
}

// Section 4, step 1's detector: following a leader stores its epoch
// before anything else and re-arms the suspect timer; following the same
// leader again notes nothing new.
func TestLeadershipFollowStoresEpochThenNotes(t *testing.T) {
	env, l := leadership(2, false)
	step(env, func(e ordo.Env) { l.Follow(e, 5, 3) })
	if len(env.Writes) != 1 || env.Writes[0].Key != "test/epoch" {
		t.Fatalf("writes %v, want the epoch", env.Writes)
	}
	want(t, "notes", notes(env), "follower [term 3 leader n5]")
	want(t, "timers", timers(env), "suspect(1)@150ms")
	step(env, func(e ordo.Env) { l.Follow(e, 5, 3) })
	want(t, "notes again", notes(env))
	want(t, "timers again", timers(env), "suspect(2)@150ms")
	if l.Suspects(ordo.Timer{Name: election.TimerSuspect, Arg: 1}) || !l.Suspects(ordo.Timer{Name: election.TimerSuspect, Arg: 2}) {
		t.Error("only the newest suspect timer may count")
	}
}

// Section 4, step 4 ("COORDINATOR → All") and after: a leader notes its
// token, heartbeats every peer with round 1 and arms the next round; with
// quorum each round's lease is armed before its heartbeats leave.
func TestLeadershipLeadBeatsAllPeers(t *testing.T) {
	env, l := leadership(4, true)
	step(env, func(e ordo.Env) { l.Lead(e, 2) })
	want(t, "notes", notes(env), "leader [term 2 token 2]")
	want(t, "sends", sends(env),
		"HEARTBEAT→n1 {Leader:n4 Epoch:2 Round:1}", "HEARTBEAT→n2 {Leader:n4 Epoch:2 Round:1}",
		"HEARTBEAT→n3 {Leader:n4 Epoch:2 Round:1}", "HEARTBEAT→n5 {Leader:n4 Epoch:2 Round:1}")
	want(t, "timers", timers(env), "lease(1)@135ms", "heartbeat(2)@50ms")
	if v := l.View(); v.Role != election.Leader || v.Leader != 4 || v.Token != 2 {
		t.Errorf("view %+v", v)
	}
	step(env, func(e ordo.Env) { l.Beating(e, ordo.Timer{Name: election.TimerHeartbeat, Arg: 2}) })
	if len(env.Sent) != 4 || env.Sent[0].Msg.(beat).Round != 2 {
		t.Errorf("next round: %v", sends(env))
	}
	want(t, "timers", timers(env), "lease(2)@135ms", "heartbeat(2)@50ms")
	step(env, func(e ordo.Env) { l.Beating(e, ordo.Timer{Name: election.TimerHeartbeat, Arg: 1}) })
	if len(env.Sent)+len(env.Timers) != 0 {
		t.Errorf("a stale heartbeat timer (an earlier token) beat: %v %v", sends(env), timers(env))
	}
}

// Section 5: "과반수 (N/2 + 1) 이상 노드와 통신 가능해야 리더 역할 수행".
// Round r's lease runs from r's sending, and followers' promises from
// their acknowledgements of r; when it ends the leader keeps leading only
// if a majority (itself and two peers) acknowledged a later round.
// Losing it, the leader steps down.
func TestLeadershipLeaseNeedsMajority(t *testing.T) {
	env, l := leadership(4, true)
	step(env, func(e ordo.Env) { l.Lead(e, 2) }) // round 1
	lease1 := ordo.Timer{Name: election.TimerLease, Arg: 1}
	l.Rounds.Ack(1, 1)
	l.Rounds.Ack(2, 1)
	if !l.LeaseLost(lease1) {
		t.Fatal("round 1's lease outlived its own round")
	}
	step(env, l.Beat) // round 2
	l.Rounds.Ack(1, 2)
	if !l.LeaseLost(lease1) {
		t.Fatal("2 of 5 on round 2 kept round 1's lease")
	}
	l.Rounds.Ack(3, 2)
	if l.LeaseLost(lease1) {
		t.Fatal("3 of 5 on round 2 lost round 1's lease")
	}
	if !l.LeaseLost(ordo.Timer{Name: election.TimerLease, Arg: 2}) {
		t.Fatal("round 2's lease kept with no later round")
	}
	step(env, l.StepDown)
	want(t, "notes", notes(env), "follower [term 0 leader 0]")
	want(t, "timers", timers(env), "suspect(1)@150ms")
	if l.LeaseLost(lease1) {
		t.Error("a follower has no lease to lose")
	}
}

// A quorum claim numbers its round, sends it to every peer and must
// complete within the lease it starts; Win arms that lease and leads.
func TestLeadershipClaimThenWin(t *testing.T) {
	env, l := leadership(5, true)
	step(env, func(e ordo.Env) {
		l.Claim(e, 9, func(r uint64) ordo.Message { return beat{5, 3, r} })
	})
	if !l.Claiming || l.ClaimRound != 1 {
		t.Fatalf("claiming %v round %d", l.Claiming, l.ClaimRound)
	}
	if len(env.Sent) != 4 || env.Sent[0].Msg.(beat).Round != 1 {
		t.Errorf("claim sends %v", sends(env))
	}
	want(t, "timers", timers(env), "claim(9)@100ms") // min(coordinator 100ms, lease 135ms)
	step(env, func(e ordo.Env) { l.Win(e, 3) })
	if l.Claiming {
		t.Error("still claiming after Win")
	}
	want(t, "notes", notes(env), "leader [term 3 token 3]")
	want(t, "timers", timers(env), "lease(1)@135ms", "lease(2)@135ms", "heartbeat(3)@50ms")
}

// Conflicts: plain, an older epoch or another leader of the believed
// leader's epoch is stale; with quorum, judged against the promise.
func TestLeadershipConflicts(t *testing.T) {
	env, l := leadership(2, false)
	step(env, func(e ordo.Env) { l.Follow(e, 4, 3) })
	for _, c := range []struct {
		leader ordo.NodeID
		epoch  uint64
		stale  bool
	}{{4, 3, false}, {5, 3, true}, {5, 2, true}, {1, 4, false}} {
		if s, known := l.Conflicts(c.leader, c.epoch); s != c.stale || known != 3 {
			t.Errorf("plain (%v, %d): stale %v known %d, want %v 3", c.leader, c.epoch, s, known, c.stale)
		}
	}
	env, l = leadership(2, true)
	step(env, func(e ordo.Env) { l.Promise.Keep(e, 4, 3) })
	if s, known := l.Conflicts(5, 3); !s || known != 3 {
		t.Errorf("quorum, another leader of the promised epoch: stale %v known %d", s, known)
	}
	if s, _ := l.Conflicts(5, 4); s {
		t.Error("quorum, a newer epoch is not stale")
	}
}

// Run notes "candidate" once per candidacy.
func TestLeadershipRunNotesOnce(t *testing.T) {
	env, l := leadership(1, false)
	step(env, func(e ordo.Env) { l.Run(e, 4) })
	want(t, "notes", notes(env), "candidate [term 4]")
	step(env, func(e ordo.Env) { l.Run(e, 4) })
	want(t, "notes again", notes(env))
}
