package live

import (
	"fmt"
	"slices"
	"strings"

	"ordo"
	"ordo/trace"
)

// A live cluster's nodes have roles (issue 8, "Roles"), as in the
// simulator: servers first (ids 1..S, running Config.Protocol with
// Config.Options), then clients (ids S+1..N, running the client protocol).
// A client is a real process like a server, started the same way (`ordo
// node --config F --id N`); its Env.Peers is every server, a server's the
// other servers. A cluster file gives a node's role with role: client and
// the clients' protocol in a clients: section (default: the server
// protocol's client), or per node:
//
//	protocol: register
//	clients: {protocol: register-client, options: {ops: 100}}
//	nodes:
//	  - {id: 1, addr: 127.0.0.1:7001, admin: 127.0.0.1:8001, dir: node1}
//	  - ...
//	  - {id: 4, role: client, addr: 127.0.0.1:7004, admin: 127.0.0.1:8004, dir: node4}
//	  - {id: 5, role: service, protocol: coord, options: {endpoints: "127.0.0.1:2379"}}
//
// A service node (issue 15, service.go) follows the clients: no process
// runs it, so it has no address, admin endpoint or directory; every
// process reaches it through an adapter its runtime hosts.

// ClientsConfig is the cluster file's clients: section: the protocol and
// options of every client node that names none of its own.
type ClientsConfig struct {
	// Protocol defaults to the server protocol's Client.
	Protocol string            `yaml:"protocol,omitempty"`
	Options  map[string]string `yaml:"options,omitempty"`
}

// validateRoles checks the nodes' roles without the protocols: known roles,
// at least one server, servers before clients before services.
func (c *Config) validateRoles() error {
	servers, last := 0, ordo.Server
	for i, nd := range c.Nodes {
		role, err := ordo.ParseRole(nd.Role)
		if err != nil {
			return fmt.Errorf("nodes[%d].role: %v", i, err)
		}
		// The roles' constants are in roster order: server, client, service.
		if role < last {
			return fmt.Errorf("nodes[%d]: a %s after a %s: list the servers first (ids 1..S), then the clients, then the services", i, role, last)
		}
		last = role
		if role == ordo.Server {
			servers++
		}
		if nd.Protocol == "" && len(nd.Options) > 0 {
			return fmt.Errorf("nodes[%d].options: given without the node's own protocol", i)
		}
	}
	if servers == 0 {
		return fmt.Errorf("nodes: no server (a node without role: client is a server)")
	}
	return nil
}

// Roster is the cluster's roster as the file describes it.
func (c *Config) Roster() *ordo.Roster {
	r := &ordo.Roster{}
	for _, nd := range c.Nodes {
		role, _ := ordo.ParseRole(nd.Role) // checked by Validate
		switch role {
		case ordo.Client:
			r.Clients = append(r.Clients, ordo.NodeID(nd.ID))
		case ordo.Service:
			r.Services = append(r.Services, ordo.NodeID(nd.ID))
		default:
			r.Servers = append(r.Servers, ordo.NodeID(nd.ID))
		}
	}
	return r
}

// Servers lists the server ids, ascending.
func (c *Config) Servers() []ordo.NodeID { return c.Roster().Servers }

// RoleOf returns node id's role (Server for an id not in the file).
func (c *Config) RoleOf(id ordo.NodeID) ordo.Role {
	if id < 1 || int(id) > len(c.Nodes) {
		return ordo.Server
	}
	role, _ := ordo.ParseRole(c.Nodes[id-1].Role)
	return role
}

// ProtocolOf returns the protocol node id runs, its options resolved, and
// its role. Errors name the field at fault: an unknown protocol, a client
// protocol on a server or a server protocol on a client, a bad option.
func (c *Config) ProtocolOf(id ordo.NodeID) (*ordo.Protocol, ordo.Options, ordo.Role, error) {
	nd, err := c.Node(id)
	if err != nil {
		return nil, nil, 0, err
	}
	role := c.RoleOf(id)
	name, given, field := c.Protocol, c.Options, "protocol"
	if role == ordo.Client {
		field = "clients.protocol"
		name, given = "", nil
		if c.Clients != nil {
			name, given = c.Clients.Protocol, c.Clients.Options
		}
		if name == "" && nd.Protocol == "" {
			sp, err := ordo.Lookup(c.Protocol)
			if err != nil {
				return nil, nil, 0, fmt.Errorf("protocol: %w", err)
			}
			if sp.Client == "" {
				return nil, nil, 0, fmt.Errorf("nodes[%d]: a client, but protocol %s names no client protocol: set clients.protocol", id-1, sp.Name)
			}
			name = sp.Client
		}
	}
	if nd.Protocol != "" {
		name, given, field = nd.Protocol, nd.Options, fmt.Sprintf("nodes[%d].protocol", id-1)
	}
	p, err := ordo.Lookup(name)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", field, err)
	}
	if p.Role != role {
		return nil, nil, 0, fmt.Errorf("%s: %s is a %s protocol, and node %d is a %s", field, p.Name, p.Role, id, role)
	}
	if role == ordo.Client {
		given = p.WithServers(given, c.Options)
	}
	opts, err := p.Resolve(given)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", strings.TrimSuffix(field, "protocol")+"options", err)
	}
	return p, opts, role, nil
}

// CheckProtocols resolves every node's protocol and options (ProtocolOf),
// so a mistake is found before any process starts.
func (c *Config) CheckProtocols() error {
	for _, nd := range c.Nodes {
		if _, _, _, err := c.ProtocolOf(ordo.NodeID(nd.ID)); err != nil {
			return err
		}
	}
	return nil
}

// FillMeta records the cluster's roles in a trace's Meta (nothing for a
// cluster of servers only, whose traces stay as they were).
func (c *Config) FillMeta(m *trace.Meta) {
	r := c.Roster()
	if len(r.Clients) == 0 && len(r.Services) == 0 {
		return
	}
	for _, id := range r.Servers {
		m.Servers = append(m.Servers, int(id))
	}
	var names []string
	for _, id := range r.Clients {
		m.Clients = append(m.Clients, int(id))
		if p, _, _, err := c.ProtocolOf(id); err == nil && !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	m.ClientProtocol = strings.Join(names, ",")
	names = nil
	for _, id := range r.Services {
		m.Services = append(m.Services, int(id))
		if p, _, _, err := c.ProtocolOf(id); err == nil && !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	m.ServiceProtocol = strings.Join(names, ",")
}

// Processes lists the nodes that run as processes, ascending: the servers
// and the clients (a service node is reached through each process's
// adapter, service_runtime.go).
func (c *Config) Processes() []ordo.NodeID {
	r := c.Roster()
	return append(r.Servers, r.Clients...)
}

// notService returns an error naming node id as a service when it is one:
// what the cluster commands that act on a process (kill, pause, clock,
// fsync, restart) answer for it.
func (c *Config) notService(id ordo.NodeID) error {
	if c.RoleOf(id) != ordo.Service {
		return nil
	}
	name := c.Nodes[id-1].Protocol
	var servers []string
	for _, s := range c.Servers() {
		servers = append(servers, fmt.Sprint(int(s)))
	}
	return fmt.Errorf("node %d is a service (%s): no process runs it but a real system (etcd) that each node reaches through its runtime's adapter, so this cluster cannot kill, restart, pause, resume, clock-shift or fail the fsync of it (stop or slow that system itself); cut nodes off from it instead: ordo cluster fault cut '1->%d' loses node 1's requests to it, '%d->1' its replies to node 1, and ordo cluster fault partition %s/%d cuts every server off from it",
		id, name, id, id, strings.Join(servers, ","), id)
}
