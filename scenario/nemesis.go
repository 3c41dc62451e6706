package scenario

import "ordo/sim"

// startNemesis hands the random fault mode to the simulator.
func startNemesis(s *sim.Sim, n *Nemesis) error {
	return s.StartNemesis(sim.Nemesis{
		Start:        n.Start,
		Stop:         n.Stop,
		Crash:        n.Crash,
		Partition:    n.Partition,
		Pause:        n.Pause,
		ClockJump:    n.ClockJump,
		Loss:         n.Loss,
		MeanDowntime: n.MeanDowntime,
	})
}
