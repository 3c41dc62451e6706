package scenario

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"ordo"
	"ordo/internal/plural"
	"ordo/sim"
)

// Clients is one group of a scenario's `clients:` section: Count client
// nodes running one client protocol. Groups are numbered after the servers
// in file order: with nodes: 3, clients {count: 2} are nodes 4 and 5.
//
//	clients: {count: 3}                                  # the server protocol's client
//	clients: {count: 3, protocol: register-client, options: {ops: 100}}
//	clients:                                             # several groups
//	  - {count: 2, protocol: register-client}
//	  - {count: 1, protocol: register-client, options: {rate: 50}}
type Clients struct {
	Protocol *ordo.Protocol
	Options  ordo.Options      // resolved: defaults filled in
	Given    map[string]string // as written (for summaries)
	Count    int
	Line     int
}

// ClientCount is the number of client nodes of every group.
func (sc *Scenario) ClientCount() int {
	n := 0
	for _, g := range sc.Clients {
		n += g.Count
	}
	return n
}

// clientGroups is the simulator's form of sc.Clients.
func (sc *Scenario) clientGroups() []sim.ClientGroup {
	var out []sim.ClientGroup
	for _, g := range sc.Clients {
		out = append(out, sim.ClientGroup{Protocol: g.Protocol, Options: g.Options, Count: g.Count})
	}
	return out
}

var clientFields = []string{"count", "protocol", "options"}

// clients reads `clients:`, one group (a mapping) or several (a list of
// mappings), and extends the node range the rest of the file may name.
func (p *parser) clients(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["clients"]
	if !ok {
		return nil
	}
	groups := []*yaml.Node{e.val}
	field := func(int) string { return "clients" }
	if e.val.Kind == yaml.SequenceNode {
		groups = e.val.Content
		field = func(i int) string { return fmt.Sprintf("clients[%d]", i) }
		if len(groups) > sim.MaxClients {
			return p.errf(e.val, "clients", "%d client groups, the bound is %d", len(groups), sim.MaxClients)
		}
	} else if e.val.Kind != yaml.MappingNode {
		return p.errf(e.val, "clients", "want {count: N, protocol: NAME, options: {...}} or a list of them, got %s", kindName(e.val))
	}
	total := 0
	for i, n := range groups {
		g, err := p.clientGroup(sc, n, field(i))
		if err != nil {
			return err
		}
		total += g.Count
		if total > sim.MaxClients || sc.Nodes+total > sim.MaxNodes {
			return p.errf(n, field(i), "%d servers and %d clients: at most %d clients and %d nodes in all", sc.Nodes, total, sim.MaxClients, sim.MaxNodes)
		}
		sc.Clients = append(sc.Clients, g)
	}
	p.nodes = sc.Nodes + total
	return nil
}

func (p *parser) clientGroup(sc *Scenario, n *yaml.Node, field string) (Clients, error) {
	if n.Kind != yaml.MappingNode {
		return Clients{}, p.errf(n, field, "want {count: N, protocol: NAME, options: {...}}, got %s", kindName(n))
	}
	cf, err := p.fields(n, field, clientFields)
	if err != nil {
		return Clients{}, err
	}
	g := Clients{Line: n.Line, Given: map[string]string{}}
	x, ok := cf["count"]
	if !ok {
		return Clients{}, p.errf(n, field, "missing count: how many client nodes, like count: 3")
	}
	c, err := p.integer(x.val, join(field, "count"))
	if err != nil {
		return Clients{}, err
	}
	if c < 0 || c > sim.MaxClients {
		return Clients{}, p.errf(x.val, join(field, "count"), "%d clients out of range 0..%d", c, sim.MaxClients)
	}
	g.Count = int(c)
	if x, ok := cf["protocol"]; ok {
		name, err := p.str(x.val, join(field, "protocol"))
		if err != nil {
			return Clients{}, err
		}
		if g.Protocol, err = ordo.Lookup(name); err != nil {
			return Clients{}, p.errf(x.val, join(field, "protocol"), "%v", err)
		}
		if g.Protocol.Role != ordo.Client {
			return Clients{}, p.errf(x.val, join(field, "protocol"), "%s is a %s protocol, not a client protocol%s", name, g.Protocol.Role, clientHint())
		}
	} else {
		if sc.Protocol.Client == "" {
			return Clients{}, p.errf(n, field, "protocol %s names no client protocol: give one with protocol: NAME%s", sc.Protocol.Name, clientHint())
		}
		if g.Protocol, err = ordo.Lookup(sc.Protocol.Client); err != nil {
			return Clients{}, p.errf(n, field, "protocol %s's client: %v", sc.Protocol.Name, err)
		}
		if g.Protocol.Role != ordo.Client {
			// A registration mistake, but the user sees it here first.
			return Clients{}, p.errf(n, field, "protocol %s names %s as its client, which is a %s protocol", sc.Protocol.Name, g.Protocol.Name, g.Protocol.Role)
		}
	}
	var last *yaml.Node
	if x, ok := cf["options"]; ok {
		ps, err := p.pairs(x.val, join(field, "options"))
		if err != nil {
			return Clients{}, err
		}
		for _, o := range ps {
			f := join(field, "options."+o.key.Value)
			if err := p.scalar(o.val, f, "a value"); err != nil {
				return Clients{}, err
			}
			// One at a time first, so that a bad option gets its own line.
			if _, err := g.Protocol.Resolve(map[string]string{o.key.Value: o.val.Value}); err != nil {
				return Clients{}, p.errf(o.key, f, "%v", err)
			}
			g.Given[o.key.Value] = o.val.Value
		}
		last = x.key
	}
	// An option the client takes from the servers' when it gives none
	// (ordo.Option.FromServers: PBFT's f).
	if g.Options, err = g.Protocol.Resolve(g.Protocol.WithServers(g.Given, sc.Given)); err != nil {
		return Clients{}, p.errf(last, join(field, "options"), "%v", err)
	}
	// The client protocol judges its options as a whole: build one client
	// now so a mistake gets a line.
	if g.Count > 0 {
		id := ordo.NodeID(sc.Nodes + 1)
		r := ordo.NewRoster(sc.Nodes, 1, 0)
		if _, err := g.Protocol.New(ordo.Config{ID: id, N: sc.Nodes, Opts: g.Options, Proto: g.Protocol, Role: ordo.Client, Roster: r}); err != nil {
			at, f := n, field
			if last != nil {
				at, f = last, join(field, "options")
			}
			return Clients{}, p.errf(at, f, "%v", err)
		}
	}
	return g, nil
}

// clientHint lists the registered client protocols for an error message.
func clientHint() string {
	var names []string
	for _, n := range ordo.ProtocolNames() {
		if pr, err := ordo.Lookup(n); err == nil && pr.Role == ordo.Client {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return " (no client protocol is registered)"
	}
	return " (client protocols: " + strings.Join(names, ", ") + ")"
}

// clientProtocols names the client groups' protocols, distinct, in file
// order ("" without clients).
func (sc *Scenario) clientProtocols() string {
	var names []string
	for _, g := range sc.Clients {
		if g.Count > 0 && !slices.Contains(names, g.Protocol.Name) {
			names = append(names, g.Protocol.Name)
		}
	}
	return strings.Join(names, ",")
}

// describeNodes is "5 nodes", or "3 servers + 2 clients (register-client)",
// with "+ 2 services (coord,fenced-store)" when it has services.
func (sc *Scenario) describeNodes() string {
	c, sv := sc.ClientCount(), len(sc.Services)
	if c == 0 && sv == 0 {
		return fmt.Sprintf("%d nodes", sc.Nodes)
	}
	out := fmt.Sprintf("%d servers", sc.Nodes)
	if c > 0 {
		out += fmt.Sprintf(" + %s (%s)", plural.Count(c, "client"), sc.clientProtocols())
	}
	if sv > 0 {
		out += fmt.Sprintf(" + %s (%s)", plural.Count(sv, "service"), sc.serviceProtocols())
	}
	return out
}

// SetClients sets the number of client nodes (ordo sim --clients): the
// count of the file's one client group, or a group of the server
// protocol's client when the file has none. Faults and links that name
// client nodes keep their numbers, so shrinking the group may make them
// name nodes that no longer exist (the run then fails with an error); the
// services, numbered after the clients, move with the count.
func (sc *Scenario) SetClients(n int) error {
	if n < 0 || n > sim.MaxClients || sc.Nodes+n > sim.MaxNodes {
		return fmt.Errorf("%d clients out of range 0..%d", n, min(sim.MaxClients, sim.MaxNodes-sc.Nodes))
	}
	switch len(sc.Clients) {
	case 0:
		if n == 0 {
			return nil
		}
		if sc.Protocol.Client == "" {
			return fmt.Errorf("protocol %s names no client protocol%s", sc.Protocol.Name, clientHint())
		}
		p, err := ordo.Lookup(sc.Protocol.Client)
		if err != nil {
			return fmt.Errorf("protocol %s's client: %w", sc.Protocol.Name, err)
		}
		if p.Role != ordo.Client {
			return fmt.Errorf("protocol %s names %s as its client, which is a %s protocol", sc.Protocol.Name, p.Name, p.Role)
		}
		opts, err := p.Resolve(p.WithServers(nil, sc.Given))
		if err != nil {
			return err
		}
		sc.Clients = []Clients{{Protocol: p, Options: opts, Given: map[string]string{}, Count: n}}
	case 1:
		sc.Clients[0].Count = n
	default:
		return fmt.Errorf("the scenario has %d client groups: set their counts in the file", len(sc.Clients))
	}
	return nil
}
