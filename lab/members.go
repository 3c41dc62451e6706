package lab

import (
	"fmt"
	"strings"

	"ordo"
	"ordo/fault"
)

// Members is the nodes of a run of protocol with n servers, by role, as
// New lays them out: servers 1..n, then the clients of the protocol's
// workload (Workloads), then one service node per name in the protocol's
// Services (issue 15: the lease election's coord and fenced-store). Fault
// flags and schedules name nodes of these (fault.Members.Parse: a cut or
// a partition may name a service, a crash may not).
func Members(protocol string, n int) (fault.Members, error) {
	p, err := ordo.Lookup(serverProtocol(protocol))
	if err != nil {
		return fault.Members{}, fmt.Errorf("unknown protocol %q (leader elections: %s)", protocol, strings.Join(ElectionProtocols(), ", "))
	}
	m := fault.Members{Servers: n}
	for _, g := range Workloads[protocol].Clients {
		m.Clients += g.Count
	}
	m.Services = append(m.Services, p.Services...)
	return m, nil
}

// ParseFaultIn reads the flag --KIND (a fault.Kind, written as
// fault.Syntax gives it) for the nodes of m (Members): as ParseFault, and
// a partition, cut, loss, pause or clock fault may also name a service
// ("--cut 1->4@2s", "--partition 1/2,3,4@2s" cuts server 1 from service 4
// alone, "--pause 4@2s", "--clock-drift 4 by 40000ppm@0s"), while a crash,
// restart or storage fault of a service is refused with the reason. An ID
// out of range is an error that lists the valid IDs by role.
func ParseFaultIn(m fault.Members, k fault.Kind, s string) (Fault, error) {
	f, err := m.Parse(k, s)
	if err != nil {
		return Fault{}, flagError(k, string(k), s, err)
	}
	return f, nil
}
