package lab

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"ordo"
	"ordo/sim"
)

// FaultKind names a scheduled fault.
type FaultKind string

const (
	Crash     FaultKind = "crash"
	Restart   FaultKind = "restart"
	Partition FaultKind = "partition"
	Heal      FaultKind = "heal"
	Pause     FaultKind = "pause"
	Resume    FaultKind = "resume"
	ClockJump FaultKind = "clock"
	Loss      FaultKind = "loss" // Rate on every link from At on
)

// Fault is one scheduled event.
type Fault struct {
	At     time.Duration
	Kind   FaultKind
	Node   ordo.NodeID
	Groups [][]ordo.NodeID
	By     time.Duration // clock jump
	Rate   float64       // loss probability
}

func (f Fault) String() string {
	switch f.Kind {
	case Partition:
		return fmt.Sprintf("%v partition %s", f.At, sim.FormatGroups(f.Groups))
	case Heal:
		return fmt.Sprintf("%v heal", f.At)
	case ClockJump:
		return fmt.Sprintf("%v clock %v by %v", f.At, f.Node, f.By)
	case Loss:
		return fmt.Sprintf("%v loss %.2f", f.At, f.Rate)
	}
	return fmt.Sprintf("%v %s %v", f.At, f.Kind, f.Node)
}

func parseAt(s, what string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: time %q is not a non-negative duration like 2s or 1500ms", what, s)
	}
	return d, nil
}

func parseNode(s string, n int, what string) (ordo.NodeID, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a node ID", what, s)
	}
	if v < 1 || v > n {
		return 0, fmt.Errorf("%s: node %d does not exist (the cluster is 1..%d)", what, v, n)
	}
	return ordo.NodeID(v), nil
}

// ParseCrash reads "ID@TIME" (e.g. "5@1s") for a cluster of n.
func ParseCrash(s string, n int) (Fault, error) {
	what := fmt.Sprintf("--crash %s", s)
	id, at, ok := strings.Cut(s, "@")
	if !ok {
		return Fault{}, fmt.Errorf("%s: want ID@TIME, e.g. 5@1s", what)
	}
	node, err := parseNode(id, n, what)
	if err != nil {
		return Fault{}, err
	}
	d, err := parseAt(at, what)
	if err != nil {
		return Fault{}, err
	}
	return Fault{At: d, Kind: Crash, Node: node}, nil
}

// ParseRestart reads "ID@TIME".
func ParseRestart(s string, n int) (Fault, error) {
	f, err := ParseCrash(s, n)
	if err != nil {
		return Fault{}, fmt.Errorf("%s", strings.Replace(err.Error(), "--crash", "--restart", 1))
	}
	f.Kind = Restart
	return f, nil
}

// ParsePartition reads "1,2/3,4,5@TIME": the groups must name every node
// of the cluster exactly once (the chapter's partitions split the whole
// cluster).
func ParsePartition(s string, n int) (Fault, error) {
	what := fmt.Sprintf("--partition %s", s)
	spec, at, ok := strings.Cut(s, "@")
	if !ok {
		return Fault{}, fmt.Errorf("%s: want GROUPS@TIME, e.g. 1,2/3,4,5@2s", what)
	}
	d, err := parseAt(at, what)
	if err != nil {
		return Fault{}, err
	}
	groups, err := ParseGroups(spec, n)
	if err != nil {
		return Fault{}, fmt.Errorf("%s: %v", what, err)
	}
	return Fault{At: d, Kind: Partition, Groups: groups}, nil
}

// ParseGroups reads "1,2/3,4,5" and checks that it covers 1..n once.
func ParseGroups(spec string, n int) ([][]ordo.NodeID, error) {
	parts := strings.Split(spec, "/")
	if len(parts) < 2 {
		return nil, fmt.Errorf("a partition needs at least two groups separated by '/'")
	}
	seen := make([]bool, n+1)
	var groups [][]ordo.NodeID
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("empty group in %q", spec)
		}
		var g []ordo.NodeID
		for _, f := range strings.Split(p, ",") {
			id, err := parseNode(f, n, "partition")
			if err != nil {
				return nil, err
			}
			if seen[id] {
				return nil, fmt.Errorf("node %d is named twice", id)
			}
			seen[id] = true
			g = append(g, id)
		}
		groups = append(groups, g)
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if !seen[i] {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the groups do not cover the cluster 1..%d: missing %s", n, strings.Join(missing, ","))
	}
	return groups, nil
}

// ParseHeal reads "@TIME" (or "TIME").
func ParseHeal(s string) (Fault, error) {
	d, err := parseAt(strings.TrimPrefix(s, "@"), "--heal "+s)
	if err != nil {
		return Fault{}, err
	}
	return Fault{At: d, Kind: Heal}, nil
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
		case Partition:
			partitioned = true
		case Heal:
			if !partitioned {
				return fmt.Errorf("--heal @%v: there is no partition to heal before %v (add --partition GROUPS@TIME)", f.At, f.At)
			}
			partitioned = false
		case Crash:
			if at, ok := down[f.Node]; ok {
				return fmt.Errorf("--crash %d@%v: node %d is already down (crashed at %v; restart it first with --restart %d@TIME)", f.Node, f.At, f.Node, at, f.Node)
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
func SortFaults(fs []Fault) {
	slices.SortStableFunc(fs, func(a, b Fault) int { return int(a.At - b.At) })
}
