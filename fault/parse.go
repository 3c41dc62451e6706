package fault

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"ordo"
	"ordo/internal/plural"
)

// MaxSpec bounds the length of a notation (16 KiB): a partition naming
// every server of a cluster of a thousand fits four times.
const MaxSpec = 16 << 10

// maxServers bounds the cluster a parser accepts (the trace's bound).
const maxServers = 1 << 16

// Members are the nodes a notation may name: servers 1..Servers, then
// clients Servers+1..Servers+Clients, then one service node per entry of
// Services (issue 15: a model of etcd, a fenced store), numbered after the
// clients. A partition must place every server and may place clients and
// services (one no group names stays connected to every group, as in the
// simulator); a cut, a pause and a clock fault may name any node; a crash,
// a restart and a storage fault may not name a service (see
// Members.CheckKind); a bridge and a star are shapes of the servers. Random
// faults never pick clients. The package's functions that take a number of
// servers are Members{Servers: n}.
type Members struct {
	Servers, Clients int
	// Services are the service nodes' protocols ("coord", "fenced-store"),
	// one per node in roster order: their number places them, their names
	// go in error messages ("" prints as "service").
	Services []string
}

// N is the number of nodes of every role: IDs are 1..N.
func (m Members) N() int { return m.Servers + m.Clients + len(m.Services) }

// Role is id's role (ordo.Server for an ID out of range).
func (m Members) Role(id ordo.NodeID) ordo.Role {
	switch {
	case int(id) > m.Servers+m.Clients && int(id) <= m.N():
		return ordo.Service
	case int(id) > m.Servers && int(id) <= m.Servers+m.Clients:
		return ordo.Client
	}
	return ordo.Server
}

// FirstService is the ID of the first service node (0 without services).
func (m Members) FirstService() ordo.NodeID {
	if len(m.Services) == 0 {
		return 0
	}
	return ordo.NodeID(m.Servers + m.Clients + 1)
}

// ServiceIDs are the service nodes' IDs, in order.
func (m Members) ServiceIDs() []ordo.NodeID {
	var out []ordo.NodeID
	for i := range m.Services {
		out = append(out, m.FirstService()+ordo.NodeID(i))
	}
	return out
}

// serviceName is "a service (coord)".
func (m Members) serviceName(id ordo.NodeID) string {
	if name := m.Services[int(id-m.FirstService())]; name != "" {
		return fmt.Sprintf("a service (%s)", name)
	}
	return "a service"
}

func (m Members) check() error {
	if m.Servers < 1 || m.Clients < 0 || m.N() > maxServers {
		if len(m.Services) > 0 {
			return fmt.Errorf("a cluster of %s, %s and %s (need 1..%d nodes)", plural.Count(m.Servers, "server"), plural.Count(m.Clients, "client"), plural.Count(len(m.Services), "service"), maxServers)
		}
		return fmt.Errorf("a cluster of %s and %s (need 1..%d nodes)", plural.Count(m.Servers, "server"), plural.Count(m.Clients, "client"), maxServers)
	}
	return nil
}

// roles lists the valid IDs by role: "the servers are 1..3, the services
// 4 (coord) and 5 (fenced-store)".
func (m Members) roles() string {
	s := fmt.Sprintf("the servers are 1..%d", m.Servers)
	if m.Clients > 0 {
		s += fmt.Sprintf(", the clients %d..%d", m.Servers+1, m.Servers+m.Clients)
	}
	if len(m.Services) == 0 {
		return s
	}
	var svc []string
	for _, id := range m.ServiceIDs() {
		t := strconv.Itoa(int(id))
		if name := m.Services[int(id-m.FirstService())]; name != "" {
			t += " (" + name + ")"
		}
		svc = append(svc, t)
	}
	if len(svc) == 1 {
		return s + ", the service " + svc[0]
	}
	return s + ", the services " + strings.Join(svc[:len(svc)-1], ", ") + " and " + svc[len(svc)-1]
}

func (m Members) checkNode(id ordo.NodeID) error {
	if id < 1 || int(id) > m.N() {
		return fmt.Errorf("node %d does not exist (%s)", int(id), m.roles())
	}
	return nil
}

// checkServer accepts a server only: what a bridge and a star are made of.
func (m Members) checkServer(id ordo.NodeID, what string) error {
	if err := m.checkNode(id); err != nil {
		return err
	}
	switch m.Role(id) {
	case ordo.Service:
		return fmt.Errorf("node %d is %s: %s names servers only (%s)", id, m.serviceName(id), what, m.roles())
	case ordo.Client:
		return fmt.Errorf("node %d is a client: %s names servers only (%s)", id, what, m.roles())
	}
	return nil
}

// CheckKind reports whether a fault of kind k may strike id (which must
// exist): a crash, a restart or a storage fault may not strike a service.
// A service node is a model that keeps its state in memory (the coord
// model's revisions, leases and keys; the fenced store's highest token): a
// crash would lose it, so revisions would start again at 1 and fencing
// tokens would repeat, which a real etcd, whose state is on disk and
// replicated, never does. Pause it, cut it off or move its clock instead.
func (m Members) CheckKind(k Kind, id ordo.NodeID) error {
	if err := m.checkNode(id); err != nil {
		return err
	}
	if m.Role(id) != ordo.Service {
		return nil
	}
	if k == Crash || k == Restart || k.Storage() {
		return fmt.Errorf("node %d is %s, and services are never crashed, restarted or given disk faults: the model keeps its state in memory, with no disk, so a crash would lose it — revisions would start again at 1 and fencing tokens would repeat, which a real etcd (state on disk, replicated) never does; a %s strikes the servers 1..%d (a service may be paused, cut off or have its clock moved)", id, m.serviceName(id), k, m.Servers)
	}
	return nil
}

func checkLen(what, s string) error {
	if len(s) > MaxSpec {
		return fmt.Errorf("%s of %d bytes: at most %d", what, len(s), MaxSpec)
	}
	return nil
}

// ParseNode reads one server ID: decimal digits, 1..servers.
func ParseNode(s string, servers int) (ordo.NodeID, error) {
	return Members{Servers: servers}.ParseNode(s)
}

// ParseNode reads one node ID of m: decimal digits, a server or a client.
func (m Members) ParseNode(s string) (ordo.NodeID, error) {
	n := m.N()
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("a node ID is missing (write a number 1..%d)", n)
	}
	if len(t) > 9 || strings.Trim(t, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a node ID (write a number 1..%d)", t, n)
	}
	v, _ := strconv.Atoi(t) // digits only, at most 9 of them
	if err := m.checkNode(ordo.NodeID(v)); err != nil {
		return 0, err
	}
	return ordo.NodeID(v), nil
}

// ParseNodes reads a set of servers, "1,2,3": at least one, none twice.
// seen, if not nil, holds servers named earlier in the same notation (they
// may not be named again) and receives these.
func ParseNodes(s string, servers int, seen map[ordo.NodeID]bool) ([]ordo.NodeID, error) {
	return Members{Servers: servers}.ParseNodes(s, seen)
}

// ParseNodes reads a set of nodes of m (see the function ParseNodes).
func (m Members) ParseNodes(s string, seen map[ordo.NodeID]bool) ([]ordo.NodeID, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("an empty set of nodes (write them like 1,2,3)")
	}
	if seen == nil {
		seen = map[ordo.NodeID]bool{}
	}
	var out []ordo.NodeID
	for _, part := range strings.Split(s, ",") {
		id, err := m.ParseNode(part)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, fmt.Errorf("node %d is named twice", id)
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, nil
}

// ParseGroups reads a partition, "1,2/3,4,5": groups separated by '/',
// servers in a group by ','. Every server 1..servers must be in exactly one
// group and there must be at least two groups: a partition string names the
// whole cluster, so "1,2/3" in a cluster of five is an error (missing 4,5)
// rather than a guess between a three-way split and {1,2}|{3,4,5}.
//
// Errors: a node that is not a number or not a server, a node named twice,
// an empty group, fewer than two groups, servers missing (listed).
func ParseGroups(s string, servers int) ([][]ordo.NodeID, error) {
	return Members{Servers: servers}.ParseGroups(s)
}

// ParseGroups reads a partition of m's nodes: every server in exactly one
// group; a client in at most one (one no group names stays connected to
// every group).
func (m Members) ParseGroups(s string) ([][]ordo.NodeID, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if err := checkLen("partition", s); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("partition %q: %w", s, err) }
	parts := strings.Split(s, "/")
	if len(parts) < 2 {
		return nil, wrap(fmt.Errorf("a partition needs at least two groups separated by '/', like 1,2/3,4,5"))
	}
	seen := map[ordo.NodeID]bool{}
	groups := make([][]ordo.NodeID, 0, len(parts))
	for i, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, wrap(fmt.Errorf("group %d is empty", i+1))
		}
		g, err := m.ParseNodes(p, seen)
		if err != nil {
			return nil, wrap(fmt.Errorf("group %d: %w", i+1, err))
		}
		groups = append(groups, g)
	}
	if missing := missingFrom(seen, m.Servers); missing != "" {
		return nil, wrap(fmt.Errorf("missing %s: every server 1..%d must be in exactly one group (add them to a group, or as a group of their own)%s", missing, m.Servers, m.cutHint(groups)))
	}
	return groups, nil
}

// cutHint, for a partition that leaves servers out and has a group of
// services or clients only, says how to cut servers off from those nodes
// alone: a partition names every server and cuts each group from every
// other, so "1/4" cannot mean "1 apart from 4" (that would put 2 and 3
// somewhere); two one-way cuts do.
func (m Members) cutHint(groups [][]ordo.NodeID) string {
	for gi, g := range groups {
		if slices.ContainsFunc(g, func(id ordo.NodeID) bool { return m.Role(id) == ordo.Server }) {
			continue
		}
		var from []ordo.NodeID
		for gj, h := range groups {
			for _, id := range h {
				if gj != gi && m.Role(id) == ordo.Server {
					from = append(from, id)
				}
			}
		}
		if len(from) == 0 {
			return ""
		}
		slices.Sort(from)
		var all []ordo.NodeID
		for i := 1; i <= m.Servers; i++ {
			all = append(all, ordo.NodeID(i))
		}
		return fmt.Sprintf("; to cut %s off from %s alone, both ways, write two one-way cuts, %s and %s (the partition %s/%s cuts every server off from %s)",
			FormatNodes(from), FormatNodes(g), FormatCut(from, g), FormatCut(g, from), FormatNodes(all), FormatNodes(g), FormatNodes(g))
	}
	return ""
}

// missingFrom lists the servers not in seen, "4,5" ("" when none), the
// first ten and a count after that.
func missingFrom(seen map[ordo.NodeID]bool, servers int) string {
	var ids []string
	n := 0
	for i := 1; i <= servers; i++ {
		if !seen[ordo.NodeID(i)] {
			if n < 10 {
				ids = append(ids, strconv.Itoa(i))
			}
			n++
		}
	}
	if n > 10 {
		ids = append(ids, fmt.Sprintf("… (%d in all)", n))
	}
	return strings.Join(ids, ",")
}

// ParseCut reads a one-way cut, "1,2->3": messages from every server on the
// left to every server on the right are lost; the other direction stays
// open. Both sides are non-empty and share no server; servers named on
// neither side are not affected.
func ParseCut(s string, servers int) (from, to []ordo.NodeID, err error) {
	return Members{Servers: servers}.ParseCut(s)
}

// ParseCut reads a one-way cut between nodes of m (clients allowed).
func (m Members) ParseCut(s string) (from, to []ordo.NodeID, err error) {
	if err := m.check(); err != nil {
		return nil, nil, err
	}
	if err := checkLen("cut", s); err != nil {
		return nil, nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("cut %q: %w", s, err) }
	l, r, ok := strings.Cut(s, "->")
	if !ok || strings.Contains(r, "->") {
		return nil, nil, wrap(fmt.Errorf("is not a one-way cut: write one arrow, like 1,2->3 (messages from 1 and 2 to 3 are lost)"))
	}
	seen := map[ordo.NodeID]bool{}
	if from, err = m.ParseNodes(l, seen); err != nil {
		return nil, nil, wrap(fmt.Errorf("left of ->: %w", err))
	}
	if to, err = m.ParseNodes(r, seen); err != nil {
		return nil, nil, wrap(fmt.Errorf("right of ->: %w (the two sides share no node)", err))
	}
	return from, to, nil
}

// ParseBridge reads a bridge, "1/3 via 2": two sides that cannot reach each
// other, both of which reach the bridge node (Jepsen's bridge nemesis; the
// 2020 etcd outage was 1/3 via 2). Every server is on one side or is the
// bridge, exactly once.
func ParseBridge(s string, servers int) (sides [][]ordo.NodeID, via ordo.NodeID, err error) {
	return Members{Servers: servers}.ParseBridge(s)
}

// ParseBridge reads a bridge of m's servers: a bridge is a shape of the
// servers, so it names no client or service (those stay connected to
// every server).
func (m Members) ParseBridge(s string) (sides [][]ordo.NodeID, via ordo.NodeID, err error) {
	if err := m.check(); err != nil {
		return nil, 0, err
	}
	if err := checkLen("bridge", s); err != nil {
		return nil, 0, err
	}
	wrap := func(err error) error { return fmt.Errorf("bridge %q: %w", s, err) }
	l, r, ok := strings.Cut(s, " via ")
	if !ok {
		return nil, 0, wrap(fmt.Errorf("write the two sides and the bridge node, like 1/3 via 2"))
	}
	parts := strings.Split(l, "/")
	if len(parts) != 2 {
		return nil, 0, wrap(fmt.Errorf("a bridge joins exactly two sides separated by '/', like 1,2/4,5 via 3"))
	}
	seen := map[ordo.NodeID]bool{}
	if via, err = m.ParseNode(r); err == nil {
		err = m.checkServer(via, "a bridge")
	}
	if err != nil {
		return nil, 0, wrap(fmt.Errorf("via: %w", err))
	}
	seen[via] = true
	for i, p := range parts {
		g, err := m.ParseNodes(p, nil)
		if err != nil {
			return nil, 0, wrap(fmt.Errorf("side %d: %w", i+1, err))
		}
		for _, id := range g {
			switch {
			case id == via:
				return nil, 0, wrap(fmt.Errorf("node %d is the bridge, so it cannot also be on a side", via))
			case seen[id]:
				return nil, 0, wrap(fmt.Errorf("node %d is on both sides", id))
			}
			if err := m.checkServer(id, "a bridge"); err != nil {
				return nil, 0, wrap(fmt.Errorf("side %d: %w", i+1, err))
			}
			seen[id] = true
		}
		sides = append(sides, g)
	}
	if missing := missingFrom(seen, m.Servers); missing != "" {
		return nil, 0, wrap(fmt.Errorf("missing %s: every server is on one side or is the bridge", missing))
	}
	return sides, via, nil
}

// ParseStar reads a star, "hub 1": every server but the hub reaches only the
// hub (both ways), so the hub is the only server in contact with a
// majority. It needs at least three servers.
func ParseStar(s string, servers int) (ordo.NodeID, error) {
	return Members{Servers: servers}.ParseStar(s)
}

// ParseStar reads a star of m's servers: the hub is a server (clients and
// services keep every link).
func (m Members) ParseStar(s string) (ordo.NodeID, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	if err := checkLen("star", s); err != nil {
		return 0, err
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "hub ")
	if !ok {
		return 0, fmt.Errorf("star %q: write hub N, like hub 1", s)
	}
	hub, err := m.ParseNode(rest)
	if err == nil {
		err = m.checkServer(hub, "a star")
	}
	if err != nil {
		return 0, fmt.Errorf("star %q: %w", s, err)
	}
	if m.Servers < 3 {
		return 0, fmt.Errorf("star %q: a star needs at least 3 servers (a hub and two leaves), the cluster has %d", s, m.Servers)
	}
	return hub, nil
}

// ParseTime reads a fault's time: a non-negative Go duration ("1s",
// "1500ms", "0") up to MaxAt.
func ParseTime(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("time %q is not a non-negative duration like 2s or 1500ms", t)
	}
	if d > MaxAt {
		return 0, fmt.Errorf("time %v is after %v", d, MaxAt)
	}
	return d, nil
}

// kindAliases are the names scenario files give the same faults
// (underscores, and the file's older words), so one fault has one meaning
// whichever tool names it.
var kindAliases = map[string]Kind{
	"clock-jump": ClockStep, "fail-sync": FsyncFail, "crash-torn": TornWrite,
}

// ParseKind reads a kind's name: the names of Kinds, with "_" for "-"
// accepted, and the scenario files' words clock_jump, fail_sync and
// crash_torn.
func ParseKind(s string) (Kind, error) {
	name := strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	for _, k := range Kinds {
		if string(k) == name {
			return k, nil
		}
	}
	if k, ok := kindAliases[name]; ok {
		return k, nil
	}
	if kind, spec, ok := strings.Cut(name, " "); ok {
		return "", fmt.Errorf("unknown fault kind %q: the kind and its spec are two arguments (%q %q)", s, kind, strings.TrimSpace(spec))
	}
	return "", fmt.Errorf("unknown fault kind %q (valid: %s)", s, kindList())
}

// Syntax is the notation Parse reads for each kind, for help texts.
var Syntax = map[Kind]string{
	Crash: "ID@TIME", Restart: "ID@TIME", Pause: "ID@TIME", Resume: "ID@TIME",
	Partition: "1,2/3,4,5@TIME", Cut: "1,2->3@TIME", Bridge: "1/3 via 2@TIME", Star: "hub 1@TIME",
	Heal: "@TIME", ClockStep: "ID by -1s@TIME", ClockDrift: "ID by 200ppm@TIME",
	Loss:      "0.2@TIME or 0.2 on 1->2,3@TIME",
	TornWrite: "ID@TIME", CorruptRead: "ID@TIME", FsyncFail: "ID@TIME", DiskFull: "ID@TIME",
}

// Parse reads one fault of kind k written "SPEC@TIME" (Syntax gives SPEC
// for each kind): "5@1s" for a crash, "1,2/3,4,5@1s" for a partition,
// "@3s" for a heal. The result passes Validate(servers).
func Parse(k Kind, s string, servers int) (Fault, error) {
	return Members{Servers: servers}.Parse(k, s)
}

// Parse reads one fault of kind k naming nodes of m: a partition or a
// cut may name clients and services ("1,2,3/4" cuts every server off from
// service 4, "1->4" cuts server 1's messages to it; a partition still
// names every server), a pause or a clock fault any node, a
// crash, a restart or a storage fault no service (CheckKind says why), a
// bridge or a star servers only. An ID out of range is an error listing
// the valid IDs by role. The result passes m's Fault.Check.
func (m Members) Parse(k Kind, s string) (Fault, error) {
	if err := m.check(); err != nil {
		return Fault{}, err
	}
	if err := checkLen(string(k), s); err != nil {
		return Fault{}, err
	}
	syntax, ok := Syntax[k]
	if !ok {
		return Fault{}, fmt.Errorf("unknown fault kind %q (valid: %s)", k, kindList())
	}
	spec, at, ok := strings.Cut(s, "@")
	if !ok {
		return Fault{}, fmt.Errorf("%s %q: want %s", k, s, syntax)
	}
	f := Fault{Kind: k}
	var err error
	if f.At, err = ParseTime(at); err != nil {
		return Fault{}, fmt.Errorf("%s %q: %w", k, s, err)
	}
	node := func(t string) error {
		f.Node, err = m.ParseNode(t)
		if err == nil {
			err = m.CheckKind(k, f.Node)
		}
		if err != nil {
			return fmt.Errorf("%s %q: %w", k, s, err)
		}
		return nil
	}
	switch k {
	case Crash, Restart, Pause, Resume, TornWrite, CorruptRead, FsyncFail, DiskFull:
		err = node(spec)
	case Partition:
		f.Groups, err = m.ParseGroups(spec)
	case Cut:
		f.From, f.To, err = m.ParseCut(spec)
	case Bridge:
		f.Groups, f.Via, err = m.ParseBridge(spec)
	case Star:
		f.Node, err = m.ParseStar(spec)
	case Heal:
		if strings.TrimSpace(spec) != "" {
			err = fmt.Errorf("heal %q: a heal names no node (write @TIME)", s)
		}
	case ClockStep, ClockDrift:
		id, by, ok := strings.Cut(spec, " by ")
		if !ok {
			return Fault{}, fmt.Errorf("%s %q: want %s", k, s, syntax)
		}
		if err = node(id); err != nil {
			break
		}
		by = strings.TrimSpace(by)
		if k == ClockStep {
			if f.By, err = time.ParseDuration(by); err != nil {
				err = fmt.Errorf("%s %q: %q is not a duration like -1s or 500ms", k, s, by)
			}
		} else {
			num, ok := strings.CutSuffix(by, "ppm")
			if f.PPM, err = strconv.ParseFloat(num, 64); err != nil || !ok {
				err = fmt.Errorf("%s %q: %q is not a drift like 200ppm or -50ppm", k, s, by)
			}
		}
	case Loss:
		rate, links, on := strings.Cut(spec, " on ")
		f.Rate, err = strconv.ParseFloat(strings.TrimSpace(rate), 64)
		if err != nil || math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1 {
			return Fault{}, fmt.Errorf("loss %q: %q is not a probability 0..1", s, strings.TrimSpace(rate))
		}
		if on {
			f.From, f.To, err = m.ParseCut(links)
		}
	}
	if err != nil {
		return Fault{}, err
	}
	if err := f.Check(m); err != nil {
		return Fault{}, err
	}
	return f, nil
}
