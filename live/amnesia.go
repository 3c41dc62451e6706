package live

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ordo"
	"ordo/trace"
)

// A node that lost its disk must not vote as if it remembered (section 4,
// Safety; Raft persists currentTerm and votedFor before answering for
// exactly this reason, Ongaro's dissertation §3.4 and §3.8, and a server
// that lost its storage can only come back as a new member, §4).
//
// The danger, concretely: in a cluster of three, A wins term 10 with the
// votes of A and N; N loses its disk and restarts with term 0 and no vote;
// B, which never heard of term 10, campaigns up to term 10 and N, having
// forgotten, votes again: B wins term 10 with B and N. Two leaders in one
// term. Waiting an election timeout does not help (B may reach term 10 at
// any later time), nor does learning the term of a majority (A and N were
// the majority that knew term 10, and N forgot).
//
// The fence. Restarting a node whose store is gone while the cluster has
// run it before (Cluster.Restart, guardAmnesia), the cluster asks every
// other server for its current term (all of them: one that does not answer
// refuses the restart) and writes the highest, F, to the node's directory
// (AmnesiaFileName). The node then runs listen-only: it receives and
// handles every message (so it learns terms) but nothing it sends leaves
// (each send is recorded as a drop named "amnesia"), until its own noted
// term exceeds F; from then on it sends as any node does.
//
// Why that is safe. Every vote N cast before the loss was in some term T
// requested by a candidate C; C persisted T before asking, terms never
// decrease, and C kept its disk (one disk lost at a time), so C's term when
// the cluster asked was ≥ T: F ≥ T. N grants nothing while its term is ≤ F
// (nothing leaves), and once its term is > F a protocol that never votes
// below its current term (Raft; the election package's Promise) can only
// vote in terms > F ≥ T: in none of the terms of its forgotten votes. The
// cost is liveness only: N is a non-voter until the cluster's next
// election moves the term past F (the rest of the cluster does not need
// it: a majority of the others still elects). A protocol that notes no
// term (not an election protocol) cannot be fenced this way; the restart
// is refused and says how to recover.

// AmnesiaFileName, in a node's directory, holds the fence term of a node
// that restarted without its store (decimal, at most 20 digits).
const AmnesiaFileName = "amnesia"

// maxAmnesiaFile bounds the fence file.
const maxAmnesiaFile = 64

// readFence reads the fence of dir: (F, true) when the node must run
// listen-only until its term exceeds F.
func readFence(dir string) (int64, bool, error) {
	f, err := os.Open(filepath.Join(dir, AmnesiaFileName))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAmnesiaFile+1))
	if err != nil {
		return 0, false, err
	}
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseInt(s, 10, 64)
	if len(b) > maxAmnesiaFile || err != nil || v < 0 {
		return 0, false, fmt.Errorf("%s: %q is not a term (want a decimal number 0..2^63-1); remove the file only if the node never ran before", filepath.Join(dir, AmnesiaFileName), s)
	}
	return v, true, nil
}

// fence is the runtime's side: set at Start from the file.
type fence struct {
	on   bool
	term int64  // F: the node sends nothing until its noted term exceeds it
	dir  string // the node's directory (the file is removed when lifted)
}

// guardSend is called by Send once the send is recorded: it reports
// whether the message must be dropped (the node is fenced), recording the
// drop, and lifts the fence once the node's noted term exceeds F.
func (r *Runtime) guardSend(to ordo.NodeID, id uint64, kind string, bytes int) bool {
	if !r.fence.on {
		return false
	}
	r.statusMu.Lock()
	term := r.status.Term
	r.statusMu.Unlock()
	if term > r.fence.term {
		r.fence.on = false
		os.Remove(filepath.Join(r.fence.dir, AmnesiaFileName))
		r.log.Warn("rejoined after losing its disk: its term passed the fence", "fence", r.fence.term, "term", term)
		return false
	}
	r.record(trace.Event{Kind: trace.Drop, Node: r.id, Peer: to, Msg: id, MsgKind: kind, Bytes: bytes, Name: "amnesia"})
	return true
}

// guardAmnesia fences node id before a restart when its store is gone
// although the cluster ran it before (see the comment at the top).
func (c *Cluster) guardAmnesia(id ordo.NodeID) error {
	nc, err := c.Cfg.Node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	_, ran := c.State.Pids[int(id)]
	c.mu.Unlock()
	dir := c.Cfg.Path(nc.Dir)
	if !ran || c.Cfg.RoleOf(id) != ordo.Server {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "store", StoreFileName)); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err // the store is there (or unreadable: the node says so)
	}
	if _, fenced, _ := readFence(dir); fenced {
		return nil // lost its disk again before the fence lifted: keep it
	}
	var highest int64
	for _, s := range c.Servers() {
		if s == id {
			continue
		}
		st, err := c.Status(s)
		if err != nil {
			return fmt.Errorf("node %d lost its store (%s is gone) and every other server must tell its term before it may rejoin (so that it cannot vote again in a term it voted in and forgot), but node %d does not answer: %v; start node %d first, or restore node %d's store", id, filepath.Join(dir, "store"), s, err, s, id)
		}
		highest = max(highest, st.Term)
	}
	if highest == 0 {
		return fmt.Errorf("node %d lost its store (%s is gone) and protocol %s notes no term, so it cannot be fenced against voting twice: restore its store, or start a fresh cluster", id, filepath.Join(dir, "store"), c.Cfg.Protocol)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, AmnesiaFileName), []byte(strconv.FormatInt(highest, 10)+"\n")); err != nil {
		return err
	}
	LogFault(c.Cfg, c.now(), "amnesia", "node", int(id), "fence", highest)
	return nil
}
