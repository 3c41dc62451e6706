package lab

import (
	"fmt"
	"strings"
	"time"

	"ordo"
	"ordo/fault"
)

// FaultKind names a scheduled fault (the fault package's kinds).
type FaultKind = fault.Kind

// The kinds lab's callers name most (every fault.Kind is accepted).
const (
	Crash     = fault.Crash
	Restart   = fault.Restart
	Partition = fault.Partition
	Heal      = fault.Heal
	Pause     = fault.Pause
	Resume    = fault.Resume
	ClockJump = fault.ClockStep
	Loss      = fault.Loss // Rate on every link (or From → To) from At on
)

// Fault is one scheduled event (see fault.Fault).
type Fault = fault.Fault

// parseFlag reads one flag's fault; an error names the flag: "--crash
// 7@1s: node 7 does not exist (the servers are 1..5)".
func parseFlag(k fault.Kind, flag, s string, n int) (Fault, error) {
	f, err := fault.Parse(k, s, n)
	if err != nil {
		return Fault{}, flagError(k, flag, s, err)
	}
	return f, nil
}

// flagError names the flag in a parser's error.
func flagError(k fault.Kind, flag, s string, err error) error {
	// The flag says what the parser's prefix would say again.
	msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("%s %q: ", k, s))
	return fmt.Errorf("--%s %s: %s", flag, s, msg)
}

// ParseCrash reads "ID@TIME" (e.g. "5@1s") for a cluster of n.
func ParseCrash(s string, n int) (Fault, error) { return parseFlag(fault.Crash, "crash", s, n) }

// ParseRestart reads "ID@TIME".
func ParseRestart(s string, n int) (Fault, error) { return parseFlag(fault.Restart, "restart", s, n) }

// ParsePartition reads "1,2/3,4,5@TIME": the groups must name every server
// exactly once (fault.ParseGroups).
func ParsePartition(s string, n int) (Fault, error) {
	return parseFlag(fault.Partition, "partition", s, n)
}

// ParseFault reads the flag --KIND (a fault.Kind) written as fault.Syntax
// gives it: "1,2->3@1s" for --cut, "1/3 via 2@1s" for --bridge.
func ParseFault(k fault.Kind, s string, n int) (Fault, error) { return parseFlag(k, string(k), s, n) }

// ParseGroups reads "1,2/3,4,5" and checks that it covers 1..n once
// (fault.ParseGroups).
func ParseGroups(spec string, n int) ([][]ordo.NodeID, error) { return fault.ParseGroups(spec, n) }

// ParseHeal reads "@TIME" (or "TIME").
func ParseHeal(s string) (Fault, error) {
	t := s
	if !strings.HasPrefix(t, "@") {
		t = "@" + t
	}
	// A heal names no node, so any cluster size reads it.
	return parseFlag(fault.Heal, "heal", t, 1)
}

// CheckSchedule rejects a hand-written schedule (sorted by SortFaults)
// that undoes what was never done: a heal with no partition before it, a
// restart of a node that is not down, a crash of a node already down. Such
// a fault would silently do nothing. (Random schedules end with a heal and
// a restart of every node on purpose and are not checked.)
func CheckSchedule(faults []Fault) error {
	partitioned := false
	down := map[ordo.NodeID]time.Duration{}
	for _, f := range faults {
		switch f.Kind {
		case fault.Partition, fault.Cut, fault.Bridge, fault.Star:
			partitioned = true
		case Heal:
			if !partitioned {
				return fmt.Errorf("--heal @%v: there is no partition to heal before %v (add --partition GROUPS@TIME, or --cut, --bridge, --star)", f.At, f.At)
			}
			partitioned = false
		case Crash, fault.TornWrite, fault.CorruptRead: // the last two stop the node
			if at, ok := down[f.Node]; ok {
				return fmt.Errorf("--%s %d@%v: node %d is already down (crashed at %v; restart it first with --restart %d@TIME)", f.Kind, f.Node, f.At, f.Node, at, f.Node)
			}
			down[f.Node] = f.At
		case Restart:
			if _, ok := down[f.Node]; !ok {
				return fmt.Errorf("--restart %d@%v: node %d is not down at %v (crash it first with --crash %d@TIME)", f.Node, f.At, f.Node, f.At, f.Node)
			}
			delete(down, f.Node)
		}
	}
	return nil
}

// SortFaults orders faults by time, keeping the given order for ties.
func SortFaults(fs []Fault) { fault.Schedule(fs).Sort() }
