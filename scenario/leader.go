package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"ordo"
	"ordo/election"
	"ordo/sim"
)

// A single-node fault may name its node as `leader` instead of a number
// ({at: 3s, pause: leader, for: 4s}): the node is chosen when the fault
// fires, not when the file is written, so a scenario whose story is "the
// leader freezes" keeps its story under any seed and on real processes,
// where another node than the simulator's may win (chapter section 4: the
// failure that matters is the leader's).

// LeaderTarget is the word a fault writes in place of a node number.
const LeaderTarget = "leader"

// LeaderKinds are the fault kinds that may strike `leader`: those that
// strike one running node, and restart. A resume, join or leave names a
// node that is paused or outside the cluster, which leads nothing, so
// `leader` there would be ambiguous: the parser refuses it. A
// `restart: leader` restarts the node the latest `crash: leader` before it
// struck (a crashed node leads nothing either, but that one is the story's
// "the old leader comes back"); without such a crash it is refused.
var LeaderKinds = []string{"clock_jump", "corrupt_read", "crash", "crash_torn", "disk_full", "fail_sync", "pause", "restart"}

// target reads a single-node fault's node: a number, or `leader` where
// the kind allows it (leader true, id None).
func (p *parser) target(n *yaml.Node, field, kind string) (id ordo.NodeID, leader bool, err error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		v := strings.TrimSpace(n.Value)
		switch {
		case v == LeaderTarget && slices.Contains(LeaderKinds, kind):
			return ordo.None, true, nil
		case strings.EqualFold(v, LeaderTarget):
			if slices.Contains(LeaderKinds, kind) {
				return 0, false, p.errf(n, field, "write leader in lower case, got %q", n.Value)
			}
			return 0, false, p.errf(n, field, "a %s names its node by number: leader is resolved when a fault fires, and the node a %s needs is %s, which leads nothing (leader works with %s; a paused leader comes back with pause's for:, a crashed one with restart: leader)", kind, kind, notLeading[kind], strings.Join(LeaderKinds, ", "))
		case slices.Contains(LeaderKinds, kind):
			return 0, false, p.errf(n, field, "want a node number or leader, got %q", n.Value)
		}
	}
	id, err = p.nodeID(n, field)
	return id, false, err
}

// notLeading says why each kind that refuses `leader` does.
var notLeading = map[string]string{
	"resume": "a paused one",
	"join":   "one outside the cluster",
	"leave":  "any member, leader or not, chosen by the story",
}

// Leader is the server that holds the leader role in s now, by the
// election package's views (election.Elector), or the primary of a
// protocol with one (primaried: PBFT), of the servers that are up
// and not paused: a paused node acts on nothing, whatever it last
// believed. When several claim the role (a split brain, or a deposed
// leader that has not heard yet), the one with the highest term, then the
// highest fencing token, then the lowest id wins: the newest leadership.
// None when no running server leads, or the protocol is no election.
func Leader(s *sim.Sim) ordo.NodeID {
	best, bestTerm, bestToken := ordo.None, uint64(0), uint64(0)
	for _, id := range s.Roster().Servers {
		if !s.Up(id) || s.Paused(id) {
			continue
		}
		var v election.View
		switch nd := s.Node(id).(type) {
		case election.Elector:
			v = nd.View()
		case primaried:
			if view, ok := nd.Leads(); ok && view >= 0 {
				v = election.View{Role: election.Leader, Term: uint64(view)}
			}
		default:
			continue
		}
		if v.Role != election.Leader {
			continue
		}
		if best == ordo.None || v.Term > bestTerm || v.Term == bestTerm && v.Token > bestToken {
			best, bestTerm, bestToken = id, v.Term, v.Token
		}
	}
	return best
}

// primaried is a server of a protocol with a primary instead of an
// elected leader (PBFT, pbft.Replica.Leads): the primary of the view it
// installed is the leader a fault strikes, its view the term.
type primaried interface {
	Leads() (view int64, primary bool)
}

// Struck is what a fault aimed at `leader` struck in one run.
type Struck struct {
	At   time.Duration `json:"at_ns"`
	Desc string        `json:"fault"` // as written: "pause leader for 4s"
	Line int           `json:"line"`
	// Node is the leader the fault struck; None when no server led then,
	// and the fault was skipped.
	Node ordo.NodeID `json:"node"`
}

func (x Struck) String() string {
	if x.Node == ordo.None {
		return fmt.Sprintf("%v %s: skipped, %s", x.At, x.Desc, x.why())
	}
	return fmt.Sprintf("%v %s: node %d", x.At, x.Desc, x.Node)
}

func (x Struck) why() string {
	if strings.HasPrefix(x.Desc, "restart ") {
		return "the crash: leader before it struck no node"
	}
	return "no server led"
}

// strikeLeader applies f, aimed at `leader`, to id (None: skip it), and
// records in the trace which node it struck ("leader-fault" with the fault
// and the node) or that it was skipped ("leader-fault-skipped").
func strikeLeader(s *sim.Sim, f *Fault, id ordo.NodeID) (Struck, error) {
	x := Struck{At: s.Now(), Desc: f.Desc, Line: f.Line, Node: id}
	if x.Node == ordo.None {
		s.RecordFault("leader-fault-skipped", "fault", f.Desc, "why", x.why())
		return x, nil
	}
	s.RecordFault("leader-fault", "fault", f.Desc, "node", int(x.Node))
	return x, f.strike(s, x.Node)
}

// linkRestarts points each `restart: leader` of the sorted list at the
// latest `crash: leader` before it (Fault.follows); -1 for every other
// fault. A restart: leader with no such crash is an error at its entry.
func (p *parser) linkRestarts(list []Fault) error {
	last := -1
	for i := range list {
		f := &list[i]
		f.follows = -1
		switch {
		case f.Leader && f.Kind == "crash":
			last = i
		case f.Leader && f.Kind == "restart":
			if last < 0 {
				return p.errf(f.target, f.field, "restart: leader restarts the node the latest crash: leader before it struck, and there is none before %v: write the node's number, or add a crash: leader", f.At)
			}
			f.follows = last
		}
	}
	return nil
}

// aim sets f's action on node id, or on the leader when the fault fires,
// and its description: "pause 2", "pause leader".
func (f *Fault) aim(id ordo.NodeID, leader bool, strike func(*sim.Sim, ordo.NodeID) error) {
	if leader {
		f.Leader, f.strike = true, strike
		f.Desc = f.Kind + " " + LeaderTarget
		return
	}
	f.Desc = fmt.Sprintf("%s %d", f.Kind, id)
	f.node = id
	f.apply = func(s *sim.Sim) error { return strike(s, id) }
}

// Warnings are what the file says that it may not mean, one line each:
// a restart of a node no earlier fault crashed (a restart of a running
// node crashes it first, so a scenario meant to bring one node back
// crashes another: more faults than it meant; a fresh user's trial).
// None when crashes are random (nemesis) or aimed at the leader, whose
// node the file does not say.
func (sc *Scenario) Warnings() []string {
	if sc.Nemesis != nil && sc.Nemesis.Crash > 0 {
		return nil
	}
	down := map[ordo.NodeID]bool{}
	var out []string
	for _, f := range sc.Faults {
		switch {
		case f.Leader && f.Kind == "crash":
			return nil
		case f.Kind == "crash" && f.node != ordo.None:
			down[f.node] = true
		case f.Kind == "restart" && f.node != ordo.None:
			if !down[f.node] {
				out = append(out, fmt.Sprintf("%s:%d: restart: %d at %v: no fault before crashed node %d, so this restart crashes it first (a running node restarted loses what it did not write); crash it earlier if you meant to bring it back", sc.File, f.Line, f.node, f.At, f.node))
			}
			delete(down, f.node)
		}
	}
	return out
}
