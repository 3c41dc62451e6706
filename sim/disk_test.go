package sim

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// req asks node 2 to vote; it stores the vote and acknowledges.
type req struct{ Seq int }

func (req) Kind() string { return "req" }

type ack struct{ Seq int }

func (ack) Kind() string { return "ack" }

type voter struct{}

func (voter) Start(env ordo.Env) {
	if env.ID() == 1 {
		env.After(10*time.Millisecond, ordo.Timer{Name: "ask"})
	}
}

func (voter) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if r, ok := m.(req); ok {
		// The acknowledgement is sent before the write, in program
		// order: the contract still holds it until the write is synced.
		env.Send(from, ack(r))
		env.Store().Put("vote", []byte{byte(r.Seq)})
	}
}

func (voter) Fire(env ordo.Env, t ordo.Timer) { env.Send(2, req{Seq: 7}) }

var voterProto = &ordo.Protocol{Name: "voter", New: func(ordo.Config) (ordo.Node, error) { return voter{}, nil }}

func runVoter(t *testing.T, d Disk) *Sim {
	t.Helper()
	s, err := New(Config{Protocol: voterProto, Nodes: 2, Seed: 1, Trace: true, Disk: d,
		Network: Network{Default: Link{Latency: Dist{Kind: Constant, A: time.Millisecond}}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// find returns the first event of kind (and message kind, if given).
func findEv(tr *trace.Trace, kind trace.Kind, msgKind string) *trace.Event {
	for i := range tr.Events {
		e := &tr.Events[i]
		if e.Kind == kind && (msgKind == "" || e.MsgKind == msgKind) {
			return e
		}
	}
	return nil
}

// The durability contract (ordo.Storage): the acknowledgement leaves only
// when the vote it promises is on disk, SyncLatency after the event.
func TestDiskHoldsSendsUntilSynced(t *testing.T) {
	for _, lat := range []time.Duration{0, 5 * time.Millisecond} {
		s := runVoter(t, Disk{SyncLatency: lat})
		if err := s.RunFor(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		got, sent := findEv(s.Trace(), trace.Recv, "req"), findEv(s.Trace(), trace.Recv, "ack")
		if got == nil || sent == nil {
			t.Fatalf("latency %v: req or ack never arrived", lat)
		}
		if d := time.Duration(sent.T - got.T); d != lat+time.Millisecond {
			t.Fatalf("sync latency %v: ack arrived %v after the req, want %v (sync + link)", lat, d, lat+time.Millisecond)
		}
		if v, ok := s.Synced(2).Get("vote"); !ok || v[0] != 7 {
			t.Fatalf("vote not on disk after the ack: %v %v", v, ok)
		}
		if err := s.Trace().Validate(); err != nil {
			t.Fatalf("held sends broke the stamps: %v", err)
		}
	}
}

// A crash before the fsync completes loses the event's writes and its
// held messages: the vote was never promised, and it is gone.
func TestDiskCrashLosesUnsynced(t *testing.T) {
	s := runVoter(t, Disk{SyncLatency: 5 * time.Millisecond})
	s.RunUntil(13 * time.Millisecond) // req arrived at 11 ms; sync due at 16 ms
	if v, ok := s.Store(2).Get("vote"); !ok || v[0] != 7 {
		t.Fatal("the vote is not visible to reads before its sync")
	}
	if _, ok := s.Synced(2).Get("vote"); ok {
		t.Fatal("the vote is on disk before its sync")
	}
	s.Crash(2)
	if err := s.Restart(2); err != nil {
		t.Fatal(err)
	}
	s.RunFor(100 * time.Millisecond)
	if _, ok := s.Store(2).Get("vote"); ok {
		t.Fatal("an unsynced write survived the crash")
	}
	if e := findEv(s.Trace(), trace.Recv, "ack"); e != nil {
		t.Fatal("the ack of an unsynced vote was delivered")
	}
	if e := findEv(s.Trace(), trace.Drop, "ack"); e == nil || e.Name != "node crashed" {
		t.Fatalf("the held ack's drop: %+v", e)
	}
}

func failStopOf(t *testing.T, s *Sim, id ordo.NodeID) string {
	t.Helper()
	for _, e := range s.Trace().Events {
		if e.Kind == trace.Crash && e.Node == id && e.Name == "fail-stop" {
			why, _ := e.Attrs.Get("why").(string)
			return why
		}
	}
	return ""
}

// A failed fsync or a full disk stops the node (fail-stop), traced as
// such; its held messages never leave.
func TestDiskSyncFaultsFailStop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		force func(*Sim) error
		want  string
	}{
		{"fail-sync", func(s *Sim) error { return s.FailSync(2) }, "EIO"},
		{"disk-full", func(s *Sim) error { return s.FillDisk(2) }, "ENOSPC"},
	} {
		s := runVoter(t, Disk{SyncLatency: time.Millisecond})
		if err := tc.force(s); err != nil {
			t.Fatal(err)
		}
		s.RunFor(100 * time.Millisecond)
		if s.Up(2) {
			t.Fatalf("%s: the node runs on", tc.name)
		}
		if why := failStopOf(t, s, 2); !strings.Contains(why, tc.want) {
			t.Fatalf("%s: fail-stop reason %q, want %q", tc.name, why, tc.want)
		}
		if e := findEv(s.Trace(), trace.Drop, "ack"); e == nil || e.Name != "fail-stop" {
			t.Fatalf("%s: the held ack: %+v", tc.name, e)
		}
		if _, ok := s.Synced(2).Get("vote"); ok {
			t.Fatalf("%s: the failed batch reached the disk", tc.name)
		}
	}
	// Without the disk model, storage faults are refused, not ignored.
	s := runVoter(t, Disk{})
	if err := s.FailSync(2); err == nil {
		t.Fatal("FailSync without the disk model")
	}
}

// A corrupt read stops a running node at once, and a node that is down at
// its next restart; the restart after that recovers the synced state.
func TestDiskCorruptReadFailStops(t *testing.T) {
	s := runVoter(t, Disk{SyncLatency: time.Millisecond})
	s.RunFor(50 * time.Millisecond)
	if err := s.CorruptRead(2); err != nil {
		t.Fatal(err)
	}
	if s.Up(2) || !strings.Contains(failStopOf(t, s, 2), "corrupt read") {
		t.Fatal("a corrupt read did not stop the node")
	}
	s.CorruptRead(2)
	s.Restart(2)
	if s.Up(2) {
		t.Fatal("a restart over a corrupt block started the node")
	}
	s.Restart(2)
	if !s.Up(2) {
		t.Fatal("the restored node did not start")
	}
	if v, ok := s.Store(2).Get("vote"); !ok || v[0] != 7 {
		t.Fatal("the synced vote is gone after the restore")
	}
}

// A crash tearing the batch in flight: the trace says so, and recovery
// discards the batch whole.
func TestDiskCrashTorn(t *testing.T) {
	s := runVoter(t, Disk{SyncLatency: 5 * time.Millisecond})
	s.RunUntil(13 * time.Millisecond)
	if err := s.CrashTorn(2); err != nil {
		t.Fatal(err)
	}
	if e := findEv(s.Trace(), trace.Fault, ""); e == nil || e.Name != "torn-write" {
		t.Fatalf("no torn-write fault: %+v", e)
	}
	s.Restart(2)
	if _, ok := s.Store(2).Get("vote"); ok {
		t.Fatal("a torn batch was kept")
	}
}

// Fault rates draw from the seed: the same seed gives the same faults.
func TestDiskSeededFaults(t *testing.T) {
	run := func(seed uint64) (string, int) {
		s, err := New(Config{Protocol: voterProto, Nodes: 2, Seed: seed, Trace: true,
			Disk: Disk{SyncLatency: time.Millisecond, FailSync: 0.5}})
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			s.Restart(2)
			s.Restart(1)
			s.RunFor(50 * time.Millisecond)
		}
		n := 0
		for _, e := range s.Trace().Events {
			if e.Name == "fail-stop" {
				n++
			}
		}
		return failStopOf(t, s, 2), n
	}
	w1, n1 := run(3)
	w2, n2 := run(3)
	if w1 != w2 || n1 != n2 || n1 == 0 {
		t.Fatalf("seeded fail-sync: %q %d vs %q %d (want equal and > 0)", w1, n1, w2, n2)
	}
	if _, err := New(Config{Protocol: voterProto, Nodes: 2, Disk: Disk{Full: 2}}); err == nil {
		t.Fatal("a probability of 2 was accepted")
	}
}
