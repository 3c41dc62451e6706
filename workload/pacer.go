package workload

import (
	"time"

	"ordo"
)

// Timer names of the pacer (the client's own timers must not use them).
const (
	TimerNext = "next" // closed loop: Arg = process
	TimerTick = "tick" // open loop
)

// Client is what the pacer drives: its processes and when it is done.
type Client interface {
	Procs() int                 // how many logical processes
	Busy(p int) bool            // process p has an operation in flight
	Finished(env ordo.Env) bool // no new operation may start
	Issue(env ordo.Env, p int)  // start process p's next operation
}

// Pacer issues a client's operations in a closed loop (Rate 0: each
// process Think after its last operation ended) or an open loop (Rate
// operations per second, to the first idle process).
type Pacer struct {
	Rate  int           // operations per second; 0: closed loop
	Think time.Duration // closed loop: pause between a reply and the next operation
	// Skipped counts open-loop ticks that found every process busy: the
	// operations the rate asked for and the client could not start.
	Skipped int
}

// Start arms the first operations, start from now: every process's in a
// closed loop, the first tick in an open loop.
func (p *Pacer) Start(env ordo.Env, procs int, start time.Duration) {
	if p.Rate > 0 {
		env.After(start, ordo.Timer{Name: TimerTick})
		return
	}
	for i := range procs {
		env.After(start, ordo.Timer{Name: TimerNext, Arg: int64(i)})
	}
}

// Fire handles t if it is one of the pacer's timers (true) and issues
// what it calls for; false: t is the client's own.
func (p *Pacer) Fire(env ordo.Env, t ordo.Timer, c Client) bool {
	switch t.Name {
	case TimerNext:
		if i := int(t.Arg); i >= 0 && i < c.Procs() && !c.Busy(i) {
			c.Issue(env, i)
		}
		return true
	case TimerTick:
		if c.Finished(env) {
			return true
		}
		env.After(time.Second/time.Duration(p.Rate), ordo.Timer{Name: TimerTick})
		for i := range c.Procs() {
			if !c.Busy(i) {
				c.Issue(env, i)
				return true
			}
		}
		p.Skipped++
		return true
	}
	return false
}

// Done is called when process i's operation ended: in a closed loop its
// next one starts Think later.
func (p *Pacer) Done(env ordo.Env, i int) {
	if p.Rate == 0 {
		env.After(p.Think, ordo.Timer{Name: TimerNext, Arg: int64(i)})
	}
}
