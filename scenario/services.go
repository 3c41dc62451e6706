package scenario

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"ordo"
	"ordo/sim"
)

// Service is one entry of a scenario's `services:` section (issue 15): a
// service node running a service protocol (a model of etcd, a fenced
// store). Services are numbered after the clients, in file order. Without
// a `services:` section a scenario gets one service per name in the server
// protocol's Protocol.Services, with default options; with one, the list
// is the whole set, and an entry without a protocol runs the protocol's
// service at the same position:
//
//	services:                     # protocol lease declares coord, fenced-store
//	  - {}                        # coord, default options
//	  - {options: {fencing: false}} # fenced-store without fencing
//	services: []                  # none: only for a protocol that declares none
type Service struct {
	Protocol *ordo.Protocol
	Options  ordo.Options      // resolved: defaults filled in
	Given    map[string]string // as written (for summaries)
	Line     int
}

var serviceFields = []string{"protocol", "options"}

// serviceGroups is the simulator's form of sc.Services: never nil, so the
// simulator does not default them a second time.
func (sc *Scenario) serviceGroups() []sim.ServiceGroup {
	out := make([]sim.ServiceGroup, 0, len(sc.Services))
	for _, s := range sc.Services {
		out = append(out, sim.ServiceGroup{Protocol: s.Protocol, Options: s.Options})
	}
	return out
}

// services reads `services:` (or defaults it from the protocol) and
// extends the node range the rest of the file may name.
func (p *parser) services(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["services"]
	if !ok {
		for i, name := range sc.Protocol.Services {
			sp, err := p.serviceProtocol(sc, name, i)
			if err != nil {
				return p.errf(fs["protocol"].val, "protocol", "%v", err)
			}
			opts, err := sp.Resolve(nil)
			if err != nil {
				return p.errf(fs["protocol"].val, "protocol", "service %s: %v", name, err)
			}
			sc.Services = append(sc.Services, Service{Protocol: sp, Options: opts, Given: map[string]string{}})
		}
		return p.addServices(sc, e.val)
	}
	if e.val.Kind != yaml.SequenceNode {
		return p.errf(e.val, "services", "want a list of {protocol: NAME, options: {...}} (or [] for none), got %s", kindName(e.val))
	}
	if len(e.val.Content) > sim.MaxServices {
		return p.errf(e.val, "services", "%d services, the bound is %d", len(e.val.Content), sim.MaxServices)
	}
	need := sc.Protocol.Services
	if len(need) > 0 && len(e.val.Content) == 0 {
		// The protocol cannot work without them (a lease election with no
		// coordination service elects nobody, and every check would pass
		// on an empty run).
		return p.errf(e.val, "services", "protocol %s needs its services (%s, in this order): leave services: out for the defaults, or list them to set their options", sc.Protocol.Name, strings.Join(need, ", "))
	}
	sc.Services = []Service{} // given, even if empty: no defaults
	for i, n := range e.val.Content {
		s, err := p.service(sc, n, i)
		if err != nil {
			return err
		}
		sc.Services = append(sc.Services, s)
	}
	return p.addServices(sc, e.val)
}

// addServices numbers the services after the clients.
func (p *parser) addServices(sc *Scenario, at *yaml.Node) error {
	if len(sc.Services) == 0 {
		return nil
	}
	if p.nodes+len(sc.Services) > sim.MaxNodes {
		return p.errf(at, "services", "%d nodes and %d services: at most %d nodes in all", p.nodes, len(sc.Services), sim.MaxNodes)
	}
	p.nodes += len(sc.Services)
	p.nservices = len(sc.Services)
	return nil
}

// serviceProtocol looks up the service protocol name, the i-th of the
// scenario's services, and checks its role.
func (p *parser) serviceProtocol(sc *Scenario, name string, i int) (*ordo.Protocol, error) {
	sp, err := ordo.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("service %d: %v", i+1, err)
	}
	if sp.Role != ordo.Service {
		return nil, fmt.Errorf("service %d: %s is a %s protocol, not a service protocol%s", i+1, name, sp.Role, serviceHint())
	}
	return sp, nil
}

func (p *parser) service(sc *Scenario, n *yaml.Node, i int) (Service, error) {
	field := fmt.Sprintf("services[%d]", i)
	if n.Kind != yaml.MappingNode {
		return Service{}, p.errf(n, field, "want {protocol: NAME, options: {...}}, got %s", kindName(n))
	}
	cf, err := p.fields(n, field, serviceFields)
	if err != nil {
		return Service{}, err
	}
	s := Service{Line: n.Line, Given: map[string]string{}}
	if x, ok := cf["protocol"]; ok {
		name, err := p.str(x.val, join(field, "protocol"))
		if err != nil {
			return Service{}, err
		}
		if s.Protocol, err = p.serviceProtocol(sc, name, i); err != nil {
			return Service{}, p.errf(x.val, join(field, "protocol"), "%v", err)
		}
		// A protocol that declares its services finds them by position
		// (Roster.Services[i]): another protocol there would answer
		// messages it cannot read.
		if need := sc.Protocol.Services; i < len(need) && name != need[i] {
			return Service{}, p.errf(x.val, join(field, "protocol"), "protocol %s needs %s here (its services, in order: %s), not %s", sc.Protocol.Name, need[i], strings.Join(need, ", "), name)
		}
	} else {
		if i >= len(sc.Protocol.Services) {
			return Service{}, p.errf(n, field, "protocol %s declares %d service(s) (%s): give this one's protocol: NAME%s", sc.Protocol.Name, len(sc.Protocol.Services), strings.Join(sc.Protocol.Services, ", "), serviceHint())
		}
		if s.Protocol, err = p.serviceProtocol(sc, sc.Protocol.Services[i], i); err != nil {
			return Service{}, p.errf(n, field, "protocol %s's %v", sc.Protocol.Name, err)
		}
	}
	var last *yaml.Node
	if x, ok := cf["options"]; ok {
		ps, err := p.pairs(x.val, join(field, "options"))
		if err != nil {
			return Service{}, err
		}
		for _, o := range ps {
			f := join(field, "options."+o.key.Value)
			if err := p.scalar(o.val, f, "a value"); err != nil {
				return Service{}, err
			}
			// One at a time first, so that a bad option gets its own line.
			if _, err := s.Protocol.Resolve(map[string]string{o.key.Value: o.val.Value}); err != nil {
				return Service{}, p.errf(o.key, f, "%v", err)
			}
			s.Given[o.key.Value] = o.val.Value
		}
		last = x.key
	}
	if s.Options, err = s.Protocol.Resolve(s.Given); err != nil {
		return Service{}, p.errf(last, join(field, "options"), "%v", err)
	}
	return s, nil
}

// serviceHint lists the registered service protocols for an error message.
func serviceHint() string {
	var names []string
	for _, n := range ordo.ProtocolNames() {
		if pr, err := ordo.Lookup(n); err == nil && pr.Role == ordo.Service {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return " (no service protocol is registered)"
	}
	return " (service protocols: " + strings.Join(names, ", ") + ")"
}

// serviceProtocols names the services' protocols, distinct, in order.
func (sc *Scenario) serviceProtocols() string {
	var names []string
	for _, s := range sc.Services {
		if !slices.Contains(names, s.Protocol.Name) {
			names = append(names, s.Protocol.Name)
		}
	}
	return strings.Join(names, ",")
}

// FirstService is the id of the first service node (0 without services):
// they follow the servers and the clients.
func (sc *Scenario) FirstService() int {
	if len(sc.Services) == 0 {
		return 0
	}
	return sc.Nodes + sc.ClientCount() + 1
}
