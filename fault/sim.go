package fault

import (
	"fmt"
	"maps"

	"ordo"
	"ordo/sim"
)

// The simulator's interpreter of a schedule (the live cluster has its own):
// Inject schedules each fault with sim.Sim.At, Apply makes one happen now.

// NeedsDisk reports whether s holds a storage fault, which needs the
// simulator's disk model (sim.Config.Disk) on.
func (s Schedule) NeedsDisk() bool {
	for _, f := range s {
		if f.Kind.Storage() {
			return true
		}
	}
	return false
}

// Clocks returns base (not changed) with the clock-drift faults of s set
// as the DriftPPM of each node's sim.ClockModel: the simulator sets a
// clock's rate when the run starts, so a drift fault must be at 0s.
func (s Schedule) Clocks(base map[ordo.NodeID]sim.ClockModel) (map[ordo.NodeID]sim.ClockModel, error) {
	out := base
	cloned := false
	for _, f := range s {
		if f.Kind != ClockDrift {
			continue
		}
		if f.At != 0 {
			return nil, fmt.Errorf("fault %v: a clock drifts from the start of the run (write it @0s)", f)
		}
		if !cloned {
			out, cloned = maps.Clone(base), true
			if out == nil {
				out = map[ordo.NodeID]sim.ClockModel{}
			}
		}
		m := out[f.Node]
		m.DriftPPM = f.PPM
		out[f.Node] = m
	}
	return out, nil
}

// MembersOf is the nodes of sm by role: its servers, clients and
// services (named by their protocols).
func MembersOf(sm *sim.Sim) Members {
	r := sm.Roster()
	m := Members{Servers: len(r.Servers), Clients: len(r.Clients)}
	for _, id := range r.Services {
		m.Services = append(m.Services, sm.Protocol(id).Name)
	}
	return m
}

// Inject validates s against the simulator's nodes (MembersOf: a fault
// may name a client or a service where Members.Parse allows it, never
// crash a service) and schedules every fault but clock drift (see Clocks)
// at its time. A storage fault needs the disk model on.
func (s Schedule) Inject(sm *sim.Sim) error {
	if err := s.Check(MembersOf(sm)); err != nil {
		return err
	}
	if s.NeedsDisk() && !sm.Config().Disk.On() {
		return fmt.Errorf("storage faults need the simulator's disk model (sim.Config.Disk)")
	}
	for _, f := range s {
		if f.Kind == ClockDrift {
			continue
		}
		sm.At(f.At, func(sm *sim.Sim) {
			if err := Apply(sm, f); err != nil {
				// Validated above: the simulator refusing it is a bug.
				panic(fmt.Sprintf("fault: validated fault %v refused: %v", f, err))
			}
		})
	}
	return nil
}

// Apply makes f happen on sm now. A restart of a running node and a
// resume of a running one do nothing (a schedule may undo what a later
// fault already undid); a loss fault keeps every other property of the
// links it changes.
func Apply(sm *sim.Sim, f Fault) error {
	n := sm.Config().Nodes
	switch f.Kind {
	case Crash:
		sm.Crash(f.Node)
	case Restart:
		if !sm.Up(f.Node) {
			return sm.Restart(f.Node)
		}
	case Partition:
		return sm.Partition(f.Groups...)
	case Bridge:
		return sm.Bridge(f.Groups[0], f.Groups[1], f.Via)
	case Cut:
		return sm.CutOneWay(f.From, f.To)
	case Star:
		// A shape of the whole network, as a partition is: it replaces
		// earlier cuts.
		if anyBlocked(sm, sm.Size()) {
			sm.Heal()
		}
		for a := 1; a <= n; a++ {
			if ordo.NodeID(a) == f.Node {
				continue
			}
			var to []ordo.NodeID
			for b := 1; b <= n; b++ {
				if b != a && ordo.NodeID(b) != f.Node {
					to = append(to, ordo.NodeID(b))
				}
			}
			if err := sm.CutOneWay([]ordo.NodeID{ordo.NodeID(a)}, to); err != nil {
				return err
			}
		}
	case Heal:
		sm.Heal()
	case Pause:
		sm.Pause(f.Node)
	case Resume:
		sm.Resume(f.Node)
	case ClockStep:
		sm.JumpClock(f.Node, f.By)
	case ClockDrift:
		return fmt.Errorf("fault %v: set drift before the run (Schedule.Clocks)", f)
	case Loss:
		from, to := f.From, f.To
		if len(from) == 0 {
			from, to = servers(n), servers(n)
		}
		net := sm.Config().Network
		for _, a := range from {
			for _, b := range to {
				if a == b {
					continue
				}
				l, ok := net.Links[sim.LinkKey{From: a, To: b}]
				if !ok {
					l = net.Default
				}
				l.Loss = f.Rate
				if err := sm.SetLink(a, b, l); err != nil {
					return err
				}
			}
		}
	case TornWrite:
		return sm.CrashTorn(f.Node)
	case CorruptRead:
		return sm.CorruptRead(f.Node)
	case FsyncFail:
		return sm.FailSync(f.Node)
	case DiskFull:
		return sm.FillDisk(f.Node)
	default:
		return fmt.Errorf("fault %v: unknown kind", f)
	}
	return nil
}

func servers(n int) []ordo.NodeID {
	out := make([]ordo.NodeID, n)
	for i := range out {
		out[i] = ordo.NodeID(i + 1)
	}
	return out
}

// anyBlocked reports whether a link between two of nodes 1..n is cut.
func anyBlocked(sm *sim.Sim, n int) bool {
	for a := 1; a <= n; a++ {
		for b := 1; b <= n; b++ {
			if a != b && sm.Blocked(ordo.NodeID(a), ordo.NodeID(b)) {
				return true
			}
		}
	}
	return false
}
