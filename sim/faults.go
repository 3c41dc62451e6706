package sim

import (
	"fmt"
	"slices"
	"time"

	"ordo"
	"ordo/trace"
)

// Crash stops id at once: its volatile state, pending timers and held
// events are lost; its Storage is kept. Crashing a down node does nothing.
//
// A crashed process's host is still up: its connections close and a
// reconnect is refused. Every other up node that can hear id (its link
// from id is not cut) and wants hints (ordo.PeerDownListener) therefore
// receives ordo.PeerDown from id, one
// latency sample of that link later — the signal the live transport
// derives from ECONNREFUSED (section 5: a crash, unlike a slow or
// partitioned node, can be told apart).
func (s *Sim) Crash(id ordo.NodeID) { s.crash(id, true) }

func (s *Sim) crash(id ordo.NodeID, hint bool) {
	ns := s.node(id)
	if !ns.up {
		return
	}
	s.emit(ns, ns.crashEvent())
	if ns.disk != nil {
		why := trace.NameCrashed
		if ns.stopWhy != "" {
			why = trace.NameFailStop
		}
		ns.disk.crashed(why)
	}
	ns.up = false
	ns.paused = false
	ns.node = nil
	ns.inc++ // kills the timers and drains of this incarnation
	ns.clearInbox()
	if hint {
		s.hintPeerDown(ns)
	}
}

// hintPeerDown schedules PeerDown from the crashed node to each node that
// would notice its connection close. In id order, so runs stay
// deterministic.
func (s *Sim) hintPeerDown(dead *nodeState) {
	for i := 1; i < len(s.nodes); i++ {
		to := s.nodes[i]
		if to == dead || !to.up || !ordo.WantsPeerDown(to.node) || s.net.isBlocked(dead.id, to.id) {
			continue
		}
		// Its own source: a hint must not shift the network's draws.
		lat := s.net.link(dead.id, to.id).Latency.sample(s.hintRng)
		it := item{at: s.now + lat, kind: itemDeliver, to: to.id, from: dead.id, msg: ordo.PeerDown{}, inc: to.inc, deadInc: dead.inc}
		s.q.push(&it)
	}
}

// Restart boots a crashed node afresh: the protocol's New, then Start, with
// the Storage it had. Restarting a running node crashes it first.
func (s *Sim) Restart(id ordo.NodeID) error {
	ns := s.node(id)
	if ns.absent {
		return fmt.Errorf("sim: %v has not joined (or has left); use Join", id)
	}
	if ns.up {
		s.Crash(id)
	}
	return s.boot(ns, trace.Restart)
}

// Pause stops id from processing anything until Resume: messages and timers
// wait, as in a long GC pause or a frozen VM. The node does not know.
func (s *Sim) Pause(id ordo.NodeID) {
	ns := s.node(id)
	if !ns.up || ns.paused {
		return
	}
	s.emit(ns, trace.Event{Kind: trace.Pause})
	ns.paused = true
}

// Resume lets a paused node handle what arrived meanwhile, in arrival order
// (one at a time at its speed, if it has one).
func (s *Sim) Resume(id ordo.NodeID) {
	ns := s.node(id)
	if !ns.up || !ns.paused {
		return
	}
	ns.paused = false
	s.emit(ns, trace.Event{Kind: trace.Resume})
	ns.drain()
}

// Paused reports whether id is paused.
func (s *Sim) Paused(id ordo.NodeID) bool { return s.node(id).paused }

// Partition cuts every link between nodes of different groups, both ways.
// Servers in no group form one more group together. A client in no group
// stays connected to every group (a client outside the cluster's network,
// as Jepsen's are); a group may name clients to cut them off with it. It
// replaces any earlier cut.
func (s *Sim) Partition(groups ...[]ordo.NodeID) error {
	g, err := s.groupOf(groups)
	if err != nil {
		return err
	}
	s.clearCuts()
	for a := 1; a < len(g); a++ {
		for b := 1; b < len(g); b++ {
			if a != b && g[a] != g[b] && g[a] != anyGroup && g[b] != anyGroup {
				s.net.setBlocked(ordo.NodeID(a), ordo.NodeID(b), true)
			}
		}
	}
	s.fallacy.add(FallacyReliable)
	s.emitFault("partition", "groups", FormatGroups(groups))
	return nil
}

// CutOneWay blocks messages from every node of from to every node of to,
// leaving the other direction open (an asymmetric partition). It adds to
// any earlier cut.
func (s *Sim) CutOneWay(from, to []ordo.NodeID) error {
	for _, set := range [][]ordo.NodeID{from, to} {
		for _, id := range set {
			if id < 1 || int(id) > s.Size() {
				return fmt.Errorf("sim: no node %d (cluster is 1..%d)", id, s.Size())
			}
		}
	}
	for _, a := range from {
		for _, b := range to {
			if a != b {
				s.net.setBlocked(a, b, true)
			}
		}
	}
	s.fallacy.add(FallacyReliable)
	s.emitFault("cut-one-way", "from", fmt.Sprint(from), "to", fmt.Sprint(to))
	return nil
}

// Bridge partitions the cluster into two sides that cannot talk to each
// other but can both talk to the bridge node (the partial partition of
// Jepsen's "bridge" nemesis).
func (s *Sim) Bridge(a, b []ordo.NodeID, bridge ordo.NodeID) error {
	if bridge < 1 || int(bridge) > s.Size() {
		return fmt.Errorf("sim: bridge node %d, cluster is 1..%d", bridge, s.Size())
	}
	if slices.Contains(a, bridge) || slices.Contains(b, bridge) {
		return fmt.Errorf("sim: bridge node %d must be in neither side", bridge)
	}
	if err := s.Partition(a, b); err != nil {
		return err
	}
	for i := 1; i <= s.Size(); i++ {
		if ordo.NodeID(i) != bridge {
			s.net.setBlocked(ordo.NodeID(i), bridge, false)
			s.net.setBlocked(bridge, ordo.NodeID(i), false)
		}
	}
	s.emitFault("bridge", "node", int(bridge))
	return nil
}

// Heal removes every cut.
func (s *Sim) Heal() {
	s.clearCuts()
	s.emitFault("heal")
}

func (s *Sim) clearCuts() {
	clear(s.net.blocked)
	s.net.cut = false
}

// Blocked reports whether from → to is cut now.
func (s *Sim) Blocked(from, to ordo.NodeID) bool { return s.net.isBlocked(from, to) }

// JumpClock moves id's clock by d (negative: backwards), as an NTP step or
// an operator's `date -s` does. Timers are not moved (they run on a
// monotonic clock).
func (s *Sim) JumpClock(id ordo.NodeID, d time.Duration) {
	ns := s.node(id)
	ns.clk.jump(s.now, d)
	if ns.up {
		s.emit(ns, trace.Event{Kind: trace.Note, Name: "clock-jump", Attrs: trace.Attrs{{Key: "by", Value: d.String()}}})
	} else {
		s.emitFault("clock-jump", "node", int(id), "by", d.String())
	}
}

// Join boots a node that was absent (topology change: a server is added).
func (s *Sim) Join(id ordo.NodeID) error {
	ns := s.node(id)
	if !ns.absent {
		return fmt.Errorf("sim: %v is already a member", id)
	}
	s.fallacy.add(FallacyTopology)
	s.emitFault("join", "node", int(id))
	if err := s.boot(ns, trace.Start); err != nil {
		return err
	}
	s.schedNTP(ns)
	return nil
}

// Leave removes a node for good (topology change: a server is removed).
func (s *Sim) Leave(id ordo.NodeID) {
	ns := s.node(id)
	s.fallacy.add(FallacyTopology)
	s.emitFault("leave", "node", int(id))
	s.crash(id, false) // a graceful removal: no crash to hint at
	ns.absent = true
}

// SetLink changes the behaviour of from → to from now on.
func (s *Sim) SetLink(from, to ordo.NodeID, l Link) error {
	if from < 1 || int(from) > s.Size() || to < 1 || int(to) > s.Size() || from == to {
		return fmt.Errorf("sim: link %d->%d: nodes must be distinct and in 1..%d", from, to, s.Size())
	}
	if err := l.validate(); err != nil {
		return fmt.Errorf("sim: link %d->%d: %w", from, to, err)
	}
	if s.cfg.Network.Links == nil {
		s.cfg.Network.Links = map[LinkKey]Link{}
	}
	s.cfg.Network.Links[LinkKey{from, to}] = l
	s.net.setLink(from, to, l)
	s.fallacy.add(FallacyHomogeneous)
	s.emitFault("link", "from", int(from), "to", int(to))
	return nil
}

// anyGroup marks a client that a partition does not name: it reaches every
// group.
const anyGroup = -1

// groupOf returns each node's group by ID: the group that names it, one
// more group for the unnamed servers, anyGroup for unnamed clients.
func (s *Sim) groupOf(groups [][]ordo.NodeID) ([]int, error) {
	g := make([]int, s.Size()+1)
	for i := range g {
		g[i] = anyGroup
	}
	for gi, grp := range groups {
		for _, id := range grp {
			if id < 1 || int(id) > s.Size() {
				return nil, fmt.Errorf("sim: partition names node %d, cluster is 1..%d", id, s.Size())
			}
			if g[id] != anyGroup {
				return nil, fmt.Errorf("sim: node %d is in two partition groups", id)
			}
			g[id] = gi
		}
	}
	for i := 1; i <= s.cfg.Nodes; i++ { // the servers
		if g[i] == anyGroup {
			g[i] = len(groups)
		}
	}
	return g, nil
}

// FormatGroups writes groups as the CLI reads them: "1,2/3,4,5".
func FormatGroups(groups [][]ordo.NodeID) string {
	out := ""
	for i, g := range groups {
		if i > 0 {
			out += "/"
		}
		for j, id := range g {
			if j > 0 {
				out += ","
			}
			out += fmt.Sprint(int(id))
		}
	}
	return out
}
