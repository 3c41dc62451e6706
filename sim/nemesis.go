package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"ordo"
)

// Nemesis is the random mode of the fault schedule (Jepsen's name for the
// process that breaks things): between Start and Stop, faults arrive as
// Poisson processes with the given rates per second of true time, each
// lasting an exponentially distributed downtime of mean MeanDowntime. By
// Stop every fault it caused is over — crashed nodes restarted, partitions
// healed, paused nodes resumed, loss bursts ended — so a test can check
// liveness afterwards. Every draw comes from a source derived from the
// simulator's seed: same seed, same faults.
type Nemesis struct {
	Start, Stop time.Duration
	// Faults strike servers only: clients are the observers whose history
	// is judged, and a client that fails is a workload question, not the
	// system's (a scripted fault may still crash or cut off a client).
	// Rates, per second: crash a random running node (restart after the
	// downtime); split the cluster in two random groups (heal after the
	// downtime); pause a random node (resume after the downtime); jump a
	// random node's clock by ±(an exponential of mean MeanDowntime); raise
	// loss on every link to a random 10–90 % for the downtime.
	Crash, Partition, Pause, ClockJump, Loss float64
	// MeanDowntime is the mean length of a fault (0: one second).
	MeanDowntime time.Duration
}

// MaxNemesisRate bounds each rate: more than a thousand faults a second is
// a typo, not a test.
const MaxNemesisRate = 1000

func (n *Nemesis) validate() error {
	if n.Start < 0 {
		return fmt.Errorf("nemesis: start %v is negative", n.Start)
	}
	if n.Stop <= n.Start {
		return fmt.Errorf("nemesis: stop %v must be after start %v", n.Stop, n.Start)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"crash", n.Crash}, {"partition", n.Partition}, {"pause", n.Pause}, {"clock_jump", n.ClockJump}, {"loss", n.Loss}} {
		if r.v < 0 || r.v > MaxNemesisRate || math.IsNaN(r.v) {
			return fmt.Errorf("nemesis: %s rate %v out of range [0, %d] per second", r.name, r.v, MaxNemesisRate)
		}
	}
	if n.MeanDowntime < 0 {
		return fmt.Errorf("nemesis: mean_downtime %v is negative", n.MeanDowntime)
	}
	return nil
}

// nemesisState is what the running nemesis has broken and must mend.
type nemesisState struct {
	rng     *rand.Rand
	cfg     Nemesis
	on      bool
	crashed map[ordo.NodeID]bool // crashed by the nemesis, not yet restarted
	paused  map[ordo.NodeID]bool
	partGen int // the current nemesis partition; a newer one supersedes
	lossGen int
}

// StartNemesis schedules random faults as n describes. It may be called
// once per run, before or during it (n.Start must not be in the past).
func (s *Sim) StartNemesis(n Nemesis) error {
	if err := n.validate(); err != nil {
		return err
	}
	if s.nem.on {
		return fmt.Errorf("nemesis: already started")
	}
	if n.Start < s.now {
		return fmt.Errorf("nemesis: start %v is in the past (now %v)", n.Start, s.now)
	}
	if n.MeanDowntime == 0 {
		n.MeanDowntime = time.Second
	}
	s.nem.on = true
	s.nem.cfg = n
	s.nem.crashed = map[ordo.NodeID]bool{}
	s.nem.paused = map[ordo.NodeID]bool{}
	for _, f := range []struct {
		rate float64
		act  func(*Sim)
	}{
		{n.Crash, (*Sim).nemesisCrash},
		{n.Partition, (*Sim).nemesisPartition},
		{n.Pause, (*Sim).nemesisPause},
		{n.ClockJump, (*Sim).nemesisClockJump},
		{n.Loss, (*Sim).nemesisLoss},
	} {
		if f.rate > 0 {
			s.nemesisArrival(n.Start, f.rate, f.act)
		}
	}
	return nil
}

// nemesisArrival schedules the next fault of a Poisson process of rate
// per second after from, and the one after that when it happens.
func (s *Sim) nemesisArrival(from time.Duration, rate float64, act func(*Sim)) {
	gap := time.Duration(s.nem.rng.ExpFloat64() / rate * float64(time.Second))
	at := from + gap
	if at >= s.nem.cfg.Stop || at < from { // past the window (or overflow)
		return
	}
	s.At(at, func(s *Sim) {
		act(s)
		s.nemesisArrival(s.now, rate, act)
	})
}

// mendAt is when a fault that starts now ends: after an exponential
// downtime, and by Stop at the latest.
func (s *Sim) mendAt() time.Duration {
	d := time.Duration(s.nem.rng.ExpFloat64() * float64(s.nem.cfg.MeanDowntime))
	if d < 0 || s.now+d > s.nem.cfg.Stop {
		return s.nem.cfg.Stop
	}
	return s.now + d
}

// candidates lists the servers for which ok holds, ascending.
func (s *Sim) candidates(ok func(*nodeState) bool) []ordo.NodeID {
	var out []ordo.NodeID
	for i := 1; i <= s.cfg.Nodes; i++ {
		if ok(s.nodes[i]) {
			out = append(out, ordo.NodeID(i))
		}
	}
	return out
}

func (s *Sim) pick(ids []ordo.NodeID) ordo.NodeID {
	return ids[s.nem.rng.IntN(len(ids))]
}

func (s *Sim) nemesisCrash() {
	up := s.candidates(func(n *nodeState) bool { return n.up })
	if len(up) == 0 {
		return
	}
	id := s.pick(up)
	s.Crash(id)
	s.nem.crashed[id] = true
	s.At(s.mendAt(), func(s *Sim) {
		if !s.nem.crashed[id] {
			return
		}
		delete(s.nem.crashed, id)
		if ns := s.nodes[id]; !ns.up && !ns.absent {
			// A restart error is the protocol's New failing: record it
			// rather than abort a randomized run.
			if err := s.Restart(id); err != nil {
				s.emitFault("restart-failed", "node", int(id), "error", err.Error())
			}
		}
	})
}

func (s *Sim) nemesisPartition() {
	if s.cfg.Nodes < 2 {
		return
	}
	ids := s.candidates(func(*nodeState) bool { return true })
	s.nem.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	k := 1 + s.nem.rng.IntN(len(ids)-1)
	a, b := sortedIDs(ids[:k]), sortedIDs(ids[k:])
	if err := s.Partition(a, b); err != nil {
		panic(fmt.Sprintf("sim: nemesis built an invalid partition: %v", err))
	}
	s.nem.partGen++
	gen := s.nem.partGen
	s.At(s.mendAt(), func(s *Sim) {
		if s.nem.partGen == gen {
			s.Heal()
		}
	})
}

func (s *Sim) nemesisPause() {
	up := s.candidates(func(n *nodeState) bool { return n.up && !n.paused })
	if len(up) == 0 {
		return
	}
	id := s.pick(up)
	s.Pause(id)
	s.nem.paused[id] = true
	s.At(s.mendAt(), func(s *Sim) {
		if s.nem.paused[id] {
			delete(s.nem.paused, id)
			s.Resume(id)
		}
	})
}

func (s *Sim) nemesisClockJump() {
	id := ordo.NodeID(1 + s.nem.rng.IntN(s.cfg.Nodes))
	d := time.Duration(s.nem.rng.ExpFloat64() * float64(s.nem.cfg.MeanDowntime))
	if s.nem.rng.IntN(2) == 0 {
		d = -d
	}
	s.JumpClock(id, d)
}

func (s *Sim) nemesisLoss() {
	p := 0.1 + 0.8*s.nem.rng.Float64()
	if err := s.SetLossBurst(p); err != nil {
		panic(err) // p is in range by construction
	}
	s.nem.lossGen++
	gen := s.nem.lossGen
	s.At(s.mendAt(), func(s *Sim) {
		if s.nem.lossGen == gen {
			_ = s.SetLossBurst(0) // 0 is always valid
		}
	})
}

// SetLossBurst adds loss probability p on every link on top of each link's
// own (0 ends the burst).
func (s *Sim) SetLossBurst(p float64) error {
	if p < 0 || p > 1 || math.IsNaN(p) {
		return fmt.Errorf("sim: loss burst probability %v out of [0, 1]", p)
	}
	s.net.burst = p
	if p > 0 {
		s.fallacy.add(FallacyReliable)
		s.emitFault("loss-burst", "p", math.Round(p*1000)/1000)
	} else {
		s.emitFault("loss-burst-end")
	}
	return nil
}

func sortedIDs(ids []ordo.NodeID) []ordo.NodeID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
