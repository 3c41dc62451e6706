package fault

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"ordo"
)

// Kind names what a schedule entry does.
type Kind string

// The kinds. Network shapes (partition, bridge, star) replace any earlier
// cut; a one-way cut adds to them; heal removes every cut.
const (
	Crash      Kind = "crash"       // Node stops; volatile state lost, storage kept
	Restart    Kind = "restart"     // a crashed Node boots again
	Partition  Kind = "partition"   // Groups cannot reach each other (both ways)
	Cut        Kind = "cut"         // messages From → To are lost (one way)
	Bridge     Kind = "bridge"      // Groups[0] and Groups[1] cut apart, both reach Via
	Star       Kind = "star"        // every server but the hub Node reaches only the hub
	Heal       Kind = "heal"        // every cut removed
	Pause      Kind = "pause"       // Node frozen (a GC pause): events wait
	Resume     Kind = "resume"      // a paused Node goes on
	ClockStep  Kind = "clock-step"  // Node's wall clock moves By (signed)
	ClockDrift Kind = "clock-drift" // Node's clock runs PPM µs/s fast (negative: slow)
	Loss       Kind = "loss"        // loss probability Rate on the links From → To (none named: every link)
	// Storage faults of Node's disk (issue 8's disk model).
	TornWrite   Kind = "torn-write"   // the next write is cut short at a crash
	CorruptRead Kind = "corrupt-read" // a read returns flipped bits
	FsyncFail   Kind = "fsync-fail"   // the next fsync fails (the node stops: fail-stop)
	DiskFull    Kind = "disk-full"    // writes fail with ENOSPC
)

// Kinds lists every kind, in the order of the list above.
var Kinds = []Kind{Crash, Restart, Partition, Cut, Bridge, Star, Heal, Pause, Resume,
	ClockStep, ClockDrift, Loss, TornWrite, CorruptRead, FsyncFail, DiskFull}

// Storage reports whether k is a storage fault.
func (k Kind) Storage() bool {
	return k == TornWrite || k == CorruptRead || k == FsyncFail || k == DiskFull
}

// Network reports whether k changes which links are cut.
func (k Kind) Network() bool {
	return k == Partition || k == Cut || k == Bridge || k == Star || k == Heal
}

// Fault is one entry of a schedule. Which fields matter depends on Kind
// (see the constants); the rest stay zero.
type Fault struct {
	At     time.Duration   // true time since the run began
	Kind   Kind            //
	Node   ordo.NodeID     // crash, restart, pause, resume, clock, storage; the hub of a star
	Groups [][]ordo.NodeID // partition: the groups; bridge: the two sides
	Via    ordo.NodeID     // bridge: the node both sides reach
	From   []ordo.NodeID   // cut, loss
	To     []ordo.NodeID   // cut, loss
	By     time.Duration   // clock-step
	PPM    float64         // clock-drift, µs per second
	Rate   float64         // loss probability in [0, 1]
}

// Bounds of the values a fault may carry.
const (
	MaxAt        = 24 * time.Hour
	MaxClockStep = 24 * time.Hour
	MaxDriftPPM  = 500_000 // half again as fast, or half as fast
)

// String writes f in the notation Parse reads, after its time:
// "1s partition 1,2/3,4,5", "2s crash 3", "1s clock-step 2 by -1s".
func (f Fault) String() string {
	return fmt.Sprintf("%v %s %s", f.At, f.Kind, f.Spec())
}

// Spec is f without its time, as Parse reads it before the "@".
func (f Fault) Spec() string {
	switch f.Kind {
	case Partition:
		return FormatGroups(f.Groups)
	case Cut:
		return FormatCut(f.From, f.To)
	case Bridge:
		return FormatGroups(f.Groups) + " via " + strconv.Itoa(int(f.Via))
	case Star:
		return "hub " + strconv.Itoa(int(f.Node))
	case Heal:
		return ""
	case ClockStep:
		return fmt.Sprintf("%d by %v", f.Node, f.By)
	case ClockDrift:
		return fmt.Sprintf("%d by %sppm", f.Node, strconv.FormatFloat(f.PPM, 'g', -1, 64))
	case Loss:
		s := strconv.FormatFloat(f.Rate, 'g', -1, 64)
		if len(f.From) > 0 {
			s += " on " + FormatCut(f.From, f.To)
		}
		return s
	}
	return strconv.Itoa(int(f.Node))
}

// FormatGroups writes groups as ParseGroups reads them: "1,2/3,4,5".
func FormatGroups(groups [][]ordo.NodeID) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(FormatNodes(g))
	}
	return b.String()
}

// FormatNodes writes "1,2,3".
func FormatNodes(ids []ordo.NodeID) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(id)))
	}
	return b.String()
}

// FormatCut writes a one-way cut as ParseCut reads it: "1,2->3".
func FormatCut(from, to []ordo.NodeID) string {
	return FormatNodes(from) + "->" + FormatNodes(to)
}

// Validate checks f for a cluster of servers 1..servers: its time, its
// nodes and its notation's rules (the same rules the parsers apply), so a
// fault built in code is held to what a typed one is.
func (f Fault) Validate(servers int) error {
	if servers < 1 {
		return fmt.Errorf("fault %v: a cluster of %d servers", f, servers)
	}
	return f.Check(Members{Servers: servers})
}

// Check checks f for the nodes of m as Validate does for servers, with
// m's roles: Members.Parse's rules (a crash of a service is an error, a
// partition may place services and clients).
func (f Fault) Check(m Members) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("fault %v: %w", f, err)
	}
	if f.At < 0 || f.At > MaxAt {
		return fmt.Errorf("fault %v: time %v out of range 0..%v", f, f.At, MaxAt)
	}
	node := func() error { return m.CheckKind(f.Kind, f.Node) }
	var err error
	switch f.Kind {
	case Crash, Restart, Pause, Resume, TornWrite, CorruptRead, FsyncFail, DiskFull:
		err = node()
	case Partition:
		_, err = m.ParseGroups(FormatGroups(f.Groups))
	case Cut:
		_, _, err = m.ParseCut(FormatCut(f.From, f.To))
	case Bridge:
		_, _, err = m.ParseBridge(FormatGroups(f.Groups) + " via " + strconv.Itoa(int(f.Via)))
	case Star:
		if err = m.checkServer(f.Node, "a star"); err == nil && m.Servers < 3 {
			err = fmt.Errorf("a star needs at least 3 servers (a hub and two leaves), the cluster has %d", m.Servers)
		}
	case Heal:
	case ClockStep:
		if err = node(); err == nil && (f.By < -MaxClockStep || f.By > MaxClockStep) {
			err = fmt.Errorf("clock step %v out of range ±%v", f.By, MaxClockStep)
		}
	case ClockDrift:
		if err = node(); err == nil && (math.IsNaN(f.PPM) || math.Abs(f.PPM) > MaxDriftPPM) {
			err = fmt.Errorf("drift %v ppm out of range ±%d", f.PPM, MaxDriftPPM)
		}
	case Loss:
		if math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1 {
			err = fmt.Errorf("loss %v out of range 0..1", f.Rate)
		} else if len(f.From) > 0 || len(f.To) > 0 {
			_, _, err = m.ParseCut(FormatCut(f.From, f.To))
		}
	default:
		err = fmt.Errorf("unknown kind %q (valid: %s)", f.Kind, kindList())
	}
	if err != nil {
		return fmt.Errorf("fault %v: %w", f, err)
	}
	return nil
}

func kindList() string {
	var s []string
	for _, k := range Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Schedule is a list of faults, in time order once sorted.
type Schedule []Fault

// Sort orders s by time, keeping the given order for ties (a crash and a
// restart at the same instant happen in the order written).
func (s Schedule) Sort() {
	slices.SortStableFunc(s, func(a, b Fault) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
}

// Validate checks every fault of s (see Fault.Validate).
func (s Schedule) Validate(servers int) error {
	for _, f := range s {
		if err := f.Validate(servers); err != nil {
			return err
		}
	}
	return nil
}

// Check checks every fault of s for the nodes of m (see Fault.Check).
func (s Schedule) Check(m Members) error {
	for _, f := range s {
		if err := f.Check(m); err != nil {
			return err
		}
	}
	return nil
}

// Labels names what s does, for a campaign's per-kind shares: the kind of
// each fault ("crash", "star", ...; not the restarts, resumes, heals and
// zero losses that undo them) and, for faults that are never undone
// before the end, "crash-forever" (a server stopped by a crash or a
// storage fault and never restarted), "pause-forever", "cut-forever" (a
// network fault with no heal after it) and "loss-forever". Sorted, no
// repeats.
func (s Schedule) Labels() []string {
	var out []string
	add := func(l string) {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	down := map[ordo.NodeID]bool{}
	paused := map[ordo.NodeID]bool{}
	cut, lossy := false, false
	for _, f := range s {
		// What undoes a fault is not a fault of its own.
		if f.Kind != Restart && f.Kind != Resume && f.Kind != Heal && !(f.Kind == Loss && f.Rate == 0) {
			add(string(f.Kind))
		}
		switch f.Kind {
		case Crash, TornWrite, CorruptRead, FsyncFail, DiskFull:
			down[f.Node] = true
		case Restart:
			delete(down, f.Node)
		case Pause:
			paused[f.Node] = true
		case Resume:
			delete(paused, f.Node)
		case Partition, Cut, Bridge, Star:
			cut = true
		case Heal:
			cut = false
		case Loss:
			lossy = f.Rate > 0
		}
	}
	if len(down) > 0 {
		add("crash-forever")
	}
	if len(paused) > 0 {
		add("pause-forever")
	}
	if cut {
		add("cut-forever")
	}
	if lossy {
		add("loss-forever")
	}
	slices.Sort(out)
	return out
}

// LabelsFor is Labels, plus, for the faults of s that strike one of m's
// services: "service-cut" (a partition, cut or loss between a server and
// a service), "service-pause" and "service-clock" (a clock step or drift
// of a service). Without services it is Labels.
func (s Schedule) LabelsFor(m Members) []string {
	out := s.Labels()
	if len(m.Services) == 0 {
		return out
	}
	svc := func(id ordo.NodeID) bool { return m.Role(id) == ordo.Service }
	mixed := func(a, b []ordo.NodeID) bool { // a server on one side, a service on the other
		return (slices.ContainsFunc(a, svc) && slices.ContainsFunc(b, func(id ordo.NodeID) bool { return m.Role(id) == ordo.Server })) ||
			(slices.ContainsFunc(b, svc) && slices.ContainsFunc(a, func(id ordo.NodeID) bool { return m.Role(id) == ordo.Server }))
	}
	for _, f := range s {
		l := ""
		switch f.Kind {
		case Partition:
			for i := range f.Groups {
				for j := range f.Groups {
					if i != j && mixed(f.Groups[i], f.Groups[j]) {
						l = "service-cut"
					}
				}
			}
		case Cut:
			if mixed(f.From, f.To) {
				l = "service-cut"
			}
		case Loss:
			if f.Rate > 0 && mixed(f.From, f.To) {
				l = "service-cut"
			}
		case Pause:
			if svc(f.Node) {
				l = "service-pause"
			}
		case ClockStep, ClockDrift:
			if svc(f.Node) {
				l = "service-clock"
			}
		}
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
