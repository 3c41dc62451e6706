package scenario

import (
	"cmp"
	"fmt"
	"slices"

	"ordo"
	"ordo/check"
	"ordo/fault"
)

// The scenario's faults in the fault package's vocabulary, for a runtime
// other than the simulator (ordo cluster run, live.RunScenario): one model
// of faults, two interpreters.

// spec gives f's entries in the fault package's vocabulary; nil for a kind
// with no counterpart there (link, join, leave), which such a runtime
// refuses with the fault's line. The values were validated by fault(), so
// reading them again cannot fail; an error leaves the entry without a
// spec, and the runtime refuses it.
func (p *parser) spec(f *Fault, kind entry, got map[string]entry, field string) fault.Schedule {
	kf := join(field, f.Kind)
	one := func(x fault.Fault) fault.Schedule { x.At = f.At; return fault.Schedule{x} }
	// A fault aimed at the leader names node None: the runtime resolves
	// it when the fault fires (Steps).
	target := func() (ordo.NodeID, error) {
		if f.Leader {
			return ordo.None, nil
		}
		return p.nodeID(kind.val, kf)
	}
	node := func(k fault.Kind) fault.Schedule {
		id, err := target()
		if err != nil {
			return nil
		}
		return one(fault.Fault{Kind: k, Node: id})
	}
	switch f.Kind {
	case "crash":
		return node(fault.Crash)
	case "restart":
		return node(fault.Restart)
	case "resume":
		return node(fault.Resume)
	case "fail_sync":
		return node(fault.FsyncFail)
	case "disk_full":
		return node(fault.DiskFull)
	case "corrupt_read":
		return node(fault.CorruptRead)
	case "crash_torn":
		return node(fault.TornWrite)
	case "pause":
		s := node(fault.Pause)
		if x, ok := got["for"]; ok && s != nil {
			d, err := p.duration(x.val, join(field, "for"), false)
			if err != nil {
				return nil
			}
			s = append(s, fault.Fault{At: f.At + d, Kind: fault.Resume, Node: s[0].Node})
		}
		return s
	case "clock_jump":
		id, err := target()
		if err != nil {
			return nil
		}
		by, err := p.duration(got["by"].val, join(field, "by"), true)
		if err != nil {
			return nil
		}
		return one(fault.Fault{Kind: fault.ClockStep, Node: id, By: by})
	case "partition":
		gs, err := p.groups(kind.val, kf)
		if err != nil {
			return nil
		}
		return one(fault.Fault{Kind: fault.Partition, Groups: gs})
	case "bridge":
		sides, err := p.str(kind.val, kf)
		if err != nil {
			return nil
		}
		via, err := p.nodeID(got["via"].val, join(field, "via"))
		if err != nil {
			return nil
		}
		gs, _, err := fault.ParseBridge(fmt.Sprintf("%s via %d", sides, via), p.servers)
		if err != nil {
			return nil
		}
		return one(fault.Fault{Kind: fault.Bridge, Groups: gs, Via: via})
	case "cut":
		s, err := p.str(kind.val, kf)
		if err != nil {
			return nil
		}
		servers := p.nodes
		if p.servers > 0 {
			servers = p.servers
		}
		from, to, err := fault.Members{Servers: servers, Clients: p.nodes - servers}.ParseCut(s)
		if err != nil {
			return nil
		}
		return one(fault.Fault{Kind: fault.Cut, From: from, To: to})
	case "heal":
		return one(fault.Fault{Kind: fault.Heal})
	}
	return nil // link, join, leave
}

// Unmet lists the expectations of exp that the results got do not meet,
// one line each, as Run reports them in Result.Unmet: for runtimes other
// than the simulator that judge their own trace with the same checks.
func Unmet(exp []Expectation, got []check.Result) []string { return unmet(exp, got) }

// Step is one entry of a fault's Spec, in time order among all of them
// (Steps).
type Step struct {
	fault.Fault
	// Entry indexes the scenario fault (Scenario.Faults) the step is part
	// of: a `pause: leader, for: 4s` is a pause and a resume that must
	// strike the same node. A `restart: leader`'s steps carry the entry of
	// the `crash: leader` whose node it restarts.
	Entry int
	// Leader is set when the entry aims at the leader: Node is None, and
	// the runtime resolves it at the entry's first step and uses that node
	// for the entry's later steps (or skips them all when none led).
	Leader bool
}

// Steps is every fault of sc as steps in the fault package's vocabulary,
// sorted by time (equal times keep file order), and the faults that have
// none (as Schedule).
func (sc *Scenario) Steps() (steps []Step, without []Fault) {
	for i, f := range sc.Faults {
		if len(f.Spec) == 0 {
			without = append(without, f)
			continue
		}
		entry := i
		if f.follows >= 0 {
			entry = f.follows // a restart: leader strikes its crash's node
		}
		for _, x := range f.Spec {
			steps = append(steps, Step{Fault: x, Entry: entry, Leader: f.Leader})
		}
	}
	slices.SortStableFunc(steps, func(a, b Step) int { return cmp.Compare(a.At, b.At) })
	return steps, without
}

// Schedule is every fault of sc in the fault package's vocabulary, in time
// order, and the faults that have none (a link, join or leave entry: the
// simulator's own), which a runtime other than the simulator must refuse.
// A fault aimed at the leader names node None here: a runtime that can
// resolve it uses Steps.
func (sc *Scenario) Schedule() (s fault.Schedule, without []Fault) {
	for _, f := range sc.Faults {
		if len(f.Spec) == 0 {
			without = append(without, f)
			continue
		}
		s = append(s, f.Spec...)
	}
	s.Sort()
	return s, without
}
