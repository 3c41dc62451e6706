package sim

import (
	"fmt"
	"slices"
	"strings"

	"ordo"
	"ordo/trace"
)

// A run's nodes have roles (issue 8, "Roles"): servers 1..Config.Nodes run
// Config.Protocol and are the replicas quorums count; clients follow,
// Config.Clients group by group, each group running its own client
// protocol. Every node, whatever its role, is a full simulated node: it has
// a clock, a seed, storage, a vector-clock entry, and suffers crashes,
// pauses and link faults like any other. Random faults (the Nemesis) pick
// servers only; a partition that does not name a client leaves it connected
// to every group (see Partition), as Jepsen's clients on the control node
// are.

// MaxClients bounds the client nodes of one run. Together with the servers
// they must also fit MaxNodes.
const MaxClients = 1024

// MaxServices bounds the service nodes of one run (issue 15): a protocol
// needs one or two (a coordination service, a fenced store).
const MaxServices = 16

// Service nodes (issue 15) follow the clients, one per Config.Services
// entry. A service is a model of a system a protocol relies on (etcd): a
// full simulated node like a client, never picked by the Nemesis, left
// connected to every group by a partition that does not name it, never a
// server to the checkers; a fault may still name it (partition 1/5, pause
// 5, a clock on 5).

// DefaultServices is one service node per name in p.Services, with
// default options: what a run of p gets when its Config gives none.
func DefaultServices(p *ordo.Protocol) ([]ServiceGroup, error) {
	var out []ServiceGroup
	for i, name := range p.Services {
		sp, err := ordo.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("sim: protocol %s's service %d: %w", p.Name, i+1, err)
		}
		out = append(out, ServiceGroup{Protocol: sp})
	}
	return out, nil
}

// nodeSpec is what one node runs: its role, protocol and resolved options.
type nodeSpec struct {
	role  ordo.Role
	proto *ordo.Protocol
	opts  ordo.Options
}

// roles checks cfg.Clients and cfg.Services (defaulting the latter from
// the protocol) and lays out every node's spec, indexed by node
// ID (index 0 unused), with the roster it implies. cfg.Options must already
// be resolved.
func roles(cfg *Config) ([]nodeSpec, *ordo.Roster, error) {
	clients := 0
	for i := range cfg.Clients {
		g := &cfg.Clients[i]
		if g.Protocol == nil {
			return nil, nil, fmt.Errorf("sim: client group %d has no protocol", i+1)
		}
		if g.Protocol.Role != ordo.Client {
			return nil, nil, fmt.Errorf("sim: client group %d: protocol %s is a %s protocol, not a client protocol", i+1, g.Protocol.Name, g.Protocol.Role)
		}
		if g.Count < 0 || g.Count > MaxClients {
			return nil, nil, fmt.Errorf("sim: client group %d: %d clients, need 0..%d", i+1, g.Count, MaxClients)
		}
		if g.Options == nil {
			o, err := g.Protocol.Resolve(nil)
			if err != nil {
				return nil, nil, fmt.Errorf("sim: client group %d: %w", i+1, err)
			}
			g.Options = o
		}
		clients += g.Count
	}
	if clients > MaxClients {
		return nil, nil, fmt.Errorf("sim: %d clients in all, need at most %d", clients, MaxClients)
	}
	if cfg.Services == nil {
		sv, err := DefaultServices(cfg.Protocol)
		if err != nil {
			return nil, nil, err
		}
		cfg.Services = sv
	}
	if len(cfg.Services) > MaxServices {
		return nil, nil, fmt.Errorf("sim: %d services, need at most %d", len(cfg.Services), MaxServices)
	}
	for i := range cfg.Services {
		g := &cfg.Services[i]
		if g.Protocol == nil {
			return nil, nil, fmt.Errorf("sim: service %d has no protocol", i+1)
		}
		if g.Protocol.Role != ordo.Service {
			return nil, nil, fmt.Errorf("sim: service %d: protocol %s is a %s protocol, not a service protocol", i+1, g.Protocol.Name, g.Protocol.Role)
		}
		if g.Options == nil {
			o, err := g.Protocol.Resolve(nil)
			if err != nil {
				return nil, nil, fmt.Errorf("sim: service %d: %w", i+1, err)
			}
			g.Options = o
		}
	}
	services := len(cfg.Services)
	if cfg.Nodes+clients+services > MaxNodes {
		return nil, nil, fmt.Errorf("sim: %d servers, %d clients and %d services, need at most %d nodes in all", cfg.Nodes, clients, services, MaxNodes)
	}
	specs := make([]nodeSpec, 1, 1+cfg.Nodes+clients+services)
	for range cfg.Nodes {
		specs = append(specs, nodeSpec{role: ordo.Server, proto: cfg.Protocol, opts: cfg.Options})
	}
	for _, g := range cfg.Clients {
		for range g.Count {
			specs = append(specs, nodeSpec{role: ordo.Client, proto: g.Protocol, opts: g.Options})
		}
	}
	for _, g := range cfg.Services {
		specs = append(specs, nodeSpec{role: ordo.Service, proto: g.Protocol, opts: g.Options})
	}
	r := ordo.NewRoster(cfg.Nodes, clients, services)
	if err := r.Validate(); err != nil {
		panic(fmt.Sprintf("sim: built an invalid roster: %v", err)) // by construction
	}
	return specs, r, nil
}

// fillMeta records the roles in a trace's Meta. A run without clients or
// services leaves Servers, Clients and Services empty, so its trace is byte for byte what it
// was before roles existed.
func fillMeta(m *trace.Meta, r *ordo.Roster, specs []nodeSpec) {
	if len(r.Clients) == 0 && len(r.Services) == 0 {
		return
	}
	for _, id := range r.Servers {
		m.Servers = append(m.Servers, int(id))
	}
	var names []string
	for _, id := range r.Clients {
		m.Clients = append(m.Clients, int(id))
		if n := specs[id].proto.Name; !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	// One name per distinct client protocol, in group order.
	m.ClientProtocol = strings.Join(names, ",")
	names = nil
	for _, id := range r.Services {
		m.Services = append(m.Services, int(id))
		if n := specs[id].proto.Name; !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	m.ServiceProtocol = strings.Join(names, ",")
}

// Roster is the run's roster: servers 1..Config.Nodes, then the clients,
// then the services.
func (s *Sim) Roster() *ordo.Roster { return s.roster }

// Size is the number of nodes of every role; node IDs are 1..Size.
func (s *Sim) Size() int { return len(s.nodes) - 1 }

// Role returns id's role.
func (s *Sim) Role(id ordo.NodeID) ordo.Role { return s.node(id).spec().role }

// Protocol returns the protocol id runs (Config.Protocol for a server).
func (s *Sim) Protocol(id ordo.NodeID) *ordo.Protocol { return s.node(id).spec().proto }

// spec is what this node runs.
func (n *nodeState) spec() *nodeSpec { return &n.sim.specs[n.id] }
