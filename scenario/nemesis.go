package scenario

import (
	"ordo/fault"
	"ordo/sim"
)

// startNemesis draws the random fault mode from the run's seed with the
// fault package's generator (the one ordo explore uses) and schedules it.
func startNemesis(s *sim.Sim, n *Nemesis) error {
	sched, err := fault.Nemesis{
		From:         n.Start,
		Until:        n.Stop,
		Crash:        n.Crash,
		Partition:    n.Partition,
		Pause:        n.Pause,
		ClockStep:    n.ClockJump,
		Loss:         n.Loss,
		MeanDowntime: n.MeanDowntime,
	}.Generate(s.Config().Seed, s.Config().Nodes, n.Stop)
	if err != nil {
		return err
	}
	return sched.Inject(s)
}
