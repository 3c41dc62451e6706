package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// Reference: section 1, fallacy 1 ("the network is reliable": packet loss).
func TestLossDropsMessageWithReason(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2, Network: Network{Default: Link{Loss: 1}}})
	sendAt(s, 10*time.Millisecond, 1, 2, probeMsg{Seq: 1})
	tr := run(t, s, time.Second)
	if got := fate(tr, 1, 2); got != "drop:loss" {
		t.Fatalf("fate of 1->2: %q, want drop:loss", got)
	}
	if n := len(find(tr, kindIs(trace.Recv))); n != 0 {
		t.Fatalf("%d recv events under total loss", n)
	}
	if len(pr(s, 2).got) != 0 || s.Stats().Dropped != 1 {
		t.Fatalf("node 2 got %v, dropped %d", pr(s, 2).got, s.Stats().Dropped)
	}
	if !s.Fallacies().Has(FallacyReliable) {
		t.Fatal("loss did not count as fallacy 1")
	}
}

// Reference: section 5, network partition (Node 1, 2 | Node 3, 4, 5).
func TestPartitionBlocksExactlyTheNamedLinks(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 5})
	if err := s.Partition(ids(1, 2), ids(3, 4, 5)); err != nil {
		t.Fatal(err)
	}
	allToAll(s, time.Millisecond, 5)
	tr := run(t, s, 10*time.Millisecond)
	side := func(x int) bool { return x <= 2 }
	for link, f := range fates(tr, 0, 5) {
		want := "recv"
		if side(link[0]) != side(link[1]) {
			want = "drop:partition"
		}
		if f != want {
			t.Errorf("%d->%d: %s, want %s", link[0], link[1], f, want)
		}
	}
	// Heal: every link carries again.
	s.Heal()
	mark := len(tr.Events)
	allToAll(s, s.Now()+time.Millisecond, 5)
	tr = run(t, s, 10*time.Millisecond)
	for link, f := range fates(tr, mark, 5) {
		if f != "recv" {
			t.Errorf("after heal %d->%d: %s", link[0], link[1], f)
		}
	}
	if n := len(find(tr, func(e *trace.Event) bool { return e.Kind == trace.Fault && e.Name == "heal" })); n != 1 {
		t.Fatalf("%d heal events", n)
	}
}

func TestPartitionDropsMessagesInFlight(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3, Network: Network{Default: Link{Latency: Dist{Kind: Constant, A: 10 * time.Millisecond}}}})
	sendAt(s, 0, 1, 3, probeMsg{Seq: 1})
	sendAt(s, 0, 1, 2, probeMsg{Seq: 2})
	s.At(5*time.Millisecond, func(s *Sim) { _ = s.Partition(ids(1, 2), ids(3)) })
	tr := run(t, s, 50*time.Millisecond)
	if f := fate(tr, 1, 3); f != "drop:partition" {
		t.Fatalf("in-flight 1->3: %s, want drop:partition", f)
	}
	drop := find(tr, kindIs(trace.Drop))[0]
	if drop.T != int64(10*time.Millisecond) {
		t.Fatalf("dropped at %v, want at its arrival time 10ms", time.Duration(drop.T))
	}
	if f := fate(tr, 1, 2); f != "recv" {
		t.Fatalf("1->2 on the same side: %s", f)
	}
}

func TestCutOneWayBlocksOneDirection(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3})
	if err := s.CutOneWay(ids(1, 2), ids(3)); err != nil {
		t.Fatal(err)
	}
	allToAll(s, time.Millisecond, 3)
	tr := run(t, s, 10*time.Millisecond)
	want := map[[2]int]string{
		{1, 3}: "drop:partition", {2, 3}: "drop:partition",
		{3, 1}: "recv", {3, 2}: "recv", {1, 2}: "recv", {2, 1}: "recv",
	}
	for link, f := range fates(tr, 0, 3) {
		if f != want[link] {
			t.Errorf("%d->%d: %s, want %s", link[0], link[1], f, want[link])
		}
	}
}

// The bridge: two sides that cannot hear each other, both hear node 3.
func TestBridge(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 5})
	if err := s.Bridge(ids(1, 2), ids(4, 5), 3); err != nil {
		t.Fatal(err)
	}
	allToAll(s, time.Millisecond, 5)
	tr := run(t, s, 10*time.Millisecond)
	for link, f := range fates(tr, 0, 5) {
		a, b := link[0], link[1]
		cut := (a <= 2 && b >= 4) || (a >= 4 && b <= 2)
		want := "recv"
		if cut {
			want = "drop:partition"
		}
		if f != want {
			t.Errorf("%d->%d: %s, want %s", a, b, f, want)
		}
	}
	if err := s.Bridge(ids(1, 2), ids(3, 4), 3); err == nil {
		t.Fatal("bridge node inside a side accepted")
	}
	if err := s.Bridge(ids(1), ids(2), 9); err == nil {
		t.Fatal("bridge node out of range accepted")
	}
}

// Reference: section 5, partial failure, cause 4 ("Node B is slow"): a
// paused node (GC pause, frozen VM) handles nothing until it resumes.
func TestPausedNodeHandlesNothingUntilResume(t *testing.T) {
	probeOnStart = func(p *probe, env ordo.Env) {
		if env.ID() == 2 {
			env.After(300*time.Millisecond, ordo.Timer{Name: "t"})
		}
	}
	s := newProbeSim(t, Config{Nodes: 3})
	s.At(100*time.Millisecond, func(s *Sim) { s.Pause(2) })
	sendAt(s, 200*time.Millisecond, 1, 2, probeMsg{Seq: 1})
	sendAt(s, 250*time.Millisecond, 3, 2, probeMsg{Seq: 2})
	sendAt(s, 400*time.Millisecond, 1, 2, probeMsg{Seq: 3})
	s.At(time.Second, func(s *Sim) { s.Resume(2) })
	tr := run(t, s, 2*time.Second)
	var seen []string
	for _, e := range find(tr, func(e *trace.Event) bool { return e.Node == 2 && e.Kind.Stamped() }) {
		ms := time.Duration(e.T) / time.Millisecond
		if e.Kind == trace.Start {
			continue
		}
		if ms > 100 && ms < 1000 {
			t.Errorf("paused node 2 did %s at %dms", e.Describe(), ms)
		}
		seen = append(seen, string(e.Kind)+"@"+time.Duration(e.T).String())
	}
	want := []string{"pause@100ms", "resume@1s", "recv@1s", "recv@1s", "timer@1s", "recv@1s"}
	if !slices.Equal(seen, want) {
		t.Fatalf("node 2 events %v, want %v", seen, want)
	}
	if got := recvSeqs(s, 2); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("handled in order %v, want 1 2 3", got)
	}
}

// Reference: section 5, partial failure, cause 2 ("Node B crashed").
func TestCrashLosesVolatileStateKeepsStorage(t *testing.T) {
	probeNews = 0
	probeOnStart = func(p *probe, env ordo.Env) {
		if env.ID() == 1 && p.boots == 1 {
			env.After(time.Second, ordo.Timer{Name: "late"})
		}
	}
	s := newProbeSim(t, Config{Nodes: 2})
	sendAt(s, 100*time.Millisecond, 2, 1, probeMsg{Seq: 1})
	var before *probe
	s.At(150*time.Millisecond, func(s *Sim) { before = pr(s, 1) })
	s.At(200*time.Millisecond, func(s *Sim) { s.Crash(1) })
	sendAt(s, 300*time.Millisecond, 2, 1, probeMsg{Seq: 2})
	// held by a paused node when it crashes: lost too
	s.At(400*time.Millisecond, func(s *Sim) {
		if s.Node(1) != nil || s.Up(1) {
			t.Error("crashed node still up")
		}
		if err := s.Restart(1); err != nil {
			t.Error(err)
		}
		s.Pause(1)
	})
	sendAt(s, 500*time.Millisecond, 2, 1, probeMsg{Seq: 3})
	s.At(600*time.Millisecond, func(s *Sim) { s.Crash(1); _ = s.Restart(1) })
	tr := run(t, s, 3*time.Second)

	if len(before.got) != 1 {
		t.Fatalf("before the crash node 1 got %v", before.got)
	}
	after := pr(s, 1)
	if after == before || len(after.got) != 0 {
		t.Fatalf("restart kept volatile state: %v", after.got)
	}
	if after.boots != 3 {
		t.Fatalf("boots counted in Storage = %d, want 3 (storage survives crashes)", after.boots)
	}
	if probeNews != 2+2 { // two nodes at boot, two restarts of node 1
		t.Fatalf("New called %d times, want 4", probeNews)
	}
	if n := len(find(tr, func(e *trace.Event) bool { return e.Kind == trace.Timer && e.Name == "late" })); n != 0 {
		t.Fatal("a timer armed before the crash fired after it")
	}
	drops := find(tr, kindIs(trace.Drop))
	if len(drops) != 2 || drops[0].Name != "node down" || drops[1].Name != "node crashed" {
		for _, d := range drops {
			t.Log(d.Describe())
		}
		t.Fatal("want one message lost to a down node, one held at the crash")
	}
	if n := len(find(tr, func(e *trace.Event) bool { return e.Kind == trace.Restart && e.Node == 1 })); n != 2 {
		t.Fatalf("%d restart events", n)
	}
}

// Reference: section 2, "문제 1: 시계 드리프트" — drift of 10–100 µs per second.
func TestDriftingClockDriftsByConfiguredRate(t *testing.T) {
	probeOnStart = func(p *probe, env ordo.Env) { env.After(time.Second, ordo.Timer{Name: "sec"}) }
	s := newProbeSim(t, Config{Nodes: 3, ClockOf: map[ordo.NodeID]ClockModel{
		1: {DriftPPM: 100}, 2: {DriftPPM: -100}, 3: {Offset: 200 * time.Millisecond},
	}})
	var local [4]time.Duration
	s.At(time.Second, func(s *Sim) {
		for id := 1; id <= 3; id++ {
			local[id] = pr(s, ordo.NodeID(id)).env.Now().Sub(Epoch())
		}
	})
	tr := run(t, s, 2*time.Second)
	want := [4]time.Duration{0, time.Second + 100*time.Microsecond, time.Second - 100*time.Microsecond, 1200 * time.Millisecond}
	for id := 1; id <= 3; id++ {
		if d := local[id] - want[id]; d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("node %d reads %v at true 1s, want %v", id, local[id], want[id])
		}
	}
	// Timers run on the local clock: the fast clock's 1 s timer fires early
	// (never before its second has passed on the node's clock: a few ns
	// late at most, trueDuration rounds up).
	fired := map[ordo.NodeID]int64{}
	for _, e := range find(tr, kindIs(trace.Timer)) {
		fired[e.Node] = e.T
	}
	for id, wantT := range map[ordo.NodeID]float64{1: 1e9 / 1.0001, 2: 1e9 / 0.9999, 3: 1e9} {
		if d := float64(fired[id]) - wantT; d < -1 || d > 3 {
			t.Errorf("node %d's 1s timer fired at true %dns, want %.0fns", id, fired[id], wantT)
		}
	}
}

// A timer of local duration d armed at true time t0 fires when the node's
// monotonic clock has advanced by at least d — never a nanosecond early,
// whatever the drift (a lease holder's deadline timer must find its
// deadline passed) — and at most a few nanoseconds late.
func TestTimerNeverFiresEarlyOnItsClock(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		c := newClock(ClockModel{DriftPPM: float64(r.IntN(400_001) - 200_000)}, nil)
		t0 := time.Duration(r.Int64N(int64(time.Hour)))
		d := time.Duration(r.Int64N(int64(10 * time.Second)))
		t1 := t0 + c.trueDuration(d)
		if got := c.monotonic(t1) - c.monotonic(t0); got < d || got > d+4 {
			t.Fatalf("drift %v ppm: a %v timer armed at %v fired after %v on the node's clock", c.model.DriftPPM, d, t0, got)
		}
	}
}

// Reference: section 2, "문제 2: NTP 동기화의 한계" — accuracy of tens of ms.
func TestNTPSyncErrorStaysWithinBound(t *testing.T) {
	const bound = 10 * time.Millisecond
	s := newProbeSim(t, Config{Nodes: 1, Seed: 7, Clock: ClockModel{DriftPPM: 100, NTPEvery: time.Second, NTPError: bound}})
	var errs []time.Duration
	for k := 1; k <= 200; k++ {
		s.At(time.Duration(k)*time.Second+time.Nanosecond, func(s *Sim) { errs = append(errs, s.LocalTime(1)-s.Now()) })
	}
	var beforeSync time.Duration
	s.At(999*time.Millisecond, func(s *Sim) { beforeSync = s.LocalTime(1) - s.Now() })
	run(t, s, 201*time.Second)
	if d := beforeSync - 99900*time.Nanosecond; d < -time.Nanosecond || d > time.Nanosecond {
		t.Fatalf("before the first sync the clock is off by %v, want 99.9µs of drift", beforeSync)
	}
	lo, hi := slices.Min(errs), slices.Max(errs)
	if lo < -bound || hi > bound {
		t.Fatalf("NTP error range [%v, %v] exceeds ±%v", lo, hi, bound)
	}
	if hi-lo < bound {
		t.Fatalf("NTP errors span only [%v, %v]: not drawn from ±%v", lo, hi, bound)
	}
}

// Reference: section 2, "시간 점프 발생 가능 (앞/뒤로)".
func TestClockJumpsMoveNowButNotTimers(t *testing.T) {
	probeOnStart = func(p *probe, env ordo.Env) {
		if env.ID() == 1 {
			env.After(time.Second, ordo.Timer{Name: "sec"})
		}
	}
	s := newProbeSim(t, Config{Nodes: 2})
	var afterFwd, afterBack time.Duration
	s.At(300*time.Millisecond, func(s *Sim) { s.JumpClock(1, 2*time.Second) })
	s.At(300*time.Millisecond, func(s *Sim) { afterFwd = pr(s, 1).env.Now().Sub(Epoch()) })
	s.At(500*time.Millisecond, func(s *Sim) { s.JumpClock(1, -5*time.Second) })
	s.At(500*time.Millisecond, func(s *Sim) { afterBack = pr(s, 1).env.Now().Sub(Epoch()) })
	tr := run(t, s, 2*time.Second)
	if afterFwd != 2300*time.Millisecond || afterBack != -2500*time.Millisecond {
		t.Fatalf("after jumps node 1 reads %v then %v, want 2.3s then -2.5s", afterFwd, afterBack)
	}
	timers := find(tr, kindIs(trace.Timer))
	if len(timers) != 1 || timers[0].T != int64(time.Second) || timers[0].Local != int64(-2*time.Second) {
		t.Fatalf("timer events %v: want one at true 1s reading -2s locally", timers)
	}
	jumps := find(tr, func(e *trace.Event) bool { return e.Kind == trace.Note && e.Name == "clock-jump" })
	if len(jumps) != 2 || jumps[0].Attrs.Get("by") != "2s" || jumps[1].Attrs.Get("by") != "-5s" {
		t.Fatalf("clock-jump notes %v", jumps)
	}
	if s.LocalTime(2) != s.Now() {
		t.Fatal("node 2's clock moved")
	}
}

func TestDuplication(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2, Network: Network{Default: Link{Duplicate: 1, Latency: Presets["lan"]}}})
	for i := 0; i < 10; i++ {
		sendAt(s, time.Duration(i)*time.Millisecond, 1, 2, probeMsg{Seq: i})
	}
	tr := run(t, s, time.Second)
	perMsg := map[uint64]int{}
	for _, e := range find(tr, kindIs(trace.Recv)) {
		perMsg[e.Msg]++
	}
	if len(perMsg) != 10 {
		t.Fatalf("%d distinct messages received", len(perMsg))
	}
	for id, n := range perMsg {
		if n != 2 {
			t.Fatalf("message %d received %d times, want 2", id, n)
		}
	}
	if s.Stats().Duplicated != 10 || len(pr(s, 2).got) != 20 {
		t.Fatalf("duplicated %d, delivered %d", s.Stats().Duplicated, len(pr(s, 2).got))
	}
}

// Reference: section 1, fallacy 3 ("bandwidth is infinite").
func TestBandwidthQueueing(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3, Network: Network{Default: Link{Bandwidth: 1000}}}) // 1000 B/s
	sendAt(s, 0, 1, 2, probeMsg{Seq: 1, Pad: 100})
	sendAt(s, time.Second, 1, 2, probeMsg{Seq: 2, Pad: 500})
	sendAt(s, 2*time.Second, 1, 2, probeMsg{Seq: 3, Pad: 100})
	sendAt(s, 2*time.Second, 1, 2, probeMsg{Seq: 4, Pad: 100})
	sendAt(s, 2*time.Second, 1, 3, probeMsg{Seq: 5, Pad: 100})
	tr := run(t, s, 5*time.Second)
	recvs := find(tr, kindIs(trace.Recv))
	var got []string
	for _, e := range recvs {
		got = append(got, e.Node.String()+"@"+time.Duration(e.T).String())
	}
	want := []string{"n2@100ms", "n2@1.5s", "n2@2.1s", "n3@2.1s", "n2@2.2s"}
	if !slices.Equal(got, want) {
		t.Fatalf("arrivals %v, want %v (100 B at 1000 B/s = 100 ms; back-to-back messages queue; links are independent)", got, want)
	}
	if !s.Fallacies().Has(FallacyBandwidth) {
		t.Fatal("queueing did not count as fallacy 3")
	}
}

func recvSeqs(s *Sim, id ordo.NodeID) []int {
	var out []int
	for _, m := range pr(s, id).got {
		out = append(out, m.Seq)
	}
	return out
}

func TestFIFOOnOff(t *testing.T) {
	jitter := Dist{Kind: Uniform, A: 0, B: 10 * time.Millisecond}
	for _, fifo := range []bool{false, true} {
		for _, dup := range []float64{0, 0.3} {
			s := newProbeSim(t, Config{Nodes: 2, Seed: 3, Network: Network{FIFO: fifo, Default: Link{Latency: jitter, Duplicate: dup}}})
			s.At(0, func(s *Sim) {
				for i := 0; i < 200; i++ {
					pr(s, 1).env.Send(2, probeMsg{Seq: i})
				}
			})
			run(t, s, time.Second)
			seqs := recvSeqs(s, 2)
			inversions := 0
			for i := 1; i < len(seqs); i++ {
				if seqs[i] < seqs[i-1] {
					inversions++
				}
			}
			if fifo && inversions > 0 {
				t.Errorf("FIFO on (dup %v): %d reorderings", dup, inversions)
			}
			if !fifo && inversions == 0 {
				t.Errorf("FIFO off with 10ms jitter (dup %v): no reordering in 200 messages", dup)
			}
		}
	}
}

// Reference: section 1, fallacy 4 ("the network is secure": man in the
// middle) and its defence (authentication).
func TestTamperingAndAuthenticatedLinks(t *testing.T) {
	for _, auth := range []bool{false, true} {
		s := newProbeSim(t, Config{Nodes: 2, Network: Network{Authenticated: auth, Default: Link{Tamper: 1}}})
		sent := probeMsg{Seq: 7, Text: "hello"}
		sendAt(s, 0, 1, 2, sent)
		tr := run(t, s, time.Second)
		got := pr(s, 2).got
		if auth {
			if f := fate(tr, 1, 2); f != "drop:tampered: authentication failed" || len(got) != 0 {
				t.Fatalf("authenticated: fate %q, got %v", f, got)
			}
		} else {
			if len(got) != 1 || got[0] == sent {
				t.Fatalf("tampered message arrived as %v, sent %v", got, sent)
			}
		}
		if s.Stats().Tampered != 1 || !s.Fallacies().Has(FallacySecure) {
			t.Fatal("tampering not counted")
		}
	}
}

// Reference: section 1, fallacy 5 ("topology doesn't change").
func TestJoinAndLeave(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3, Absent: ids(3)})
	sendAt(s, 100*time.Millisecond, 1, 3, probeMsg{Seq: 1})
	s.At(500*time.Millisecond, func(s *Sim) {
		if err := s.Join(3); err != nil {
			t.Error(err)
		}
	})
	sendAt(s, 600*time.Millisecond, 1, 3, probeMsg{Seq: 2})
	s.At(700*time.Millisecond, func(s *Sim) { s.Leave(2) })
	sendAt(s, 800*time.Millisecond, 1, 2, probeMsg{Seq: 3})
	s.At(900*time.Millisecond, func(s *Sim) {
		if err := s.Restart(2); err == nil {
			t.Error("restarted a node that left")
		}
		if err := s.Join(1); err == nil {
			t.Error("joined a member")
		}
	})
	tr := run(t, s, time.Second)
	starts := find(tr, func(e *trace.Event) bool { return e.Kind == trace.Start && e.Node == 3 })
	if len(starts) != 1 || starts[0].T != int64(500*time.Millisecond) {
		t.Fatalf("node 3 start events %v, want one at 500ms", starts)
	}
	drops := find(tr, kindIs(trace.Drop))
	if len(drops) != 2 || drops[0].Peer != 3 || drops[1].Peer != 2 || drops[0].Name != "node down" {
		t.Fatalf("drops %v: want the message to absent 3 and to departed 2", drops)
	}
	if seqs := recvSeqs(s, 3); !slices.Equal(seqs, []int{2}) {
		t.Fatalf("node 3 received %v, want [2]", seqs)
	}
	if s.Up(2) || !s.Fallacies().Has(FallacyTopology) {
		t.Fatal("leave did not take node 2 away or count as fallacy 5")
	}
	if err := s.Join(2); err != nil {
		t.Fatalf("rejoin: %v", err)
	}
}

// Reference: section 1, fallacy 8 ("the network is homogeneous"): a slow
// node's events queue.
func TestSlowNodeQueuesEvents(t *testing.T) {
	probeOnStart = func(p *probe, env ordo.Env) {
		if env.ID() == 2 {
			env.After(105*time.Millisecond, ordo.Timer{Name: "t"})
		}
	}
	s := newProbeSim(t, Config{Nodes: 3, SpeedOf: map[ordo.NodeID]time.Duration{2: 10 * time.Millisecond}})
	sendAt(s, 100*time.Millisecond, 1, 2, probeMsg{Seq: 1})
	sendAt(s, 100*time.Millisecond, 3, 2, probeMsg{Seq: 2})
	sendAt(s, 100*time.Millisecond, 1, 2, probeMsg{Seq: 3})
	sendAt(s, 100*time.Millisecond, 2, 1, probeMsg{Seq: 4}) // an action: not a handled event
	sendAt(s, 100*time.Millisecond, 3, 1, probeMsg{Seq: 5})
	tr := run(t, s, time.Second)
	var at2, at1 []string
	for _, e := range tr.Events {
		if e.Kind == trace.Recv || e.Kind == trace.Timer {
			s := string(e.Kind) + "@" + time.Duration(e.T).String()
			if e.Node == 2 {
				at2 = append(at2, s)
			} else {
				at1 = append(at1, s)
			}
		}
	}
	want2 := []string{"recv@100ms", "recv@110ms", "recv@120ms", "timer@130ms"}
	if !slices.Equal(at2, want2) {
		t.Fatalf("slow node 2 handled %v, want %v", at2, want2)
	}
	if !slices.Equal(at1, []string{"recv@100ms", "recv@100ms"}) {
		t.Fatalf("fast node 1 handled %v", at1)
	}
	if seqs := recvSeqs(s, 2); !slices.Equal(seqs, []int{1, 2, 3}) {
		t.Fatalf("slow node handled %v out of order", seqs)
	}
	if !s.Fallacies().Has(FallacyHomogeneous) {
		t.Fatal("node speeds did not count as fallacy 8")
	}
}

// Reference: section 1, fallacies 2 and 8: links differ, per direction.
func TestHeterogeneousAsymmetricLink(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2})
	if err := s.SetLink(1, 2, Link{Latency: Dist{Kind: Constant, A: 75 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLink(1, 1, Link{}); err == nil {
		t.Fatal("self link accepted")
	}
	sendAt(s, 0, 1, 2, probeMsg{})
	sendAt(s, 0, 2, 1, probeMsg{})
	tr := run(t, s, time.Second)
	for _, e := range find(tr, kindIs(trace.Recv)) {
		want := int64(0)
		if e.Node == 2 {
			want = int64(75 * time.Millisecond)
		}
		if e.T != want {
			t.Errorf("%s at %v, want %v", e.Describe(), time.Duration(e.T), time.Duration(want))
		}
	}
}

func TestBadFaultArgumentsAreErrors(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 3})
	if err := s.Partition(ids(1, 2), ids(2, 3)); err == nil {
		t.Error("node in two groups accepted")
	}
	if err := s.Partition(ids(1, 7)); err == nil {
		t.Error("unknown node accepted")
	}
	if err := s.CutOneWay(ids(0), ids(1)); err == nil {
		t.Error("node 0 accepted")
	}
	if err := s.SetLossBurst(1.5); err == nil {
		t.Error("loss burst 1.5 accepted")
	}
	if _, err := New(Config{Protocol: probeProto, Nodes: 2, Speed: -time.Second}); err == nil {
		t.Error("negative speed accepted")
	}
}

// A node crashed while busy (events waiting for it) and restarted at once
// handles what arrives afterwards: no stale drain or held event survives
// the crash.
func TestCrashWhileBusyThenRestart(t *testing.T) {
	s := newProbeSim(t, Config{Nodes: 2, SpeedOf: map[ordo.NodeID]time.Duration{2: 10 * time.Millisecond}})
	for i := 1; i <= 3; i++ {
		sendAt(s, 100*time.Millisecond, 1, 2, probeMsg{Seq: i})
	}
	s.At(105*time.Millisecond, func(s *Sim) { s.Crash(2); _ = s.Restart(2) })
	sendAt(s, 106*time.Millisecond, 1, 2, probeMsg{Seq: 4})
	sendAt(s, 106*time.Millisecond, 1, 2, probeMsg{Seq: 5})
	tr := run(t, s, time.Second)
	if seqs := recvSeqs(s, 2); !slices.Equal(seqs, []int{4, 5}) {
		t.Fatalf("after restart node 2 handled %v, want [4 5]", seqs)
	}
	var at []time.Duration
	for _, e := range find(tr, func(e *trace.Event) bool { return e.Kind == trace.Recv && e.Node == 2 }) {
		at = append(at, time.Duration(e.T))
	}
	want := []time.Duration{100 * time.Millisecond, 106 * time.Millisecond, 116 * time.Millisecond}
	if !slices.Equal(at, want) {
		t.Fatalf("recv times %v, want %v", at, want)
	}
	if drops := find(tr, kindIs(trace.Drop)); len(drops) != 2 || drops[0].Name != "node crashed" {
		t.Fatalf("want the two held messages dropped at the crash, got %v", drops)
	}
}

// Observers see a note with its attributes (they are set before the
// event is shown).
func TestObserversSeeCompleteEvents(t *testing.T) {
	probeOnStart = func(p *probe, env ordo.Env) {
		env.Note("hello", "term", 3)
		env.After(time.Millisecond, ordo.Timer{Name: "t", Arg: 9})
	}
	s := newProbeSim(t, Config{Nodes: 1})
	var seen []string
	s.Observe(func(e *trace.Event) { seen = append(seen, e.Describe()[len("eN "):]) })
	run(t, s, time.Second)
	if !slices.Equal(seen, []string{"n1 timer t arg=9 L=3 V=[3]"}) {
		t.Fatalf("observer saw %q", seen)
	}
	if a := s.Trace().Events[1].Attrs; a.Get("term") != 3 {
		t.Fatalf("note attrs %v", a)
	}
}
