package lww_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/lww"
	"ordo/ordotest"
)

// Section 2, "타임스탬프 기반 순서화의 위험": the store keeps the write
// with the larger timestamp, so a later write from a slow clock is noted
// lost, and a write with a larger timestamp replaces the kept one.
func TestStoreKeepsLargerTimestamp(t *testing.T) {
	env := ordotest.NewEnv(lww.Store, nil, 1)
	n, _ := lww.New(ordo.Config{ID: lww.Store, N: 3})
	env.Start(n)
	if len(env.Timers) != 0 {
		t.Fatalf("the store armed %v", env.Timers)
	}
	env.Receive(n, 1, lww.Write{Value: 1, TS: 100})
	if a := env.NotesOf(lww.NoteApply); len(a) != 1 {
		t.Fatalf("first write: notes %v", env.Notes)
	}
	env.Receive(n, 2, lww.Write{Value: 2, TS: 90}) // later, but its clock is slow
	l := env.NotesOf(lww.NoteLost)
	if len(l) != 1 {
		t.Fatalf("slow write: notes %v, want lost-write", env.Notes)
	}
	if v, _ := l[0].Int("value"); v != 2 {
		t.Errorf("lost value %d, want 2", v)
	}
	if k, _ := l[0].Int("kept"); k != 1 {
		t.Errorf("kept value %d, want 1", k)
	}
	env.Receive(n, 2, lww.Write{Value: 2, TS: 101})
	if len(env.NotesOf(lww.NoteApply)) != 1 {
		t.Errorf("a larger timestamp was not applied: %v", env.Notes)
	}
}

// A writer writes X = its ID once, 90+10·ID ms after it starts, stamped
// with its wall clock.
func TestWriterStampsWithWallClock(t *testing.T) {
	env := ordotest.NewEnv(2, nil, 1)
	n, _ := lww.New(ordo.Config{ID: 2, N: 3})
	env.Start(n)
	if len(env.Timers) != 1 || env.Timers[0].After != 110*time.Millisecond {
		t.Fatalf("timers %v, want one of 110ms", env.Timers)
	}
	env.StepWall(-20 * time.Millisecond) // a slow clock
	env.Fire(n, env.Timers[0].Timer)
	s := env.SentTo(lww.Store)
	if len(s) != 1 {
		t.Fatalf("sent %v", env.Sent)
	}
	if w := s[0].(lww.Write); w.Value != 2 || w.TS != env.Wall.UnixNano() {
		t.Errorf("write %+v, want value 2 stamped %d", w, env.Wall.UnixNano())
	}
}
