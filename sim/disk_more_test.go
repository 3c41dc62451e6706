package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// Issue 9, "a suite that catches what it claims to": the disk model's
// contract (ordo.Storage's durability rule, chapter section on crash
// recovery: what reached stable storage survives a crash, nothing else;
// a storage fault is a fail-stop, never invented state).

// wop asks the writer node to write: Op "put" Key=N copies, "del" Key,
// "range" [Key, End), "batch" N puts in one Apply, "none" nothing. It
// answers with wack after the write, which the contract holds until sync.
type wop struct {
	Op, Key, End string
	N            int
}

func (wop) Kind() string { return "wop" }

type wack struct{ Key string }

func (wack) Kind() string { return "wack" }

type writer struct{}

func (writer) Start(ordo.Env) {}
func (writer) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	w, ok := m.(wop)
	if !ok {
		return
	}
	st := env.Store()
	switch w.Op {
	case "put":
		st.Put(w.Key, []byte(strings.Repeat("v", max(1, w.N))))
	case "del":
		st.Delete(w.Key)
	case "range":
		st.DeleteRange(w.Key, w.End)
	case "batch":
		var b ordo.Batch
		for i := range w.N {
			b.Put(w.Key+string(rune('a'+i)), []byte{byte(i)})
		}
		b.Delete(w.End)
		b.DeleteRange(w.End+"0", w.End+"9")
		st.Apply(&b)
	case "two":
		st.Put(w.Key, []byte{1})
		env.Send(from, wack{Key: w.Key + "1"})
	case "many":
		for i := range w.N {
			st.Put(w.Key, []byte{byte(i)})
		}
	}
	env.Send(from, wack{Key: w.Key})
}
func (writer) Fire(ordo.Env, ordo.Timer) {}

var writerProto = &ordo.Protocol{Name: "writer", New: func(ordo.Config) (ordo.Node, error) { return writer{}, nil }}

// newWriter runs 2 nodes; node 1's requests reach node 2 after 1 ms.
func newWriter(t *testing.T, d Disk, seed uint64) *Sim {
	t.Helper()
	s, err := New(Config{Protocol: writerProto, Nodes: 2, Seed: seed, Trace: true, Disk: d,
		Network: Network{Default: Link{Latency: Dist{Kind: Constant, A: time.Millisecond}}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ask makes node 2 receive w at true time at+1ms (sent by node 1 at at).
func ask(s *Sim, at time.Duration, w wop) {
	s.At(at, func(s *Sim) { s.injectMsg(1, 2, w) })
}

// injectMsg puts m from → to in flight, arriving 1 ms from now (node 1's
// own disk is not involved: the test plays its part).
func (s *Sim) injectMsg(from, to ordo.NodeID, m ordo.Message) {
	s.msgID++
	s.enqueueDelivery(s.node(from), to, m, s.msgID, ordo.DefaultMessageSize, s.now+time.Millisecond)
}

func countEv(tr *trace.Trace, ok func(e *trace.Event) bool) int {
	n := 0
	for i := range tr.Events {
		if ok(&tr.Events[i]) {
			n++
		}
	}
	return n
}

// Disk.validate and On at their bounds: a latency of MaxSyncLatency and
// probabilities 0 and 1 are accepted; one step past is refused; each
// field alone turns the model on.
func TestDiskConfigBounds(t *testing.T) {
	for _, d := range []Disk{{SyncLatency: MaxSyncLatency}, {FailSync: 1}, {Full: 1}, {Tear: 1}, {CorruptRead: 1}, {FailSync: 0}} {
		if err := d.validate(); err != nil {
			t.Errorf("%+v refused: %v", d, err)
		}
	}
	for _, d := range []Disk{{SyncLatency: -1}, {SyncLatency: MaxSyncLatency + 1},
		{FailSync: -0.01}, {FailSync: 1.01}, {Full: 1.01}, {Full: -1}, {Tear: 1.01}, {Tear: -0.5}, {CorruptRead: 1.01},
		{CorruptRead: -0.1}, {FailSync: math.NaN()}, {CorruptRead: math.NaN()}} {
		if err := d.validate(); err == nil {
			t.Errorf("%+v accepted", d)
		}
		if _, err := New(Config{Protocol: writerProto, Nodes: 2, Disk: d}); err == nil {
			t.Errorf("New with %+v accepted", d)
		}
	}
	if (Disk{}).On() {
		t.Error("the zero Disk is on")
	}
	for _, d := range []Disk{{SyncLatency: 1}, {FailSync: 0.1}, {Full: 0.1}, {Tear: 0.1}, {CorruptRead: 0.1}} {
		if !d.On() {
			t.Errorf("%+v is off", d)
		}
		s := newWriter(t, d, 1)
		if s.Synced(2) == s.Store(2) {
			t.Errorf("%+v: no disk model (synced state is the working state)", d)
		}
	}
}

// Deletes, range deletes and batches go through the disk like puts: a
// crash before the fsync loses them whole; after it they are kept.
func TestDiskEveryWriteKindIsHeldUntilSync(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: 5 * time.Millisecond}, 1)
	ask(s, 0, wop{Op: "put", Key: "k", N: 3})
	ask(s, 0, wop{Op: "put", Key: "r1"})
	ask(s, 0, wop{Op: "put", Key: "x5"})
	s.RunUntil(50 * time.Millisecond)
	for _, k := range []string{"k", "r1", "x5"} {
		if _, ok := s.Synced(2).Get(k); !ok {
			t.Fatalf("%s not synced", k)
		}
	}
	// A delete, a range delete and a batch, then a crash mid-fsync.
	ask(s, 50*time.Millisecond, wop{Op: "del", Key: "k"})
	s.RunUntil(60 * time.Millisecond)
	ask(s, 60*time.Millisecond, wop{Op: "range", Key: "r", End: "s"})
	s.RunUntil(70 * time.Millisecond)
	ask(s, 70*time.Millisecond, wop{Op: "batch", Key: "b", End: "x", N: 3})
	s.RunUntil(73 * time.Millisecond) // received at 71 ms, fsync due at 76 ms
	if _, ok := s.Store(2).Get("x5"); ok {
		t.Fatal("the batch's range delete is not visible to reads")
	}
	if _, ok := s.Synced(2).Get("k"); ok {
		t.Fatal("the synced delete did not reach the disk")
	}
	if _, ok := s.Synced(2).Get("r1"); ok {
		t.Fatal("the synced range delete did not reach the disk")
	}
	if _, ok := s.Synced(2).Get("ba"); ok {
		t.Fatal("the batch is on disk before its fsync")
	}
	s.Crash(2)
	if err := s.Restart(2); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Store(2).Get("ba"); ok {
		t.Fatal("an unsynced batch survived the crash")
	}
	if _, ok := s.Store(2).Get("x5"); !ok {
		t.Fatal("the unsynced batch's range delete survived the crash")
	}
	// The same batch, synced this time, is kept whole.
	ask(s, s.Now(), wop{Op: "batch", Key: "b", End: "x", N: 3})
	s.RunFor(20 * time.Millisecond)
	for _, k := range []string{"ba", "bb", "bc"} {
		if _, ok := s.Synced(2).Get(k); !ok {
			t.Fatalf("synced batch lacks %s", k)
		}
	}
	if _, ok := s.Synced(2).Get("x5"); ok {
		t.Fatal("synced batch's range delete not applied")
	}
}

// The node is busy during its fsync: a request arriving meanwhile is
// handled when the fsync returns (the live loop waits in fsync), and each
// reply leaves only when its own write is synced.
func TestDiskNodeWaitsInFsync(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: 10 * time.Millisecond}, 1)
	ask(s, 0, wop{Op: "put", Key: "a"})                    // received at 1 ms, synced at 11 ms
	ask(s, 2*time.Millisecond, wop{Op: "put", Key: "b"})   // arrives at 3 ms, handled at 11 ms, synced at 21
	ask(s, 30*time.Millisecond, wop{Op: "none", Key: "c"}) // writes nothing: its reply leaves at once
	s.RunFor(100 * time.Millisecond)
	var recvAt = map[string]time.Duration{}
	var ackAt = map[string]time.Duration{}
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Recv && e.Node == 2 && e.MsgKind == "wop" {
			recvAt[string(rune('a'+len(recvAt)))] = time.Duration(e.T)
		}
		if e.Kind == trace.Recv && e.Node == 1 && e.MsgKind == "wack" {
			ackAt[string(rune('a'+len(ackAt)))] = time.Duration(e.T)
		}
	}
	want := map[string][2]time.Duration{
		"a": {1 * time.Millisecond, 12 * time.Millisecond},
		"b": {11 * time.Millisecond, 22 * time.Millisecond},
		"c": {31 * time.Millisecond, 32 * time.Millisecond},
	}
	for k, w := range want {
		if recvAt[k] != w[0] || ackAt[k] != w[1] {
			t.Errorf("request %s handled at %v, answered at %v; want %v and %v", k, recvAt[k], ackAt[k], w[0], w[1])
		}
	}
}

// Seeded fault probabilities at 1 strike every time and name their cause;
// at 0 (another fault's rate on) they never strike.
func TestDiskFaultProbabilities(t *testing.T) {
	for _, c := range []struct {
		d    Disk
		want string
	}{
		{Disk{FailSync: 1}, "EIO"},
		{Disk{Full: 1}, "ENOSPC"},
		{Disk{SyncLatency: time.Millisecond, FailSync: 1}, "EIO"},
		{Disk{SyncLatency: time.Millisecond, Full: 1}, "ENOSPC"},
	} {
		s := newWriter(t, c.d, 1)
		ask(s, 0, wop{Op: "put", Key: "a"})
		s.RunFor(20 * time.Millisecond)
		if s.Up(2) || !strings.Contains(failStopOf(t, s, 2), c.want) {
			t.Errorf("%+v: up %v, fail-stop %q; want a fail-stop for %s", c.d, s.Up(2), failStopOf(t, s, 2), c.want)
		}
		if _, ok := s.Synced(2).Get("a"); ok {
			t.Errorf("%+v: the failed batch reached the disk", c.d)
		}
		if findEv(s.Trace(), trace.Recv, "wack") != nil {
			t.Errorf("%+v: the reply of a failed write left", c.d)
		}
	}
	// Another fault's rate on, these at 0: writes succeed.
	s := newWriter(t, Disk{SyncLatency: time.Millisecond, Tear: 1}, 1)
	for i := range 10 {
		ask(s, time.Duration(i)*5*time.Millisecond, wop{Op: "put", Key: "a"})
	}
	s.RunFor(100 * time.Millisecond)
	if !s.Up(2) || countEv(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Recv && e.MsgKind == "wack" }) != 10 {
		t.Error("with fail-sync and full at 0, a write failed")
	}
	// Tear 1: a crash with an fsync in flight always tears; with none in
	// flight, nothing is torn.
	ask(s, s.Now(), wop{Op: "put", Key: "t"})
	s.RunFor(1500 * time.Microsecond) // received, fsync in flight
	s.Crash(2)
	s.Restart(2)
	s.Crash(2) // nothing in flight
	torn := countEv(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Fault && e.Name == "torn-write" })
	if torn != 1 {
		t.Errorf("tear 1: %d torn writes, want 1 (one crash with a batch in flight)", torn)
	}
	if _, ok := s.Synced(2).Get("t"); ok {
		t.Error("a torn batch reached the disk")
	}
	// Tear 0 with another rate on: a crash mid-fsync loses the batch but
	// tears nothing.
	s = newWriter(t, Disk{SyncLatency: time.Millisecond, CorruptRead: 0.0001}, 1)
	ask(s, 0, wop{Op: "put", Key: "t"})
	s.RunFor(1500 * time.Microsecond)
	s.Crash(2)
	if n := countEv(s.Trace(), func(e *trace.Event) bool { return e.Name == "torn-write" }); n != 0 {
		t.Errorf("tear 0: %d torn writes", n)
	}
	// CorruptRead 1: every restart's recovery fails.
	s = newWriter(t, Disk{CorruptRead: 1}, 1)
	s.Crash(2)
	for range 3 {
		s.Restart(2)
		if s.Up(2) {
			t.Fatal("corrupt-read 1: a restart recovered")
		}
	}
	if !strings.Contains(failStopOf(t, s, 2), "corrupt") {
		t.Errorf("corrupt-read 1: fail-stop %q", failStopOf(t, s, 2))
	}
}

// A forced tear strikes only the crash it is forced on: CrashTorn with no
// fsync in flight tears nothing, and the next crash with a batch in flight
// is a plain one.
func TestDiskForcedTearIsOneShot(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: 5 * time.Millisecond}, 1)
	if err := s.CrashTorn(2); err != nil {
		t.Fatal(err)
	}
	if s.Up(2) {
		t.Fatal("CrashTorn left the node up")
	}
	s.Restart(2)
	ask(s, s.Now(), wop{Op: "put", Key: "t"})
	s.RunFor(3 * time.Millisecond)
	s.Crash(2)
	if n := countEv(s.Trace(), func(e *trace.Event) bool { return e.Name == "torn-write" }); n != 0 {
		t.Errorf("%d torn writes, want 0", n)
	}
	// Without the model every storage fault is refused.
	s = newWriter(t, Disk{}, 1)
	for name, f := range map[string]func(ordo.NodeID) error{"FillDisk": s.FillDisk, "CorruptRead": s.CorruptRead, "CrashTorn": s.CrashTorn, "FailSync": s.FailSync} {
		if err := f(2); err == nil || !strings.Contains(err.Error(), "disk model") {
			t.Errorf("%s without the disk model: %v", name, err)
		}
	}
	if !s.Up(2) {
		t.Error("a refused CrashTorn crashed the node")
	}
}

// A forced fsync failure strikes the next fsync only: the node is stopped
// once, and after a restart it writes again.
func TestDiskForcedFailureIsOneShot(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: time.Millisecond}, 1)
	if err := s.FillDisk(2); err != nil {
		t.Fatal(err)
	}
	ask(s, 0, wop{Op: "put", Key: "a"})
	s.RunFor(10 * time.Millisecond)
	if s.Up(2) {
		t.Fatal("the full disk did not stop the node")
	}
	if err := s.Restart(2); err != nil {
		t.Fatal(err)
	}
	ask(s, s.Now(), wop{Op: "put", Key: "b"})
	s.RunFor(10 * time.Millisecond)
	if !s.Up(2) {
		t.Fatal("the disk stayed full after the restart")
	}
	if _, ok := s.Synced(2).Get("b"); !ok {
		t.Fatal("the write after the restart was not synced")
	}
	// A fail-stop of a node that is down does nothing (no second crash).
	s.Crash(2)
	crashes := countEv(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Crash && e.Node == 2 })
	s.failStop(s.node(2), "test")
	if n := countEv(s.Trace(), func(e *trace.Event) bool { return e.Kind == trace.Crash && e.Node == 2 }); n != crashes {
		t.Errorf("fail-stop of a down node traced a crash")
	}
}

// One event's writes are bounded (MaxBatchOps): the bound itself is
// allowed, one more operation is refused by a panic naming the bound.
func TestDiskEventWriteBound(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: time.Millisecond}, 1)
	d := s.node(2).disk
	d.grow(ordo.MaxBatchOps, ordo.MaxBatchBytes) // exactly at the bounds: fine
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "MaxBatchOps") {
			t.Errorf("one operation past the bound: %v", r)
		}
	}()
	d.ev.Put("k", []byte("v"))
	d.grow(ordo.MaxBatchOps, 0)
}

// The bytes bound alone also refuses.
func TestDiskEventByteBound(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: time.Millisecond}, 1)
	d := s.node(2).disk
	d.ev.Put("k", []byte("v"))
	d.grow(0, ordo.MaxBatchBytes-2)
	defer func() {
		if r := recover(); r == nil {
			t.Error("one byte past MaxBatchBytes accepted")
		}
	}()
	d.grow(0, ordo.MaxBatchBytes-1)
}

// A held message leaves with the stamps of its send, not of its release:
// two replies sent in one writing event carry successive vector entries
// of their sender (happened-before is about the sends, chapter section on
// logical clocks).
func TestDiskHeldSendsKeepTheirStamps(t *testing.T) {
	s := newWriter(t, Disk{SyncLatency: 5 * time.Millisecond}, 1)
	ask(s, 0, wop{Op: "two", Key: "k"})
	s.RunFor(50 * time.Millisecond)
	var got []uint64
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Recv && e.Node == 1 && e.MsgKind == "wack" {
			got = append(got, e.Vector[1])
		}
	}
	if len(got) != 2 || got[1] != got[0]+1 {
		t.Fatalf("node 2's entry in the two replies' receive stamps: %v, want two successive values", got)
	}
}

// Puts and range deletes count their keys and values toward MaxBatchBytes:
// an event writing past it is refused by a panic.
func TestDiskEventBytesCountEveryWrite(t *testing.T) {
	expectPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r == nil {
				t.Errorf("%s: an event past MaxBatchBytes accepted", name)
			}
		}()
		f()
	}
	s := newWriter(t, Disk{SyncLatency: time.Millisecond}, 1)
	d := s.node(2).disk
	big := make([]byte, ordo.MaxValueLen)
	expectPanic("puts", func() {
		for i := 0; i <= ordo.MaxBatchBytes/ordo.MaxValueLen; i++ {
			d.Put("k", big)
		}
	})
	s = newWriter(t, Disk{SyncLatency: time.Millisecond}, 1)
	d = s.node(2).disk
	start, end := strings.Repeat("a", ordo.MaxKeyLen), strings.Repeat("b", ordo.MaxKeyLen)
	expectPanic("range deletes", func() {
		for i := 0; i <= ordo.MaxBatchBytes/(2*ordo.MaxKeyLen); i++ {
			d.DeleteRange(start, end)
		}
	})
}
