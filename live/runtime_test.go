package live

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ordo"
	"ordo/check"
	"ordo/live/transport"
	"ordo/trace"
)

func TestMain(m *testing.M) { runAsNode(); goleak.VerifyTestMain(m) }

type inproc struct {
	t   *testing.T
	cfg *Config
	rt  []*Runtime // index id-1; nil when down
}

func startCluster(t *testing.T, n int) *inproc { return startClusterOf(t, "live-test-elect", n) }

func startClusterOf(t *testing.T, protocol string, n int) *inproc {
	cfg := testConfig(t, t.TempDir(), protocol, n, nil)
	c := &inproc{t: t, cfg: cfg, rt: make([]*Runtime, n)}
	for i := 1; i <= n; i++ {
		c.start(ordo.NodeID(i))
	}
	t.Cleanup(func() {
		for i := range c.rt {
			if c.rt[i] != nil {
				c.rt[i].Stop()
			}
		}
	})
	return c
}

func (c *inproc) start(id ordo.NodeID) {
	c.t.Helper()
	rt, err := Start(c.cfg, id, Options{Log: quietLog()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.rt[id-1] = rt
}

// leader waits until exactly one running node is leader with a term above
// after, and every running node in group (or all) knows it.
func (c *inproc) leader(after int64, within time.Duration, group ...ordo.NodeID) (ordo.NodeID, int64) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var leaders []Status
		for _, rt := range c.rt {
			if rt != nil {
				if s := rt.Status(); s.Role == "leader" && s.Term > after && (len(group) == 0 || slices.Contains(group, s.ID)) {
					leaders = append(leaders, s)
				}
			}
		}
		if len(leaders) == 1 {
			return leaders[0].ID, leaders[0].Term
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no single leader with term > %d within %v", after, within)
	return 0, 0
}

// stopAndMerge stops every running node, merges their traces and checks
// the merged trace with assertTraceSound.
func (c *inproc) stopAndMerge() *trace.Trace {
	c.t.Helper()
	for i, rt := range c.rt {
		if rt != nil {
			rt.Stop()
			c.rt[i] = nil
		}
	}
	tr, err := Merge(c.cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	assertTraceSound(c.t, tr)
	return tr
}

// Reference: exercise 3 — the cluster survives the failure of its leader,
// and the node that failed comes back with its term from disk.
func TestLeaderFailoverAndRejoin(t *testing.T) {
	c := startCluster(t, 5)
	l, term := c.leader(0, 10*time.Second)
	if err := c.rt[l-1].Stop(); err != nil {
		t.Fatal(err)
	}
	c.rt[l-1] = nil
	start := time.Now()
	l2, term2 := c.leader(term, 10*time.Second)
	t.Logf("leader n%d (term %d) stopped; n%d leads term %d after %v", l, term, l2, term2, time.Since(start))
	c.start(l)
	s := c.rt[l-1].Status()
	if s.Boot != 2 || s.Term < term {
		t.Fatalf("restarted n%d: boot %d term %d, want boot 2 and its persisted term ≥ %d", l, s.Boot, s.Term, term)
	}
	waitFor(t, 3*time.Second, func() bool { s := c.rt[l-1].Status(); return s.Role == "follower" && s.Leader != 0 },
		func() string { return fmt.Sprintf("n%d did not rejoin as a follower: %+v", l, c.rt[l-1].Status()) })
	tr := c.stopAndMerge()
	res, err := check.Run(tr, []string{"one-leader-per-term"})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].OK {
		t.Fatalf("one-leader-per-term: %+v", res[0])
	}
}

// assertTraceSound checks what Merge promises beyond what trace.Read
// validates: each node's own vector entry counts up by one across restarts,
// a receive carries the size of its send, and a receive's happens-before
// chain reaches its send.
func assertTraceSound(t *testing.T, tr *trace.Trace) {
	t.Helper()
	var buf bytes.Buffer
	if err := tr.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := trace.Read(&buf)
	if err != nil {
		t.Fatalf("merged trace does not read back: %v", err)
	}
	sent := map[uint64]int{}
	last := map[ordo.NodeID]uint64{}
	recvs, starts, crashes := 0, 0, 0
	for i, e := range back.Events {
		switch e.Kind {
		case trace.Send:
			sent[e.Msg] = i
		case trace.Recv:
			if e.Msg == 0 { // a runtime hint (peer-down): no send
				break
			}
			recvs++
			if s := back.Events[sent[e.Msg]]; e.Bytes != s.Bytes {
				t.Fatalf("e%d receives message %d of %d bytes, sent as %d bytes by e%d", i, e.Msg, e.Bytes, s.Bytes, sent[e.Msg])
			}
		case trace.Start, trace.Restart:
			starts++
		case trace.Crash:
			crashes++
		}
		if e.Kind.Stamped() {
			own := e.Vector[e.Node-1]
			if own != last[e.Node]+1 {
				t.Fatalf("e%d: n%d's own vector entry %d after %d: stamps must continue across restarts", i, e.Node, own, last[e.Node])
			}
			last[e.Node] = own
		}
	}
	if recvs == 0 || starts == 0 {
		t.Fatalf("trace has %d receives and %d starts", recvs, starts)
	}
	// Happens-before across the merge: a receive's chain reaches its send.
	for i, e := range back.Events {
		if e.Kind == trace.Recv && e.Msg != 0 {
			chain, err := back.Chain(sent[e.Msg], i)
			if err != nil || len(chain) != 2 {
				t.Fatalf("send e%d → recv e%d: chain %v, %v", sent[e.Msg], i, chain, err)
			}
			break
		}
	}
}

// Reference: section 5, the 5-node partition {1,2} | {3,4,5}: the majority
// side elects a leader; no term ever has two.
func TestPartitionTwoThree(t *testing.T) {
	c := startCluster(t, 5)
	_, term := c.leader(0, 10*time.Second)
	minority, majority := []ordo.NodeID{1, 2}, []ordo.NodeID{3, 4, 5}
	for _, id := range minority {
		c.rt[id-1].SetFaults(transport.Faults{BlockOut: majority, BlockIn: majority})
	}
	for _, id := range majority {
		c.rt[id-1].SetFaults(transport.Faults{BlockOut: minority, BlockIn: minority})
	}
	// The majority has (or gets) a leader that every member follows.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s3, s4, s5 := c.rt[2].Status(), c.rt[3].Status(), c.rt[4].Status()
		if s3.Leader != 0 && s3.Leader == s4.Leader && s4.Leader == s5.Leader && s3.Term == s4.Term && s4.Term == s5.Term && slices.Contains(majority, s3.Leader) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("majority has no common leader: %+v %+v %+v", s3, s4, s5)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, rt := range c.rt {
		rt.SetFaults(transport.Faults{})
	}
	c.leader(term, 10*time.Second)
	tr := c.stopAndMerge()
	drops := 0
	for _, e := range tr.Events {
		if e.Kind == trace.Drop && strings.HasPrefix(e.Name, "fault:") {
			drops++
		}
	}
	if drops == 0 {
		t.Fatal("the partition dropped nothing")
	}
	res, _ := check.Run(tr, []string{"one-leader-per-term"})
	if !res[0].OK {
		t.Fatalf("one-leader-per-term: %+v", res[0])
	}
}

// A node whose disk fails stops itself (fail-stop) instead of running on.
func TestFailStopStopsTheNode(t *testing.T) {
	c := startCluster(t, 3)
	lead, _ := c.leader(0, 10*time.Second)
	// A follower, cut off, starts an election, which writes its term; a
	// leader cut off would just go on leading (the test protocol has no
	// CheckQuorum) and never write.
	victim := ordo.NodeID(1)
	if lead == victim {
		victim = 2
	}
	var others []ordo.NodeID
	for id := ordo.NodeID(1); id <= 3; id++ {
		if id != victim {
			others = append(others, id)
		}
	}
	rt := c.rt[victim-1]
	os.RemoveAll(filepath.Join(c.cfg.Path(c.cfg.Nodes[victim-1].Dir), "store"))
	rt.SetFaults(transport.Faults{BlockOut: others, BlockIn: others})
	select {
	case <-rt.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("node with a failed disk kept running")
	}
	var fs FailStop
	if !errors.As(rt.Err(), &fs) {
		t.Fatalf("Err = %v, want FailStop", rt.Err())
	}
}

// After a SIGKILL the trace file may end in a torn line; the node cuts it
// off and its stamps continue from the last whole event.
func TestTraceResumesAfterKill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TraceFileName)
	meta := trace.Meta{Runtime: "live", Nodes: 3}
	tf, res, err := openTrace(path, meta, 2, 3)
	if err != nil || res.events != 0 {
		t.Fatal(err, res.events)
	}
	st := res.stamp
	st.Tick()
	tf.write(trace.Event{Kind: trace.Start, Node: 2, Lamport: st.Lamport, Vector: st.Vector})
	st.Tick()
	tf.write(trace.Event{Kind: trace.Send, Node: 2, Msg: 2<<40 | 9, Lamport: st.Lamport, Vector: st.Vector})
	tf.close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":2,"kind":"no`)
	f.Close()
	_, res, err = openTrace(path, meta, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !res.crashed || res.events != 2 || res.stamp.Lamport != 2 || res.stamp.Vector[1] != 2 || res.msgSeq != 9 || res.boots != 1 {
		t.Fatalf("resumed %+v", res)
	}
	if _, err := trace.ReadFile(path); err != nil {
		t.Fatalf("torn line not cut: %v", err)
	}
}
