package raft

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"ordo"
	"ordo/election"
	"ordo/rsm"
)

// replConfig is the replication options, bounded.
type replConfig struct {
	maxBatch        int    // bytes of entries per AppendEntries; the largest command
	maxInflight     int    // un-acknowledged AppendEntries per follower
	maxUncommitted  uint64 // entries past the commit index before ErrBusy
	snapshotEntries uint64 // applied entries between snapshots
	noteEvery       uint64 // "applied" at indexes this divides
	unsafeAnyTerm   bool   // DELIBERATELY BROKEN: figure 8
	unsafeEarlyConf bool   // DELIBERATELY BROKEN: conf change before the no-op commits
}

// maxPendingReads bounds the ReadIndex requests a leader holds.
const maxPendingReads = 1 << 14

// progress is what a leader knows of one follower (paper figure 2's
// nextIndex and matchIndex, with etcd's probe/replicate states).
type progress struct {
	match, next uint64
	// probing: where the logs meet is unknown, so one AppendEntries is
	// in flight at a time (probeSent) and next does not advance until
	// it is answered. Otherwise appends are pipelined: next advances
	// optimistically and infl holds the last index of each un-acked one.
	probing, probeSent bool
	infl               []uint64
	// A follower that is behind and made no progress for two heartbeats
	// lost a message: the leader probes again from match+1.
	stall    int
	lastProg uint64
	// An InstallSnapshot under way: the snapshot at snapIndex, the chunk
	// at snapOff in flight.
	snapping           bool
	snapIndex, snapOff uint64
}

// confAt is a configuration and the index from which it holds.
type confAt struct {
	index  uint64
	voters []ordo.NodeID
}

type nopHost struct{}

func (nopHost) Applied(ordo.Env, uint64, uint64, []byte) {}
func (nopHost) ReadReady(ordo.Env, uint64, uint64, bool) {}
func (nopHost) LeaderChanged(ordo.Env, ordo.NodeID)      {}

// NewReplica builds a Raft node replicating into m, reporting to h (nil:
// nobody). c.Opts holds the ReplicaOptions (a missing one takes its
// default). The voters at first boot are every server of c's roster; a
// membership change (ChangeMembership) moves them. Errors: an option out
// of its bounds. Source: Ongaro & Ousterhout 2014, section 5.3-5.4; Ongaro's
// thesis, chapters 3-6.
func NewReplica(c ordo.Config, m rsm.Machine, h Host) (*Node, error) {
	if m == nil {
		return nil, fmt.Errorf("raft: NewReplica needs a machine")
	}
	opts := ordo.Options{}
	for _, o := range ReplicaOptions {
		opts[o.Name] = o.Default
	}
	for k, v := range c.Opts {
		opts[k] = v
	}
	for _, o := range ReplicaOptions {
		if err := sameKindOf(o, opts[o.Name]); err != nil {
			return nil, err
		}
	}
	c.Opts = opts
	r, err := newNode(c)
	if err != nil {
		return nil, err
	}
	rc := replConfig{
		maxBatch:        opts.Int("max_batch_bytes"),
		maxInflight:     opts.Int("max_inflight"),
		snapshotEntries: uint64(max(0, opts.Int("snapshot_entries"))),
		noteEvery:       uint64(max(0, opts.Int("note_every"))),
		unsafeAnyTerm:   opts.Bool("unsafe_commit_any_term"),
		unsafeEarlyConf: opts.Bool("unsafe_early_conf_change"),
	}
	mu := opts.Int("max_uncommitted")
	switch {
	case rc.maxBatch < 1<<10 || rc.maxBatch > ordo.MaxMessageSize/2:
		return nil, fmt.Errorf("raft: option max_batch_bytes=%d outside [1024, %d]", rc.maxBatch, ordo.MaxMessageSize/2)
	case rc.maxInflight < 1 || rc.maxInflight > 1024:
		return nil, fmt.Errorf("raft: option max_inflight=%d outside [1, 1024]", rc.maxInflight)
	case mu < 1 || mu > 1<<20:
		return nil, fmt.Errorf("raft: option max_uncommitted=%d outside [1, %d]", mu, 1<<20)
	case rc.snapshotEntries < 1 || rc.snapshotEntries > ordo.MaxIndex:
		return nil, fmt.Errorf("raft: option snapshot_entries=%d must be at least 1", rc.snapshotEntries)
	case rc.noteEvery < 1:
		return nil, fmt.Errorf("raft: option note_every=%d must be at least 1", rc.noteEvery)
	}
	rc.maxUncommitted = uint64(mu)
	r.rc = rc
	r.m, r.host = m, h
	if h == nil {
		r.host = nopHost{}
	}
	r.hash = fnvOffset
	r.confs = []confAt{{index: 0, voters: r.voters}}
	return r, nil
}

// sameKindOf checks a replica option's value parses as its default's kind
// (Protocol.Resolve does this for a registered protocol; NewReplica may
// be handed options by hand).
func sameKindOf(o ordo.Option, v string) error {
	p := ordo.Protocol{Name: "raft", Options: []ordo.Option{o}}
	_, err := p.Resolve(map[string]string{o.Name: v})
	return err
}

// setVoters puts a configuration in force: who counts toward quorums and
// who a leader sends to.
func (r *Node) setVoters(v []ordo.NodeID) {
	v = slices.Clone(v)
	sortIDs(v)
	r.voters = v
	r.votersGen++
	r.peers = make([]ordo.NodeID, 0, len(v))
	top := r.id
	for _, id := range v {
		if id != r.id {
			r.peers = append(r.peers, id)
		}
		top = max(top, id)
	}
	for len(r.voted) <= int(top) {
		r.voted = append(r.voted, false)
		r.prs = append(r.prs, progress{})
		r.rounds.acked = append(r.rounds.acked, 0)
	}
	r.rounds.self, r.rounds.voters = r.id, v
}

// leading reports whether this replica leads with its lease held (a
// paused leader whose lease ran out answers ErrNotLeader; its next Flush
// steps it down).
func (r *Node) leading(env ordo.Env) bool {
	return r.m != nil && r.role == election.Leader && (!r.cfg.checkQuorum || r.leaseHeld(env))
}

func (r *Node) isVoter(id ordo.NodeID) bool { return slices.Contains(r.voters, id) }

func (r *Node) leaderChanged(env ordo.Env) {
	if r.host != nil {
		r.host.LeaderChanged(env, r.leader)
	}
}

// ackRound records a heartbeat answer; pending reads may now be served.
func (r *Node) ackRound(env ordo.Env, from ordo.NodeID, round uint64) {
	r.rounds.Ack(from, round)
	if r.m != nil {
		r.checkReads(env)
	}
}

// startLeading sets up replication for a new leader: every follower is
// probed from the end of its log, and the leader appends a no-op entry of
// its term (paper 5.4.2, thesis 6.4): only once an entry of its own term
// commits does it know which entries are committed.
func (r *Node) startLeading(env ordo.Env) {
	next := r.log.last() + 1
	for _, p := range r.peers {
		r.prs[p] = progress{next: next, probing: true, infl: r.prs[p].infl[:0]}
	}
	r.transferee, r.noLeaseReads, r.readInFlight = ordo.None, false, 0
	r.appendEntry(env, Entry{Term: r.term, Type: EntryNoop})
}

// stepDown ends a leadership: pending reads fail (thesis 6.4), a
// transfer ends.
func (r *Node) stepDown(env ordo.Env) {
	if r.m == nil {
		return
	}
	reads := r.reads
	r.reads = nil
	for _, rd := range reads {
		r.host.ReadReady(env, rd.ctx, 0, false)
	}
	r.readRound, r.readInFlight = false, 0
	r.transferee = ordo.None
}

// appendEntry appends e to the leader's log and writes it in this event's
// batch, returning its index. A configuration entry is in force at once.
func (r *Node) appendEntry(env ordo.Env, e Entry) uint64 {
	r.log.ents = append(r.log.ents, e)
	idx := r.log.last()
	r.buf = appendEntryBytes(r.buf[:0], &e)
	env.Store().Put(logKey(idx), r.buf)
	if e.Type == EntryConf {
		v, err := decodeVoters(e.Data)
		if err != nil {
			panic(fmt.Sprintf("raft: own configuration entry: %v", err))
		}
		r.applyConf(idx, v)
	}
	return idx
}

// Propose appends cmd to the leader's log (written in this event's
// batch) and returns the index and term it holds; the entry is sent in
// this turn's Flush, batched with the turn's other proposals. Host.Applied
// reports it at that index: with another term, it was overwritten.
// Errors: ErrNotLeader; ErrTooLarge (cmd above max_batch_bytes);
// ErrBusy (max_uncommitted entries await a commit, or a leadership
// transfer is under way). cmd is copied.
func (r *Node) Propose(env ordo.Env, cmd []byte) (index, term uint64, err error) {
	if !r.leading(env) {
		return 0, 0, ErrNotLeader
	}
	if len(cmd) > r.rc.maxBatch {
		return 0, 0, fmt.Errorf("%w: %d bytes encoded, an entry holds at most max_batch_bytes=%d", ErrTooLarge, len(cmd), r.rc.maxBatch)
	}
	if r.transferring(env) || r.log.last()-r.commit >= r.rc.maxUncommitted {
		return 0, 0, ErrBusy
	}
	var data []byte
	if len(cmd) > 0 {
		data = slices.Clone(cmd)
	}
	return r.appendEntry(env, Entry{Term: r.term, Type: EntryNormal, Data: data}), r.term, nil
}

// Flush implements ordo.Flusher: once per turn a leader sends what the
// turn produced, one AppendEntries per follower carrying every new entry
// (up to max_batch_bytes each, max_inflight un-acked), and a heartbeat
// round for reads that wait for one.
func (r *Node) Flush(env ordo.Env) {
	if r.m == nil {
		return
	}
	if r.votersGen != r.votersNoted {
		// The liveness checker reads each node's configuration from
		// these notes: a quorum counts over the voters, not the roster.
		r.votersNoted = r.votersGen
		env.Note(NoteVoters, "ids", formatIDs(r.voters))
	}
	if r.role != election.Leader {
		return
	}
	r.askSync(env)
	// The turn may have held only the host's own messages (client
	// requests), which do not pass Receive: a leader whose lease ran out
	// meanwhile (it was paused) steps down here before it sends.
	if r.checkLease(env); r.role != election.Leader {
		return
	}
	if r.readRound && (r.readInFlight == 0 || r.readInFlight <= r.rounds.Newest()) {
		r.startReadRound(env)
	}
	r.maybeCommit(env)
	if r.role != election.Leader {
		return // it removed itself
	}
	for _, p := range r.peers {
		r.sendAppends(env, p)
	}
}

// sendAppends sends peer p what it lacks, within the pipeline's bounds.
func (r *Node) sendAppends(env ordo.Env, p ordo.NodeID) {
	pr := &r.prs[p]
	last := r.log.last()
	for !pr.snapping {
		if pr.probing && pr.probeSent {
			return
		}
		if !pr.probing && (pr.next > last || len(pr.infl) >= r.rc.maxInflight) {
			return
		}
		if pr.next <= r.log.start {
			// The entries it needs are compacted: send the snapshot.
			pr.snapping, pr.snapIndex, pr.snapOff = true, r.snap.index, 0
			r.sendSnapshot(env, p)
			return
		}
		prev := pr.next - 1
		prevTerm, _ := r.log.term(prev)
		end, bytes := pr.next, 0
		for end <= last {
			sz := len(r.log.at(end).Data) + 16
			if bytes > 0 && bytes+sz > r.rc.maxBatch {
				break
			}
			bytes += sz
			end++
		}
		var ents []Entry
		if end > pr.next {
			lo, hi := pr.next-r.log.start-1, end-r.log.start-1
			ents = r.log.ents[lo:hi:hi] // capacity cut: nobody appends into a sent message
		}
		r.sendAppend(env, p, AppendEntries{Term: r.term, Leader: r.id, PrevIndex: prev, PrevTerm: prevTerm, Commit: r.commit, Entries: ents})
		if pr.probing {
			pr.probeSent = true
			return
		}
		pr.infl = append(pr.infl, end-1)
		pr.next = end
	}
}

// heartbeatTick runs with each heartbeat of a replica's leader: a transfer
// that overran its election timeout ends, and a follower that is behind
// and made no progress for two heartbeats is probed again (a message was
// lost: pipelined appends have no retransmission of their own).
func (r *Node) heartbeatTick(env ordo.Env) {
	if r.m == nil {
		return
	}
	r.transferring(env)
	last := r.log.last()
	for _, p := range r.peers {
		pr := &r.prs[p]
		prog := pr.match + pr.snapOff
		if pr.match >= last || prog != pr.lastProg {
			pr.stall, pr.lastProg = 0, prog
			continue
		}
		if pr.stall++; pr.stall < 2 {
			continue
		}
		pr.stall = 0
		if pr.snapping {
			r.sendSnapshot(env, p)
			continue
		}
		pr.probing, pr.probeSent, pr.next, pr.infl = true, false, pr.match+1, pr.infl[:0]
	}
}

// handleAppendResp is the leader's side of AppendEntries: advance the
// follower's match on success, back off next on a reject with the hint
// (thesis 5.3: one round trip per conflicting term, not per entry).
func (r *Node) handleAppendResp(env ordo.Env, from ordo.NodeID, m AppendResp) {
	if m.Term > r.term {
		r.becomeFollower(env, m.Term, ordo.None)
		return
	}
	if r.m == nil || r.role != election.Leader || m.Term != r.term || !r.isVoter(from) || from == r.id {
		return
	}
	pr := &r.prs[from]
	if m.Success {
		if m.Index > r.log.last() {
			return // no honest follower matches beyond the leader's log
		}
		pr.match = max(pr.match, m.Index)
		k := 0
		for k < len(pr.infl) && pr.infl[k] <= m.Index {
			k++
		}
		pr.infl = append(pr.infl[:0], pr.infl[k:]...)
		if pr.probing {
			pr.probing, pr.probeSent, pr.infl = false, false, pr.infl[:0]
			pr.next = pr.match + 1
		}
		pr.next = max(pr.next, pr.match+1)
		r.maybeCommit(env)
		r.maybeTimeoutNow(env, from)
		return
	}
	if m.Index < pr.match || m.Index > r.log.last() || (pr.probing && m.Index != pr.next-1) || pr.snapping {
		return // stale: the logs met beyond it since, or another probe is out
	}
	next := m.HintIndex
	if m.HintTerm != 0 {
		if j := r.log.lastOfTerm(m.HintTerm, m.Index); j != 0 {
			next = j + 1
		}
	}
	pr.next = max(min(next, m.Index), pr.match+1)
	pr.probing, pr.probeSent, pr.infl = true, false, pr.infl[:0]
}

// maybeCommit advances the commit index to the newest index a majority of
// the voters holds, if it is of the leader's term (paper 5.4.2, figure 8:
// an older term's entry is committed only by one of this term after it).
func (r *Node) maybeCommit(env ordo.Env) {
	if r.role != election.Leader {
		return
	}
	vals := r.scratch[:0]
	for _, id := range r.voters {
		if id == r.id {
			vals = append(vals, r.selfMatch())
		} else {
			vals = append(vals, r.prs[id].match)
		}
	}
	slices.Sort(vals)
	r.scratch = vals
	n := vals[len(vals)-r.quorum()]
	if n <= r.commit {
		return
	}
	if t, _ := r.log.term(n); t != r.term && !r.rc.unsafeAnyTerm {
		return
	}
	r.commitTo(env, n)
}

// commitTo raises the commit index to n (at most the last index) and
// applies up to it (a follower on a runtime with AfterSync: once the
// turn's writes are durable, applyLater).
func (r *Node) commitTo(env ordo.Env, n uint64) {
	if n <= r.commit {
		return
	}
	if n > r.log.last() {
		panic(fmt.Sprintf("raft: commit %d beyond the last index %d", n, r.log.last()))
	}
	r.commit = n
	if r.applyLater(env) {
		return
	}
	r.applyTo(env)
	if r.role == election.Leader && !r.isVoter(r.id) && r.commit >= r.confs[len(r.confs)-1].index {
		// Its own removal committed: it stops leading (thesis 4.2.2).
		r.becomeFollower(env, r.term, ordo.None)
	}
}

// applyTo applies the committed entries in index order, notes "applied"
// and takes a snapshot every snapshot_entries.
func (r *Node) applyTo(env ordo.Env) {
	for r.applied < r.commit {
		i := r.applied + 1
		e := r.log.at(i)
		var cmd []byte
		if e.Type == EntryNormal {
			cmd = e.Data
		}
		res := r.m.Apply(i, cmd)
		r.hash = chain(r.hash, e.Term, e.Data)
		r.applied = i
		if i%r.rc.noteEvery == 0 {
			env.Note("applied", "index", i, "hash", r.hash)
		}
		r.host.Applied(env, i, e.Term, res)
	}
	if r.applied >= r.nextSnapshot() && r.applied >= r.sinceSnap {
		r.takeSnapshot(env)
	}
}

// nextSnapshot is the applied index at which this node takes its next
// snapshot: the first index of the form k·snapshot_entries + phase at
// least half an interval after the last snapshot, where node id's phase
// is (id mod 5) tenths of snapshot_entries. So every node snapshots every
// snapshot_entries (after an InstallSnapshot, within half to one and a
// half intervals), each at its own offset: no two of up to five nodes
// serialize their machines at the same index. A snapshot holds up its
// node's event loop (live: tens of ms for 100 000 keys, and its fsync
// holds the node's messages); taken together, the whole cluster stalls at
// once, the leader without a quorum for the duration.
func (r *Node) nextSnapshot() uint64 {
	n := r.rc.snapshotEntries
	phase := uint64(r.id) % 5 * n / 10
	from := r.snap.index + max(n/2, 1)
	if from <= phase {
		return phase
	}
	return (from-phase+n-1)/n*n + phase
}

// handleAppend is the follower's side (paper figure 2): refuse an old
// term; check that the log holds PrevTerm at PrevIndex (log matching,
// 5.3) and answer a mismatch with a hint; drop conflicting entries and
// append the new ones (written in this event's batch, so the answer
// leaves after they are durable); commit up to the leader's commit index.
func (r *Node) handleAppend(env ordo.Env, from ordo.NodeID, m AppendEntries) {
	if r.m == nil {
		return
	}
	if m.Term < r.term {
		env.Send(from, AppendResp{Term: r.term, Index: m.PrevIndex})
		return
	}
	r.followLeader(env, m.Term, m.Leader)
	prev, prevTerm, ents := m.PrevIndex, m.PrevTerm, m.Entries
	lastNew := prev + uint64(len(ents))
	if prev < r.log.start {
		// Up to start this node holds committed entries (its snapshot):
		// the leader's are the same.
		skip := r.log.start - prev
		if skip >= uint64(len(ents)) {
			r.commitTo(env, min(m.Commit, r.commit))
			env.Send(from, AppendResp{Term: r.term, Success: true, Index: lastNew})
			return
		}
		ents = ents[skip:]
		prev, prevTerm = r.log.start, r.log.startTerm
	}
	t, ok := r.log.term(prev)
	if !ok {
		env.Send(from, AppendResp{Term: r.term, Index: m.PrevIndex, HintIndex: r.log.last() + 1})
		return
	}
	if t != prevTerm {
		env.Send(from, AppendResp{Term: r.term, Index: m.PrevIndex, HintIndex: r.log.firstOfTerm(prev), HintTerm: t})
		return
	}
	i := prev
	for k := range ents {
		i++
		if i <= r.log.last() {
			if r.log.at(i).Term == ents[k].Term {
				continue
			}
			r.truncateLog(env, i)
		}
		for k2 := k; k2 < len(ents); k2++ {
			r.appendReceived(env, ents[k2])
		}
		break
	}
	r.commitTo(env, min(m.Commit, lastNew))
	env.Send(from, AppendResp{Term: r.term, Success: true, Index: lastNew})
}

// appendReceived appends an entry from the leader and writes it.
func (r *Node) appendReceived(env ordo.Env, e Entry) {
	r.log.ents = append(r.log.ents, e)
	idx := r.log.last()
	r.buf = appendEntryBytes(r.buf[:0], &e)
	env.Store().Put(logKey(idx), r.buf)
	if e.Type == EntryConf {
		if v, err := decodeVoters(e.Data); err == nil {
			r.applyConf(idx, v)
		}
	}
}

// truncateLog drops the entries from index from on (a leader's entries
// conflict with them, 5.3), and any configuration they held.
func (r *Node) truncateLog(env ordo.Env, from uint64) {
	if from <= r.commit {
		if !r.rc.unsafeAnyTerm {
			panic(fmt.Sprintf("raft: %v: the leader overwrites committed entry %d (commit %d)", r.id, from, r.commit))
		}
		// The deliberately broken variant committed what a later leader
		// overwrites: the applied-hash notes show the divergence.
		r.commit = from - 1
	}
	env.Store().DeleteRange(logKey(from), logEnd)
	r.log.truncate(from)
	k := len(r.confs)
	for k > 1 && r.confs[k-1].index >= from {
		k--
	}
	if k != len(r.confs) {
		r.confs = r.confs[:k:k]
		r.setVoters(r.confs[k-1].voters)
	}
}

// load rebuilds a replica from its store at boot: the snapshot into the
// machine, then the log after it. Every number is bounded and the log
// must be contiguous; anything else stops the node (ordo.Corrupt). The
// commit index starts at the snapshot's: the leader tells the rest.
func (r *Node) load(env ordo.Env) {
	st := env.Store()
	if meta, data, ok := readSnapshot(st); ok {
		if err := r.m.Restore(meta.index, data); err != nil {
			panic(ordo.Corrupt{Key: snapMetaKey, Err: err})
		}
		r.snap = meta
		r.applied, r.commit, r.hash, r.sinceSnap = meta.index, meta.index, meta.hash, meta.index
		r.confs = []confAt{{index: meta.index, voters: meta.voters}}
	}
	start, startTerm := r.snap.index, r.snap.term
	if s, t, ok := loadLogStart(st); ok {
		start, startTerm = s, t
		if start > ordo.MaxIndex || startTerm > ordo.MaxTerm || start > r.snap.index || startTerm > r.term {
			panic(ordo.Corrupt{Key: logStartKey, Err: fmt.Errorf("log start %d (term %d) out of bounds (snapshot %d, term %d)", start, startTerm, r.snap.index, r.term)})
		}
	}
	r.log.reset(start, startTerm)
	var voters []ordo.NodeID
	confIdx := uint64(0)
	st.Scan(logPrefix, logEnd, func(k string, v []byte) bool {
		if len(k) != len(logPrefix)+8 {
			panic(ordo.Corrupt{Key: k, Err: fmt.Errorf("log key of %d bytes", len(k))})
		}
		idx := binary.BigEndian.Uint64([]byte(k[len(logPrefix):]))
		if idx != r.log.last()+1 || idx > ordo.MaxIndex {
			panic(ordo.Corrupt{Key: k, Err: fmt.Errorf("log entry %d where %d was due", idx, r.log.last()+1)})
		}
		e, err := decodeEntry(v)
		if err == nil && (e.Term < r.log.lastTerm() || e.Term > r.term) {
			err = fmt.Errorf("entry term %d after term %d, hard state term %d", e.Term, r.log.lastTerm(), r.term)
		}
		if err != nil {
			panic(ordo.Corrupt{Key: k, Err: err})
		}
		r.log.ents = append(r.log.ents, e)
		if e.Type == EntryConf && idx > r.confs[0].index {
			voters, _ = decodeVoters(e.Data)
			confIdx = idx
			r.confs = append(r.confs, confAt{index: confIdx, voters: voters})
		}
		return true
	})
	if t, ok := r.log.term(r.snap.index); r.snap.index > 0 && (!ok || t != r.snap.term) {
		panic(ordo.Corrupt{Key: snapMetaKey, Err: fmt.Errorf("snapshot at %d (term %d) disagrees with the log (%d..%d)", r.snap.index, r.snap.term, r.log.start, r.log.last())})
	}
	r.setVoters(r.confs[len(r.confs)-1].voters)
	if r.applied > 0 {
		env.Note("applied", "index", r.applied, "hash", r.hash)
	}
}

// Applied returns the index of the last entry applied to the machine.
func (r *Node) Applied() uint64 { return r.applied }

// Committed returns the commit index this node knows.
func (r *Node) Committed() uint64 { return r.commit }

// LastIndex returns the index of the last entry in the log (tests).
func (r *Node) LastIndex() uint64 { return r.log.last() }

// Leader returns the leader this node believes in (None: unknown).
func (r *Node) Leader() ordo.NodeID { return r.leader }

// IsLeader reports whether this node leads.
func (r *Node) IsLeader() bool { return r.role == election.Leader }

// Voters returns the configuration in force, ascending (a copy).
func (r *Node) Voters() []ordo.NodeID { return slices.Clone(r.voters) }

// NoteVoters is the note a replica makes when its configuration changes
// (and at boot): "ids" lists the voters in force, "1,2,4".
const NoteVoters = "voters"

func formatIDs(ids []ordo.NodeID) string {
	b := make([]byte, 0, 4*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(b)
}
