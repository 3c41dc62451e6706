package ring_test

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/election"
	"ordo/election/ring"
	"ordo/ordotest"
)

// One-step tests of the chapter's Ring figure (section 4, "Ring
// Algorithm", steps 1-3 on the ring 1 → 2 → 3 → 4 → 5 → 1, node 3 the
// initiator), in the style of etcd-io/raft's paper tests: bring one node
// to a state by its inputs, hand it one more, and assert exactly what
// that step sent, armed, noted and stored.

var quiet = map[string]string{"suspect_jitter": "0s"}

func node(t *testing.T, id ordo.NodeID, opts map[string]string) (*ordotest.Env, ordo.Node) {
	t.Helper()
	env := ordotest.ForProtocol(ring.Protocol, id, ordo.NewRoster(5, 0, 0), 1)
	return env, env.NewNode(t, ring.Protocol, opts)
}

func storedEpoch(t *testing.T, env *ordotest.Env) uint64 {
	t.Helper()
	v, ok := env.Storage().Get("ring/epoch")
	if !ok || len(v) != 8 {
		t.Fatalf("ring/epoch: %x, %v", v, ok)
	}
	return binary.BigEndian.Uint64(v)
}

// initiate boots node id and fires its detector (no leader ever spoke):
// step 1, the election message "[initiator_id]" to its successor.
func initiate(t *testing.T, env *ordotest.Env, n ordo.Node) ring.Election {
	t.Helper()
	env.Start(n)
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteFollower}) {
		t.Fatalf("boot notes %v, want [follower]", got)
	}
	env.Fire(n, env.OneTimer(t, election.TimerSuspect).Timer)
	if len(env.Sent) != 1 {
		t.Fatalf("step 1 sent %v, want one ELECTION", env.SentSummary())
	}
	return env.Sent[0].Msg.(ring.Election)
}

// Step 1: "리더 장애 감지 시 선거 메시지 생성: [initiator_id]". Node 3's
// detector fires: it notes its candidacy and sends [3] to its successor,
// node 4, then waits answer_timeout for the hop's Ack.
func TestRingStep1InitiatorSendsItsID(t *testing.T) {
	env, n := node(t, 3, quiet)
	m := initiate(t, env, n)
	env.WantSent(t, "ELECTION→n4")
	if m.Initiator != 3 || !slices.Equal(m.IDs, []ordo.NodeID{3}) || m.ID == 0 {
		t.Errorf("ELECTION %+v, want initiator 3, IDs [3] and a nonce", m)
	}
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteCandidate}) {
		t.Errorf("notes %v, want [candidate]", got)
	}
	if a := env.OneTimer(t, "hop"); a.After != 20*time.Millisecond || uint64(a.Timer.Arg) != m.Hop {
		t.Errorf("hop timer %+v, want answer_timeout 20ms for hop %d", a, m.Hop)
	}
	// The detector is re-armed: a lost election is retried.
	env.OneTimer(t, election.TimerSuspect)
}

// Step 2: "다음 노드로 전달, 자신의 ID 추가: Node 3: [3, 4] → Node 4"
// (the figure's numbering: node 4 appends itself and passes to 5). The
// hop is acknowledged to its sender first.
func TestRingStep2AppendAndPassOn(t *testing.T) {
	env, n := node(t, 4, quiet)
	env.Start(n)
	env.Receive(n, 3, ring.Election{Hop: 7, ID: 99, Initiator: 3, IDs: []ordo.NodeID{3}, Candidate: 3})
	env.WantSent(t, "ACK→n3", "ELECTION→n5")
	if a := env.Sent[0].Msg.(ring.Ack); a.Hop != 7 {
		t.Errorf("Ack of hop %d, want 7", a.Hop)
	}
	m := env.Sent[1].Msg.(ring.Election)
	if !slices.Equal(m.IDs, []ordo.NodeID{3, 4}) || m.Initiator != 3 || m.ID != 99 || m.Travelled != 1 {
		t.Errorf("passed on %+v, want IDs [3 4] of initiator 3's election 99, one hop travelled", m)
	}
	if len(env.Notes) != 0 {
		t.Errorf("a passing node noted %v: only the initiator runs", env.NoteKinds())
	}
}

// Step 2 past a dead successor: node 4 never acknowledges node 3's hop, so
// node 3 skips it for a while and sends the same list to node 5.
func TestRingStep2SkipsDeadSuccessor(t *testing.T) {
	env, n := node(t, 3, quiet)
	initiate(t, env, n)
	env.Fire(n, env.OneTimer(t, "hop").Timer)
	env.WantSent(t, "ELECTION→n5")
	if m := env.Sent[0].Msg.(ring.Election); !slices.Equal(m.IDs, []ordo.NodeID{3}) {
		t.Errorf("forwarded IDs %v, want [3]", m.IDs)
	}
	if a := env.OneTimer(t, "alive"); a.After != 150*time.Millisecond {
		t.Errorf("dead-successor hint lasts %v, want timeout 150ms", a.After)
	}
}

// Step 3: "메시지가 시작점으로 돌아오면: 리스트에서 가장 높은 ID 선택: 5,
// COORDINATOR 메시지 전파". The list [3,4,5,1,2] comes back to node 3:
// it follows 5 in a new epoch (stored) and sends COORDINATOR on.
func TestRingStep3InitiatorPicksHighest(t *testing.T) {
	env, n := node(t, 3, quiet)
	m := initiate(t, env, n)
	m.IDs = []ordo.NodeID{3, 4, 5, 1, 2}
	m.Travelled = 4
	env.Receive(n, 2, m)
	env.WantSent(t, "ACK→n2", "COORDINATOR→n4")
	c := env.Sent[1].Msg.(ring.Coordinator)
	if c.Leader != 5 || c.Epoch != 1 || c.Origin != 3 {
		t.Errorf("COORDINATOR %+v, want leader 5, epoch 1, origin 3", c)
	}
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteFollower}) {
		t.Fatalf("notes %v, want [follower]", got)
	}
	if l, _ := env.Notes[0].Int("leader"); l != 5 {
		t.Errorf("follows %d, want 5", l)
	}
	if storedEpoch(t, env) != 1 {
		t.Errorf("epoch 1 not stored")
	}

	// An older election of this node (another nonce) completes nothing.
	env2, n2 := node(t, 3, quiet)
	m2 := initiate(t, env2, n2)
	m2.ID++
	m2.IDs = []ordo.NodeID{3, 4, 5, 1, 2}
	env2.Receive(n2, 2, m2)
	env2.WantSent(t, "ACK→n2")
}

// COORDINATOR reaches the winner: node 5 leads with the announced epoch as
// its fencing token, heartbeats every peer, and passes COORDINATOR on.
func TestRingCoordinatorMakesWinnerLead(t *testing.T) {
	env, n := node(t, 5, quiet)
	env.Start(n)
	env.Receive(n, 4, ring.Coordinator{Hop: 2, Origin: 3, Leader: 5, Epoch: 1})
	env.WantSent(t, "ACK→n4", "HEARTBEAT→n1", "HEARTBEAT→n2", "HEARTBEAT→n3", "HEARTBEAT→n4", "COORDINATOR→n1")
	if got := env.NoteKinds(); !slices.Equal(got, []string{election.NoteLeader}) {
		t.Fatalf("notes %v, want [leader]", got)
	}
	if tok, _ := env.Notes[0].Int("token"); tok != 1 {
		t.Errorf("token %d, want 1", tok)
	}
	if storedEpoch(t, env) != 1 {
		t.Errorf("the leader's epoch was not stored")
	}
	// Back at its origin, the COORDINATOR stops.
	env3, n3 := node(t, 3, quiet)
	env3.Start(n3)
	env3.Receive(n3, 2, ring.Coordinator{Hop: 9, Origin: 3, Leader: 5, Epoch: 1})
	env3.WantSent(t, "ACK→n2")
}

// Section 5 with quorum=true: a minority ring elects no one. The list
// comes back to node 3 with only [3,4] (two of five alive on its side):
// no COORDINATOR leaves.
func TestRingQuorumMinorityElectsNoOne(t *testing.T) {
	opts := map[string]string{"suspect_jitter": "0s", "quorum": "true"}
	env, n := node(t, 3, opts)
	m := initiate(t, env, n)
	m.IDs = []ordo.NodeID{3, 4}
	env.Receive(n, 4, m)
	env.WantSent(t, "ACK→n4")
	if len(env.Notes) != 0 {
		t.Errorf("a minority ring noted %v", env.NoteKinds())
	}
}
