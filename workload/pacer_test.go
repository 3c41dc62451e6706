package workload_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
	"ordo/workload"
)

type fake struct {
	busy   []bool
	issued []int
	done   bool
}

func (f *fake) Procs() int              { return len(f.busy) }
func (f *fake) Busy(p int) bool         { return f.busy[p] }
func (f *fake) Finished(ordo.Env) bool  { return f.done }
func (f *fake) Issue(_ ordo.Env, p int) { f.busy[p] = true; f.issued = append(f.issued, p) }

// A closed loop starts every process at once and the next operation of a
// process only a think time after its last one ended; a stale wake-up of
// a busy process issues nothing.
func TestClosedLoop(t *testing.T) {
	env := ordotest.NewEnv(3, ordo.NewRoster(2, 1, 0), 1)
	p := workload.Pacer{Think: 20 * time.Millisecond}
	f := &fake{busy: make([]bool, 2)}
	p.Start(env, 2, 50*time.Millisecond)
	if got := env.TimersNamed(workload.TimerNext); len(got) != 2 || got[0].After != 50*time.Millisecond {
		t.Fatalf("start armed %+v, want two next timers at 50ms", got)
	}
	for i := range 2 {
		if !p.Fire(env, ordo.Timer{Name: workload.TimerNext, Arg: int64(i)}, f) {
			t.Fatal("a pacing timer not handled")
		}
	}
	p.Fire(env, ordo.Timer{Name: workload.TimerNext, Arg: 1}, f) // busy: nothing
	if len(f.issued) != 2 {
		t.Fatalf("issued %v, want [0 1]", f.issued)
	}
	env.Reset()
	p.Done(env, 1)
	if got := env.TimersNamed(workload.TimerNext); len(got) != 1 || got[0].After != 20*time.Millisecond || got[0].Timer.Arg != 1 {
		t.Fatalf("done armed %+v, want process 1's next after the think time", got)
	}
	if p.Fire(env, ordo.Timer{Name: "timeout"}, f) {
		t.Fatal("the client's own timer taken by the pacer")
	}
}

// An open loop issues one operation per tick to the first idle process,
// counts a tick that finds all busy, and stops ticking once the client is
// finished; Done arms nothing.
func TestOpenLoop(t *testing.T) {
	env := ordotest.NewEnv(3, ordo.NewRoster(2, 1, 0), 1)
	p := workload.Pacer{Rate: 100}
	f := &fake{busy: make([]bool, 2)}
	p.Start(env, 2, 0)
	tick := ordo.Timer{Name: workload.TimerTick}
	for range 3 {
		env.Reset()
		p.Fire(env, tick, f)
		if got := env.TimersNamed(workload.TimerTick); len(got) != 1 || got[0].After != 10*time.Millisecond {
			t.Fatalf("tick re-armed %+v, want one after 10ms", got)
		}
	}
	if len(f.issued) != 2 || p.Skipped != 1 {
		t.Fatalf("issued %v, skipped %d; want [0 1] and 1", f.issued, p.Skipped)
	}
	env.Reset()
	p.Done(env, 0)
	f.done = true
	p.Fire(env, tick, f)
	if len(env.Timers) != 0 {
		t.Fatalf("armed %+v after the end", env.Timers)
	}
}
