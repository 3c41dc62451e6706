package raft_test

// One-step tests of log replication, in the style of etcd-io/raft's paper
// tests: a replica in a given state takes one input through ordotest's
// recording Env (every message round-tripped through the codec, so
// Validate runs), and the test reads what it sent, wrote and noted. Each
// cites the rule of the Raft paper (Ongaro & Ousterhout 2014, §5.x,
// figures 2, 8 and 13) or of Ongaro's thesis (§3.10 transfer, §4.1
// membership, §5.3 fast backtracking, §6.4 reads) it checks.

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/election/raft"
	"ordo/ordotest"
)

// recHost records what the replicated log reports.
type recHost struct {
	applied []uint64 // indexes
	terms   []uint64
	reads   []string
	leaders []ordo.NodeID
}

func (h *recHost) Applied(_ ordo.Env, index, term uint64, _ []byte) {
	h.applied = append(h.applied, index)
	h.terms = append(h.terms, term)
}
func (h *recHost) ReadReady(_ ordo.Env, ctx, index uint64, ok bool) {
	h.reads = append(h.reads, readString(ctx, index, ok))
}
func (h *recHost) LeaderChanged(_ ordo.Env, l ordo.NodeID) { h.leaders = append(h.leaders, l) }

func readString(ctx, index uint64, ok bool) string {
	if !ok {
		return "fail"
	}
	return string(rune('0'+ctx)) + "@" + string(rune('0'+index))
}

// replica boots node 1 of a 3-server cluster on env's storage.
func replica(t *testing.T, env *ordotest.Env, opts map[string]string) (*raft.Node, *recHost) {
	t.Helper()
	o, err := replicaProto.Resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &recHost{}
	n, err := raft.NewReplica(ordo.Config{ID: env.ID(), N: len(env.Roster().Servers), Opts: o, Roster: env.Roster()}, &counter{}, h)
	if err != nil {
		t.Fatal(err)
	}
	env.Start(n)
	env.Advance(150 * time.Millisecond) // the boot promise lapses
	return n, h
}

func replicaEnv() *ordotest.Env {
	return ordotest.ForProtocol(replicaProto, 1, ordo.NewRoster(3, 0, 0), 1)
}

// seedLog writes entries of the given terms at indexes 1.. and the hard
// state (term = the last one, no vote).
func seedLog(env *ordotest.Env, terms ...uint64) {
	for i, tm := range terms {
		v := binary.BigEndian.AppendUint64(nil, tm)
		v = append(v, byte(raft.EntryNormal), byte(i+1))
		env.Storage().Put(logKeyOf(uint64(i+1)), v)
	}
	if len(terms) > 0 {
		setHardState(env, terms[len(terms)-1], ordo.None)
	}
}

func logKeyOf(i uint64) string {
	return "raft/log/" + string(binary.BigEndian.AppendUint64(nil, i))
}

func storedTerm(t *testing.T, env *ordotest.Env, i uint64) (uint64, bool) {
	t.Helper()
	v, ok := env.Storage().Get(logKeyOf(i))
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// elect makes node n leader (PreVote off): its election timer fires and
// node 2 grants the vote. The no-op of its term is appended.
func elect(t *testing.T, env *ordotest.Env, n *raft.Node) {
	t.Helper()
	env.Advance(n.ElectionDeadline() - env.Mono)
	var timer ordo.Timer
	for _, a := range env.TimersNamed("election") {
		timer = a.Timer
	}
	env.Fire(n, timer)
	for _, a := range env.TimersNamed("election") {
		timer = a.Timer
	}
	if len(env.SentKind("PreVote")) > 0 {
		env.Receive(n, 2, raft.PreVoteResp{Term: n.Term() + 1, Granted: true})
	}
	env.Receive(n, 2, raft.RequestVoteResp{Term: n.Term(), Granted: true})
	if !n.IsLeader() {
		t.Fatalf("not leader after a majority's votes; sent %v", env.SentSummary())
	}
}

func appendsTo(env *ordotest.Env, to ordo.NodeID) []raft.AppendEntries {
	var out []raft.AppendEntries
	for _, m := range env.SentTo(to) {
		if a, ok := m.(raft.AppendEntries); ok {
			out = append(out, a)
		}
	}
	return out
}

func onlyResp(t *testing.T, env *ordotest.Env) raft.AppendResp {
	t.Helper()
	var out []raft.AppendResp
	for _, s := range env.Sent {
		if r, ok := s.Msg.(raft.AppendResp); ok {
			out = append(out, r)
		}
	}
	if len(out) != 1 {
		t.Fatalf("sent %v, want one AppendResp", env.SentSummary())
	}
	return out[0]
}

func ents(term uint64, n int) []raft.Entry {
	out := make([]raft.Entry, n)
	for i := range out {
		out[i] = raft.Entry{Term: term, Type: raft.EntryNormal, Data: []byte{byte(i)}}
	}
	return out
}

// §5.3, figure 2 (AppendEntries receiver, step 2): a follower whose log
// lacks PrevIndex refuses, writes nothing, and hints its last index + 1.
func TestReplica_Paper5_3_LogMatchingRefusesAGap(t *testing.T) {
	env := replicaEnv()
	n, _ := replica(t, env, nil)
	env.Receive(n, 2, raft.AppendEntries{Term: 1, Leader: 2, PrevIndex: 5, PrevTerm: 1, Entries: ents(1, 1)})
	r := onlyResp(t, env)
	if r.Success || r.Index != 5 || r.HintIndex != 1 || r.HintTerm != 0 {
		t.Fatalf("answer %+v, want a refusal of 5 hinting index 1", r)
	}
	if env.Wrote(logKeyOf(6)) || n.LastIndex() != 0 {
		t.Fatalf("a refused append wrote entries (last %d)", n.LastIndex())
	}
}

// §5.3, figure 2 (step 3): an entry that conflicts with a new one (same
// index, other term) is deleted with all that follow it, on disk too, and
// the new entries are written in the step that acknowledges them.
func TestReplica_Paper5_3_ConflictTruncates(t *testing.T) {
	env := replicaEnv()
	seedLog(env, 1, 1, 2, 2)
	n, _ := replica(t, env, nil)
	env.Receive(n, 2, raft.AppendEntries{Term: 3, Leader: 2, PrevIndex: 2, PrevTerm: 1, Entries: ents(3, 1)})
	r := onlyResp(t, env)
	if !r.Success || r.Index != 3 {
		t.Fatalf("answer %+v, want success at 3", r)
	}
	if tm, ok := storedTerm(t, env, 3); !ok || tm != 3 {
		t.Fatalf("stored entry 3 of term %d (present %v), want term 3", tm, ok)
	}
	if _, ok := storedTerm(t, env, 4); ok {
		t.Fatal("the conflicting entry 4 is still stored")
	}
	if n.LastIndex() != 3 {
		t.Fatalf("last index %d, want 3", n.LastIndex())
	}
}

// §5.3: entries the follower already has (same index and term) are not
// rewritten: a duplicated or reordered AppendEntries changes nothing.
func TestReplica_Paper5_3_DuplicateAppendIsIdempotent(t *testing.T) {
	env := replicaEnv()
	n, _ := replica(t, env, nil)
	m := raft.AppendEntries{Term: 1, Leader: 2, PrevIndex: 0, Entries: ents(1, 3)}
	env.Receive(n, 2, m)
	env.Receive(n, 2, raft.AppendEntries{Term: 1, Leader: 2, PrevIndex: 0, Entries: ents(1, 2)})
	if r := onlyResp(t, env); !r.Success || r.Index != 2 {
		t.Fatalf("answer %+v, want success at 2", r)
	}
	if n.LastIndex() != 3 || env.Wrote(logKeyOf(1)) {
		t.Fatalf("a shorter duplicate truncated or rewrote the log (last %d)", n.LastIndex())
	}
}

// Thesis §5.3 (fast backtracking): a follower refusing a mismatch hints
// the term it holds at PrevIndex and the first index of that term; the
// leader skips that whole term in one round trip.
func TestReplica_Thesis5_3_FastBacktrack(t *testing.T) {
	env := replicaEnv()
	seedLog(env, 1, 1, 2, 2, 2)
	n, _ := replica(t, env, nil)
	env.Receive(n, 2, raft.AppendEntries{Term: 4, Leader: 2, PrevIndex: 5, PrevTerm: 3})
	r := onlyResp(t, env)
	if r.Success || r.HintTerm != 2 || r.HintIndex != 3 {
		t.Fatalf("answer %+v, want a refusal hinting term 2 from index 3", r)
	}

	// The leader's side: its log is 1,1,3,3,3 (term 4 now, no-op at 6).
	lenv := replicaEnv()
	seedLog(lenv, 1, 1, 3, 3, 3)
	l, _ := replica(t, lenv, map[string]string{"prevote": "false"})
	elect(t, lenv, l)
	a := appendsTo(lenv, 2)
	if len(a) != 1 || a[0].PrevIndex != 5 {
		t.Fatalf("new leader probed with %+v, want PrevIndex 5", a)
	}
	lenv.Receive(l, 2, raft.AppendResp{Term: 4, Index: 5, HintTerm: 2, HintIndex: 3})
	a = appendsTo(lenv, 2)
	if len(a) != 1 || a[0].PrevIndex != 2 || a[0].PrevTerm != 1 || len(a[0].Entries) != 4 {
		t.Fatalf("after the hint the leader sent %+v, want PrevIndex 2 (term 1) with entries 3..6", a)
	}
}

// §5.4.2, figure 8: a leader does not commit an entry of an earlier term
// by counting replicas; it commits it only with an entry of its own term.
// The deliberately broken option unsafe_commit_any_term does.
func TestReplica_Paper5_4_2_Figure8(t *testing.T) {
	for _, unsafe := range []bool{false, true} {
		env := replicaEnv()
		seedLog(env, 1, 2)
		opts := map[string]string{"prevote": "false"}
		if unsafe {
			opts["unsafe_commit_any_term"] = "true"
		}
		n, h := replica(t, env, opts)
		elect(t, env, n) // term 3, no-op at 3
		env.Receive(n, 2, raft.AppendResp{Term: 3, Success: true, Index: 2})
		if unsafe {
			if n.Committed() != 2 {
				t.Fatalf("unsafe: commit %d, want the old-term entry 2 committed by count", n.Committed())
			}
			continue
		}
		if n.Committed() != 0 || len(h.applied) != 0 {
			t.Fatalf("commit %d (applied %v) from a majority holding only term-2 entries, want 0", n.Committed(), h.applied)
		}
		env.Receive(n, 2, raft.AppendResp{Term: 3, Success: true, Index: 3})
		if n.Committed() != 3 || !slices.Equal(h.applied, []uint64{1, 2, 3}) {
			t.Fatalf("commit %d applied %v, want 3 and 1,2,3 once the no-op is on a majority", n.Committed(), h.applied)
		}
	}
}

// §5.4.1 (election restriction): a vote only for a candidate whose last
// entry has a higher term, or the same term and an index at least as high.
func TestReplica_Paper5_4_1_ElectionRestriction(t *testing.T) {
	for _, tc := range []struct {
		lastTerm, lastIndex uint64
		want                bool
	}{{1, 9, false}, {2, 1, false}, {2, 2, true}, {3, 1, true}} {
		env := replicaEnv()
		seedLog(env, 1, 2)
		n, _ := replica(t, env, nil)
		env.Receive(n, 2, raft.RequestVote{Term: 3, Candidate: 2, LastLogTerm: tc.lastTerm, LastLogIndex: tc.lastIndex})
		got := env.SentTo(2)[0].(raft.RequestVoteResp).Granted
		if got != tc.want {
			t.Errorf("candidate log (%d, %d) vs (2, 2): granted %v, want %v", tc.lastTerm, tc.lastIndex, got, tc.want)
		}
	}
}

// Figure 2 ("updated on stable storage before responding to RPCs"): the
// entries are written in the step that sends the acknowledgement, which
// the runtimes release only after the step's writes are durable; so the
// node restarted from that storage holds every entry it acknowledged.
// The commit index is not stored: the restarted node learns it again.
func TestReplica_Figure2_PersistedBeforeAck(t *testing.T) {
	env := replicaEnv()
	n, h := replica(t, env, nil)
	env.Receive(n, 2, raft.AppendEntries{Term: 1, Leader: 2, Entries: ents(1, 3), Commit: 2})
	if r := onlyResp(t, env); !r.Success || r.Index != 3 {
		t.Fatalf("answer %+v, want success at 3", r)
	}
	for i := uint64(1); i <= 3; i++ {
		if !env.Wrote(logKeyOf(i)) {
			t.Fatalf("entry %d acknowledged but not written in the same step", i)
		}
	}
	if !slices.Equal(h.applied, []uint64{1, 2}) {
		t.Fatalf("applied %v, want 1,2 (the leader's commit)", h.applied)
	}
	n2, h2 := replica(t, env, nil) // restart on the same storage
	if n2.LastIndex() != 3 || n2.Term() != 1 || n2.Applied() != 0 {
		t.Fatalf("restarted with last %d term %d applied %d, want 3, 1, 0", n2.LastIndex(), n2.Term(), n2.Applied())
	}
	env.Receive(n2, 2, raft.Heartbeat{Term: 1, Leader: 2, Round: 1, CommitIndex: 3})
	if !slices.Equal(h2.applied, []uint64{1, 2, 3}) {
		t.Fatalf("restarted node applied %v after a heartbeat with commit 3, want 1,2,3", h2.applied)
	}
}

// A restarted replica believes no absurd number from its disk: a gap in
// the log, an entry term above the hard state's, an unknown entry type
// and a log start beyond the snapshot stop it with ordo.Corrupt.
func TestReplica_RestartRefusesCorruptLog(t *testing.T) {
	for name, seed := range map[string]func(*ordotest.Env){
		"gap": func(e *ordotest.Env) { seedLog(e, 1, 1); e.Storage().Delete(logKeyOf(1)) },
		"term": func(e *ordotest.Env) {
			seedLog(e, 1, 1)
			setHardState(e, 0, 0)
		},
		"type": func(e *ordotest.Env) {
			e.Storage().Put(logKeyOf(1), append(binary.BigEndian.AppendUint64(nil, 1), 9))
			setHardState(e, 1, 0)
		},
		"short":     func(e *ordotest.Env) { e.Storage().Put(logKeyOf(1), []byte{1}) },
		"log start": func(e *ordotest.Env) { e.Storage().Put("raft/logstart", make([]byte, 3)) },
		"snapshot meta": func(e *ordotest.Env) {
			e.Storage().Put("raft/snap/meta", make([]byte, 40))
		},
	} {
		t.Run(name, func(t *testing.T) {
			env := replicaEnv()
			seed(env)
			defer func() {
				var c ordo.Corrupt
				if err, _ := recover().(error); !errors.As(err, &c) {
					t.Fatalf("boot on a corrupt store: %v, want an ordo.Corrupt panic", err)
				}
			}()
			replica(t, env, nil)
		})
	}
}

// leaderWithCommittedNoop is node 1 leading term 1 of 3, its no-op (1)
// acknowledged by node 2 and committed.
func leaderWithCommittedNoop(t *testing.T, opts map[string]string) (*ordotest.Env, *raft.Node, *recHost) {
	t.Helper()
	if opts == nil {
		opts = map[string]string{}
	}
	opts["prevote"] = "false"
	env := replicaEnv()
	n, h := replica(t, env, opts)
	elect(t, env, n)
	env.Receive(n, 2, raft.AppendResp{Term: 1, Success: true, Index: 1})
	if n.Committed() != 1 {
		t.Fatalf("no-op not committed: commit %d", n.Committed())
	}
	return env, n, h
}

// Proposals of one turn travel in one AppendEntries per follower
// (batching), several un-acknowledged appends may be in flight
// (pipelining), and backpressure bounds the uncommitted log.
func TestReplica_BatchingPipeliningBackpressure(t *testing.T) {
	env, n, _ := leaderWithCommittedNoop(t, map[string]string{"max_uncommitted": "5", "max_inflight": "2"})
	env.Receive(n, 3, raft.AppendResp{Term: 1, Success: true, Index: 1})
	env.Reset()
	for i := range 3 {
		if idx, term, err := n.Propose(env, []byte{byte(i)}); err != nil || idx != uint64(2+i) || term != 1 {
			t.Fatalf("propose %d: %d %d %v", i, idx, term, err)
		}
	}
	if len(env.Sent) != 0 {
		t.Fatalf("Propose sent %v before Flush", env.SentSummary())
	}
	n.Flush(env)
	if a := appendsTo(env, 2); len(a) != 1 || len(a[0].Entries) != 3 || a[0].PrevIndex != 1 {
		t.Fatalf("flush sent %+v to n2, want one AppendEntries with entries 2..4", a)
	}
	env.Reset()
	n.Propose(env, []byte{9})
	n.Flush(env)
	if a := appendsTo(env, 2); len(a) != 1 || a[0].PrevIndex != 4 {
		t.Fatalf("second flush sent %+v, want a pipelined append after 4", a)
	}
	env.Reset()
	if _, _, err := n.Propose(env, []byte{10}); err != nil {
		t.Fatal(err)
	}
	n.Flush(env)
	if a := appendsTo(env, 2); len(a) != 0 {
		t.Fatalf("sent %+v beyond max_inflight=2", a)
	}
	if _, _, err := n.Propose(env, []byte{11}); !errors.Is(err, raft.ErrBusy) {
		t.Fatalf("propose beyond max_uncommitted: %v, want ErrBusy", err)
	}
	if _, _, err := n.Propose(env, make([]byte, 300<<10)); !errors.Is(err, raft.ErrTooLarge) {
		t.Fatalf("oversize propose: %v, want ErrTooLarge", err)
	}
}

// Thesis §6.4 (ReadIndex): refused until an entry of the leader's term
// commits; then served only after a heartbeat round sent after the
// request is acknowledged by a majority.
func TestReplica_Thesis6_4_ReadIndex(t *testing.T) {
	env := replicaEnv()
	n, h := replica(t, env, map[string]string{"prevote": "false"})
	elect(t, env, n)
	if err := n.ReadIndex(env, 1); !errors.Is(err, raft.ErrBusy) {
		t.Fatalf("ReadIndex before the no-op commits: %v, want ErrBusy", err)
	}
	if _, ok := n.LeaseRead(env); ok {
		t.Fatal("LeaseRead before the no-op commits")
	}
	env.Receive(n, 2, raft.AppendResp{Term: 1, Success: true, Index: 1})
	env.Reset()
	if err := n.ReadIndex(env, 2); err != nil {
		t.Fatal(err)
	}
	n.Flush(env)
	hb := env.SentKind("Heartbeat")
	if len(hb) != 2 || len(h.reads) != 0 {
		t.Fatalf("flush sent %v, reads %v: want a heartbeat round and no read yet", env.SentSummary(), h.reads)
	}
	round := hb[0].Msg.(raft.Heartbeat).Round
	env.Receive(n, 3, raft.HeartbeatResp{Term: 1, Round: round - 1, Success: true})
	if len(h.reads) != 0 {
		t.Fatalf("an older round's ack served the read: %v", h.reads)
	}
	env.Receive(n, 3, raft.HeartbeatResp{Term: 1, Round: round, Success: true})
	if !slices.Equal(h.reads, []string{readString(2, 1, true)}) {
		t.Fatalf("reads %v, want ctx 2 at index 1", h.reads)
	}
	if idx, ok := n.LeaseRead(env); !ok || idx != 1 {
		t.Fatalf("LeaseRead = %d, %v with the lease held, want 1, true", idx, ok)
	}
	// A pending read fails when leadership is lost.
	n.ReadIndex(env, 3)
	env.Receive(n, 2, raft.AppendResp{Term: 2})
	if h.reads[len(h.reads)-1] != "fail" {
		t.Fatalf("reads %v, want the pending one failed on stepping down", h.reads)
	}
}

// §7, figure 13: every snapshot_entries applied entries the leader stores
// a snapshot and compacts its log; a follower whose next entry is
// compacted gets the snapshot (InstallSnapshot), restores its machine,
// discards its log, and notes it.
func TestReplica_Figure13_SnapshotAndInstall(t *testing.T) {
	env, n, _ := leaderWithCommittedNoop(t, map[string]string{"snapshot_entries": "8"})
	for i := range 11 {
		n.Propose(env, []byte{byte(i)})
	}
	n.Flush(env)
	env.Receive(n, 2, raft.AppendResp{Term: 1, Success: true, Index: 12})
	if len(env.NotesOf("snapshot")) != 1 {
		t.Fatalf("notes %v, want one snapshot", env.NoteKinds())
	}
	if _, ok := env.Storage().Get(logKeyOf(1)); ok {
		t.Fatal("entry 1 not compacted after the snapshot")
	}
	// Node 3 never answered (its probe was lost): after two heartbeats
	// without progress the leader probes it from entry 1, which is
	// compacted, so it sends the snapshot.
	hb := ordo.Timer{Name: "heartbeat", Arg: 1}
	env.Advance(15 * time.Millisecond)
	env.Fire(n, hb)
	env.Advance(15 * time.Millisecond)
	env.Fire(n, hb)
	var snap raft.InstallSnapshot
	for _, m := range env.SentTo(3) {
		if s, ok := m.(raft.InstallSnapshot); ok {
			snap = s
		}
	}
	if snap.Index != 12 || snap.Total == 0 || uint64(len(snap.Data)) != snap.Total {
		t.Fatalf("sent %v to n3, want the snapshot at 12 in one chunk", env.SentSummary())
	}
	fenv := ordotest.ForProtocol(replicaProto, 3, ordo.NewRoster(3, 0, 0), 1)
	f, fh := replica(t, fenv, nil)
	fenv.Receive(f, 1, raft.AppendEntries{Term: 1, Leader: 1, Entries: []raft.Entry{{Term: 1, Type: raft.EntryNoop}}})
	fenv.Receive(f, 1, snap)
	if f.Applied() != 12 || f.LastIndex() != 12 || len(fenv.NotesOf("install-snapshot")) != 1 {
		t.Fatalf("after InstallSnapshot: applied %d last %d notes %v", f.Applied(), f.LastIndex(), fenv.NoteKinds())
	}
	if len(fh.applied) != 0 {
		t.Fatalf("a restored snapshot reported entries %v as applied one by one", fh.applied)
	}
	resp := fenv.SentTo(1)[0].(raft.InstallSnapshotResp)
	if !resp.Done || resp.Index != 12 {
		t.Fatalf("answer %+v, want done at 12", resp)
	}
	// Restarted from its storage it is at the snapshot, with the same hash.
	want, _ := fenv.NotesOf("applied")[0].Get("hash")
	f2, _ := replica(t, fenv, nil)
	if f2.Applied() != 12 || f2.LastIndex() != 12 {
		t.Fatalf("restarted at applied %d last %d, want 12", f2.Applied(), f2.LastIndex())
	}
	if got, _ := fenv.NotesOf("applied")[0].Get("hash"); got != want {
		t.Fatalf("restarted with applied hash %v, installed %v", got, want)
	}
	env.Receive(n, 3, resp)
	env.Reset()
	n.Propose(env, []byte{99})
	n.Flush(env)
	if a := appendsTo(env, 3); len(a) != 1 || a[0].PrevIndex != 12 {
		t.Fatalf("after the install the leader sent %+v, want appends after 12", a)
	}
}

// Thesis §3.10 (leadership transfer): once the target holds the whole
// log the leader sends TimeoutNow; until the transfer ends it refuses
// proposals; the target campaigns at once and voters that heard the
// leader grant it (a transfer vote).
func TestReplica_Thesis3_10_Transfer(t *testing.T) {
	env, n, _ := leaderWithCommittedNoop(t, nil)
	env.Reset()
	// Node 3 lacks the no-op: no TimeoutNow yet, and no proposals.
	if err := n.TransferLeadership(env, 3); err != nil {
		t.Fatal(err)
	}
	if len(env.SentKind("TimeoutNow")) != 0 || len(env.NotesOf("transfer")) != 1 {
		t.Fatalf("transfer to a lagging follower sent %v, notes %v", env.SentSummary(), env.NoteKinds())
	}
	if _, _, err := n.Propose(env, []byte{1}); !errors.Is(err, raft.ErrBusy) {
		t.Fatalf("propose during a transfer: %v, want ErrBusy", err)
	}
	if _, ok := n.LeaseRead(env); ok {
		t.Fatal("lease read during a transfer")
	}
	// An election timeout later (the lease kept by a heartbeat round) the
	// transfer is over.
	env.Advance(100 * time.Millisecond)
	env.Fire(n, ordo.Timer{Name: "heartbeat", Arg: 1})
	round := env.SentKind("Heartbeat")[0].Msg.(raft.Heartbeat).Round
	env.Receive(n, 2, raft.HeartbeatResp{Term: 1, Round: round, Success: true})
	env.Advance(100 * time.Millisecond)
	if _, _, err := n.Propose(env, []byte{1}); err != nil {
		t.Fatalf("propose after the transfer timed out: %v", err)
	}
	if _, ok := n.LeaseRead(env); ok {
		t.Fatal("lease read in a term in which a transfer began")
	}
	// Node 3 catches up: TimeoutNow goes, and the leader abdicates.
	env.Receive(n, 3, raft.AppendResp{Term: 1, Success: true, Index: 1})
	if err := n.TransferLeadership(env, 3); err != nil {
		t.Fatal(err)
	}
	env.Receive(n, 3, raft.AppendResp{Term: 1, Success: true, Index: 2})
	if len(env.SentKind("TimeoutNow")) != 1 || n.IsLeader() {
		t.Fatalf("caught-up target: sent %v, leader %v; want TimeoutNow and abdication", env.SentSummary(), n.IsLeader())
	}

	// The target: a follower of node 2's term 1 gets TimeoutNow.
	fenv := replicaEnv()
	f, _ := replica(t, fenv, map[string]string{"prevote": "true"})
	fenv.Receive(f, 2, raft.AppendEntries{Term: 1, Leader: 2, Entries: ents(1, 1)})
	fenv.Receive(f, 2, raft.TimeoutNow{Term: 1})
	rv := fenv.SentKind("RequestVote")
	if len(rv) != 2 || !rv[0].Msg.(raft.RequestVote).Transfer || rv[0].Msg.(raft.RequestVote).Term != 2 {
		t.Fatalf("TimeoutNow made %v, want transfer RequestVotes for term 2 (no PreVote)", fenv.SentSummary())
	}
	// A voter that just heard its leader grants a transfer vote only.
	venv := replicaEnv()
	v, _ := replica(t, venv, nil)
	venv.Receive(v, 2, raft.AppendEntries{Term: 1, Leader: 2})
	venv.Receive(v, 3, raft.RequestVote{Term: 2, Candidate: 3})
	if venv.SentTo(3)[0].(raft.RequestVoteResp).Granted {
		t.Fatal("vote granted while the leader's lease holds")
	}
	venv.Receive(v, 3, raft.RequestVote{Term: 2, Candidate: 3, Transfer: true})
	if !venv.SentTo(3)[0].(raft.RequestVoteResp).Granted {
		t.Fatal("transfer vote refused")
	}
}

// Thesis §4.1 (single-server changes): refused before the leader's no-op
// commits (unless the deliberately broken unsafe_early_conf_change);
// one at a time; in force once appended, so the quorum counts over the
// new voters; a removed node is no longer sent to, and re-adding it
// probes it again.
func TestReplica_Thesis4_1_Membership(t *testing.T) {
	env := replicaEnv()
	n, _ := replica(t, env, map[string]string{"prevote": "false"})
	elect(t, env, n)
	if _, err := n.ChangeMembership(env, raft.RemoveVoter, 3); !errors.Is(err, raft.ErrBusy) {
		t.Fatalf("change before the no-op commits: %v, want ErrBusy", err)
	}
	uenv := replicaEnv()
	u, _ := replica(t, uenv, map[string]string{"prevote": "false", "unsafe_early_conf_change": "true"})
	elect(t, uenv, u)
	if _, err := u.ChangeMembership(uenv, raft.RemoveVoter, 3); err != nil {
		t.Fatalf("unsafe early change refused: %v", err)
	}

	env.Receive(n, 2, raft.AppendResp{Term: 1, Success: true, Index: 1})
	env.Reset()
	idx, err := n.ChangeMembership(env, raft.RemoveVoter, 3)
	if err != nil || idx != 2 {
		t.Fatalf("remove 3: %d %v", idx, err)
	}
	if !slices.Equal(n.Voters(), []ordo.NodeID{1, 2}) || len(env.NotesOf("conf-change")) != 1 {
		t.Fatalf("voters %v notes %v after removing 3", n.Voters(), env.NoteKinds())
	}
	if _, err := n.ChangeMembership(env, raft.AddVoter, 3); !errors.Is(err, raft.ErrBusy) {
		t.Fatalf("second change while one is pending: %v, want ErrBusy", err)
	}
	n.Propose(env, []byte{1})
	n.Flush(env)
	if len(env.SentTo(3)) != 0 {
		t.Fatalf("sent %v to the removed node", env.SentSummary())
	}
	// With voters {1,2} the majority is 2: node 2's ack commits.
	env.Receive(n, 2, raft.AppendResp{Term: 1, Success: true, Index: 3})
	if n.Committed() != 3 {
		t.Fatalf("commit %d, want 3 (2 of 2 voters)", n.Committed())
	}
	env.Reset()
	if _, err := n.ChangeMembership(env, raft.AddVoter, 3); err != nil {
		t.Fatal(err)
	}
	n.Flush(env)
	if len(appendsTo(env, 3)) != 1 {
		t.Fatalf("re-added node not probed: %v", env.SentSummary())
	}
	if _, err := n.ChangeMembership(env, raft.AddVoter, 9); err == nil {
		t.Fatal("added a node outside the roster")
	}
}

// A removed node does not campaign: its election timer re-arms and it
// sends nothing.
func TestReplica_Thesis4_2_2_RemovedNodeDoesNotCampaign(t *testing.T) {
	env := replicaEnv()
	n, _ := replica(t, env, map[string]string{"prevote": "false"})
	conf := []byte{0, 0, 0, 2, 0, 0, 0, 3}
	env.Receive(n, 2, raft.AppendEntries{Term: 1, Leader: 2, Entries: []raft.Entry{{Term: 1, Type: raft.EntryConf, Data: conf}}})
	if !slices.Equal(n.Voters(), []ordo.NodeID{2, 3}) {
		t.Fatalf("voters %v, want 2,3 once the entry is appended", n.Voters())
	}
	env.Advance(time.Second)
	var timer ordo.Timer
	for _, a := range env.TimersNamed("election") {
		timer = a.Timer
	}
	env.Fire(n, timer)
	if len(env.Sent) != 0 {
		t.Fatalf("a removed node sent %v", env.SentSummary())
	}
}

// Every message is bounded: the codec drops an AppendEntries whose
// entries go back in term or exceed its term, a configuration that is
// not a list of node ids, an InstallSnapshot beyond MaxSnapshotBytes or
// whose chunk overruns its total.
func TestReplica_MessagesValidate(t *testing.T) {
	c := replicaProto.Codec
	for _, m := range []ordo.Message{
		raft.AppendEntries{Term: 2, Leader: 1, PrevTerm: 3},
		raft.AppendEntries{Term: 2, Leader: 1, Entries: []raft.Entry{{Term: 3, Type: raft.EntryNormal}}},
		raft.AppendEntries{Term: 2, Leader: 1, Entries: []raft.Entry{{Term: 2, Type: raft.EntryNormal}, {Term: 1, Type: raft.EntryNormal}}},
		raft.AppendEntries{Term: 2, Leader: 1, Entries: []raft.Entry{{Term: 2, Type: 7}}},
		raft.AppendEntries{Term: 2, Leader: 1, Entries: []raft.Entry{{Term: 2, Type: raft.EntryConf, Data: []byte{0, 0, 0}}}},
		raft.AppendEntries{Term: 2, Leader: 1, PrevIndex: ordo.MaxIndex, Entries: ents(2, 1)},
		raft.AppendResp{Term: 1, HintIndex: ordo.MaxIndex + 1},
		raft.InstallSnapshot{Term: 1, Leader: 1, Voters: []ordo.NodeID{1}, Total: raft.MaxSnapshotBytes + 1},
		raft.InstallSnapshot{Term: 1, Leader: 1, Voters: []ordo.NodeID{1}, Total: 2, Offset: 1, Data: []byte{1, 2}},
		raft.InstallSnapshot{Term: 1, Leader: 1, Voters: []ordo.NodeID{2, 1}},
		raft.InstallSnapshot{Term: 1, Leader: 1, SnapTerm: 2, Voters: []ordo.NodeID{1}},
		raft.InstallSnapshotResp{Term: ordo.MaxTerm + 1},
		raft.TimeoutNow{Term: ordo.MaxTerm + 1},
	} {
		b, err := c.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Decode(m.Kind(), b); err == nil {
			t.Errorf("%+v decoded without an error", m)
		}
	}
	ok := raft.AppendEntries{Term: 2, Leader: 1, PrevTerm: 1, Entries: []raft.Entry{{Term: 1, Type: raft.EntryNoop}, {Term: 2, Type: raft.EntryConf, Data: []byte{0, 0, 0, 1}}}}
	b, _ := c.Encode(ok)
	if _, err := c.Decode(ok.Kind(), b); err != nil {
		t.Errorf("a sound AppendEntries refused: %v", err)
	}
}

// The election-only protocol is untouched by replication: it sends no
// AppendEntries and writes no log when it leads.
func TestReplica_ElectionOnlyHasNoLog(t *testing.T) {
	t.Helper()
	env, n, _ := leader(t)
	if len(env.SentKind("AppendEntries")) != 0 || env.Wrote(logKeyOf(1)) {
		t.Fatalf("election-only leader sent %v", env.SentSummary())
	}
	_ = n
}

// Offline restore (ordo kv snapshot restore): WriteSnapshot replaces a
// stopped node's log by a snapshot; the node boots at its index, with
// its voters, and keeps its term.
func TestReplica_WriteSnapshotRestores(t *testing.T) {
	env := replicaEnv()
	seedLog(env, 1, 1, 2)
	snap := (&counter{n: 7, h: 1}).Snapshot()
	raft.WriteSnapshot(env.Storage(), 40, 2, []ordo.NodeID{1, 2}, snap)
	n, _ := replica(t, env, nil)
	if n.Applied() != 40 || n.LastIndex() != 40 || n.Term() != 2 || !slices.Equal(n.Voters(), []ordo.NodeID{1, 2}) {
		t.Fatalf("booted at applied %d last %d term %d voters %v", n.Applied(), n.LastIndex(), n.Term(), n.Voters())
	}
	if _, ok := storedTerm(t, env, 1); ok {
		t.Fatal("the old log survived the restore")
	}
	env.Receive(n, 2, raft.AppendEntries{Term: 2, Leader: 2, PrevIndex: 40, PrevTerm: 2, Entries: ents(2, 1), Commit: 41})
	if r := onlyResp(t, env); !r.Success || n.Applied() != 41 {
		t.Fatalf("answer %+v applied %d after the restore, want success and 41", r, n.Applied())
	}
}

// blob is a machine whose snapshot is large (several InstallSnapshot
// chunks), its bytes derived from the commands applied.
type blob struct {
	last uint64
	data []byte
}

func (b *blob) Apply(index uint64, cmd []byte) []byte {
	b.last = index
	for i := range b.data {
		b.data[i] += byte(index) + byte(len(cmd))
	}
	return nil
}
func (b *blob) Snapshot() []byte { return slices.Clone(b.data) }
func (b *blob) Restore(index uint64, s []byte) error {
	b.last, b.data = index, slices.Clone(s)
	return nil
}

// §7, figure 13 (offset, data, done): a snapshot larger than one message
// travels in chunks of at most 256 KiB, each answered before the next;
// the follower assembles it, restores it and stores it (1 MiB values),
// and boots from that storage to the same state.
func TestReplica_Figure13_ChunkedSnapshot(t *testing.T) {
	const size = 600 << 10
	o, _ := replicaProto.Resolve(map[string]string{"prevote": "false", "snapshot_entries": "4"})
	lenv := replicaEnv()
	lm := &blob{data: make([]byte, size)}
	l, err := raft.NewReplica(ordo.Config{ID: 1, N: 3, Opts: o, Roster: lenv.Roster()}, lm, nil)
	if err != nil {
		t.Fatal(err)
	}
	lenv.Start(l)
	lenv.Advance(150 * time.Millisecond)
	elect(t, lenv, l)
	for i := range 5 {
		l.Propose(lenv, []byte{byte(i)})
	}
	l.Flush(lenv)
	lenv.Receive(l, 2, raft.AppendResp{Term: 1, Success: true, Index: 6})
	if len(lenv.NotesOf("snapshot")) != 1 {
		t.Fatalf("no snapshot: notes %v", lenv.NoteKinds())
	}
	hb := ordo.Timer{Name: "heartbeat", Arg: 1}
	lenv.Advance(15 * time.Millisecond)
	lenv.Fire(l, hb)
	lenv.Advance(15 * time.Millisecond)
	lenv.Fire(l, hb)

	fenv := ordotest.ForProtocol(replicaProto, 3, ordo.NewRoster(3, 0, 0), 1)
	fm := &blob{}
	f, err := raft.NewReplica(ordo.Config{ID: 3, N: 3, Opts: o, Roster: fenv.Roster()}, fm, nil)
	if err != nil {
		t.Fatal(err)
	}
	fenv.Start(f)
	chunks := 0
	for range 10 {
		var snap *raft.InstallSnapshot
		for _, m := range lenv.SentTo(3) {
			if s, ok := m.(raft.InstallSnapshot); ok {
				snap = &s
			}
		}
		if snap == nil {
			break
		}
		if len(snap.Data) > 256<<10 || snap.Offset != uint64(chunks)*(256<<10) {
			t.Fatalf("chunk %d at offset %d of %d bytes", chunks, snap.Offset, len(snap.Data))
		}
		chunks++
		fenv.Receive(f, 1, *snap)
		resp := fenv.SentTo(1)[0]
		lenv.Receive(l, 3, resp)
	}
	if chunks != 3 || f.Applied() != 6 || !slices.Equal(fm.data, lm.data) {
		t.Fatalf("%d chunks, applied %d, machines equal %v; want 3 chunks and the leader's state at 6", chunks, f.Applied(), slices.Equal(fm.data, lm.data))
	}
	fm2 := &blob{}
	f2, err := raft.NewReplica(ordo.Config{ID: 3, N: 3, Opts: o, Roster: fenv.Roster()}, fm2, nil)
	if err != nil {
		t.Fatal(err)
	}
	fenv.Start(f2)
	if f2.Applied() != 6 || !slices.Equal(fm2.data, lm.data) {
		t.Fatalf("rebooted at %d, state equal %v", f2.Applied(), slices.Equal(fm2.data, lm.data))
	}
}

// Thesis §6.2: a paused leader whose lease ran out steps down in the
// first turn after it resumes even when that turn held only its host's
// messages (Flush checks the lease before sending), and Propose refuses.
func TestReplica_Thesis6_2_PausedLeaderStepsDownInFlush(t *testing.T) {
	env, n, _ := leaderWithCommittedNoop(t, nil)
	env.Advance(time.Second) // paused
	if _, _, err := n.Propose(env, []byte{1}); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("propose with the lease run out: %v, want ErrNotLeader", err)
	}
	env.Reset()
	n.Flush(env)
	if n.IsLeader() || len(env.SentKind("AppendEntries")) != 0 {
		t.Fatalf("after the pause Flush left leader=%v and sent %v", n.IsLeader(), env.SentSummary())
	}
}
