package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ordo"
	"ordo/adversary"
	"ordo/clock"
	"ordo/trace"
)

// exchange is a two-node run written by hand with the runtime's stamper:
// n1 starts and sends m1 to n2; n2 starts, receives m1 and replies m2; n1
// receives m2. Each node's events are in the order its file holds them.
func exchange() [][]trace.Event {
	s1, s2 := trace.NewStamper(1, 2), trace.NewStamper(2, 2)
	m1, m2 := uint64(1)<<40|1, uint64(2)<<40|1
	ev := func(s *trace.Stamper, id int, e trace.Event) trace.Event {
		e.ID, e.Node = id, ordo.NodeID(s.Node)
		e.Lamport, e.Vector = s.Lamport, clock.Vector{s.Vector[0], s.Vector[1]}
		e.T = int64(10 * (int(e.Lamport) + s.Node))
		return e
	}
	var n1, n2 []trace.Event
	s1.Tick()
	n1 = append(n1, ev(&s1, 0, trace.Event{Kind: trace.Start}))
	s1.Tick()
	n1 = append(n1, ev(&s1, 1, trace.Event{Kind: trace.Send, Peer: 2, Msg: m1, MsgKind: "m"}))
	sent1L, sent1V := s1.Lamport, clock.Vector{s1.Vector[0], s1.Vector[1]}
	s2.Tick()
	n2 = append(n2, ev(&s2, 0, trace.Event{Kind: trace.Start}))
	s2.Recv(sent1L, sent1V)
	n2 = append(n2, ev(&s2, 1, trace.Event{Kind: trace.Recv, Peer: 1, Msg: m1, MsgKind: "m"}))
	s2.Tick()
	n2 = append(n2, ev(&s2, 2, trace.Event{Kind: trace.Send, Peer: 1, Msg: m2, MsgKind: "m"}))
	s1.Recv(s2.Lamport, s2.Vector)
	n1 = append(n1, ev(&s1, 2, trace.Event{Kind: trace.Recv, Peer: 2, Msg: m2, MsgKind: "m"}))
	return [][]trace.Event{n1, n2}
}

// writeNodeFiles writes each node's events as its trace file, header
// first, then lines (an event's line is its index + 2).
func writeNodeFiles(t *testing.T, cfg *Config, nodes [][]trace.Event, edit func(node int, lines []string) []string) {
	t.Helper()
	for i, evs := range nodes {
		head, _ := json.Marshal(trace.Meta{Format: trace.FormatVersion, Runtime: "live", Nodes: len(nodes), Protocol: cfg.Protocol})
		lines := []string{string(head)}
		for _, e := range evs {
			b, err := json.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, string(b))
		}
		if edit != nil {
			lines = edit(i+1, lines)
		}
		dir := cfg.Path(cfg.Nodes[i].Dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, TraceFileName), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMergeHandWrittenExchange(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 2, nil)
	writeNodeFiles(t, cfg, exchange(), nil)
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Events) != 6 {
		t.Fatalf("%d events, want 6", len(tr.Events))
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	// The merged trace reads back: what merge writes, trace.Read accepts.
	var b bytes.Buffer
	if err := tr.Write(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := trace.Read(&b); err != nil {
		t.Fatalf("merged trace does not read back: %v", err)
	}
}

// A merged trace's options are the protocol's with defaults filled in, as
// the nodes ran them: a checker reading a bound from a default (the lease
// election's ttl, eventual-leader's bound) must find it, not fall back.
func TestMergeFillsInDefaultOptions(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "live-test-elect", 2, nil)
	writeNodeFiles(t, cfg, exchange(), nil)
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ordo.Lookup(cfg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Options) == 0 {
		t.Fatal("live-test-elect has no options: nothing to fill in")
	}
	for _, o := range p.Options {
		if v, ok := tr.Meta.Options[o.Name]; !ok || v != o.Default {
			t.Errorf("merged option %s = %q (present %v), want its default %q", o.Name, v, ok, o.Default)
		}
	}
}

// Merge refuses node trace files that trace.Read would refuse once merged,
// naming the file and the line, and returns no trace (so `ordo trace merge`
// writes nothing and exits non-zero).
func TestMergeRejectsBadNodeFiles(t *testing.T) {
	replace := func(node, line int, old, new string) func(int, []string) []string {
		return func(n int, lines []string) []string {
			if n == node {
				if !strings.Contains(lines[line-1], old) {
					panic(fmt.Sprintf("line %d of n%d lacks %q: %s", line, node, old, lines[line-1]))
				}
				lines[line-1] = strings.Replace(lines[line-1], old, new, 1)
			}
			return lines
		}
	}
	appendLine := func(node int, s string) func(int, []string) []string {
		return func(n int, lines []string) []string {
			if n == node {
				lines = append(lines, s, `{"id":99,"kind":"note","node":1}`) // not the last line: not a torn one
			}
			return lines
		}
	}
	for _, tc := range []struct {
		name string
		edit func(int, []string) []string
		file string // node dir of the file the error must name
		want string // in the error, after "line N"
	}{
		{"node 99", replace(1, 3, `"node":1`, `"node":99`), "node1", "line 3: an event of node 99 in n1's trace file"},
		{"bogus kind", replace(2, 2, `"kind":"start"`, `"kind":"bogus"`), "node2", `line 2: unknown event kind "bogus"`},
		{"id gap", replace(2, 3, `"id":1`, `"id":7`), "node2", "line 3: event id 7, expected 1"},
		{"short vector", replace(1, 2, `"vc":[1,0]`, `"vc":[1]`), "node1", "line 2: vector of 1 entry, the cluster has 2 nodes"},
		{"not json", appendLine(1, `{"id":3,`), "node1", "line 5:"},
		{"another cluster", replace(1, 1, `"nodes":2`, `"nodes":3`), "node1", "line 1: written for 3 nodes"},
		{"recv of nothing", replace(1, 4, `"msg":2199023255553`, `"msg":2199023255559`), "node1", "line 4: recv of message 2199023255559, which no earlier event sends"},
		{"knows too much", replace(2, 3, `"vc":[2,2]`, `"vc":[5,2]`), "node2", "line 3: vector [5,2]: entry for n1 is 5"},
		{"lamport back", replace(2, 4, `"lamport":4`, `"lamport":1`), "node2", "line 4: n2's Lamport stamp 1 does not increase"},
		{"causal cycle", func(n int, lines []string) []string {
			if n == 1 { // n1 receives m2 before it sends m1; n2 sends m2 after receiving m1
				lines[2], lines[3] = strings.Replace(lines[3], `"id":2`, `"id":1`, 1), strings.Replace(lines[2], `"id":1`, `"id":2`, 1)
			}
			return lines
		}, "node2", "line 3: recv of message 1099511627777 cannot follow its send"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir, "test-elect", 2, nil)
			writeNodeFiles(t, cfg, exchange(), tc.edit)
			tr, err := Merge(cfg)
			if err == nil {
				t.Fatalf("merged (%d events) without error", len(tr.Events))
			}
			path := filepath.Join(cfg.Path(tc.file), TraceFileName)
			if tr != nil || !strings.Contains(err.Error(), path+" "+tc.want) {
				t.Fatalf("error %q, want %q then %q", err, path, tc.want)
			}
		})
	}
}

// A node killed by `cluster kill` and not restarted gets its crash event at
// the moment of the kill, stamped as the next event of that node.
func TestMergeAddsTheCrashOfAKilledNode(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 2, nil)
	writeNodeFiles(t, cfg, exchange(), nil)
	epoch, err := cfg.EpochTime()
	if err != nil {
		t.Fatal(err)
	}
	const at = 1000 // ns after the epoch, later than every event
	kill := []byte(fmt.Sprint(epoch.UnixNano() + at))
	if err := os.WriteFile(filepath.Join(cfg.Path(cfg.Nodes[1].Dir), KilledFileName), kill, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := tr.Events[len(tr.Events)-1]
	if len(tr.Events) != 7 || e.Kind != trace.Crash || e.Node != 2 || e.Name != "killed" || e.T != at ||
		e.Lamport != 5 || !slices.Equal(e.Vector, clock.Vector{2, 4}) {
		t.Fatalf("%d events, last %+v; want 7, the last n2's crash at %d with Lamport 5 and vector [2 4]", len(tr.Events), e, at)
	}
}

// A torn last line (a kill during the write) is still ignored.
func TestMergeIgnoresTornLastLine(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 2, nil)
	writeNodeFiles(t, cfg, exchange(), func(n int, lines []string) []string {
		if n == 2 {
			lines = append(lines, `{"id":3,"kind":"no`)
		}
		return lines
	})
	if _, err := Merge(cfg); err != nil {
		t.Fatal(err)
	}
}

// FuzzReadEvents: the node trace file decoder never panics on any input,
// and its errors name the file; a node's file it accepts holds only that
// node's events (and drops to or from it).
func FuzzReadEvents(f *testing.F) {
	for _, evs := range exchange() {
		var b bytes.Buffer
		head, _ := json.Marshal(trace.Meta{Format: trace.FormatVersion, Runtime: "live", Nodes: 2})
		b.Write(append(head, '\n'))
		for _, e := range evs {
			line, _ := json.Marshal(&e)
			b.Write(append(line, '\n'))
		}
		f.Add(b.Bytes(), uint8(evs[0].Node))
	}
	f.Add([]byte(`{"ordo_trace":"1","runtime":"live","nodes":2}`+"\n"+`{"kind":"fault","name":"partition"}`+"\n"), uint8(0))
	f.Add([]byte("{}\n{\"id\":0,"), uint8(1))
	f.Add([]byte(""), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, node uint8) {
		nd := ordo.NodeID(node % 3) // 0: the fault log; 1, 2: nodes
		ne, err := decodeEvents(bytes.NewReader(data), "n.jsonl", nd, 2)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "n.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, e := range ne.events {
			switch {
			case nd == 0 && e.Kind != trace.Fault:
				t.Fatalf("accepted a %s event in the fault log", e.Kind)
			case nd != 0 && e.Kind == trace.Drop && e.Node != nd && e.Peer != nd:
				t.Fatalf("accepted a drop %v→%v in %v's file", e.Node, e.Peer, nd)
			case nd != 0 && e.Kind != trace.Drop && e.Node != nd:
				t.Fatalf("accepted an event of %v in %v's file", e.Node, nd)
			}
		}
	})
}

// Merge on a running cluster reads the files one after another: a node
// may send after its file was read, and its peer's file, read later, hold
// the receive. Merge re-reads the sender, finds the send there, and ends
// the receiver's part before that receive (a consistent cut) instead of
// refusing the files as contradictory.
func TestMergeOfARunningClusterIsAConsistentCut(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 2, nil)
	ex := exchange()
	// When Merge reads n1's file it holds only n1's start; n1 sends m1
	// right after, n2 receives it and replies before n2's file is read.
	writeNodeFiles(t, cfg, [][]trace.Event{ex[0][:1], ex[1]}, nil)
	t.Cleanup(func() { mergeReadHook = nil })
	mergeReadHook = func(node ordo.NodeID) {
		if node == 1 {
			writeNodeFiles(t, cfg, ex, nil)
		}
	}
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tr.Events {
		got = append(got, fmt.Sprintf("%v:%s", e.Node, e.Kind))
	}
	if want := []string{"n1:start", "n2:start"}; !slices.Equal(got, want) {
		t.Fatalf("merged %v, want the cut %v", got, want)
	}
	// Read again once the nodes are quiet: the whole run.
	mergeReadHook = nil
	if tr, err = Merge(cfg); err != nil || len(tr.Events) != 6 {
		t.Fatalf("quiet merge: %v, %d events; want 6", err, len(tr.Events))
	}
}

// The cut carries on: what the cut-off events sent is cut from the nodes
// that received it. n1 sends m1 after its file was read; n2 receives it
// and sends m2 to n3; n3 receives m2. Both n2 and n3 end before their
// receives.
func TestMergeCutCarriesOn(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 3, nil)
	s := []trace.Stamper{trace.NewStamper(1, 3), trace.NewStamper(2, 3), trace.NewStamper(3, 3)}
	nodes := make([][]trace.Event, 3)
	add := func(i int, e trace.Event) {
		st := &s[i]
		e.ID, e.Node = len(nodes[i]), ordo.NodeID(i+1)
		e.Lamport, e.Vector = st.Lamport, slices.Clone(st.Vector)
		e.T = int64(10*e.Lamport) + int64(i)
		nodes[i] = append(nodes[i], e)
	}
	for i := range 3 {
		s[i].Tick()
		add(i, trace.Event{Kind: trace.Start})
	}
	m1, m2 := uint64(1)<<40|1, uint64(2)<<40|1
	s[0].Tick()
	add(0, trace.Event{Kind: trace.Send, Peer: 2, Msg: m1, MsgKind: "m"})
	s[1].Recv(s[0].Lamport, s[0].Vector)
	add(1, trace.Event{Kind: trace.Recv, Peer: 1, Msg: m1, MsgKind: "m"})
	s[1].Tick()
	add(1, trace.Event{Kind: trace.Send, Peer: 3, Msg: m2, MsgKind: "m"})
	s[2].Recv(s[1].Lamport, s[1].Vector)
	add(2, trace.Event{Kind: trace.Recv, Peer: 2, Msg: m2, MsgKind: "m"})
	writeNodeFiles(t, cfg, [][]trace.Event{nodes[0][:1], nodes[1], nodes[2]}, nil)
	t.Cleanup(func() { mergeReadHook = nil })
	mergeReadHook = func(node ordo.NodeID) {
		if node == 1 {
			writeNodeFiles(t, cfg, nodes, nil)
		}
	}
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Events) != 3 || slices.ContainsFunc(tr.Events, func(e trace.Event) bool { return e.Kind != trace.Start }) {
		t.Fatalf("merged %d events %v; want the three starts", len(tr.Events), tr.Events)
	}
}

// A receive whose send the sender's file lacks even when read again is
// not a read race: Merge still refuses the files.
func TestMergeRefusesAReceiveNeverSent(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 2, nil)
	ex := exchange()
	writeNodeFiles(t, cfg, [][]trace.Event{ex[0][:1], ex[1]}, nil) // n1 never writes its send
	_, err := Merge(cfg)
	if err == nil || !strings.Contains(err.Error(), "which no earlier event sends") {
		t.Fatalf("err %v; want the receive without a send refused", err)
	}
}

// Issue 14: the merged trace names the nodes made to lie
// (Meta.Byzantine), as a simulated run's does, so the checkers judge the
// correct nodes only: a switch in the fault log (ordo cluster byzantine;
// honest is no lie), and a node whose own trace shows it lying (a silent
// send dropped by itself) though no switch was logged (POST /byzantine
// alone). A node that lied with two behaviours is one liar.
func TestMergeNamesTheLiars(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 2, nil)
	nodes := exchange()
	n1 := nodes[0]
	n1 = append(n1, trace.Event{ID: len(n1), Kind: trace.Drop, Node: 1, Peer: 2, Msg: uint64(1)<<40 | 9, MsgKind: "m", Name: adversary.DropSilent, T: n1[len(n1)-1].T + 1})
	writeNodeFiles(t, cfg, [][]trace.Event{n1, nodes[1]}, nil)
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Meta.Byzantine) != 1 || tr.Meta.Byzantine[0] != (trace.Liar{Node: 1, Behaviour: "silent"}) {
		t.Fatalf("Meta.Byzantine %+v; want n1 (silent), from its own trace", tr.Meta.Byzantine)
	}
	for _, s := range []ByzantineSetting{{Behaviour: "equivocate"}, {Behaviour: Honest}, {Behaviour: "replay"}, {Behaviour: "equivocate"}} {
		if err := LogFault(cfg, 5, "byzantine", "node", 2, "behaviour", s.Behaviour, "rate", s.Rate); err != nil {
			t.Fatal(err)
		}
	}
	if err := LogFault(cfg, 6, "byzantine", "node", 1, "behaviour", Honest, "rate", 0.0); err != nil {
		t.Fatal(err)
	}
	if tr, err = Merge(cfg); err != nil {
		t.Fatal(err)
	}
	want := []trace.Liar{{Node: 1, Behaviour: "silent"}, {Node: 2, Behaviour: "equivocate, replay"}}
	if !slices.Equal(tr.Meta.Byzantine, want) {
		t.Fatalf("Meta.Byzantine %+v; want %+v", tr.Meta.Byzantine, want)
	}
	if !tr.Meta.IsByzantine(2) {
		t.Fatal("IsByzantine(2) = false")
	}
	// It reads back, liars and all.
	var b bytes.Buffer
	if err := tr.Write(&b); err != nil {
		t.Fatal(err)
	}
	back, err := trace.Read(&b)
	if err != nil || !slices.Equal(back.Meta.Byzantine, want) {
		t.Fatalf("read back: %v, liars %+v", err, back.Meta.Byzantine)
	}
}

// A forged receive (a forger on --insecure links, whose receiver believes
// the hello) merges: peer is the true sender, whose trace has the send,
// and claimed_from the sender claimed, as in the simulator. Merge refused
// the whole run before ("recv of message ... from n1, but e1 sent it from
// n3").
func TestMergeNamesTheTrueSenderOfAForgedReceive(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "test-elect", 3, nil)
	s1, s2, s3 := trace.NewStamper(1, 3), trace.NewStamper(2, 3), trace.NewStamper(3, 3)
	ev := func(s *trace.Stamper, id int, e trace.Event) trace.Event {
		e.ID, e.Node = id, ordo.NodeID(s.Node)
		e.Lamport, e.Vector = s.Lamport, slices.Clone(s.Vector)
		e.T = int64(10 * (int(e.Lamport) + s.Node))
		return e
	}
	m := uint64(3)<<40 | 1 // n3's message
	s1.Tick()
	n1 := []trace.Event{ev(&s1, 0, trace.Event{Kind: trace.Start})}
	s3.Tick()
	n3 := []trace.Event{ev(&s3, 0, trace.Event{Kind: trace.Start})}
	s3.Tick()
	n3 = append(n3, ev(&s3, 1, trace.Event{Kind: trace.Send, Peer: 2, Msg: m, MsgKind: "m"}))
	s2.Tick()
	n2 := []trace.Event{ev(&s2, 0, trace.Event{Kind: trace.Start})}
	s2.Recv(s3.Lamport, s3.Vector)
	n2 = append(n2, ev(&s2, 1, trace.Event{Kind: trace.Recv, Peer: 1, Msg: m, MsgKind: "m"})) // n3 claims to be n1
	writeNodeFiles(t, cfg, [][]trace.Event{n1, n2, n3}, nil)
	tr, err := Merge(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tr.Events {
		if e.Kind != trace.Recv {
			continue
		}
		claimed, ok := e.Attrs.Int("claimed_from")
		if e.Peer != 3 || !ok || claimed != 1 {
			t.Errorf("forged receive merged with peer %v, claimed_from %v (%v); want peer n3, claimed_from 1", e.Peer, claimed, ok)
		}
	}
}
